"""A console whose terminal vanishes ends, every time: the real ``tui-desk`` in tmux panes whose server is
killed (the pane's terminal goes away, as when an SSH link drops) at moments from 0.2 s to 8 s after launch.

Consoles of one round start together, each in its own tmux server on a private ``-L`` socket, so that the
kills land in every phase on a busy machine: starting up, reading the first page, a search in flight, a
log-entry form open with text typed, the supervisor screen. A process belongs to a test by a tag in its
environment. Five kills run by default, twenty with ``--run-slow``.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from conftest import TUI_DESK

from tui_desk.store import Store

TMUX = shutil.which("tmux")
pytestmark = pytest.mark.skipif(TMUX is None, reason="needs tmux (apt-get install tmux)")

# Big enough that the first page, the count and a search take a moment; built once per test session.
STORE_TICKETS = 20_000
GONE_WITHIN_S = 3.0  # the bound; the console itself aims at 2 s
TAG = "TUI_DESK_HANGUP_TAG"


@pytest.fixture(scope="session")
def big_store(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("hangup-store")
    home = folder / "home"
    env = dict(os.environ, HOME=str(home), XDG_DATA_HOME=str(home / "data"), XDG_STATE_HOME=str(home / "state"))
    env.update(XDG_CONFIG_HOME=str(home / "config"), TUI_DESK_CONFIG=str(home / "config.toml"))
    env.pop("TUI_DESK_DB", None)
    db = folder / "desk.db"
    subprocess.run(
        [TUI_DESK, "--db", str(db), "demo", "--tickets", str(STORE_TICKETS), "--seed", "7", "--no-open"],
        env=env,
        check=True,
        capture_output=True,
        timeout=300,
    )
    return db


def tagged_processes(tag: str) -> list[int]:
    """The processes started for one console (the pane's shell, ``tui-desk``), not its tmux server."""
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            environ = Path(f"/proc/{name}/environ").read_bytes()
            argv = Path(f"/proc/{name}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if f"{TAG}={tag}".encode() in environ.split(b"\0") and not argv[0].endswith(b"tmux"):
            found.append(int(name))
    return found


def describe(pid: int) -> str:
    """What a ghost is doing: its threads' kernel wait channels and its terminal."""
    try:
        tasks = sorted(Path(f"/proc/{pid}/task").iterdir())
        threads = [f"{(t / 'comm').read_text().strip()}:{(t / 'wchan').read_text()}" for t in tasks]
        tty = os.readlink(f"/proc/{pid}/fd/0")
    except OSError:
        return f"{pid} (gone while looking)"
    return f"{pid} on {tty}: {', '.join(threads)}"


# tmux servers started at the same instant can share a pane's pty master: one kill then leaves a
# console whose terminal is still open in another server (seen here); so servers start one at a time.
_STARTING = threading.Lock()


@dataclass
class Console:
    """One ``tui-desk`` in an 100x30 pane of its own tmux server."""

    db: Path
    args: tuple[str, ...] = ()
    agent: str = "ana"
    tag: str = field(default_factory=lambda: uuid.uuid4().hex[:12])

    @property
    def socket(self) -> str:
        return f"td-hangup-{self.tag}"

    def tmux(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([TMUX, "-L", self.socket, *args], capture_output=True, text=True, timeout=30)

    def start(self) -> None:
        with _STARTING:
            self._start()

    def _start(self) -> None:
        env = dict(os.environ, TUI_DESK_AGENT=self.agent, TERM="xterm-256color", LANG="C.UTF-8")
        env[TAG] = self.tag
        command = " ".join([TUI_DESK, "--db", str(self.db), *self.args])
        # No `exec`: the pane's shell stays between tmux and the console, as in a login.
        subprocess.run(
            [TMUX, "-L", self.socket, "-f", "/dev/null", "new-session", "-d", "-x", "100", "-y", "30", command],
            env=env,
            check=True,
            capture_output=True,
            timeout=30,
        )

    def keys(self, *keys: str, literal: bool = False) -> None:
        self.tmux("send-keys", *(["-l"] if literal else []), *keys)

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p").stdout

    def wait_for(self, text: str, timeout: float = 60) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            shown = self.screen()
            if text in shown:
                return shown
            time.sleep(0.1)
        raise AssertionError(f"{text!r} never showed; the pane:\n{self.screen()}")

    def kill_terminal(self) -> None:
        """The pane's terminal vanishes: the tmux server dies and takes the pty with it."""
        self.tmux("kill-server")

    def left_after(self, seconds: float) -> list[int]:
        deadline = time.monotonic() + seconds
        while (alive := tagged_processes(self.tag)) and time.monotonic() < deadline:
            time.sleep(0.05)
        return alive

    def reap(self) -> None:
        """A ghost must not outlive its test on a shared machine."""
        for pid in tagged_processes(self.tag):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.tmux("kill-server")


# What the console is doing when its terminal goes: (what it runs, keys typed at 60% of the moment).
SCENES = {
    "queue": ((), None),
    "form": ((), [("l", False), ("half typed", True)]),
    "search": ((), [("/", False), ("refund", True)]),
    "supervise": (("supervise",), None),
}


def kill_round(db: Path, plan: list[tuple[str, float]]) -> list[str]:
    """Start one console per (scene, moment) at once, kill each one's terminal at its moment; the ghosts."""
    ghosts: list[str] = []
    consoles = [Console(db, SCENES[scene][0]) for scene, _ in plan]

    def run(console: Console, scene: str, moment: float) -> None:
        started = time.monotonic()
        console.start()
        keys = SCENES[scene][1]
        if keys:
            time.sleep(moment * 0.6)
            for key, literal in keys:
                console.keys(key, literal=literal)
        time.sleep(max(0.0, moment - (time.monotonic() - started)))
        console.kill_terminal()
        left = console.left_after(GONE_WITHIN_S)
        if left:
            ghosts.append(f"{scene} killed at {moment:.1f} s: " + "; ".join(describe(p) for p in left))

    threads = [threading.Thread(target=run, args=(c, *step)) for c, step in zip(consoles, plan, strict=True)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        for console in consoles:
            console.reap()
    return ghosts


def plan_of(moments: list[float]) -> list[tuple[str, float]]:
    scenes = list(SCENES)
    return [(scenes[i % len(scenes)], m) for i, m in enumerate(moments)]


def test_five_kills_at_different_moments_leave_no_console(big_store):
    ghosts = kill_round(big_store, plan_of([0.2, 0.9, 1.8, 3.5, 6.0]))
    assert not ghosts, f"{len(ghosts)} of 5 consoles outlived their terminal by {GONE_WITHIN_S} s:\n" + "\n".join(
        ghosts
    )


@pytest.mark.slow
def test_twenty_kills_from_0_2_to_8_s_leave_no_console(big_store):
    moments = [round(0.2 + i * (8.0 - 0.2) / 19, 2) for i in range(20)]
    ghosts: list[str] = []
    for start in range(0, 20, 5):  # five at a time: busy, like a shared host, but not swamped
        ghosts += kill_round(big_store, plan_of(moments[start : start + 5]))
    assert not ghosts, f"{len(ghosts)} of 20 consoles outlived their terminal by {GONE_WITHIN_S} s:\n" + "\n".join(
        ghosts
    )


def test_the_draft_typed_before_the_hang_up_is_offered_back(big_store):
    typed = "Called about the kettle, half typed"
    console = Console(big_store, agent="dora")  # an agent of its own: other tests' drafts are not hers
    try:
        console.start()
        console.wait_for("TD-")
        console.keys("l")
        head = console.wait_for("Log entry")
        case = next(word for line in head.splitlines() if "Log entry" in line for word in line.split() if "TD-" in word)
        console.wait_for("Summary")
        console.keys(typed, literal=True)
        console.wait_for(typed)
        console.kill_terminal()  # at once: the last keystrokes may not be autosaved yet
        assert not console.left_after(GONE_WITHIN_S), "the console outlived its terminal"
    finally:
        console.reap()
    store = Store(big_store, agent="dora")
    try:
        draft = store.load_draft(case)
    finally:
        store.close()
    assert draft is not None and typed in draft[0].values(), draft
    again = Console(big_store, agent="dora")
    try:
        again.start()
        again.wait_for("TD-")
        again.keys("l")
        again.wait_for("You have an unsaved draft")
        again.keys("Enter")  # the first choice: restore it
        again.wait_for(typed)
        again.keys("C-q")
    finally:
        again.reap()
