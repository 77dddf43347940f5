"""Reading an incoming message as far as it can be read: headers, text, attachments, what kind of mail it is.

Nothing here trusts the message. A header that does not decode, a charset nobody knows, broken MIME:
each becomes a note, and the rest is still read. HTML is turned into text (BeautifulSoup), never rendered.
"""

from __future__ import annotations

import email
import hashlib
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.utils import getaddresses, parseaddr, parsedate_to_datetime

_CASE_TAG = re.compile(r"\[([A-Z][A-Z0-9]*-[A-Z][A-Z0-9]*-\d{4}-\d+)\]")
_MSGID = re.compile(r"<[^<>\s]+>")
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_REPLY_PREFIX = re.compile(r"^\s*((re|fwd?|aw|sv|wg|tr)\s*(\[\d+\])?\s*:\s*)+", re.IGNORECASE)
AUTO_SENDERS = re.compile(r"^(mailer-daemon|postmaster|noreply|no-reply|do-not-reply|donotreply)@", re.IGNORECASE)
MAX_NAME = 120


@dataclass
class IncomingMail:
    raw: bytes
    message_id: str
    from_name: str = ""
    from_addr: str = ""
    subject: str = ""
    date: datetime | None = None  # in UTC
    date_header: str = ""  # as the sender wrote it, zone and all
    in_reply_to: list[str] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    text: str = ""
    attachments: list[tuple[str, bytes]] = field(default_factory=list)
    auto: str | None = None  # why it is an automatic message (RFC 3834), or None
    bounce: bool = False  # a delivery status notification
    notes: list[str] = field(default_factory=list)  # what could not be read

    @property
    def case_tag(self) -> str | None:
        match = _CASE_TAG.search(self.subject or "")
        return match.group(1) if match else None

    @property
    def thread_ids(self) -> list[str]:
        return [*self.in_reply_to, *reversed(self.references)]

    @property
    def bare_subject(self) -> str:
        """The subject without ``Re:``/``Fwd:`` and without our case tag."""
        return " ".join(_REPLY_PREFIX.sub("", _CASE_TAG.sub("", self.subject or "")).split())


def one_line(text: str, limit: int | None = None) -> str:
    clean = " ".join(_CONTROLS.sub(" ", text or "").split())
    return clean if limit is None or len(clean) <= limit else clean[: limit - 1] + "…"


def _header(message: EmailMessage, name: str, notes: list[str]) -> str:
    try:
        value = message.get(name)
    except Exception as err:  # noqa: BLE001 - a header that breaks the parser is a note, not a stop
        notes.append(f"the {name} header could not be read ({type(err).__name__})")
        return ""
    return str(value) if value is not None else ""


def parse(raw: bytes) -> IncomingMail:
    notes: list[str] = []
    try:
        message = email.message_from_bytes(raw, policy=policy.default)
    except Exception as err:  # noqa: BLE001
        digest = hashlib.sha256(raw).hexdigest()[:32]
        return IncomingMail(raw=raw, message_id=f"<sha256.{digest}@tui-desk.invalid>", notes=[f"unreadable: {err}"])
    ids = _MSGID.findall(_header(message, "Message-ID", notes))
    message_id = ids[0] if ids else f"<sha256.{hashlib.sha256(raw).hexdigest()[:32]}@tui-desk.invalid>"
    if not ids:
        notes.append("the message has no Message-ID (it is known by its content's digest)")
    sender = _header(message, "From", notes)
    name, address = _sender(message, sender)
    mail = IncomingMail(
        raw=raw,
        message_id=message_id[:998],
        from_name=one_line(name, MAX_NAME),
        from_addr=one_line(address, 320).lower() if "@" in address else "",
        subject=one_line(_header(message, "Subject", notes), 998),
        in_reply_to=_MSGID.findall(_header(message, "In-Reply-To", notes))[:20],
        references=_MSGID.findall(_header(message, "References", notes))[-50:],
        notes=notes,
    )
    if not mail.from_addr:
        notes.append(f"the sender's address could not be read ({one_line(sender, 80) or 'no From header'})")
    mail.date_header = one_line(_header(message, "Date", notes), 200)
    if mail.date_header:
        try:
            when = parsedate_to_datetime(mail.date_header)
            mail.date = when.astimezone(UTC) if when.tzinfo else when.replace(tzinfo=UTC)
        except (TypeError, ValueError, IndexError, OverflowError):
            notes.append(f"the Date header {mail.date_header!r} could not be read")
    mail.auto = _automatic(message, mail, notes)
    mail.bounce = _is_bounce(message, mail)
    _walk(message, mail)
    for defect in getattr(message, "defects", [])[:5]:
        notes.append(f"broken MIME: {type(defect).__name__}")
    return mail


