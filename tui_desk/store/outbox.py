"""The outbox: messages to the customer or the seller that the program promised, waiting to be delivered.

Acknowledgements (``Store.create_ticket``) and timer actions (the sweep) queue them here; a mail
script (``tui-desk outbox``) delivers them and marks them sent.
"""

from __future__ import annotations

from datetime import datetime

from tui_desk.domain.dates import format_when, iso
from tui_desk.domain.errors import DeskError
from tui_desk.store import backend, log
from tui_desk.store.models import OutboxMessage

_QUEUE_FIELDS = ("ticket", "timer_event", "recipient", "address", "case_number", "subject", "body", "created_at")
_QUEUE = 'INSERT INTO "{}" ({}) VALUES ({})'.format(
    OutboxMessage._meta.table_name,
    ", ".join(f'"{OutboxMessage._meta.fields[n].column_name}"' for n in _QUEUE_FIELDS),
    ", ".join("?" * len(_QUEUE_FIELDS)),
)
_stamp = log.stamp  # the store's text form of an instant, as the log writer stamps it


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
) -> int:
    """Queue one message (inside the write transaction that made it due); returns its id."""
    row = (ticket_id, timer_event_id, recipient, address, case_number, subject, body, _stamp(created_at))
    return backend.of(db).insert(db, _QUEUE, row)


def pending_outbox(store, *, include_sent: bool = False) -> list[OutboxMessage]:
    """Messages a mail script still has to deliver, oldest first (all of them with ``include_sent``)."""
    query = OutboxMessage.select().order_by(OutboxMessage.id)
    if not include_sent:
        query = query.where(OutboxMessage.sent_at.is_null())
    with store.reading():
        return list(query)


def mark_sent(store, message_id: int) -> OutboxMessage:
    """Record that a mail script delivered the message; refused if it does not exist or was marked already."""
    now = store.now()
    with store.writing():
        # A conditional update: two mail scripts racing for one message cannot both succeed.
        changed = (
            OutboxMessage.update(sent_at=now)
            .where((OutboxMessage.id == message_id) & OutboxMessage.sent_at.is_null())
            .execute()
        )
        message = OutboxMessage.get_or_none(OutboxMessage.id == message_id)
    if message is None:
        raise DeskError(f"no outbox message {message_id}")
    if not changed:
        raise DeskError(f"outbox message {message_id} was already marked sent at {format_when(message.sent_at)}")
    return message


def describe_message(message: OutboxMessage) -> dict:
    return {
        "id": message.id,
        "case_number": message.case_number,
        "recipient": message.recipient,
        "address": message.address,
        "subject": message.subject,
        "body": message.body,
        "created_at": iso(message.created_at),
        "sent_at": iso(message.sent_at),
        "timer_event": message.timer_event_id,
    }
