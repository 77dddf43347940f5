"""Mail fixtures: a real SMTP server (aiosmtpd) on a free local port, and a config pointing at it."""

from __future__ import annotations

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
