"""The real `tui-desk` in tmux: r on a ticket, type a reply, Ctrl+S; the open console delivers it to the
SMTP server (aiosmtpd, started by the test)."""

from __future__ import annotations

import json
import os
import subprocess
import time

import pytest

from tests.conftest import NOW, TUI_DESK
from tests.console.test_forms_tmux import TMUX, Terminal
from tests.mail.servers import write_mail_config

pytestmark = pytest.mark.skipif(TMUX is None, reason="needs tmux (apt-get install tmux)")
REPLY = "Please send a photo of the label"


def test_a_reply_typed_in_the_console_reaches_the_smtp_server(tmp_path, isolated_env, smtp_server):
    write_mail_config(isolated_env, smtp_server.port, "deliver_interval_seconds = 1\n")
    db = tmp_path / "desk.db"
    env = {
        "TERM": "xterm-256color",
        "LANG": "C.UTF-8",
        "TUI_DESK_NOW": NOW.isoformat(),
        "TUI_DESK_AGENT": "ana",
        **{k: os.environ[k] for k in ("HOME", "XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_DATA_HOME", "TUI_DESK_CONFIG")},
    }
    made = subprocess.run(
        [
            TUI_DESK,
            "--db",
            str(db),
            "new",
            "--customer",
            "Ines",
            "--email",
            "ines@example.com",
            "--subject",
            "Belt not leather",
            "--json",
        ],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        check=True,
    )
    case = json.loads(made.stdout)["case_number"]
    terminal = Terminal()
    try:
        terminal.start([TUI_DESK, "--db", str(db)], env)
        terminal.wait_for(case)
        deadline = time.monotonic() + 30
        while not smtp_server.received:  # the acknowledgement, sent by the open console
            assert time.monotonic() < deadline, terminal.screen()
            time.sleep(0.1)
        terminal.keys("Enter")
        terminal.wait_for("Acknowledgement — sent")  # the ticket's timeline, not the queue's row
        time.sleep(0.5)
        terminal.keys("r")
        terminal.wait_for(f"Reply {case}")
        terminal.wait_for("ines@example.com")
        time.sleep(0.5)
        terminal.text(REPLY)
        time.sleep(0.3)
        terminal.keys("C-s")
        terminal.wait_for("queued")
        while len(smtp_server.received) < 2:
            assert time.monotonic() < deadline + 30, terminal.screen()
            time.sleep(0.1)
        terminal.keys("Escape", "q")
    finally:
        terminal.close()
    _, rcpts, message = smtp_server.received[1]
    assert rcpts == ["ines@example.com"]
    assert message["Subject"] == f"[{case}] Belt not leather"
    assert message.get_content().strip() == REPLY
