"""A newcomer's first minute, in a real terminal (tmux on a private socket): the README's Quick start
(`tui-desk demo`), quit, then the README's first three command-line examples, typed into the same
shell, each finding the demo's tickets. The README is read, not copied: change it and this follows."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from tests.conftest import NOW, TUI_DESK

TMUX = shutil.which("tmux")
pytestmark = pytest.mark.skipif(TMUX is None, reason="needs tmux (apt-get install tmux)")
README = Path(__file__).resolve().parents[2] / "README.md"


def code_blocks(section: str) -> list[list[str]]:
    """The fenced code blocks under a README ``## section`` heading, as lists of lines."""
    text = README.read_text(encoding="utf-8")
    start = text.index(f"## {section}\n")
    end = text.find("\n## ", start + 1)
    body = text[start : end if end != -1 else len(text)]
    return [block.strip("\n").splitlines() for block in re.findall(r"```[a-z]*\n(.*?)```", body, re.S)]


def quick_start_command() -> str:
    """The Quick start's line that opens the demo; the install before it is done already (tests run the
    installed ``tui-desk``)."""
    line = next(line for block in code_blocks("Quick start") for line in block if "tui-desk demo" in line)
    return line.split("&&")[-1].strip()


class Shell:
    """A bash in a 100x30 tmux session on its own server (``tmux -L``), so no other session is touched."""

    def __init__(self, env: dict[str, str]) -> None:
        self.name = f"tui-desk-readme-{uuid.uuid4().hex[:8]}"
        exports = " ".join(f"{k}={v!r}" for k, v in env.items())
        started = self.tmux("new-session", "-d", "-s", "sh", "-x", "100", "-y", "30", f"env -i {exports} bash --norc")
        assert started.returncode == 0, started.stderr

    def tmux(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([TMUX, "-L", self.name, *args], capture_output=True, text=True, timeout=30)

    def type(self, line: str) -> None:
        self.tmux("send-keys", "-t", "sh", "-l", line)
        self.tmux("send-keys", "-t", "sh", "Enter")

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", "sh").stdout

    def wait_for(self, what: str, timeout: float = 90.0) -> str:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            shown = self.screen()
            if what in shown:
                return shown
            time.sleep(0.1)
        raise AssertionError(f"{what!r} never showed:\n{self.screen()}")

    def close(self) -> None:
        self.tmux("kill-server")


def test_quick_start_then_the_first_three_command_line_examples_find_the_demo(tmp_path, isolated_env):
    bin_dir = str(Path(TUI_DESK).parent)
    env = {
        "PATH": f"{bin_dir}:/usr/local/bin:/usr/bin:/bin",
        "TERM": "xterm-256color",
        "LANG": "C.UTF-8",
        "PS1": "desk$ ",
        "TUI_DESK_NOW": NOW.isoformat(),  # the demo's case numbers are of the clock's year
        "HOME": os.environ["HOME"],
        "XDG_CONFIG_HOME": os.environ["XDG_CONFIG_HOME"],
        "XDG_STATE_HOME": os.environ["XDG_STATE_HOME"],
        "XDG_DATA_HOME": os.environ["XDG_DATA_HOME"],
    }
    examples = code_blocks("Command line")[0][:3]
    assert len(examples) == 3 and all(e.startswith("tui-desk ") for e in examples), examples
    shell = Shell(env)
    try:
        shell.wait_for("desk$")
        shell.type(quick_start_command())
        shell.wait_for("agent ana")  # the console is up on the demo store, as ana
        shell.tmux("send-keys", "-t", "sh", "q")
        after = shell.wait_for("tui-desk --demo")  # on exit it says how to reach the store
        assert "demo store:" in after
        for n, example in enumerate(examples, 1):
            out = tmp_path / f"example{n}.txt"
            shell.type(f"{example} > {out} 2>&1; echo done{n} rc=$?")
            shell.wait_for(f"done{n} rc=0")
            text = out.read_text(encoding="utf-8")
            assert re.search(r"TD-(REF|SUP)-\d{4}-\d{5}", text), f"{example}:\n{text}"
            assert "(0 tickets)" not in text and "no ticket" not in text, f"{example}:\n{text}"
    finally:
        shell.close()
