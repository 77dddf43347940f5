"""The outbox: messages the program promised a party of the case (and agents' replies), until delivered.

Acknowledgements (``Store.create_ticket``), timer actions (the sweep) and replies queue them here.
A deliverer (``tui-desk deliver``, an open console: mail/deliver.py) *claims* the due ones under the
write lock, so two deliverers never send one message at the same time, sends them, then records the
outcome with a log entry on the ticket in one transaction: sent, retried later (a temporary failure),
failed (a permanent one) or, when a bounce comes back, bounced. A claim is a lease: a deliverer that
dies holding one lets it run out, and the message is sent again with the same Message-ID.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parseaddr

from tui_desk.domain import log_texts, vocabulary
from tui_desk.domain.dates import format_when, iso
from tui_desk.domain.errors import DeskError
from tui_desk.domain.statuses import WAITED_ON_PARTY, status_of
from tui_desk.store import backend, log
from tui_desk.store.models import Attachment, InboundMessage, Meta, OutboxMessage, Ticket, TimerEvent

_QUEUE_FIELDS = (
    "ticket",
    "timer_event",
    "recipient",
    "address",
    "case_number",
    "subject",
    "body",
    "created_at",
    "kind",
    "entry",
)


def _queue_sql(names: tuple[str, ...]) -> str:
    return 'INSERT INTO "{}" ({}) VALUES ({})'.format(
        OutboxMessage._meta.table_name,
        ", ".join(f'"{OutboxMessage._meta.fields[n].column_name}"' for n in names),
        ", ".join("?" * len(names)),
    )


_QUEUE = _queue_sql(_QUEUE_FIELDS)
_QUEUE_WITH_ID = _queue_sql(("id", *_QUEUE_FIELDS))  # ids the write reserved (``backend.new_ids``)
_stamp = log.stamp  # the store's text form of an instant, as the log writer stamps it

CLAIM_LEASE = timedelta(minutes=5)  # a claim older than this belongs to a deliverer that died
FIRST_RETRY = timedelta(minutes=1)
LAST_RETRY = timedelta(hours=1)
_OUR_ID = re.compile(r"<?td\.(\d+)\.([0-9a-f]{8,32})@[^>\s]+>?", re.IGNORECASE)


def queue_message(
    db,
    ticket_id: int,
    recipient: str,
    address: str | None,
    case_number: str,
    subject: str,
    body: str,
    *,
    created_at: datetime,
    timer_event_id: int | None = None,
    kind: str | None = None,
    entry_id: int | None = None,
) -> int:
    """Queue one message (inside the write transaction that made it due); returns its id."""
    row = message_row(
        ticket_id,
        recipient,
        address,
        case_number,
        subject,
        body,
        created_at=created_at,
        timer_event_id=timer_event_id,
        kind=kind,
        entry_id=entry_id,
    )
    return backend.of(db).insert(db, _QUEUE, row)


def message_row(
    ticket_id: int,
    recipient: str,
    address: str | None,
    case_number: str,
    subject: str,
    body: str,
    *,
    created_at: datetime,
    timer_event_id: int | None = None,
    kind: str | None = None,
    entry_id: int | None = None,
) -> tuple:
    """The row ``queue_message`` inserts (``queue_messages`` inserts many, each after its reserved id)."""
    return (
        ticket_id,
        timer_event_id,
        recipient,
        address,
        case_number,
        subject,
        body,
        _stamp(created_at),
        kind,
        entry_id,
    )


def queue_messages(db, rows: list[tuple]) -> None:
    """Queue many messages at once: ``(id, *message_row(...))`` each, the ids reserved by the write."""
    if rows:
        backend.of(db).run_many(db, _QUEUE_WITH_ID, rows)


def party_address(ticket, party: str) -> str | None:
    """The address on the ticket of the party a message is for (the buyer's is the customer's email)."""
    return {"buyer": ticket.email, "seller": ticket.seller_email, "partner": ticket.partner_email}.get(party)


@dataclass(frozen=True)
class Recipient:
    party: str  # buyer, seller, partner, or other (an address that is none of theirs)
    address: str


def reply_recipient(ticket, to: str | None) -> Recipient:
    """Who an agent's reply goes to: ``buyer``/``seller``/``partner`` (their address on the ticket), an
    address, or blank: the party the ticket waits on, else the customer."""
    wanted = (to or "").strip()
    if not wanted:
        wanted = WAITED_ON_PARTY.get(status_of(ticket.status), "buyer")
    if wanted.lower() in vocabulary.PARTIES:
        party = wanted.lower()
        address = party_address(ticket, party)
        if not address:
            option = "email" if party == "buyer" else f"{party}-email"
            raise DeskError(
                f"{ticket.case_number} has no address for the {party}; give one as the recipient, or add it "
                f"with tui-desk edit {ticket.case_number} --{option} ADDRESS"
            )
        return Recipient(party, address)
    name, address = parseaddr(wanted)
    if "@" not in address or any(c.isspace() or ord(c) < 32 for c in address) or len(wanted) > 320:
        raise DeskError(f"recipient {wanted!r} is not buyer, seller, partner or an email address")
    for party in vocabulary.PARTIES:
        known = party_address(ticket, party)
        if known and known.strip().lower() == address.lower():
            return Recipient(party, address)
    return Recipient("other", address)


def pending_outbox(store, *, include_sent: bool = False) -> list[OutboxMessage]:
    """Messages still to deliver, oldest first (all of them, whatever their state, with ``include_sent``)."""
    query = OutboxMessage.select().order_by(OutboxMessage.id)
    if not include_sent:
        query = query.where(
            OutboxMessage.sent_at.is_null() & OutboxMessage.failed_at.is_null() & OutboxMessage.bounced_at.is_null()
        )
    with store.reading():
        return list(query)


def message_for_entry(store, entry_id: int) -> OutboxMessage | None:
    """The message a reply's log entry queued."""
    with store.reading():
        return OutboxMessage.get_or_none(OutboxMessage.entry == entry_id)


