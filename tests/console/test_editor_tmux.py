"""Ctrl+E in a long text field: the real `tui-desk` in tmux hands the terminal to $EDITOR through
``app.suspend()`` (Pilot's headless driver cannot suspend), and what the editor saved comes back."""

from __future__ import annotations

import json
import os
import subprocess
import time

import pytest

from tests.conftest import NOW, TUI_DESK
from tests.console.test_forms_tmux import TMUX, Terminal
from tui_desk.tui.widgets.long_text import editor_command

pytestmark = pytest.mark.skipif(TMUX is None, reason="needs tmux (apt-get install tmux)")


def test_editor_command_prefers_visual_then_editor_then_a_default():
    assert editor_command({"VISUAL": "code --wait", "EDITOR": "vim"}) == ["code", "--wait"]
    assert editor_command({"EDITOR": "vim -u NONE"}) == ["vim", "-u", "NONE"]
    assert editor_command({})[0] in ("nano", "vi")


def test_content_written_in_the_editor_is_logged(tmp_path, isolated_env):
    db = tmp_path / "desk.db"
    editor = tmp_path / "stand-in-editor"
    seen = tmp_path / "editor-saw.txt"
    # A stand-in editor: keeps what it was given (to show the field's text went out), adds a paragraph.
    editor.write_text(
        f'#!/bin/sh\ncp "$1" {seen}\nprintf "\\n\\nThe carrier confirms the parcel was lost at the depot.\\n" >> "$1"\n'
    )
    editor.chmod(0o755)
    env = {"TERM": "xterm-256color", "LANG": "C.UTF-8", "TUI_DESK_NOW": NOW.isoformat(), "TUI_DESK_AGENT": "ana"}
    env.update({k: os.environ[k] for k in ("HOME", "XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_DATA_HOME")})
    env.update({"TUI_DESK_CONFIG": os.environ["TUI_DESK_CONFIG"], "VISUAL": str(editor), "EDITOR": "false"})
    made = subprocess.run(
        [TUI_DESK, "--db", str(db), "new", "--customer", "Ines Ortega", "--subject", "Parcel lost", "--json"],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "TUI_DESK_NOW": NOW.isoformat()},  # opened at the console's time: it logs after
    )
    case = json.loads(made.stdout)["case_number"]
    terminal = Terminal()
    try:
        terminal.start([TUI_DESK, "--db", str(db)], env)
        terminal.wait_for(case)
        time.sleep(1.5)  # idle: the forms are built
        terminal.keys("l")
        terminal.wait_for("Log entry")
        terminal.text("Called the carrier")
        terminal.keys("Tab")
        time.sleep(0.5)  # (typed at once, the words after this Tab land in the summary: see the report)
        terminal.text("Phoned DHL.")
        time.sleep(0.3)
        terminal.keys("C-e")
        terminal.wait_for("lost at the depot")  # back in the form, the editor's paragraph in the field
        terminal.keys("C-s")
        terminal.wait_for("logged")
        terminal.keys("Escape", "q")
    finally:
        terminal.close()
    assert seen.read_text() == "Phoned DHL."
    log = json.loads(
        subprocess.run([TUI_DESK, "--db", str(db), "show", case, "--json"], capture_output=True, text=True).stdout
    )["log"]
    entry = next(e for e in log if e["summary"] == "Called the carrier")
    assert entry["body"] == "Phoned DHL.\n\nThe carrier confirms the parcel was lost at the depot."
