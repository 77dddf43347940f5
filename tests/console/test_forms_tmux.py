"""The real `tui-desk` in a real terminal (tmux on a private socket): a sentence typed the moment `l` is
pressed, saved with Ctrl+S 0.3 s after the last key, is in the timeline once, and no draft is offered."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import uuid

import pytest

from tests.conftest import NOW, TUI_DESK

TMUX = shutil.which("tmux")
pytestmark = pytest.mark.skipif(TMUX is None, reason="needs tmux (apt-get install tmux)")
SENTENCE = "Customer says the belt is synthetic"


class Terminal:
    """One 100x30 tmux session on its own server (``tmux -L``), so no other session is touched."""

    def __init__(self) -> None:
        self.name = f"tui-desk-forms-{uuid.uuid4().hex[:8]}"

    def tmux(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([TMUX, "-L", self.name, *args], capture_output=True, text=True, timeout=30)

    def start(self, command: list[str], env: dict[str, str]) -> None:
        exports = " ".join(f"{k}={v!r}" for k, v in env.items())
        line = f"env {exports} " + " ".join(repr(c) for c in command)
        result = self.tmux("new-session", "-d", "-s", "desk", "-x", "100", "-y", "30", line)
        assert result.returncode == 0, result.stderr
        self.tmux("set-option", "-t", "desk", "remain-on-exit", "on")

    def keys(self, *keys: str) -> None:
        self.tmux("send-keys", "-t", "desk", *keys)

    def text(self, text: str) -> None:
        self.tmux("send-keys", "-t", "desk", "-l", text)

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", "desk").stdout

    def wait_for(self, what: str, timeout: float = 30.0) -> str:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            shown = self.screen()
            if what in shown:
                return shown
            time.sleep(0.05)
        raise AssertionError(f"{what!r} never showed:\n{self.screen()}")

    def close(self) -> None:
        self.tmux("kill-server")


def test_a_sentence_typed_right_after_l_is_logged_once_with_no_draft_left(tmp_path, isolated_env):
    db = tmp_path / "desk.db"
    env = {
        "TERM": "xterm-256color",
        "LANG": "C.UTF-8",
        "TUI_DESK_NOW": NOW.isoformat(),
        "TUI_DESK_AGENT": "ana",
        "HOME": os.environ["HOME"],
        "XDG_CONFIG_HOME": os.environ["XDG_CONFIG_HOME"],
        "XDG_STATE_HOME": os.environ["XDG_STATE_HOME"],
        "XDG_DATA_HOME": os.environ["XDG_DATA_HOME"],
        "TUI_DESK_CONFIG": os.environ["TUI_DESK_CONFIG"],
    }
    run_env = {**os.environ, **env}

    def cli(*args: str) -> str:
        done = subprocess.run([TUI_DESK, "--db", str(db), *args], capture_output=True, text=True, env=run_env)
        assert done.returncode == 0, done.stderr
        return done.stdout

    case = json.loads(cli("new", "--customer", "Ines Ortega", "--subject", "Belt not leather", "--json"))
    case = case["case_number"]
    terminal = Terminal()
    try:
        terminal.start([TUI_DESK, "--db", str(db)], env)
        terminal.wait_for(case)
        time.sleep(1.5)  # the console is idle: its forms are built by now, as an agent finds them
        terminal.keys("l")
        for character in SENTENCE:  # typed at once, one key at a time, as fast as a typist
            terminal.text(character)
            time.sleep(0.03)
        time.sleep(0.3)
        terminal.keys("C-s")
        terminal.wait_for("logged")
        terminal.keys("Enter")  # reopen the ticket
        terminal.wait_for("Belt not leather")
        terminal.keys("l")
        shown = terminal.wait_for("Log entry")
        time.sleep(1.0)  # the draft, if any, would be offered by now
        shown = terminal.screen()
        assert "unsaved draft" not in shown, shown
        terminal.keys("Escape")
        time.sleep(0.3)
        terminal.keys("Escape", "q")
    finally:
        terminal.close()
    log = json.loads(cli("show", case, "--json"))["log"]
    assert [e["summary"] for e in log].count(SENTENCE) == 1, [e["summary"] for e in log]


def test_a_burst_with_tabs_right_after_n_fills_each_field_in_turn(tmp_path, isolated_env):
    """`n`, a name, Tab, an email, Tab Tab, a subject, all in one burst (one read of the terminal): each
    lands in its own field (the Tabs used to move focus ahead of the words typed before them)."""
    db = tmp_path / "desk.db"
    env = {"TERM": "xterm-256color", "LANG": "C.UTF-8", "TUI_DESK_NOW": NOW.isoformat(), "TUI_DESK_AGENT": "ana"}
    env.update({k: os.environ[k] for k in ("HOME", "XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_DATA_HOME")})
    env["TUI_DESK_CONFIG"] = os.environ["TUI_DESK_CONFIG"]
    subprocess.run([TUI_DESK, "--db", str(db), "new", "--customer", "Someone", "--subject", "First"], check=True)
    terminal = Terminal()
    try:
        terminal.start([TUI_DESK, "--db", str(db)], env)
        terminal.wait_for("TD-REF-2026-00001")
        time.sleep(1.5)  # idle: the forms are built, as an agent finds them
        terminal.keys("n", "Zoe Fast", "Tab", "zoe@example.com", "Tab", "Tab", "Broken lid")  # one send: a burst
        shown = terminal.wait_for("Broken lid")
        lines = {line.split()[0]: line for line in shown.splitlines() if line.strip()}
        assert "Zoe Fast" in lines["Customer"] and "zoe@example.com" not in lines["Customer"], shown
        assert "zoe@example.com" in lines["Email"] and "Broken lid" in lines["Subject"], shown
        terminal.keys("Escape")
        time.sleep(0.3)
        terminal.keys("Escape", "q")
    finally:
        terminal.close()


def _console_pid(terminal: Terminal, db) -> int:
    """The tui-desk process in the pane (the pane's own process, or the one it started)."""
    pane = int(terminal.tmux("display-message", "-p", "-t", "desk", "#{pane_pid}").stdout.strip())
    todo = [pane]
    while todo:
        pid = todo.pop()
        try:
            cmdline = open(f"/proc/{pid}/cmdline", "rb").read().split(b"\0")
        except OSError:
            continue
        if any(b"tui-desk" in part for part in cmdline) and str(db).encode() in cmdline:
            return pid
        children = open(f"/proc/{pid}/task/{pid}/children").read().split()
        todo += [int(c) for c in children]
    raise AssertionError("no tui-desk process in the pane")


def test_kill_9_at_a_random_moment_loses_at_most_the_last_200_ms_of_typing(tmp_path, isolated_env):
    """The draft bound, with the real command in a real terminal: type a sentence into the log form, kill the
    console with SIGKILL at a random moment; every key typed 200 ms or more before the kill is in the draft."""
    import random
    import signal

    from tui_desk.domain.clock import FixedClock
    from tui_desk.store import Store

    db = tmp_path / "desk.db"
    env = {"TERM": "xterm-256color", "LANG": "C.UTF-8", "TUI_DESK_NOW": NOW.isoformat(), "TUI_DESK_AGENT": "ana"}
    env.update({k: os.environ[k] for k in ("HOME", "XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_DATA_HOME")})
    env["TUI_DESK_CONFIG"] = os.environ["TUI_DESK_CONFIG"]
    made = subprocess.run(
        [TUI_DESK, "--db", str(db), "new", "--customer", "Ines Ortega", "--subject", "Belt not leather", "--json"],
        check=True,
        capture_output=True,
        text=True,
    )
    case = json.loads(made.stdout)["case_number"]
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    for attempt in range(4):  # four random moments (a 0.6 s draft delay fails one of them, mostly)
        terminal = Terminal()
        try:
            terminal.start([TUI_DESK, "--db", str(db)], env)
            terminal.wait_for(case)
            time.sleep(1.0)
            terminal.keys("l")
            terminal.wait_for("Log entry")
            time.sleep(1.0)  # the ticket is read (and no draft is offered: each attempt starts clean)
            assert "unsaved draft" not in terminal.screen()
            pid = _console_pid(terminal, db)
            kill_at = time.monotonic() + rng.uniform(0.3, 1.8)
            sent: list[tuple[float, str]] = []
            for character in SENTENCE:
                if time.monotonic() >= kill_at:
                    break
                terminal.text(character)
                sent.append((time.monotonic(), character))
                time.sleep(rng.uniform(0.02, 0.08))
            time.sleep(max(0.0, kill_at - time.monotonic()))
            killed = time.monotonic()
            os.kill(pid, signal.SIGKILL)
        finally:
            terminal.close()
        must_have = "".join(c for at, c in sent if at <= killed - 0.2)
        store = Store(db, clock=FixedClock(NOW), agent="ana")
        try:
            draft = store.load_draft(case)
            summary = draft[0]["summary"] if draft else ""
            assert summary.startswith(must_have), (seed, attempt, must_have, summary)
            assert SENTENCE.startswith(summary), (seed, attempt, summary)
            store.discard_draft(case)
        finally:
            store.close()