def mark_sent(store, message_id: int) -> OutboxMessage:
    """Record that a mail script delivered the message; refused if it does not exist or was marked already."""
    now = store.now()
    with store.writing():
        # A conditional update: two mail scripts racing for one message cannot both succeed.
        changed = (
            OutboxMessage.update(sent_at=now, claimed_until=None, claimed_by=None)
            .where((OutboxMessage.id == message_id) & OutboxMessage.sent_at.is_null())
            .execute()
        )
        message = OutboxMessage.get_or_none(OutboxMessage.id == message_id)
    if message is None:
        raise DeskError(f"no outbox message {message_id}")
    if not changed:
        raise DeskError(f"outbox message {message_id} was already marked sent at {format_when(message.sent_at)}")
    return message


# -- state and words ---------------------------------------------------------------------------


def state_of(message: OutboxMessage, now: datetime | None = None) -> str:
    """sent, bounced, failed, sending (claimed now), retrying (a temporary failure before) or waiting."""
    if message.bounced_at is not None:
        return "bounced"
    if message.sent_at is not None:
        return "sent"
    if message.failed_at is not None:
        return "failed"
    if message.claimed_until is not None and (now is None or message.claimed_until > now):
        return "sending"
    return "retrying" if message.attempts else "waiting"


def label_of(message: OutboxMessage) -> str:
    """What the message is, as the timeline names it: ``Acknowledgement``, ``Reminder 2``, ``Reply``…"""
    kind, slot = message.kind, None
    if message.timer_event_id is not None:
        event = TimerEvent.get_or_none(TimerEvent.id == message.timer_event_id)
        if event is not None:
            kind, slot = kind or event.action, event.slot
    return log_texts.outbound_label(kind or "acknowledgement", slot)


def describe_message(message: OutboxMessage, now: datetime | None = None) -> dict:
    return {
        "id": message.id,
        "case_number": message.case_number,
        "kind": message.kind,
        "recipient": message.recipient,
        "address": message.address,
        "subject": message.subject,
        "body": message.body,
        "created_at": iso(message.created_at),
        "state": state_of(message, now),
        "sent_at": iso(message.sent_at),
        "message_id": message.message_id,
        "attempts": message.attempts,
        "next_attempt_at": iso(message.next_attempt_at),
        "last_error": message.last_error,
        "failed_at": iso(message.failed_at),
        "bounced_at": iso(message.bounced_at),
        "timer_event": message.timer_event_id,
    }


