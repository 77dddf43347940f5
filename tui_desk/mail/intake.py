"""Intake: one incoming message onto its case (subject tag, In-Reply-To/References), or a new ticket.

The sender's address says which party spoke, and the entry goes through ``Store.add_entry``, so the
waiting rules apply by themselves: the waited-on party's answer moves the ticket to Waiting on Us, the
customer's answer reopens a Resolved ticket, and mail for a Closed case opens a follow-up. Automatic mail
(RFC 3834, lists, mailer-daemons) is logged but never counts as an answer and never gets an
acknowledgement; bounces naming one of our messages mark it bounced. The raw message is kept as the
entry's attachment ``message.eml``.
"""

from __future__ import annotations

import re
import tempfile
from datetime import timedelta
from pathlib import Path

from tui_desk.domain import log_texts, vocabulary
from tui_desk.domain.clock import to_utc
from tui_desk.domain.dates import format_when
from tui_desk.domain.errors import DeskError
from tui_desk.domain.statuses import Status
from tui_desk.mail.parse import IncomingMail, one_line, parse
from tui_desk.store import intake, outbox

_OUR_IDS = re.compile(rb"<?td\.\d+\.[0-9a-f]{8,32}@[^>\s]+>?", re.IGNORECASE)
_DIAGNOSTIC = re.compile(r"^(Diagnostic-Code|Status|Action):\s*(.+)$", re.IGNORECASE | re.MULTILINE)
FUTURE_SLACK = timedelta(minutes=5)


def receive(store, raw: bytes) -> dict:
    """Take one message (the bytes as they came); what became of it, for ``--json``."""
    mail = parse(raw)
    result = {"message_id": mail.message_id, "from": mail.from_addr, "subject": mail.subject, "notes": mail.notes}
    if not intake.claim(store, mail.message_id, mail.from_addr):
        return {**result, "outcome": "duplicate", "case_number": None, "entry": None}
    try:
        landed = _land(store, mail)
    except BaseException:
        intake.give_back(store, mail.message_id)
        raise
    intake.settle(
        store, mail.message_id, landed["outcome"], ticket_id=landed.pop("ticket_id"), entry_id=landed.pop("entry_id")
    )
    return {**result, **landed}


def _land(store, mail: IncomingMail) -> dict:
    if mail.bounce:
        bounced = _bounce(store, mail)
        if bounced is not None:
            return bounced
    ticket = _thread(store, mail)
    party = _party(ticket, mail.from_addr) if ticket is not None else None
    if ticket is not None:
        ticket = store.refresh(ticket.case_number)
        if ticket.status == Status.CLOSED.slug:
            if mail.auto:
                return _kept_aside("auto", ticket, mail)
            return _open(store, mail, references=ticket.case_number)
        return _log(store, ticket.case_number, mail, party, outcome="threaded")
    if mail.auto:
        return _kept_aside("auto", None, mail)
    return _open(store, mail)


def _kept_aside(outcome: str, ticket, mail: IncomingMail) -> dict:
    """Automatic mail that names no open case: recorded by its Message-ID, no ticket opened for it."""
    return {
        "outcome": outcome,
        "case_number": ticket.case_number if ticket else None,
        "ticket_id": ticket.id if ticket else None,
        "entry_id": None,
        "entry": None,
        "auto": mail.auto,
    }


def _thread(store, mail: IncomingMail):
    tag = mail.case_tag
    if tag:
        try:
            return store.get(tag)
        except DeskError:
            pass  # a tag of another system or a typo: try the headers
    return intake.ticket_for_message_ids(store, mail.thread_ids)


def _party(ticket, address: str) -> str | None:
    for party in vocabulary.PARTIES:
        known = outbox.party_address(ticket, party)
        if address and known and known.strip().lower() == address:
            return party
    return None


def _open(store, mail: IncomingMail, *, references: str | None = None) -> dict:
    """A new ticket from the message (a follow-up of ``references``), its acknowledgement queued unless
    the address had too many this hour."""
    kinds = store.config.kinds
    limit = store.config.mail.acks_per_hour if store.config.mail else 5
    acknowledge: bool | str = True
    if not mail.from_addr:
        acknowledge = "the sender's address could not be read"
    else:
        sent = intake.acknowledgements_sent_to(store, mail.from_addr)
        if sent >= limit:
            acknowledge = log_texts.acknowledgements_limited(sent, mail.from_addr)
    ticket = store.create_ticket(
        customer=mail.from_name or mail.from_addr or "unknown sender",
        email=mail.from_addr or None,
        subject=mail.bare_subject or "(no subject)",
        kind="support" if "support" in kinds else next(iter(kinds)),
        description=mail.text[:20_000],
        references=references,
        acknowledge=acknowledge,
        opened=_sent_at(store, mail),
    )
    landed = _log(store, ticket.case_number, mail, "buyer", outcome="follow_up" if references else "opened")
    landed["acknowledged"] = acknowledge is True
    return landed


