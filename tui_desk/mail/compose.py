"""An outbox message as an email: the case's tag in the subject, a stable Message-ID, threading headers."""

from __future__ import annotations

import mimetypes
import re
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, formataddr

from tui_desk.config import MailConfig
from tui_desk.store.outbox import Claimed

_UNSAFE_IN_HEADER = re.compile(r"[\x00-\x1f\x7f]+")


def header_text(value: str) -> str:
    """A header value on one line: a customer's name or subject with a line break cannot add headers."""
    return " ".join(_UNSAFE_IN_HEADER.sub(" ", value or "").split())


def compose(claimed: Claimed, mail: MailConfig, *, now: datetime, read_blob) -> EmailMessage:
    """The email for one claimed message; ``read_blob(sha256)`` gives an attachment's bytes."""
    message = EmailMessage()
    message["From"] = mail.from_addr
    to = header_text(claimed.to or "")
    message["To"] = formataddr((header_text(claimed.to_name), to)) if claimed.to_name else to
    message["Subject"] = header_text(claimed.subject)
    message["Date"] = format_datetime(now)
    message["Message-ID"] = claimed.message_id
    if claimed.in_reply_to:
        message["In-Reply-To"] = claimed.in_reply_to
    if claimed.references:
        message["References"] = " ".join(claimed.references)
    if claimed.automatic:
        message["Auto-Submitted"] = "auto-generated"  # RFC 3834: an auto-responder must not answer it
    message["X-TUI-Desk-Case"] = claimed.case_number
    message.set_content(claimed.body or "", cte="quoted-printable")
    for name, sha256 in claimed.attachments:
        kind, _ = mimetypes.guess_type(name)
        maintype, _, subtype = (kind or "application/octet-stream").partition("/")
        message.add_attachment(read_blob(sha256), maintype=maintype, subtype=subtype, filename=header_text(name))
    return message
