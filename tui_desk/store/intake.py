"""What mail intake keeps in the store: each incoming Message-ID once, and what the threading asks of it.

A message is *claimed* by inserting its Message-ID before anything else is written (the unique key
makes a second copy, or a second receiver racing for it, a no-op); the row then says where it went.
If the intake of a message fails, its claim is taken back, so the same message can come again.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

import peewee as pw

from tui_desk.store.models import InboundMessage, OutboxMessage, Ticket


def claim(store, message_id: str, sender: str) -> bool:
    """Take ``message_id`` for this intake; False if it was received before (nothing is to be done)."""
    with store.writing():
        try:
            with store.db.atomic():
                InboundMessage.create(
                    message_id=message_id, sender=sender, received_at=store.now(), outcome="receiving"
                )
        except pw.IntegrityError:
            return False
    return True


def settle(store, message_id: str, outcome: str, *, ticket_id: int | None = None, entry_id: int | None = None) -> None:
    """Say what became of a claimed message (threaded, opened, follow_up, auto, bounce, malformed)."""
    with store.writing():
        InboundMessage.update(outcome=outcome, ticket=ticket_id, entry=entry_id).where(
            InboundMessage.message_id == message_id
        ).execute()


def give_back(store, message_id: str) -> None:
    """The intake failed: forget the claim, so the message is taken again when it comes again."""
    with store.writing():
        InboundMessage.delete().where(
            (InboundMessage.message_id == message_id) & (InboundMessage.outcome == "receiving")
        ).execute()


def ticket_for_message_ids(store, ids: Iterable[str]) -> Ticket | None:
    """The ticket one of these Message-IDs (In-Reply-To, References) belongs to: ours or one received."""
    wanted = [i for i in ids if i]
    if not wanted:
        return None
    with store.reading():
        ours = (
            OutboxMessage.select(OutboxMessage.ticket)
            .where(OutboxMessage.message_id.in_(wanted))
            .order_by(OutboxMessage.id.desc())
            .scalar()
        )
        if ours is None:
            ours = (
                InboundMessage.select(InboundMessage.ticket)
                .where(InboundMessage.message_id.in_(wanted) & InboundMessage.ticket.is_null(False))
                .order_by(InboundMessage.id.desc())
                .scalar()
            )
        return Ticket.get_or_none(Ticket.id == ours) if ours is not None else None


def acknowledgements_sent_to(store, address: str, within: timedelta = timedelta(hours=1)) -> int:
    """How many acknowledgements were queued for ``address`` lately (acknowledgement loops are cut off)."""
    since = store.now() - within
    with store.reading():
        return (
            OutboxMessage.select()
            .where(
                (OutboxMessage.kind == "acknowledgement")
                & (pw.fn.lower(OutboxMessage.address) == address.lower())
                & (OutboxMessage.created_at >= since)
            )
            .count()
        )