def _sent_at(store, mail: IncomingMail):
    """When a ticket opened by this message opened: when it was sent, unless its Date is in the future."""
    now = store.now()
    return mail.date if mail.date is not None and mail.date <= now else None


def _log(store, case_number: str, mail: IncomingMail, party: str | None, *, outcome: str) -> dict:
    notes = list(mail.notes)
    counts = party is not None and mail.auto is None
    if mail.auto:
        notes.append(f"automatic mail ({mail.auto}): not counted as an answer")
    elif party is None:
        notes.append(f"{mail.from_addr or 'the sender'} is none of the ticket's addresses: not counted as an answer")
    now = store.now()
    at = mail.date or now
    if at > now + FUTURE_SLACK:
        notes.append(f"dated {format_when(at)}, in the future: logged at the time it arrived")
        at = now
    opened_at = to_utc(store.get(case_number).opened_at)
    if at < opened_at:  # sent before the ticket was opened (by phone, say): the log starts at the opening
        notes.append(f"dated {format_when(at)}, before the ticket opened: logged at its opening")
        at = opened_at
    limit = store.config.max_attachment_bytes
    with tempfile.TemporaryDirectory(prefix="tui-desk-intake-") as folder:
        paths = []
        files = [*mail.attachments, ("message.eml", mail.raw)]
        used: set[str] = set()
        for index, (name, data) in enumerate(files):
            if len(data) > limit:
                notes.append(f"{name} ({len(data) / 1048576:.1f} MB) not kept: over the {limit // 1048576} MB limit")
                continue
            unique = name if name not in used else f"{index}-{name}"
            used.add(unique)
            path = Path(folder) / f"{index:03d}" / unique
            path.parent.mkdir()
            path.write_bytes(data)
            paths.append(path)
        entry = store.add_entry(
            case_number,
            channel="email",
            direction="in",
            sender=party or "buyer",
            sender_name=_who(mail),
            summary=one_line(f"Email: {mail.bare_subject or '(no subject)'}", 200),
            body=_body(mail, notes),
            attachments=paths,
            at=at,
            counts_as_answer=counts,
        )
    ticket = store.get(case_number)
    return {
        "outcome": outcome,
        "case_number": case_number,
        "ticket_id": ticket.id,
        "entry_id": entry.id,
        "entry": entry.seq,
        "party": party,
        "counted": counts,
        "auto": mail.auto,
        "notes": notes,
        "status": ticket.status,
    }


def _who(mail: IncomingMail) -> str:
    if mail.from_name and mail.from_addr:
        return f"{mail.from_name} <{mail.from_addr}>"
    return mail.from_name or mail.from_addr or "unknown sender"


def _body(mail: IncomingMail, notes: list[str]) -> str:
    """The message as a printed email: its headers (the Date as sent, zone and all), the text, the notes."""
    head = [f"From: {_who(mail)}"]
    if mail.date_header:
        head.append(f"Date: {mail.date_header}")
    head.append(f"Subject: {mail.subject}")
    head.append(f"Message-ID: {one_line(mail.message_id, 200)}")
    body = "\n".join(head) + "\n\n" + (mail.text or "(no text)")
    if notes:
        body += "\n\n" + "\n".join(f"[tui-desk: {n}]" for n in notes)
    return body


def _bounce(store, mail: IncomingMail) -> dict | None:
    """A delivery status notification: the first of our Message-IDs it names is marked bounced."""
    key = outbox.store_id(store)
    for found in _OUR_IDS.findall(mail.raw):
        outbox_id = outbox.outbox_id_in(found.decode("ascii", "replace"), key)
        if outbox_id is None:
            continue
        details = [f"{m.group(1)}: {m.group(2).strip()}" for m in _DIAGNOSTIC.finditer(mail.text)]
        reason = one_line("; ".join(details[:3]) or mail.subject or "returned", 300)
        message = outbox.record_bounce(store, outbox_id, reason)
        if message is None:
            continue
        return {
            "outcome": "bounce",
            "case_number": message.case_number,
            "ticket_id": message.ticket_id,
            "entry_id": None,
            "entry": None,
            "bounced": outbox_id,
            "reason": reason,
        }
    return None