def _sender(message: EmailMessage, text: str) -> tuple[str, str]:
    """The From's name and address, from the parsed header (an encoded line break stays in the name)."""
    try:
        addresses = getattr(message["From"], "addresses", ())
        if addresses:
            return addresses[0].display_name, addresses[0].addr_spec
    except Exception:  # noqa: BLE001 - read it as text below
        pass
    if not text:  # the parser refused the header: decode it by hand, on one line
        from email.header import decode_header, make_header

        raw = next((str(v) for k, v in message.raw_items() if k.lower() == "from"), "")
        try:
            text = str(make_header(decode_header(raw)))
        except Exception:  # noqa: BLE001
            text = raw
    line = one_line(text)
    bracketed = re.search(r"<([^<>\s]+@[^<>\s]+)>\s*$", line)  # "Name <addr>": the address is the last <…>
    if bracketed:
        return line[: bracketed.start()].strip().strip('"'), bracketed.group(1)
    try:
        return (getaddresses([line]) or [("", "")])[0]
    except Exception:  # noqa: BLE001
        return parseaddr(line)


def _automatic(message: EmailMessage, mail: IncomingMail, notes: list[str]) -> str | None:
    """RFC 3834 and the usual signs of an auto-responder or a list: why it is automatic, or None."""
    submitted = _header(message, "Auto-Submitted", notes).strip().lower()
    if submitted and submitted != "no":
        return f"Auto-Submitted: {one_line(submitted, 40)}"
    precedence = _header(message, "Precedence", notes).strip().lower()
    if precedence in ("bulk", "junk", "list", "auto_reply"):
        return f"Precedence: {precedence}"
    for name in ("X-Autoreply", "X-Autorespond", "X-Auto-Response-Suppress", "List-Id", "List-Unsubscribe"):
        if _header(message, name, notes):
            return f"{name} header"
    if AUTO_SENDERS.match(mail.from_addr or ""):
        return f"sent by {mail.from_addr}"
    if _header(message, "Return-Path", notes).strip() == "<>":
        return "empty Return-Path (a bounce or notification)"
    return None


def _is_bounce(message: EmailMessage, mail: IncomingMail) -> bool:
    kind = message.get_content_type()
    if kind == "multipart/report" and "delivery-status" in (message.get_param("report-type") or ""):
        return True
    return bool(AUTO_SENDERS.match(mail.from_addr or "")) and bool(
        re.search(r"(undeliver|delivery (status|failure)|returned mail|failure notice)", mail.subject, re.I)
    )


def _decoded(part, mail: IncomingMail) -> str:
    payload = part.get_payload(decode=True)
    if payload is None:
        payload = str(part.get_payload() or "").encode("utf-8", "replace")
    charset = part.get_content_charset() or "utf-8"
    try:
        return payload.decode(charset, "replace")
    except LookupError:
        mail.notes.append(f"unknown charset {one_line(charset, 40)!r}: read as UTF-8, undecodable bytes shown as �")
        return payload.decode("utf-8", "replace")


def html_to_text(html: str) -> str:
    """The words of an HTML body, as text: scripts and styles dropped, nothing rendered or fetched."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    for tag in soup(["script", "style", "head", "title", "meta"]):
        tag.decompose()
    for br in soup.find_all("br"):
        br.replace_with("\n")
    text = soup.get_text("\n")
    lines = [" ".join(line.split()) for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _walk(message: EmailMessage, mail: IncomingMail) -> None:
    """The text body (plain preferred, else HTML as text) and every other part as an attachment."""
    plain, html = [], []
    skip: set[int] = set()
    count = 0
    for part in message.walk():
        count += 1
        if count > 500:
            mail.notes.append("more than 500 MIME parts: the rest was not read")
            break
        kind = part.get_content_type()
        if id(part) in skip:
            continue
        if kind == "message/delivery-status":  # its blocks of fields are its "parts": read them as text
            blocks = part.get_payload() if isinstance(part.get_payload(), list) else []
            skip.update(id(b) for b in blocks)
            plain.append("\n\n".join("\n".join(f"{k}: {v}" for k, v in b.items()) for b in blocks))
            continue
        if part.is_multipart():
            continue
        try:
            disposition = part.get_content_disposition()
            filename = part.get_filename()
        except Exception:  # noqa: BLE001
            disposition, filename = "attachment", None
        if disposition != "attachment" and not filename and kind in ("text/plain", "text/html"):
            (plain if kind == "text/plain" else html).append(_decoded(part, mail))
            continue
        if kind in ("message/rfc822-headers", "text/rfc822-headers") and not filename:
            plain.append(_decoded(part, mail))
            continue
        try:
            data = part.get_payload(decode=True)
            if data is None:
                data = part.as_bytes()
        except Exception as err:  # noqa: BLE001
            mail.notes.append(f"an attachment could not be decoded ({type(err).__name__})")
            continue
        mail.attachments.append((safe_filename(filename, kind, len(mail.attachments) + 1), data))
    if plain:
        mail.text = "\n\n".join(p.strip("\n") for p in plain)
    elif html:
        mail.text = "\n\n".join(html_to_text(h) for h in html)
    mail.text = mail.text.replace("\x00", "\ufffd").replace("\r\n", "\n")


def safe_filename(name: str | None, kind: str, number: int) -> str:
    """A name that is only a name: no folders, no controls, not hidden, at most 120 characters."""
    import mimetypes

    base = one_line(str(name or ""), 200).replace("/", "_").replace("\\", "_").strip(". ")
    if not base:
        base = f"part-{number}{mimetypes.guess_extension(kind) or '.bin'}"
    return base[-MAX_NAME:]
