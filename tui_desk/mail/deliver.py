"""Delivery: send the outbox's due messages by SMTP, each claimed first, and record what the server said.

Claims are taken under the store's write lock (store/outbox.py), so two consoles and a cron
``deliver`` never send one message at once. A message the server accepted is marked sent right after;
a deliverer that dies in between leaves its claim to run out, and the message goes again with the same
Message-ID: delivery is at least once, and receivers deduplicate on the id.
"""

from __future__ import annotations

import os
import smtplib
import socket
import ssl
import uuid
from dataclasses import dataclass, field
from email.utils import parseaddr

from tui_desk.config import MailConfig
from tui_desk.domain import log_texts
from tui_desk.domain.errors import DeskError
from tui_desk.mail.compose import compose
from tui_desk.store import outbox


@dataclass
class DeliveryRun:
    """What one run did, message by message."""

    sent: list[dict] = field(default_factory=list)
    retrying: list[dict] = field(default_factory=list)
    failed: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"sent": self.sent, "retrying": self.retrying, "failed": self.failed}

    def summary(self) -> str:
        counts = (("sent", self.sent), ("retrying", self.retrying), ("failed", self.failed))
        parts = [f"{len(v)} {k}" for k, v in counts]
        return ", ".join(p for p in parts if not p.startswith("0 ")) or "nothing to send"


def worker_name() -> str:
    """Who holds a claim: host, process and a random part (two runs in one process differ too)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def connect(mail: MailConfig, password: str | None) -> smtplib.SMTP:
    """An SMTP session as ``[mail]`` says: TLS from the start (ssl), upgraded (starttls) or plain (none)."""
    timeout = mail.timeout_s
    if mail.smtp_security == "ssl":
        context = ssl.create_default_context()
        session = smtplib.SMTP_SSL(mail.smtp_host, mail.smtp_port, timeout=timeout, context=context)
    else:
        session = smtplib.SMTP(mail.smtp_host, mail.smtp_port, timeout=timeout)
        if mail.smtp_security == "starttls":
            session.starttls(context=ssl.create_default_context())
    if mail.smtp_user:
        session.login(mail.smtp_user, password or "")
    return session


def _reply(code: int, text: bytes | str) -> str:
    words = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    return f"{code} {' '.join(words.split())}".strip()


class _Connection:
    """One SMTP session, opened when first needed and again after the server dropped it."""

    def __init__(self, mail: MailConfig, password: str | None) -> None:
        self.mail, self.password, self.session = mail, password, None

    def send(self, message, sender: str, to: str) -> None:
        if self.session is None:
            self.session = connect(self.mail, self.password)
        self.session.send_message(message, from_addr=sender, to_addrs=[to])

    def drop(self) -> None:
        session, self.session = self.session, None
        if session is not None:
            try:
                session.quit()
            except (smtplib.SMTPException, OSError):
                session.close()


def deliver_due(store, mail: MailConfig, *, worker: str | None = None, batch: int = 20) -> DeliveryRun:
    """Send every due message once (temporary failures wait for their next attempt); returns what happened."""
    worker = worker or worker_name()
    password = mail.smtp_password()  # a bad password file is refused before anything is claimed
    if mail.smtp_user and password is None:
        raise DeskError(
            "config: mail.smtp_user is set but there is no password (TUI_DESK_SMTP_PASSWORD or mail.smtp_password_file)"
        )
    sender = parseaddr(mail.from_addr)[1]
    run = DeliveryRun()
    connection = _Connection(mail, password)
    try:
        while True:
            claimed = outbox.claim_due(store, worker=worker, domain=mail.from_domain, limit=batch)
            if not claimed:
                break
            if not _send_batch(store, mail, connection, claimed, worker, sender, run):
                break  # the server cannot be reached: the rest waits for its next attempt
    finally:
        connection.drop()
    return run


def _send_batch(store, mail, connection, claimed, worker, sender, run: DeliveryRun) -> bool:
    for index, message in enumerate(claimed):
        done = {"id": message.id, "case_number": message.case_number, "what": message.label, "to": message.to}
        if not message.to:
            error = log_texts.no_address(message.party)
            outbox.record_failed(store, message, worker, error)
            run.failed.append({**done, "error": error})
            continue
        try:
            email = compose(message, mail, now=store.now(), read_blob=lambda sha: store.blobs.path_of(sha).read_bytes())
        except (ValueError, TypeError, OSError) as err:
            error = f"cannot build the message: {err}"
            outbox.record_failed(store, message, worker, error)
            run.failed.append({**done, "error": error})
            continue
        try:
            connection.send(email, sender, message.to)
        except smtplib.SMTPAuthenticationError as err:
            for rest in claimed[index:]:
                outbox.release(store, rest, worker)
            raise DeskError(f"the SMTP server refused the login: {_reply(err.smtp_code, err.smtp_error)}") from None
        except smtplib.SMTPRecipientsRefused as err:
            code, text = next(iter(err.recipients.values()), (450, b"recipient refused"))
            _outcome(store, mail, message, worker, code, _reply(code, text), done, run)
        except smtplib.SMTPResponseException as err:
            _outcome(store, mail, message, worker, err.smtp_code, _reply(err.smtp_code, err.smtp_error), done, run)
            if err.smtp_code == 421:
                connection.drop()
        except (smtplib.SMTPException, OSError) as err:  # no connection, dropped, timed out, TLS refused
            connection.drop()
            error = f"no connection to {mail.smtp_host}:{mail.smtp_port} ({err or type(err).__name__})"
            for rest in claimed[index:]:
                outbox.record_retry(store, rest, worker, error, max_attempts=mail.max_attempts)
                late = {"id": rest.id, "case_number": rest.case_number, "what": rest.label, "to": rest.to}
                run.retrying.append({**late, "error": error})
            return False
        else:
            if outbox.record_sent(store, message, worker, message.to):
                run.sent.append(done)
    return True


def _outcome(store, mail, message, worker, code: int, error: str, done: dict, run: DeliveryRun) -> None:
    """5xx: the message failed for good; anything else (4xx): tried again later."""
    if 500 <= code < 600:
        outbox.record_failed(store, message, worker, error)
        run.failed.append({**done, "error": error})
    else:
        outbox.record_retry(store, message, worker, error, max_attempts=mail.max_attempts)
        run.retrying.append({**done, "error": error})