# -- Message-IDs -------------------------------------------------------------------------------


def store_id(store) -> str:
    with store.reading():
        row = Meta.get_or_none(Meta.key == "store_id")
    return row.value if row else "0" * 16


def our_message_id(outbox_id: int, store_key: str, domain: str) -> str:
    """``<td.42.1f2e…@example.com>``: stable for the message, and names the store it came from."""
    return f"<td.{outbox_id}.{store_key[:16]}@{domain}>"


def outbox_id_in(message_id: str, store_key: str) -> int | None:
    """The outbox id in one of this store's Message-IDs (a bounce names it), else None."""
    match = _OUR_ID.search(message_id or "")
    if match and match.group(2).lower() == store_key[:16].lower():
        return int(match.group(1))
    return None


# -- delivery: claim, then record the outcome --------------------------------------------------


@dataclass(frozen=True)
class Claimed:
    """A message a deliverer holds: what to send, to whom, with which headers and attachments."""

    id: int
    ticket_id: int
    case_number: str
    kind: str
    label: str
    party: str
    to_name: str
    to: str | None  # None: the ticket has no address for the party
    subject: str
    body: str
    message_id: str
    in_reply_to: str | None
    references: tuple[str, ...]
    attachments: tuple[tuple[str, str], ...]  # (name, sha256)
    automatic: bool  # sent by the program itself (RFC 3834 Auto-Submitted: auto-generated)


def claim_due(store, *, worker: str, domain: str, limit: int = 20) -> list[Claimed]:
    """Take up to ``limit`` due messages for ``worker`` under the write lock (nobody else can take them)."""
    now = store.now()
    key = store_id(store)
    due = (
        OutboxMessage.sent_at.is_null()
        & OutboxMessage.failed_at.is_null()
        & OutboxMessage.bounced_at.is_null()
        & (OutboxMessage.next_attempt_at.is_null() | (OutboxMessage.next_attempt_at <= now))
        & (OutboxMessage.claimed_until.is_null() | (OutboxMessage.claimed_until <= now))
    )
    with store.reading():  # most looks find nothing: they need not take the write lock
        if not OutboxMessage.select(OutboxMessage.id).where(due).exists():
            return []
    claimed = []
    with store.writing():
        # On PostgreSQL two deliverers may look at once: each takes the rows nobody else holds (SKIP LOCKED)
        # and re-checks ``due`` on them; SQLite's write lock lets one in at a time.
        query = OutboxMessage.select().where(due).order_by(OutboxMessage.id).limit(limit)
        for message in store.backend.locked(query, skip_locked=True):
            message.message_id = message.message_id or our_message_id(message.id, key, domain)
            message.claimed_until = now + CLAIM_LEASE
            message.claimed_by = worker
            message.attempts += 1
            message.save()
            claimed.append(_claimed(message))
    return claimed


def _claimed(message: OutboxMessage) -> Claimed:
    ticket = Ticket.get_by_id(message.ticket_id)
    to = message.address or party_address(ticket, message.recipient)
    in_reply_to, references = _thread(message)
    files = ()
    if message.entry_id is not None:
        rows = Attachment.select().where(Attachment.entry == message.entry_id).order_by(Attachment.id)
        files = tuple((a.name, a.sha256) for a in rows)
    return Claimed(
        id=message.id,
        ticket_id=message.ticket_id,
        case_number=message.case_number,
        kind=message.kind or "acknowledgement",
        label=label_of(message),
        party=message.recipient,
        to_name=ticket.customer if message.recipient == "buyer" else "",
        to=to,
        subject=message.subject,
        body=message.body,
        message_id=message.message_id,
        in_reply_to=in_reply_to,
        references=references,
        attachments=files,
        automatic=(message.kind or "acknowledgement") != "reply",
    )


