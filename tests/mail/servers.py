"""Mail test servers (a plugin of tests/conftest.py): real SMTP (aiosmtpd) and IMAP (Dovecot) on free ports."""

from __future__ import annotations

import os
import socket
import threading
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Mailbox:
    """What the SMTP server received, and the answers it gives to chosen recipients."""

    def __init__(self) -> None:
        self.received: list[tuple[str, list[str], object]] = []  # (envelope from, recipients, parsed message)
        self.answers: dict[str, list[str]] = {}  # address -> replies to RCPT TO, one per attempt (then accept)
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802 - aiosmtpd's name
        with self.lock:
            planned = self.answers.get(address)
            if planned:
                return planned.pop(0)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        parsed = message_from_bytes(envelope.original_content or envelope.content, policy=policy.default)
        with self.lock:
            self.received.append((envelope.mail_from, list(envelope.rcpt_tos), parsed))
        return "250 Message accepted for delivery"

    def messages(self) -> list:
        with self.lock:
            return [m for _, _, m in self.received]


@pytest.fixture
def smtp_server():
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    mailbox.port = controller.port
    yield mailbox
    controller.stop()


def write_mail_config(home: Path, port: int, extra: str = "") -> Path:
    path = home / "config.toml"
    path.write_text(
        "[mail]\n"
        'from = "Support <support@example.com>"\n'
        'smtp_host = "127.0.0.1"\n'
        f"smtp_port = {port}\n"
        'smtp_security = "none"\n' + extra,
        encoding="utf-8",
    )
    return path


@pytest.fixture
def mail_config(isolated_env, smtp_server) -> Path:
    return write_mail_config(isolated_env, smtp_server.port)


DOVECOT = Path("/usr/sbin/dovecot")


class Dovecot:
    """A real Dovecot IMAP server on a free local port, with a throwaway config, one user and its Maildir."""

    user, password = "desk", "imap-secret"

    def __init__(self, root: Path) -> None:
        import pwd

        self.root = root
        self.port = free_port()
        for sub in ("run", "state", "mail"):
            (root / sub).mkdir(parents=True, exist_ok=True)
        nobody = pwd.getpwnam("nobody")
        os.chown(root / "mail", nobody.pw_uid, nobody.pw_gid)  # mail is read and written as nobody, not root
        (root / "passwd").write_text(f"{self.user}:{{PLAIN}}{self.password}\n", encoding="utf-8")
        self.config = root / "dovecot.conf"
        self.config.write_text(
            f"""base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:{root}/mail/%u
mail_uid = {nobody.pw_uid}
mail_gid = {nobody.pw_gid}
first_valid_uid = 1
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid={nobody.pw_uid} gid={nobody.pw_gid} home={root}/mail/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service stats {{
  unix_listener stats-reader {{
    mode = 0666
  }}
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
""",
            encoding="utf-8",
        )

    def start(self) -> None:
        import subprocess
        import time

        subprocess.run([str(DOVECOT), "-c", str(self.config)], check=True, timeout=30)
        deadline = time.monotonic() + 30
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                assert time.monotonic() < deadline, (self.root / "dovecot.log").read_text()
                time.sleep(0.1)

    def stop(self) -> None:
        import signal
        import time

        pid_file = self.root / "run" / "master.pid"
        if pid_file.exists():
            pid = int(pid_file.read_text().split()[0])
            os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                try:
                    os.kill(pid, 0)
                except ProcessLookupError:
                    return
                time.sleep(0.1)

    def session(self):
        import imaplib

        conn = imaplib.IMAP4("127.0.0.1", self.port)
        conn.login(self.user, self.password)
        return conn


@pytest.fixture
def dovecot():
    import shutil
    import tempfile

    if not DOVECOT.exists() or os.geteuid() != 0:
        pytest.skip("needs Dovecot (apt-get install dovecot-imapd) and root to run it")
    root = Path(tempfile.mkdtemp(prefix="tui-desk-dovecot-"))
    root.chmod(0o755)  # the mail processes run as nobody: they must reach the Maildir below
    server = Dovecot(root)
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)
