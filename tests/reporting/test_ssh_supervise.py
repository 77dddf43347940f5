"""End to end over SSH: a real sshd on localhost, a key login, ``tui-desk supervise`` in an 80x24 tmux pane.

The test installs nothing: ``.ci/run`` installs openssh-server and tmux from the Debian packages. It
skips (saying why) only when those programs are absent.
"""

from __future__ import annotations

import getpass
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_supervisor import build_desk

from tui_desk.store import Store

TUI_DESK = Path(shutil.which("tui-desk") or Path(sys.executable).with_name("tui-desk")).resolve()
SSHD = shutil.which("sshd") or ("/usr/sbin/sshd" if Path("/usr/sbin/sshd").exists() else None)
TOOLS = {
    "sshd": SSHD,
    "ssh": shutil.which("ssh"),
    "ssh-keygen": shutil.which("ssh-keygen"),
    "tmux": shutil.which("tmux"),
}
missing = [name for name, path in TOOLS.items() if not path]
pytestmark = pytest.mark.skipif(
    bool(missing), reason=f"needs {', '.join(missing)} (apt-get install openssh-server openssh-client tmux)"
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def sshd(request, tmp_path):
    """A private sshd on a free localhost port: its own host key, one authorized client key, no PAM.
    An indirect parameter adds lines to its config (a function of ``tmp_path``)."""
    extra = request.param(tmp_path) if hasattr(request, "param") else []
    folder = tmp_path / "ssh"
    folder.mkdir()
    host_key, client_key = folder / "host_key", folder / "client_key"
    for key in (host_key, client_key):
        subprocess.run([TOOLS["ssh-keygen"], "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    authorized = folder / "authorized_keys"
    authorized.write_text(client_key.with_suffix(".pub").read_text())
    authorized.chmod(0o600)
    if os.geteuid() == 0 and not Path("/run/sshd").is_dir():
        # sshd's privilege-separation directory, normally made when the service starts.
        Path("/run/sshd").mkdir(mode=0o755, parents=True)
    port = free_port()
    config = folder / "sshd_config"
    config.write_text(
        "\n".join(
            [
                f"Port {port}",
                "ListenAddress 127.0.0.1",
                f"HostKey {host_key}",
                f"PidFile {folder / 'sshd.pid'}",
                f"AuthorizedKeysFile {authorized}",
                "StrictModes no",
                "UsePAM no",
                "PubkeyAuthentication yes",
                "PasswordAuthentication no",
                "KbdInteractiveAuthentication no",
                "PermitRootLogin prohibit-password",
                "LogLevel VERBOSE",
                *extra,
                "",
            ]
        )
    )
    log = folder / "sshd.log"
    server = subprocess.Popen([SSHD, "-D", "-e", "-f", str(config)], stderr=log.open("w"), stdout=subprocess.DEVNULL)

    def listening():
        if server.poll() is not None:
            raise AssertionError(f"sshd exited: {log.read_text()}")
        with socket.socket() as s:
            return s.connect_ex(("127.0.0.1", port)) == 0

    wait_for(listening, 15, "sshd to listen")
    yield {"port": port, "key": client_key, "folder": folder, "log": log}
    server.terminate()
    server.wait(timeout=10)


class Pane:
    """One tmux session on a private socket, 80x24."""

    def __init__(self, folder: Path) -> None:
        self.socket = folder / "tmux.sock"

    def tmux(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([TOOLS["tmux"], "-S", str(self.socket), *args], capture_output=True, text=True)

    def start(self, command: str) -> None:
        result = self.tmux("new-session", "-d", "-s", "sv", "-x", "80", "-y", "24", command)
        assert result.returncode == 0, result.stderr
        self.tmux("set-option", "-t", "sv", "remain-on-exit", "on")

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", "sv").stdout

    def kill(self) -> None:
        self.tmux("kill-server")


@pytest.fixture
def desk_db(tmp_path, clock):
    path = tmp_path / "shared" / "desk.db"
    path.parent.mkdir()
    store = Store(path, clock=clock, agent="ana")
    cases = build_desk(store, clock)
    # Apply the timers that fell due (T4's reminders) now, so the console has nothing left to sweep
    # and the screen stays still.
    from tui_desk.store.sweep import sweep_timers

    sweep_timers(store)
    store.close()
    return path, cases


@pytest.mark.parametrize("term, read_only", [("xterm", False), ("linux", True)])
def test_supervise_over_ssh_in_80x24(sshd, desk_db, tmp_path, term, read_only):
    db, cases = desk_db
    home = tmp_path / "remote-home"
    env = {
        "TERM": term,
        "TUI_DESK_NOW": "2026-11-15T14:30:00+00:00",
        "TUI_DESK_CONFIG": str(home / "config.toml"),
        "XDG_CONFIG_HOME": str(home / "config"),
        "XDG_STATE_HOME": str(home / "state"),
        "XDG_DATA_HOME": str(home / "data"),
        "LANG": "C.UTF-8",
    }
    remote = ["env", *(f"{k}={v}" for k, v in env.items()), str(TUI_DESK), "--db", str(db)]
    remote += ["--read-only", "supervise"] if read_only else ["supervise"]
    ssh = [
        TOOLS["ssh"],
        "-tt",
        "-F",
        "/dev/null",
        "-i",
        str(sshd["key"]),
        "-p",
        str(sshd["port"]),
        "-o",
        "StrictHostKeyChecking=no",
        "-o",
        f"UserKnownHostsFile={sshd['folder'] / 'known_hosts'}",
        "-o",
        "BatchMode=yes",
        "-o",
        "IdentitiesOnly=yes",
        "-o",
        "LogLevel=ERROR",
        f"{getpass.getuser()}@127.0.0.1",
        shlex.join(remote),
    ]
    pane = Pane(sshd["folder"])
    pane.start(shlex.join(ssh))
    try:
        screen = wait_for(
            lambda: (s := pane.screen()) and cases["T1"] in s and "No action" in s and s,
            60,
            f"the overdue panel (sshd log: {sshd['log'].read_text()[-400:]})",
        )
        lines = screen.splitlines()
        assert len(lines) <= 24 and max(len(line) for line in lines) <= 80
        assert "Overdue" in lines[0] and "2026-11-15 14:30 UTC" in lines[0]
        assert ("read-only" in lines[0]) is read_only
        assert "1 Breached 1" in screen and "3 Follow-up 1" in screen
        t1 = next(line for line in lines if cases["T1"] in line)
        assert t1.split()[1:] == ["Customer", "T1", "New", "ben", "1h", "30m", "response"]
        # Nothing changes, so nothing is sent: record the pane's output for a few quiet seconds.
        time.sleep(1.5)
        record = sshd["folder"] / "quiet.out"
        pane.tmux("pipe-pane", "-o", "-t", "sv", f"cat >> {shlex.quote(str(record))}")
        time.sleep(3)
        pane.tmux("pipe-pane", "-t", "sv")
        quiet = record.read_bytes() if record.exists() else b""
        assert quiet == b"", quiet[:300]
        # The reports screen: sparklines in eighth blocks, or plain ASCII on the Linux console.
        pane.tmux("send-keys", "-t", "sv", "r")
        reports = wait_for(lambda: (s := pane.screen()) and "Response breaches" in s and s, 30, "the reports screen")
        spark = next(line for line in reports.splitlines() if "Opened" in line)
        if term == "linux":
            assert not set("▁▂▃▄▅▆▇█") & set(spark), spark
        else:
            assert set("▁█") <= set(spark), spark
        # The keyboard alone: q quits, and the SSH session ends.
        pane.tmux("send-keys", "-t", "sv", "q")
        wait_for(
            lambda: pane.tmux("display-message", "-p", "-t", "sv", "#{pane_dead}").stdout.strip() == "1",
            20,
            "tui-desk to quit",
        )
    finally:
        pane.kill()


# The README's advice: sshd asks a silent client every ClientAliveInterval seconds and hangs up after
# ClientAliveCountMax unanswered asks (here 1 s x 2, so the test is short; the README says 15 x 4).
ALIVE_INTERVAL, ALIVE_COUNT = 1, 2
TAG = "TUI_DESK_SSH_TAG"


def supervise_forced(tmp_path) -> list[str]:
    home = tmp_path / "remote-home"
    env = {
        "TERM": "xterm",
        "TUI_DESK_NOW": "2026-11-15T14:30:00+00:00",
        "TUI_DESK_CONFIG": str(home / "config.toml"),
        "XDG_CONFIG_HOME": str(home / "config"),
        "XDG_STATE_HOME": str(home / "state"),
        "XDG_DATA_HOME": str(home / "data"),
        "LANG": "C.UTF-8",
        TAG: tmp_path.name,
    }
    command = [
        "env",
        *(f"{k}={v}" for k, v in env.items()),
        str(TUI_DESK),
        "--db",
        str(tmp_path / "shared" / "desk.db"),
    ]
    return [
        f"ClientAliveInterval {ALIVE_INTERVAL}",
        f"ClientAliveCountMax {ALIVE_COUNT}",
        f"ForceCommand {shlex.join([*command, 'supervise'])}",
    ]


def consoles_tagged(tag: str) -> list[int]:
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            environ = Path(f"/proc/{name}/environ").read_bytes().split(b"\0")
            argv = Path(f"/proc/{name}/cmdline").read_bytes()
        except OSError:
            continue
        if f"{TAG}={tag}".encode() in environ and b"tui-desk" in argv:
            found.append(int(name))
    return found


@pytest.mark.parametrize("sshd", [supervise_forced], indirect=True)
@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGSTOP], ids=["killed", "frozen"])
def test_supervise_ends_when_the_ssh_client_vanishes(sshd, desk_db, tmp_path, how):
    """The client dies (SIGKILL) or goes silent without closing anything (SIGSTOP, as a dropped link):
    within the keepalive window sshd hangs up, and no ``tui-desk`` is left on the server."""
    db, cases = desk_db
    out = tmp_path / "ssh.out"
    ssh = [
        TOOLS["ssh"], "-tt", "-F", "/dev/null", "-i", str(sshd["key"]), "-p", str(sshd["port"]),
        "-o", "StrictHostKeyChecking=no", "-o", f"UserKnownHostsFile={sshd['folder'] / 'known_hosts'}",
        "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes", "-o", "LogLevel=ERROR",
        "-o", "ServerAliveInterval=0",
        f"{getpass.getuser()}@127.0.0.1",
    ]  # fmt: skip
    client = subprocess.Popen(ssh, stdin=subprocess.PIPE, stdout=out.open("wb"), stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: cases["T1"].encode() in out.read_bytes(), 60, f"the overdue panel ({sshd['log']})")
        assert consoles_tagged(tmp_path.name), "no tui-desk on the server side"
        client.send_signal(how)
        # sshd asks after ClientAliveInterval of silence and gives up when the next ask would exceed
        # ClientAliveCountMax: (count + 1) intervals; then the console has its 3 s.
        window = ALIVE_INTERVAL * (ALIVE_COUNT + 1) + 3.0
        deadline = time.monotonic() + window
        while consoles_tagged(tmp_path.name) and time.monotonic() < deadline:
            time.sleep(0.1)
        left = consoles_tagged(tmp_path.name)
        assert not left, (
            f"tui-desk {left} outlived the SSH client by {window} s; sshd: {sshd['log'].read_text()[-600:]}"
        )
    finally:
        client.kill()
        client.wait(timeout=10)
        for pid in consoles_tagged(tmp_path.name):
            os.kill(pid, signal.SIGKILL)