def _thread(message: OutboxMessage) -> tuple[str | None, tuple[str, ...]]:
    """In-Reply-To the customer's last message on the case; References our first message and that one."""
    last_in = (
        InboundMessage.select(InboundMessage.message_id)
        .where((InboundMessage.ticket == message.ticket_id) & InboundMessage.entry.is_null(False))
        .order_by(InboundMessage.id.desc())
        .scalar()
    )
    first_out = (
        OutboxMessage.select(OutboxMessage.message_id)
        .where(
            (OutboxMessage.ticket == message.ticket_id)
            & OutboxMessage.message_id.is_null(False)
            & (OutboxMessage.id != message.id)
        )
        .order_by(OutboxMessage.id)
        .scalar()
    )
    references = tuple(r for r in (first_out, last_in) if r)
    return last_in, references


def retry_delay(attempts: int) -> timedelta:
    """1, 2, 4 … minutes after the 1st, 2nd, 3rd … failed attempt, at most an hour."""
    return min(FIRST_RETRY * 2 ** max(attempts - 1, 0), LAST_RETRY)


def _record(store, claimed: Claimed, worker: str, summary: str | None, **changes) -> bool:
    """Apply ``changes`` to the message if ``worker`` still holds it, with a delivery entry on its ticket.

    Returns False (nothing written) if the claim was lost (it ran out and another deliverer took it).
    """

    def held(_ticket) -> bool:
        return bool(
            OutboxMessage.update(claimed_until=None, claimed_by=None, **changes)
            .where(
                (OutboxMessage.id == claimed.id)
                & (OutboxMessage.claimed_by == worker)
                & OutboxMessage.sent_at.is_null()
            )
            .execute()
        )

    return store.record_system_fact(claimed.case_number, "delivery", summary, held)


def record_sent(store, claimed: Claimed, worker: str, to: str) -> bool:
    now = store.now()
    summary = log_texts.delivery_sent(claimed.label, now, to)
    return _record(store, claimed, worker, summary, sent_at=now, last_error=None)


def record_failed(store, claimed: Claimed, worker: str, error: str) -> bool:
    """A permanent failure (5xx, no address): never tried again."""
    now = store.now()
    summary = log_texts.delivery_failed(claimed.label, error)
    return _record(store, claimed, worker, summary, failed_at=now, last_error=error)


def record_retry(store, claimed: Claimed, worker: str, error: str, *, max_attempts: int) -> bool:
    """A temporary failure (4xx, no connection): tried again later, failed after ``max_attempts``.

    Only the first one is logged (the ticket's timeline says once that it is late, not every minute).
    """
    with store.reading():
        attempts = OutboxMessage.select(OutboxMessage.attempts).where(OutboxMessage.id == claimed.id).scalar() or 1
    if attempts >= max_attempts:
        return record_failed(store, claimed, worker, log_texts.gave_up(attempts, error))
    summary = log_texts.delivery_delayed(claimed.label, error) if attempts == 1 else None
    later = store.now() + retry_delay(attempts)
    return _record(store, claimed, worker, summary, next_attempt_at=later, last_error=error)


def release(store, claimed: Claimed, worker: str) -> None:
    """Give a claimed message back untried (the deliverer stops early): its attempt is not counted."""
    with store.writing():
        OutboxMessage.update(claimed_until=None, claimed_by=None, attempts=OutboxMessage.attempts - 1).where(
            (OutboxMessage.id == claimed.id) & (OutboxMessage.claimed_by == worker)
        ).execute()


def record_bounce(store, outbox_id: int, reason: str) -> OutboxMessage | None:
    """A delivery status notification named this message: mark it bounced and log it (once)."""
    with store.reading():
        message = OutboxMessage.get_or_none(OutboxMessage.id == outbox_id)
        label = label_of(message) if message else ""
    if message is None:
        return None

    def first(_ticket) -> bool:
        return bool(
            OutboxMessage.update(bounced_at=store.now(), last_error=reason)
            .where((OutboxMessage.id == outbox_id) & OutboxMessage.bounced_at.is_null())
            .execute()
        )

    store.record_system_fact(message.case_number, "delivery", log_texts.delivery_bounced(label, reason), first)
    return message
