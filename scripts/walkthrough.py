"""Record the README's animated walk-through: `python scripts/walkthrough.py [OUT.svg]`.

The real console on a fresh demo store, in a private tmux server, recorded by termtosvg (an animated
SVG: `pip install termtosvg`, the `record` extra) while this script types what an agent would: the
overdue view, a ticket, copy its number, jump to another by a fragment, a live search, a log entry.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
NOW = "2026-11-16T10:30:00+00:00"
SIZE = (100, 30)

# (keys for tmux send-keys, literal?, pause after, in seconds)
STEPS = [
    (None, False, 3.0),  # the queue opens
    ("4", False, 1.5),  # the Overdue view
    ("Down", False, 0.4),
    ("Down", False, 0.8),
    ("Enter", False, 2.0),  # a ticket, its timeline
    ("PageUp", False, 1.2),
    ("y", False, 1.8),  # copy its case number (OSC 52)
    ("Escape", False, 1.0),
    (":", False, 0.8),  # jump by a fragment of a number
    ("1212", True, 0.8),
    ("Enter", False, 2.0),
    ("Escape", False, 1.0),
    ("/", False, 0.5),  # a live search
    ("vase broken", True, 2.0),
    ("Enter", False, 0.8),
    ("l", False, 1.0),  # log an entry
    ("Called the buyer: the courier confirms the loss", True, 0.8),
    ("C-s", False, 2.0),
    ("Escape", False, 0.8),
    ("q", False, 1.0),
]


def main(out: Path) -> None:
    termtosvg = shutil.which("termtosvg") or str(Path(sys.executable).with_name("termtosvg"))
    tmux = shutil.which("tmux")
    if not Path(termtosvg).exists() or tmux is None:
        raise SystemExit("needs termtosvg (pip install termtosvg) and tmux")
    tui_desk = shutil.which("tui-desk") or str(Path(sys.executable).with_name("tui-desk"))
    work = Path(tempfile.mkdtemp(prefix="tui-desk-walk-"))
    db = work / "demo.db"
    env = {
        **os.environ,
        "HOME": str(work),
        "XDG_CONFIG_HOME": str(work / ".config"),
        "XDG_STATE_HOME": str(work / ".state"),
        "XDG_DATA_HOME": str(work / ".data"),
        "TUI_DESK_CONFIG": str(work / "config.toml"),
        "TUI_DESK_NOW": NOW,
        "TUI_DESK_AGENT": "ana",
        "TERM": "xterm-256color",
        "LANG": "C.UTF-8",
    }
    subprocess.run([tui_desk, "--db", str(db), "demo", "--no-open", "--tickets", "1500"], env=env, check=True)
    server = f"tui-desk-walk-{uuid.uuid4().hex[:8]}"
    w, h = SIZE
    record = f"{termtosvg} {out} -g {w}x{h} -M 2500 -D 3000 -c '{tui_desk} --db {db}'"
    exports = " ".join(
        f"{k}={v!r}" for k, v in env.items() if k.startswith(("TUI_DESK", "XDG", "HOME", "TERM", "LANG"))
    )
    subprocess.run(
        [
            tmux,
            "-L",
            server,
            "new-session",
            "-d",
            "-s",
            "walk",
            "-x",
            str(w + 2),
            "-y",
            str(h + 2),
            f"env {exports} {record}",
        ],
        check=True,
    )
    try:
        for keys, literal, pause in STEPS:
            if keys is not None:
                subprocess.run([tmux, "-L", server, "send-keys", "-t", "walk", *(["-l"] if literal else []), keys])
            time.sleep(pause)
        for _ in range(100):  # termtosvg writes the SVG once the console has quit
            if out.exists() and out.stat().st_size:
                break
            time.sleep(0.2)
        time.sleep(1.0)
    finally:
        subprocess.run([tmux, "-L", server, "kill-server"], capture_output=True)
    print(f"{out} ({out.stat().st_size // 1024} KB)")


if __name__ == "__main__":
    main(Path(sys.argv[1]).resolve() if len(sys.argv) > 1 else HERE / "screenshots" / "walkthrough.svg")
