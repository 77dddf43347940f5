"""Schema versions: create a new store, migrate an older one on open, refuse a newer one untouched."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path

import peewee as pw

from tui_desk.domain.errors import DeskError
from tui_desk.store import backend
from tui_desk.store.models import (
    ALL_MODELS,
    FieldChange,
    InboundMessage,
    Meta,
    OutboxMessage,
    RefundMilestone,
    Ticket,
    TimerEvent,
)

SCHEMA_VERSION = 6

# Meta keys of schema 3. Tickets with an id from CHAIN_BOUND_FROM on start their chain from
# evidence.genesis(id, case number); older ones from "" (their digests are never rewritten).
CHAIN_BOUND_FROM = "chain_bound_from"
STORE_ID = "store_id"  # a random name for the store, written once: a seal names the store it seals


# MIGRATIONS[n] upgrades a store from version n to n + 1, inside the same write transaction.
def _to_2(db: pw.Database) -> None:
    """Schema 2: one full-text document per ticket (its fields and its log); tickets indexed by
    assignee and status together (the queue's per-agent counts read only the index)."""
    backend.of(db).rebuild_search(db)
    Ticket._schema.drop_index(field=Ticket.assignee)  # ticket_assignee, if there
    db.execute(pw.ModelIndex(Ticket, (Ticket.assignee, Ticket.status), safe=True))  # ticket_assignee_status


def _to_3(db: pw.Database) -> None:
    """Schema 3: chains bound to their ticket, and ``field_change``.

    Only tickets made from now on are bound; the ones already there keep the chains (and digests) they
    have. The store gets its identity for seals. ``field_change`` records what assignments, tag changes
    and field edits changed (for undo), append-only like the other evidence tables.
    """
    db.create_tables([FieldChange])
    backend.of(db).install_guards(db, 3)
    last = Ticket.select(pw.fn.COALESCE(pw.fn.MAX(Ticket.id), 0)).scalar()
    _bind_from(db, last + 1)


def _to_4(db: pw.Database) -> None:
    """Schema 4: ``refund_milestone`` (each refund milestone as recorded, append-only like the other
    evidence tables), an index of tickets by the case they follow (a case lists its follow-ups) and
    partial indexes of the refunds waiting at a milestone (the stuck-refund section).

    Refunds recorded before keep living on their ticket row (domain/refunds.current_refund reads them).
    """
    db.create_tables([RefundMilestone])
    backend.of(db).install_guards(db, 4)
    Ticket._schema.create_indexes(safe=True)  # ticket_references and the refunds-waiting ones (models.py)


def _bind_from(db: pw.Database, first_bound_ticket: int) -> None:
    Meta.insert(key=CHAIN_BOUND_FROM, value=str(first_bound_ticket)).on_conflict_ignore().execute()
    Meta.insert(key=STORE_ID, value=uuid.uuid4().hex).on_conflict_ignore().execute()


def _to_5(db: pw.Database) -> None:
    """Schema 5: the fragment index beside the word index (``ticket_fragments``, FTS5 trigram over text
    folded by ``domain/search_text.fold``), ``search_stale`` and three triggers that fill it."""
    backend.of(db).add_fragments(db)


def _to_6(db: pw.Database) -> None:
    """Schema 6, mail: the seller's and partner's addresses on the ticket; the outbox's delivery state
    (kind, the reply's entry, Message-ID, attempts, claim, failure, bounce); ``inbound_message``, the
    Message-IDs of the mail received (a second copy creates nothing)."""

    def add(table: str, column: str, declaration: str) -> None:
        present = {column.name for column in db.get_columns(table)}
        if column not in present:  # a store rewound to an older version may have it already
            backend.of(db).add_column(db, table, column, declaration)

    for column in ("seller_email", "partner_email"):
        add("ticket", column, "TEXT")
    for column, declaration in (
        ("kind", "TEXT"),
        ("entry_id", 'INTEGER REFERENCES "log_entry" ("id") ON DELETE RESTRICT'),
        ("message_id", "TEXT"),
        ("attempts", "INTEGER NOT NULL DEFAULT 0"),
        ("next_attempt_at", "TEXT"),
        ("claimed_until", "TEXT"),
        ("claimed_by", "TEXT"),
        ("last_error", "TEXT"),
        ("failed_at", "TEXT"),
        ("bounced_at", "TEXT"),
    ):
        add("outbox_message", column, declaration)
    db.execute(pw.ModelIndex(OutboxMessage, (OutboxMessage.message_id,), unique=True, safe=True))
    db.execute(pw.ModelIndex(OutboxMessage, (OutboxMessage.entry,), safe=True))
    action = TimerEvent.select(TimerEvent.action).where(TimerEvent.id == OutboxMessage.timer_event)
    OutboxMessage.update(kind=pw.fn.COALESCE(OutboxMessage.kind, action, "acknowledgement")).execute()
    db.create_tables([InboundMessage])


MIGRATIONS: dict[int, Callable[[pw.Database], None]] = {
    1: _to_2,
    2: _to_3,
    3: _to_4,
    4: _to_5,
    5: _to_6,
}


def set_meta(key: str, value: str) -> None:
    """Write one store-wide fact (both backends: an upsert, not SQLite's REPLACE)."""
    Meta.insert(key=key, value=value).on_conflict(conflict_target=[Meta.key], update={Meta.value: value}).execute()


def stored_version(db: pw.Database, path=None) -> int | None:
    """The store's schema version, or None for an empty file; a damaged one is a DeskError naming ``path``."""
    tables = db.get_tables()
    if "meta" not in tables:
        if tables:
            raise DeskError(backend.of(db).not_a_store(path) if path else "not a tui-desk store")
        return None
    row = Meta.get_or_none(Meta.key == "schema_version")
    if row is None:
        return None
    value = row.value
    if not (isinstance(value, str) and value.isdigit() and len(value) < 10):
        raise DeskError(
            f"the store {path or db.database} is damaged (its schema_version {value!r} is not a whole number): "
            "run tui-desk verify; restore from a backup"
        )
    return int(value)


def check_not_newer(version: int | None, path: Path | backend.PostgresUrl) -> None:
    if version is not None and version > SCHEMA_VERSION:
        raise DeskError(
            f"the store {path} is from a newer tui-desk (schema {version}; this version knows up to "
            f"{SCHEMA_VERSION}); upgrade tui-desk to open it"
        )


def ensure_schema(db: pw.Database, path: Path | backend.PostgresUrl) -> None:
    """Create or migrate the schema, on either backend. Refuses a newer store before writing anything."""
    version = stored_version(db, path)
    check_not_newer(version, path)
    if version == SCHEMA_VERSION:
        return  # nothing to write: an agent's role that may not create tables opens the store too
    store = backend.of(db)
    store.schema_changed(db)
    with store.write_transaction(db):
        store.schema_lock(db)
        version = stored_version(db, path)  # again, under the lock: another process may have won
        check_not_newer(version, path)
        if version is None:
            db.create_tables(ALL_MODELS)
            store.install_guards(db)
            store.install_search(db)
            _bind_from(db, 1)
            set_meta("schema_version", str(SCHEMA_VERSION))
            return
        while version < SCHEMA_VERSION:
            MIGRATIONS[version](db)
            store.schema_changed(db)
            version += 1
            set_meta("schema_version", str(version))
