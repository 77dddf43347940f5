"""The one writer of the case log: every log entry is built, chained and inserted here, singly or in batches.

An entry's digest covers the previous entry's digest (the ticket's ``log_head``), its chained fields
and its attachments (domain/evidence.py). Appending moves the ticket's chain head, entry count,
version and last action *in memory*; the caller writes the ticket row (the store's commands through
the ORM, the sweep with its narrow UPDATE, the bulk builders in their own ticket rows). People-written
entries reach the search index through the database's triggers (store/sqlite.py, store/postgres.py).

The statements are fixed and prepared once: the sweep may append a thousand entries in one run, an
import or the demo builder hundreds of thousands, and building each through the ORM would cost more
than running it.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from tui_desk.domain import evidence, log_texts, vocabulary
from tui_desk.domain.clock import to_utc
from tui_desk.domain.errors import DeskError
from tui_desk.domain.evidence import CHAINED_FIELDS, chain_digest
from tui_desk.domain.lifecycle import enter_status
from tui_desk.domain.sla import SlaPolicy
from tui_desk.domain.statuses import Status, status_of
from tui_desk.domain.timers import TimerPolicy
from tui_desk.store import backend
from tui_desk.store.attachments import AttachmentFile
from tui_desk.store.models import Attachment, Blob, LogEntry, StatusChange, UTCDateTimeField


def genesis(ticket_id: int, case_number: str) -> str:
    """The ``log_head`` a new ticket starts with: its chain is bound to its id and case number (schema 3)."""
    return evidence.genesis(ticket_id, case_number)


class ChainHead(Protocol):
    """What the writer reads and moves on a ticket: a ``Ticket``, the sweep's row, or a bulk builder's ``Chain``."""

    id: int
    log_count: int
    log_head: str
    last_action_at: datetime | None
    version: int


@dataclass(slots=True)
class Chain:
    """The chain state of a ticket whose row a bulk builder writes itself (a plain dict, not a ``Ticket``)."""

    id: int
    log_count: int = 0
    log_head: str = ""
    last_action_at: datetime | None = None
    version: int = 1


@dataclass(slots=True)
class NewEntry:
    """An entry to append. ``logged_at`` defaults to ``at``; ``corrects`` is (id, seq) of the entry it corrects."""

    kind: str
    channel: str
    direction: str
    sender: str
    summary: str
    agent: str
    at: datetime
    body: str = ""
    until: datetime | None = None
    logged_at: datetime | None = None
    sender_name: str = ""
    follow_up_at: datetime | None = None
    corrects: tuple[int | None, int] | None = None
    due_at: datetime | None = None
    files: Sequence[AttachmentFile] = ()


def system_entry(
    kind: str, summary: str, *, at: datetime, agent: str, body: str = "", direction: str = "internal", **more
) -> NewEntry:
    """An entry the program writes (acknowledgement, status, assignment, tags, refund, timer actions).

    Its channel and sender are ``system``; ``agent`` is who caused it: the acting agent, or ``system``
    for what the program did by itself (timers, automatic moves).
    """
    return NewEntry(
        agent=agent,
        kind=kind,
        channel=vocabulary.SYSTEM_CHANNEL,
        direction=direction,
        sender=vocabulary.SYSTEM,
        summary=summary,
        body=body,
        at=at,
        **more,
    )


# A run stamps the same few instants (its own time, due times, a sheet's dates) many times over.
stamp = functools.lru_cache(maxsize=4096)(UTCDateTimeField().db_value)

# The log_entry columns an insert names: the chained fields in their order (the corrected entry by its id
# rather than its number), between the ticket and the digest. ``_link`` builds its rows in this order.
_ENTRY_FIELDS = ("ticket", *("corrects" if f == "corrects_seq" else f for f in CHAINED_FIELDS), "digest")
_CORRECTS = CHAINED_FIELDS.index("corrects_seq")


def _insert_sql(model, names: Sequence[str]) -> str:
    columns = ", ".join(f'"{model._meta.fields[n].column_name}"' for n in names)
    return f'INSERT INTO "{model._meta.table_name}" ({columns}) VALUES ({", ".join("?" * len(names))})'


_INSERT_ENTRY = _insert_sql(LogEntry, ("id", *_ENTRY_FIELDS))
ENTRY_COLUMNS = tuple(LogEntry._meta.fields[n].column_name for n in ("id", *_ENTRY_FIELDS))  # a batch row's columns
_INSERT_NEW_ENTRY = _insert_sql(LogEntry, _ENTRY_FIELDS)  # the database gives the id
_INSERT_BLOB = _insert_sql(Blob, ("sha256", "size", "stored_at")) + " ON CONFLICT DO NOTHING"
_INSERT_ATTACHMENT = _insert_sql(Attachment, ("entry", "blob", "name", "size"))
_INSERT_STATUS_CHANGE = _insert_sql(
    StatusChange, ("ticket", "entry", "at", "from_status", "to_status", "agent", "note")
)


def _link(ticket: ChainHead, entry: NewEntry, entry_id: int | None = None) -> tuple:
    """Chain ``entry`` onto ``ticket`` (moving its head in memory); the row to insert (id None: the next one)."""
    seq = ticket.log_count + 1
    at = stamp(entry.at)
    until = stamp(entry.until) if entry.until is not None else None
    logged_at = stamp(entry.logged_at) if entry.logged_at is not None else at
    follow_up_at = stamp(entry.follow_up_at) if entry.follow_up_at is not None else None
    due_at = stamp(entry.due_at) if entry.due_at is not None else None
    corrects_id, corrects_seq = entry.corrects if entry.corrects else (None, None)
    # In CHAINED_FIELDS order (domain/evidence.py); verify recomputes the same from the stored row.
    chained = [
        seq,
        entry.kind,
        at,
        until,
        logged_at,
        entry.channel,
        entry.direction,
        entry.sender,
        entry.sender_name,
        entry.agent,
        entry.summary,
        entry.body,
        follow_up_at,
        corrects_seq,
        due_at,
    ]
    files = [(f.sha256, f.name, f.size) for f in entry.files] if entry.files else ()
    digest = chain_digest(ticket.log_head, chained, files)
    ticket.log_count = seq
    ticket.log_head = digest
    if ticket.last_action_at is None or entry.at > ticket.last_action_at:  # instants are aware UTC throughout
        ticket.last_action_at = entry.at
    ticket.version += 1
    chained[_CORRECTS] = corrects_id  # the row in _ENTRY_FIELDS order: the corrected entry by its id, not number
    return (entry_id, ticket.id, *chained, digest)


def append_row(db, ticket: ChainHead, entry: NewEntry) -> tuple[int, int]:
    """Append one entry (and its attachments) on this thread's connection; returns its (id, seq).

    Call inside a write transaction; the caller writes the ticket's moved head with the rest of its row.
    """
    store = backend.of(db)
    row = _link(ticket, entry)
    entry_id = store.insert(db, _INSERT_NEW_ENTRY, row[1:])
    if entry.files:
        now = stamp(entry.logged_at or entry.at)
        for f in entry.files:
            store.run(db, _INSERT_BLOB, (f.sha256, f.size, now))
            store.insert(db, _INSERT_ATTACHMENT, (entry_id, f.sha256, f.name, f.size))
    return entry_id, row[2]


def append(db, ticket: ChainHead, entry: NewEntry) -> LogEntry:
    """``append_row``, returning the entry as a ``LogEntry`` (what the store's commands hand back)."""
    entry_id, seq = append_row(db, ticket, entry)
    return LogEntry(
        id=entry_id,
        ticket=ticket.id,
        seq=seq,
        kind=entry.kind,
        at=to_utc(entry.at),
        until=to_utc(entry.until) if entry.until else None,
        logged_at=to_utc(entry.logged_at or entry.at),
        channel=entry.channel,
        direction=entry.direction,
        sender=entry.sender,
        sender_name=entry.sender_name,
        agent=entry.agent,
        summary=entry.summary,
        body=entry.body,
        follow_up_at=to_utc(entry.follow_up_at) if entry.follow_up_at else None,
        corrects=entry.corrects[0] if entry.corrects else None,
        due_at=to_utc(entry.due_at) if entry.due_at else None,
        digest=ticket.log_head,
    )


def change_status(
    db,
    ticket,
    target: Status,
    *,
    note: str,
    agent: str,
    at: datetime,
    timer_policy: TimerPolicy,
    sla_policy: SlaPolicy,
    corrects: tuple[int, int] | None = None,
    queue: EntryQueue | None = None,
) -> int:
    """Move a ticket: its status entry, its ``StatusChange`` row, and the status's effect on its fields.

    The one way a status changes, by a person or by the sweep; returns the entry's id. The caller
    writes the ticket row. With ``queue`` the rows wait in it, to be inserted with the queue's others.
    """
    old = status_of(ticket.status)
    entry = system_entry(
        "status", log_texts.status_change(old, target), at=at, body=note, agent=agent, corrects=corrects
    )
    if queue is None:
        entry_id, _ = append_row(db, ticket, entry)
        backend.of(db).run(
            db, _INSERT_STATUS_CHANGE, (ticket.id, entry_id, stamp(at), old.slug, target.slug, agent, note)
        )
    else:
        entry_id, _ = queue.append_row(ticket, entry)
        queue.status_changes.append((ticket.id, entry_id, stamp(at), old.slug, target.slug, agent, note))
    enter_status(ticket, target, at, timer_policy=timer_policy, sla_policy=sla_policy)
    return entry_id


class EntryQueue:
    """Entries (and status changes) for tickets a write transaction holds, chained as they are appended and
    inserted together by ``insert``: one statement per table for the sweep's many tickets, not one per row.

    The entries' ids come from ``entry_ids``, reserved by the write (``backend.new_ids``), so the ids are
    known before the rows are inserted (the sweep's timer events and messages point at them).
    """

    def __init__(self, entry_ids) -> None:
        self._ids = iter(entry_ids)
        self.entries: list[tuple] = []
        self.status_changes: list[tuple] = []

    def append_row(self, ticket: ChainHead, entry: NewEntry) -> tuple[int, int]:
        """As ``append_row``: chain ``entry`` onto ``ticket`` and return its (id, seq); inserted later."""
        if entry.files:
            raise ValueError("a queue carries no attachments; append them one by one")
        row = _link(ticket, entry, next(self._ids))
        self.entries.append(row)
        return row[0], row[2]

    def insert(self, db) -> None:
        """Insert the queued entries, then their status changes; the queue is emptied."""
        store = backend.of(db)
        if self.entries:
            store.run_many(db, _INSERT_ENTRY, self.entries)
        if self.status_changes:
            store.run_many(db, _INSERT_STATUS_CHANGE, self.status_changes)
        self.entries.clear()
        self.status_changes.clear()


def record_first_status(db, ticket_id: int, entry_id: int, status: Status, *, at: datetime, agent: str, note=""):
    """The ``StatusChange`` a ticket starts with (opened as New, or imported in its final status)."""
    backend.of(db).run(db, _INSERT_STATUS_CHANGE, (ticket_id, entry_id, stamp(at), None, status.slug, agent, note))


class LogBatch:
    """Entries for many tickets, chained as they are added and inserted together: the bulk builders' form.

    Ids are handed out from ``first_id`` (the builder holds the write lock, so nobody else takes them).
    ``add`` is pure work on memory, so a builder may chain in other processes and insert in its own.
    """

    def __init__(self, first_id: int = 1) -> None:
        self.next_id = first_id
        self.rows: list[tuple] = []
        self._undo: tuple | None = None

    def add(self, ticket: ChainHead, entry: NewEntry) -> int:
        if entry.files:
            raise ValueError("a batch carries no attachments; append them one by one")
        self._undo = (ticket, entry, ticket.log_count, ticket.log_head, ticket.last_action_at, ticket.version)
        entry_id = self.next_id
        self.next_id += 1
        self.rows.append(_link(ticket, entry, entry_id))
        return entry_id

    def amend_last(self, **changes) -> None:
        """Change a field of the entry added last, before it is inserted, and chain it again.

        For builders that learn a field late (the demo decides a promised follow-up after the last move).
        """
        ticket, entry, *before = self._undo
        ticket.log_count, ticket.log_head, ticket.last_action_at, ticket.version = before
        entry_id = self.rows.pop()[0]
        for name, value in changes.items():
            setattr(entry, name, value)
        self.rows.append(_link(ticket, entry, entry_id))

    def take(self) -> list[tuple]:
        """The batched rows, handed over to be inserted elsewhere; the batch is emptied."""
        rows, self.rows, self._undo = self.rows, [], None
        return rows

    def insert(self, db, *, id_offset: int = 0) -> None:
        """Insert the batched rows (ids moved by ``id_offset``) with one prepared statement; the batch is emptied."""
        insert_rows(db, self.rows, id_offset=id_offset)
        self.rows.clear()
        self._undo = None


def insert_rows(db, rows: Sequence[tuple], *, id_offset: int = 0) -> None:
    """Insert rows a ``LogBatch`` built (possibly in another process), ids moved by ``id_offset``."""
    if id_offset:
        rows = [(r[0] + id_offset, *r[1:]) for r in rows]
    backend.of(db).run_many(db, _INSERT_ENTRY, rows)


_INSERT_ATTACHMENT_ROW = _insert_sql(Attachment, ("id", "entry", "blob", "name", "size"))


class RestoreBatch:
    """Entries put back exactly as a store held them (an archive's rows): the restoring form of the writer.

    Nothing is chained anew from people's input: each row's digest is recomputed from its stored fields,
    its attachments and the digest before it on its ticket's chain (``original``), and a row whose digest
    does not match is refused, so an altered archive cannot be restored. When the ticket gets a new id
    (an archive merged into a store that already has tickets), the same fields are chained again onto
    ``target``, the new ticket's chain: its digests are new because the chain is bound to the ticket.
    """

    def __init__(self) -> None:
        self.entries: list[tuple] = []
        self.attachments: list[tuple] = []
        self.blobs: list[tuple] = []

    def add(
        self,
        case_number: str,
        original: ChainHead,
        row: dict,
        files: Sequence[dict] = (),
        *,
        corrects_seq: int | None = None,
        target: ChainHead | None = None,
        ids: dict[str, int] | None = None,
    ) -> str:
        """Check ``row`` (a ``log_entry`` row by column name) against ``original`` and batch it; returns the
        digest it is stored with. ``ids`` gives new ids (``entry``, ``corrects``, ``attachments`` in order)."""
        seq = original.log_count + 1
        if row.get("seq") != seq:
            raise DeskError(f"{case_number}: entry {row.get('seq')!r} comes where entry {seq} belongs")
        chained = [corrects_seq if name == "corrects_seq" else row.get(name) for name in CHAINED_FIELDS]
        attached = [(f["sha256"], f["name"], f["size"]) for f in files]
        digest = chain_digest(original.log_head, chained, attached)
        if digest != row.get("digest"):
            raise DeskError(
                f"{case_number} entry {seq}: its digest does not match its content and the entry before it "
                "(the archive was altered or damaged)"
            )
        original.log_count, original.log_head = seq, digest
        if target is not None:
            digest = chain_digest(target.log_head, chained, attached)
            target.log_count, target.log_head = seq, digest
        ids = ids or {}
        entry_id = ids.get("entry", row["id"])
        chained[_CORRECTS] = ids.get("corrects", row.get("corrects_id"))
        self.entries.append((entry_id, (target or original).id, *chained, digest))
        new_ids = ids.get("attachments") or [f["id"] for f in files]
        for attachment_id, f in zip(new_ids, files, strict=True):
            self.attachments.append((attachment_id, entry_id, f["sha256"], f["name"], f["size"]))
        return digest

    def add_blob(self, sha256: str, size: int, stored_at: str) -> None:
        self.blobs.append((sha256, size, stored_at))

    def insert(self, db) -> None:
        """Insert what is batched (blobs, then entries, then their attachments); the batch is emptied."""
        store = backend.of(db)
        if self.blobs:
            store.run_many(db, _INSERT_BLOB, self.blobs)
        if self.entries:
            store.run_many(db, _INSERT_ENTRY, self.entries)
        if self.attachments:
            store.run_many(db, _INSERT_ATTACHMENT_ROW, self.attachments)
        self.entries.clear()
        self.attachments.clear()
        self.blobs.clear()
