"""The store's operations: each one checks the rules, then writes in one transaction holding the write lock.

The console and the command line call these and nothing else, so both follow the same rules.
"""

from __future__ import annotations

import contextlib
import getpass
import json
import os
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

import peewee as pw

from tui_desk.config import Config
from tui_desk.domain import overdue, sla, statuses, timers, vocabulary
from tui_desk.domain.case_numbers import format_case_number, parse_case_number
from tui_desk.domain.clock import Clock, SystemClock, to_utc
from tui_desk.domain.dates import format_when, iso
from tui_desk.domain.errors import DeskError
from tui_desk.domain.evidence import entry_digest
from tui_desk.domain.statuses import Status, status_of
from tui_desk.store import schema, sqlite
from tui_desk.store.attachments import AttachmentFile, BlobFolder
from tui_desk.store.models import (
    Attachment,
    Blob,
    CaseSequence,
    Draft,
    LogEntry,
    OutboxMessage,
    StatusChange,
    Ticket,
    TicketTag,
    database,
)


@dataclass(frozen=True)
class TicketSnapshot:
    """What a console saw of a ticket when it started typing, to tell what changed underneath."""

    version: int
    log_count: int
    status: str
    assignee: str | None

    @classmethod
    def of(cls, ticket: Ticket) -> TicketSnapshot:
        return cls(ticket.version, ticket.log_count, ticket.status, ticket.assignee)


class TicketChanged(DeskError):
    """The ticket changed since the snapshot a write was based on; ``changes`` says how."""

    def __init__(self, case_number: str, changes: list[str], current: TicketSnapshot) -> None:
        self.changes = changes
        self.current = current
        super().__init__(f"{case_number} changed while you were typing: " + "; ".join(changes))


@dataclass
class TicketFilter:
    """Which tickets a queue or ``list`` shows. Empty means all."""

    statuses: Sequence[Status] = ()
    assignee: str | None = None
    unassigned: bool = False
    tag: str | None = None
    search: str | None = None
    kind: str | None = None
    overdue_at: datetime | None = None  # overdue as of this time
    extra: list = field(default_factory=list)  # further Peewee expressions


SORT_COLUMNS = {
    "case": Ticket.id,
    "customer": Ticket.customer,
    "order": Ticket.order_id,
    "subject": Ticket.subject,
    "status": pw.Case(Ticket.status, [(s.slug, i) for i, s in enumerate(Status)], 0),  # lifecycle order
    "priority": pw.Case(Ticket.priority, [(p, i) for i, p in enumerate(vocabulary.PRIORITIES)], 0),
    "assignee": Ticket.assignee,
    "opened": Ticket.opened_at,
    "last_action": Ticket.last_action_at,
    "due": pw.fn.min(
        pw.fn.coalesce(Ticket.follow_up_at, "9999"),
        pw.fn.coalesce(Ticket.timer_due_at, "9999"),
        pw.fn.coalesce(Ticket.sla_resolution_due_at, "9999"),
    ),
}


_DATABASES: dict[tuple[str, bool], pw.SqliteDatabase] = {}


def _shared_database(path: Path, *, read_only: bool, create: bool) -> pw.SqliteDatabase:
    """One Peewee database per file and mode in a process, shared by every Store on it.

    Peewee keeps one connection per thread per database object, so two Stores on one file
    (two agents in a test, the console and its workers) must share the object, or their
    transactions would lock each other out.
    """
    key = (str(path.resolve()), read_only)
    db = _DATABASES.get(key)
    if db is None or not (path.exists() or not create):
        db = sqlite.open_database(path, read_only=read_only, create=create)
        _DATABASES[key] = db
    return db


MAX_REFUND = Decimal("1000000000000")  # 12 digits before the point, 2 after: Ticket.refund_amount's size


def overdue_condition(now: datetime) -> pw.Expression:
    """An overdue ticket in SQL (queue view, workload, ``list --overdue``, the overdue panel).

    The SQL form of domain/overdue.py, built from its names so the two cannot drift: a status that owes
    work, and a promise not kept whose due time is past (``overdue.is_late``, the same comparison).
    """
    broken = None
    for promise in overdue.Promise:
        late = overdue.is_late(getattr(Ticket, overdue.DUE_FIELD[promise]), now)
        kept_by = overdue.KEPT_FIELD.get(promise)
        if kept_by is not None:
            late = getattr(Ticket, kept_by).is_null() & late
        broken = late if broken is None else broken | late
    return Ticket.status.in_([s.slug for s in overdue.OWING_STATUSES]) & broken


def default_agent() -> str:
    """The acting agent when none is named: ``TUI_DESK_AGENT``, else the OS login name."""
    name = os.environ.get("TUI_DESK_AGENT")
    if name:
        return name
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "agent"


class Store:
    """An open store: the database file, its attachment folder, the config, the clock and the acting agent."""

    def __init__(
        self,
        path: Path | str,
        *,
        config: Config | None = None,
        clock: Clock | None = None,
        agent: str | None = None,
        read_only: bool = False,
        create: bool = True,
    ) -> None:
        self.path = Path(path)
        self.config = config or Config()
        self.clock = clock or SystemClock()
        self.agent = (agent or default_agent()).strip() or "agent"
        self.read_only = read_only
        self.blobs = BlobFolder(self.path.with_name(self.path.name + ".files"))
        db = _shared_database(self.path, read_only=read_only, create=create)
        database.initialize(db)
        self.db = db
        with self._errors():
            if read_only:
                with db.connection_context():
                    version = schema.stored_version(db)
                    if version is None:
                        raise DeskError(f"{self.path} holds no tui-desk store (the file is empty); nothing to read")
                    schema.check_not_newer(version, self.path)
            else:
                with db.connection_context():
                    schema.ensure_schema(db, self.path)

    # -- plumbing -------------------------------------------------------------------------

    @contextlib.contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except DeskError:
            raise
        except (pw.DatabaseError, sqlite3.DatabaseError, pw.InterfaceError) as err:
            raise DeskError(sqlite.explain_error(err, self.path, read_only=self.read_only)) from None

    def _activate(self) -> None:
        # The models are bound to one database proxy; point it at this store's database.
        if database.obj is not self.db:
            database.initialize(self.db)

    def _connect(self) -> None:
        # Each thread keeps its connection until ``close`` or the thread ends: opening and closing one
        # per operation cost more than the operation (the last close of a WAL store checkpoints it).
        if self.db.is_closed():
            self.db.connect()

    @contextlib.contextmanager
    def reading(self) -> Iterator[None]:
        """This thread's connection, for a read."""
        self._activate()
        with self._errors():
            self._connect()
            yield

    @contextlib.contextmanager
    def writing(self) -> Iterator[None]:
        """A write transaction that holds the write lock from its first statement."""
        if self.read_only:
            raise DeskError(f"the store {self.path} is open read-only; nothing was changed")
        self._activate()
        with self._errors():
            self._connect()
            with sqlite.write_transaction(self.db):
                yield

    def now(self) -> datetime:
        return to_utc(self.clock.now())

    def data_version(self) -> int:
        """Changes whenever another connection commits; a console polls it to notice others' work."""
        return sqlite.data_version(self.db)

    def close(self) -> None:
        """Close this thread's connection (other threads' close when they end)."""
        if not self.db.is_closed():
            self.db.close()

    # -- reading --------------------------------------------------------------------------

    def get(self, case_number: str) -> Ticket:
        """The ticket with this case number; a one-line error if there is none."""
        key = case_number.strip().upper()
        with self.reading():
            ticket = Ticket.get_or_none(Ticket.case_number == key)
        if ticket is None:
            raise DeskError(f"no ticket {case_number.strip()!r}")
        return ticket

    def entries(self, ticket: Ticket, *, last: int | None = None) -> list[LogEntry]:
        """The log of a ticket in order (only the ``last`` entries if given), attachments prefetched.

        Each row also carries ``corrects_seq``: the number of the entry it corrects, if any, also when
        that entry is older than the ``last`` read.
        """
        with self.reading():
            query = LogEntry.select().where(LogEntry.ticket == ticket.id)
            if last is None:
                rows = list(query.order_by(LogEntry.seq))
            else:
                rows = list(query.order_by(LogEntry.seq.desc()).limit(last))[::-1]
            by_entry: dict[int, list[Attachment]] = {}
            if rows:
                attachments = Attachment.select().join(LogEntry).where(LogEntry.ticket == ticket.id)
                if last is not None:
                    attachments = attachments.where(LogEntry.seq >= rows[0].seq)
                for att in attachments.order_by(Attachment.id):
                    by_entry.setdefault(att.entry_id, []).append(att)
            seq_of = {row.id: row.seq for row in rows}
            older = {row.corrects_id for row in rows if row.corrects_id and row.corrects_id not in seq_of}
            if older:
                seq_of.update(LogEntry.select(LogEntry.id, LogEntry.seq).where(LogEntry.id.in_(older)).tuples())
            for row in rows:
                row.attachment_list = by_entry.get(row.id, [])
                row.corrects_seq = seq_of.get(row.corrects_id) if row.corrects_id else None
        return rows

    def agents(self) -> list[str]:
        """The agents tickets are assigned to, and the acting agent: the names an assign prompt offers."""
        with self.reading():
            query = Ticket.select(Ticket.assignee).distinct().where(Ticket.assignee.is_null(False)).tuples()
            names = {row[0] for row in query}
        return [self.agent, *sorted(names - {self.agent}, key=str.lower)]

    def tags(self, ticket_ids: Iterable[int]) -> dict[int, list[str]]:
        ids = list(ticket_ids)
        result: dict[int, list[str]] = {i: [] for i in ids}
        if not ids:
            return result
        with self.reading():
            for row in TicketTag.select().where(TicketTag.ticket.in_(ids)).order_by(TicketTag.name):
                result[row.ticket_id].append(row.name)
        return result

    def _filtered(self, flt: TicketFilter) -> pw.ModelSelect:
        query = Ticket.select()
        if flt.statuses:
            query = query.where(Ticket.status.in_([s.slug for s in flt.statuses]))
        if flt.unassigned:
            query = query.where(Ticket.assignee.is_null())
        elif flt.assignee:
            query = query.where(Ticket.assignee == flt.assignee)
        if flt.kind:
            query = query.where(Ticket.kind == flt.kind)
        if flt.tag:
            tagged = TicketTag.select(TicketTag.ticket).where(TicketTag.name == vocabulary.check_tag(flt.tag))
            query = query.where(Ticket.id.in_(tagged))
        if flt.search and flt.search.strip():
            match = sqlite.search_match(flt.search)
            if match is None:
                query = query.where(pw.SQL("0"))
            else:
                query = query.where(Ticket.id.in_(pw.SQL(sqlite.search_ticket_ids_sql(), (match,))))
        if flt.overdue_at is not None:
            query = query.where(overdue_condition(flt.overdue_at))
        for expression in flt.extra:
            query = query.where(expression)
        return query

    def count_tickets(self, flt: TicketFilter | None = None) -> int:
        with self.reading():
            return self._filtered(flt or TicketFilter()).count()

    def list_tickets(
        self,
        flt: TicketFilter | None = None,
        *,
        sort: str = "case",
        descending: bool = False,
        offset: int = 0,
        limit: int | None = None,
    ) -> list[Ticket]:
        """One page of tickets matching ``flt``, in a stable order (ties broken by case)."""
        if sort not in SORT_COLUMNS:
            raise DeskError(f"cannot sort by {sort!r} (one of: {', '.join(SORT_COLUMNS)})")
        flt = flt or TicketFilter()
        column = SORT_COLUMNS[sort]
        match = sqlite.search_match(flt.search) if flt.search else None
        if sort == "case" and match is not None:
            query, column = sqlite.join_search(self._filtered(replace(flt, search=None)), Ticket.id, match)
        else:
            query = self._filtered(flt)
        order = [column.desc() if descending else column.asc()]
        if sort != "case":
            order.append(Ticket.id.desc() if descending else Ticket.id.asc())
        query = query.order_by(*order).offset(offset)
        if limit is not None:
            query = query.limit(limit)
        with self.reading():
            return list(query)

    def ticket_ids(
        self,
        flt: TicketFilter | None = None,
        *,
        sort: str = "case",
        descending: bool = False,
        cancelled: Callable[[], bool] | None = None,
    ) -> list[int]:
        """The ids of every matching ticket, in ``list_tickets`` order: one narrow query that a console
        counts and pages through (``tickets_by_id``) instead of re-running OFFSET scans.

        ``cancelled`` is polled while SQLite works; when it turns true the query stops with a DeskError,
        so a search superseded by the next keystroke does not keep a core busy.
        """
        if sort not in SORT_COLUMNS:
            raise DeskError(f"cannot sort by {sort!r} (one of: {', '.join(SORT_COLUMNS)})")
        column = SORT_COLUMNS[sort]
        order = [column.desc() if descending else column.asc()]
        if sort != "case":
            order.append(Ticket.id.desc() if descending else Ticket.id.asc())
        sql, params = self._filtered(flt or TicketFilter()).select(Ticket.id).order_by(*order).sql()
        with self.reading():
            conn = self.db.connection()
            if cancelled is not None:
                conn.set_progress_handler(lambda: 1 if cancelled() else 0, 20_000)
            try:
                return [row[0] for row in self.db.execute_sql(sql, params)]
            finally:
                if cancelled is not None:
                    conn.set_progress_handler(None, 0)

    def tickets_by_id(self, ids: Sequence[int]) -> list[Ticket]:
        """These tickets in the order given (ids that no longer exist are skipped)."""
        ids = list(ids)
        if not ids:
            return []
        with self.reading():
            found = {t.id: t for t in Ticket.select().where(Ticket.id.in_(ids))}
        return [found[i] for i in ids if i in found]

    # -- creating -------------------------------------------------------------------------

    def _allocate_case_number(self, kind_code: str, year: int) -> str:
        prefix = self.config.prefix
        while True:
            cursor = self.db.execute_sql(
                "INSERT INTO case_sequence(prefix, kind_code, year, last) VALUES (?, ?, ?, 1) "
                "ON CONFLICT(prefix, kind_code, year) DO UPDATE SET last = last + 1 RETURNING last",
                (prefix, kind_code, year),
            )
            seq = cursor.fetchone()[0]
            number = format_case_number(prefix, kind_code, year, seq)
            if not Ticket.select().where(Ticket.case_number == number).exists():
                return number

    def reserve_case_number(self, number: str) -> None:
        """Keep an existing (imported) case number: later allocations go past it. Call inside ``writing``."""
        try:
            prefix, kind_code, year, seq = parse_case_number(number)
        except DeskError:
            return  # a foreign format can never collide with ours
        CaseSequence.insert(prefix=prefix, kind_code=kind_code, year=year, last=seq).on_conflict(
            conflict_target=[CaseSequence.prefix, CaseSequence.kind_code, CaseSequence.year],
            update={CaseSequence.last: pw.fn.max(CaseSequence.last, seq)},
        ).execute()

    def create_ticket(
        self,
        *,
        customer: str,
        subject: str,
        kind: str = "refund",
        email: str | None = None,
        order_id: str | None = None,
        reason: str | None = None,
        priority: str = "normal",
        tags: Iterable[str] = (),
        description: str = "",
        references: str | None = None,
    ) -> Ticket:
        """Open a ticket: allocate its case number, log the automatic acknowledgement, queue it for the customer."""
        customer = vocabulary.require_text(customer, "customer").strip()
        subject = vocabulary.require_text(subject, "subject")
        if "\x00" in (description or ""):
            raise DeskError("description contains a NUL character")
        kind = kind.strip().lower()
        kind_code = self.config.kind_code(kind)
        priority = vocabulary.check_priority(priority)
        tag_names = sorted({vocabulary.check_tag(t) for t in tags})
        email = (email or "").strip() or None
        if email and "@" not in email:
            raise DeskError(f"email {email!r} has no @")
        if references:
            references = self.get(references).case_number
        now = self.now()
        with self.writing():
            number = self._allocate_case_number(kind_code, now.year)
            ticket = Ticket.create(
                case_number=number,
                kind=kind,
                customer=customer,
                email=email,
                order_id=(order_id or "").strip() or None,
                subject=subject,
                description=description or "",
                reason=(reason or "").strip() or None,
                priority=priority,
                status=Status.NEW.slug,
                created_by=self.agent,
                references=references,
                opened_at=now,
                last_action_at=now,
                status_changed_at=now,
            )
            sla.write_clocks(ticket, sla.opened(now, priority, self.config.sla))
            for name in tag_names:
                TicketTag.create(ticket=ticket, name=name)
            body = f"Case number: {number}\nSubject: {subject}\n\n{description or ''}".rstrip()
            ack = self._append(
                ticket,
                kind="acknowledgement",
                channel=vocabulary.SYSTEM_CHANNEL,
                direction="out",
                sender=vocabulary.SYSTEM,
                summary=f"Automatic acknowledgement sent to {customer}",
                body=body,
                at=now,
            )
            StatusChange.create(
                ticket=ticket, entry=ack, at=now, from_status=None, to_status=Status.NEW.slug, agent=self.agent
            )
            OutboxMessage.create(
                ticket=ticket,
                recipient="buyer",
                address=email,
                case_number=number,
                subject=f"[{number}] {subject}",
                body=body,
                created_at=now,
            )
        return ticket

    # -- the log --------------------------------------------------------------------------

    def _append(
        self,
        ticket: Ticket,
        *,
        kind: str,
        channel: str,
        direction: str,
        sender: str,
        summary: str,
        body: str = "",
        at: datetime | None = None,
        until: datetime | None = None,
        sender_name: str = "",
        follow_up_at: datetime | None = None,
        corrects: LogEntry | None = None,
        due_at: datetime | None = None,
        files: Sequence[AttachmentFile] = (),
        agent: str | None = None,
    ) -> LogEntry:
        """Append one entry to the chain and move the ticket's log head. Call inside ``writing``."""
        now = self.now()
        at = at or now
        fields = dict(
            seq=ticket.log_count + 1,
            kind=kind,
            at=at,
            until=until,
            logged_at=now,
            channel=channel,
            direction=direction,
            sender=sender,
            sender_name=sender_name,
            agent=agent or self.agent,
            summary=summary,
            body=body,
            follow_up_at=follow_up_at,
            corrects_seq=corrects.seq if corrects else None,
            due_at=due_at,
        )
        digest = entry_digest(ticket.log_head, fields, [(f.sha256, f.name, f.size) for f in files])
        del fields["corrects_seq"]
        entry = LogEntry.create(ticket=ticket, corrects=corrects, digest=digest, **fields)
        for f in files:
            Blob.insert(sha256=f.sha256, size=f.size, stored_at=now).on_conflict_ignore().execute()
            Attachment.create(entry=entry, blob=f.sha256, name=f.name, size=f.size)
        ticket.log_count += 1
        ticket.log_head = digest
        if ticket.last_action_at is None or at > ticket.last_action_at:
            ticket.last_action_at = at
        ticket.version += 1
        ticket.save()
        return entry

    def _fresh(self, case_number: str) -> Ticket:
        """Re-read a ticket inside a write transaction: what another process committed counts."""
        ticket = Ticket.get_or_none(Ticket.case_number == case_number.strip().upper())
        if ticket is None:
            raise DeskError(f"no ticket {case_number.strip()!r}")
        return ticket

    def _check_unchanged(self, ticket: Ticket, expected: TicketSnapshot | None) -> None:
        if expected is None or expected.version == ticket.version:
            return
        changes = []
        new = (
            LogEntry.select()
            .where((LogEntry.ticket == ticket.id) & (LogEntry.seq > expected.log_count))
            .order_by(LogEntry.seq)
        )
        for entry in new:
            if entry.sender in vocabulary.PARTIES:
                changes.append(f"{entry.agent} logged a message from the {entry.sender}: “{entry.summary}”")
            elif entry.agent == vocabulary.SYSTEM:
                changes.append(f"the system: “{entry.summary}”")
            else:
                changes.append(f"{entry.agent}: “{entry.summary}”")
        if ticket.status != expected.status:
            changes.append(f"status is now {status_of(ticket.status).label}")
        if ticket.assignee != expected.assignee:
            changes.append(f"assigned to {ticket.assignee or 'nobody'}")
        raise TicketChanged(ticket.case_number, changes or ["it was edited"], TicketSnapshot.of(ticket))

    def _writable(self, ticket: Ticket) -> None:
        if ticket.status == Status.CLOSED.slug:
            raise DeskError(f"{ticket.case_number} is Closed, which is final; open a new ticket that references it")

    def add_entry(
        self,
        case_number: str,
        *,
        channel: str,
        summary: str,
        direction: str | None = None,
        sender: str | None = None,
        sender_name: str = "",
        body: str = "",
        attachments: Sequence[str | Path] = (),
        at: datetime | None = None,
        until: datetime | None = None,
        follow_up: datetime | None = None,
        corrects: int | None = None,
        status: Status | None = None,
        status_note: str | None = None,
        expected: TicketSnapshot | None = None,
    ) -> LogEntry:
        """Log an interaction (or a note, or a correction of an earlier entry), with its consequences.

        An inbound message from the party the ticket waits on moves it to Waiting on Us; so does the
        customer answering a Resolved ticket. ``status`` applies a status change with the entry.
        """
        channel = vocabulary.check_channel(channel)
        summary = vocabulary.require_text(summary, "summary")
        if "\x00" in (body or "") or "\x00" in (sender_name or ""):
            raise DeskError("the entry contains a NUL character")
        direction, sender = vocabulary.resolve_party(channel, direction, sender)
        at = to_utc(at) if at else None
        until = to_utc(until) if until else None
        start = at or self.now()
        if until and until < start:
            raise DeskError(f"the contact ends ({format_when(until)}) before it starts ({format_when(start)})")
        if follow_up and to_utc(follow_up) < start:
            raise DeskError(f"the follow-up ({format_when(follow_up)}) is before the contact ({format_when(start)})")
        files = [self.blobs.ingest(Path(p)) for p in attachments]
        with self.writing():
            ticket = self._fresh(case_number)
            self._writable(ticket)
            self._check_unchanged(ticket, expected)
            current = status_of(ticket.status)
            auto = statuses.status_after_inbound(current, sender) if direction == "in" else None
            if status is not None:
                statuses.check_transition(auto or current, status, status_note)
            target_entry = None
            if corrects is not None:
                target_entry = LogEntry.get_or_none((LogEntry.ticket == ticket.id) & (LogEntry.seq == corrects))
                if target_entry is None:
                    raise DeskError(f"{ticket.case_number} has no entry {corrects} to correct")
            kind = "correction" if target_entry else ("note" if channel == "note" else "message")
            entry = self._append(
                ticket,
                kind=kind,
                channel=channel,
                direction=direction,
                sender=sender,
                sender_name=sender_name.strip(),
                summary=summary,
                body=body or "",
                at=at,
                until=until,
                follow_up_at=follow_up,
                corrects=target_entry,
                files=files,
            )
            if direction == "out" and kind == "message":
                if ticket.first_response_at is None:
                    ticket.first_response_at = entry.at
                    sla.write_clocks(ticket, sla.responded(sla.read_clocks(ticket), entry.at))
                ticket.follow_up_at = None  # we got back to them: the promise is kept
            if follow_up is not None:
                ticket.follow_up_at = to_utc(follow_up)
            ticket.save()
            if auto is not None:
                who = sender_name.strip() or sender
                self._set_status(ticket, auto, f"{who} answered", by_system=True)
            if status is not None:
                self._set_status(ticket, status, status_note or "")
        return entry

    # -- status, assignment, tags, refund -------------------------------------------------

    def _set_status(self, ticket: Ticket, target: Status, note: str, *, by_system: bool = False) -> LogEntry:
        """Move the ticket, log it, and start or stop its timers. Call inside ``writing``."""
        now = self.now()
        old = ticket.status
        summary = f"Status: {status_of(old).label} → {target.label}"
        entry = self._append(
            ticket,
            kind="status",
            channel=vocabulary.SYSTEM_CHANNEL,
            direction="internal",
            sender=vocabulary.SYSTEM,
            summary=summary,
            body=note,
            at=now,
            agent=vocabulary.SYSTEM if by_system else None,
        )
        StatusChange.create(
            ticket=ticket,
            entry=entry,
            at=now,
            from_status=old,
            to_status=target.slug,
            agent=vocabulary.SYSTEM if by_system else self.agent,
            note=note,
        )
        self._status_fields(ticket, target, now)
        ticket.save()
        return entry

    def _status_fields(self, ticket: Ticket, target: Status, now: datetime) -> None:
        """A status change's effect on the ticket's own fields (dates, timers, SLA clocks), in memory only.

        Shared by ``_set_status`` and the timer sweep's bulk path (store/sweep.py), which writes the row itself.
        """
        old = ticket.status
        ticket.status = target.slug
        ticket.status_changed_at = now
        if target is Status.RESOLVED:
            ticket.resolved_at = now
        elif target is Status.CLOSED:
            ticket.closed_at = now
            ticket.follow_up_at = None
        elif status_of(old) is Status.RESOLVED:
            ticket.resolved_at = None  # reopened
        ticket.period_started_at = now if (target.is_waiting_on_party or target is Status.RESOLVED) else None
        ticket.reminders_done = 0
        ticket.timer_due_at = timers.next_due(target, ticket.period_started_at, 0, self.config.timers)
        clocks = sla.status_changed(
            sla.read_clocks(ticket),
            old=status_of(old),
            new=target,
            now=now,
            opened_at=ticket.opened_at,
            priority=ticket.priority,
            responded_at=ticket.first_response_at,
            policy=self.config.sla,
        )
        sla.write_clocks(ticket, clocks)

    def change_status(
        self, case_number: str, target: Status, note: str | None = None, *, expected: TicketSnapshot | None = None
    ) -> Ticket:
        """Move a ticket by hand; Resolved needs a resolution note and Closed a final summary."""
        if note is not None and "\x00" in note:
            raise DeskError("the note contains a NUL character")
        with self.writing():
            ticket = self._fresh(case_number)
            self._check_unchanged(ticket, expected)
            statuses.check_transition(status_of(ticket.status), target, note)
            self._set_status(ticket, target, note or "")
        return ticket

    def assign(self, case_number: str, assignee: str | None) -> Ticket:
        """Give the ticket to an agent (None or blank: unassigned)."""
        assignee = (assignee or "").strip() or None
        with self.writing():
            ticket = self._fresh(case_number)
            self._writable(ticket)
            if ticket.assignee == assignee:
                return ticket
            summary = f"Assigned to {assignee}" if assignee else f"Unassigned (was {ticket.assignee})"
            ticket.assignee = assignee
            self._append(
                ticket,
                kind="assignment",
                channel=vocabulary.SYSTEM_CHANNEL,
                direction="internal",
                sender=vocabulary.SYSTEM,
                summary=summary,
            )
        return ticket

    def tag(self, case_number: str, add: Iterable[str] = (), remove: Iterable[str] = ()) -> list[str]:
        """Add and remove tags; returns the ticket's tags afterwards."""
        add_names = {vocabulary.check_tag(t) for t in add}
        remove_names = {vocabulary.check_tag(t) for t in remove}
        with self.writing():
            ticket = self._fresh(case_number)
            self._writable(ticket)
            present = {t.name for t in TicketTag.select().where(TicketTag.ticket == ticket.id)}
            added = sorted(add_names - present)
            removed = sorted(remove_names & present)
            for name in added:
                TicketTag.create(ticket=ticket, name=name)
            if removed:
                TicketTag.delete().where((TicketTag.ticket == ticket.id) & TicketTag.name.in_(removed)).execute()
            if added or removed:
                parts = [f"+{n}" for n in added] + [f"-{n}" for n in removed]
                self._append(
                    ticket,
                    kind="tags",
                    channel=vocabulary.SYSTEM_CHANNEL,
                    direction="internal",
                    sender=vocabulary.SYSTEM,
                    summary="Tags " + " ".join(parts),
                )
            return sorted((present | set(added)) - set(removed))

    def set_refund(
        self,
        case_number: str,
        *,
        amount: str | None = None,
        currency: str | None = None,
        approved_at: datetime | None = None,
        initiated_at: datetime | None = None,
        refunded_at: datetime | None = None,
    ) -> Ticket:
        """Record the refund amount and its milestones (approved, initiated, refunded)."""
        value = None
        if amount is not None:
            try:
                value = Decimal(amount.strip())
            except InvalidOperation:
                raise DeskError(f"refund amount {amount!r} is not a number") from None
            if not value.is_finite():
                raise DeskError(f"refund amount {amount!r} is not a number")
            if value < 0:
                raise DeskError(f"refund amount {amount!r} must be zero or more")
            if value >= MAX_REFUND:  # the column keeps 14 digits; more would be stored rounded, silently
                raise DeskError(f"refund amount {amount!r} is too large (at most {MAX_REFUND - Decimal('0.01')})")
            if value != value.quantize(Decimal("0.01")):  # the column keeps cents: more would be rounded
                raise DeskError(f"refund amount {amount!r} has more than two decimals")
        if currency is not None and not (currency.strip().isalpha() and len(currency.strip()) == 3):
            raise DeskError(f"currency {currency!r} must be a three-letter code such as EUR")
        with self.writing():
            ticket = self._fresh(case_number)
            self._writable(ticket)
            parts = []
            if value is not None:
                ticket.refund_amount = value
                parts.append(f"amount {value:.2f}")
            if currency is not None:
                ticket.currency = currency.strip().upper()
                parts.append(f"currency {ticket.currency}")
            for label, attr, when in (
                ("approved", "refund_approved_at", approved_at),
                ("initiated", "refund_initiated_at", initiated_at),
                ("refunded", "refunded_at", refunded_at),
            ):
                if when is not None:
                    setattr(ticket, attr, to_utc(when))
                    parts.append(f"{label} {format_when(when)}")
            if not parts:
                raise DeskError("nothing to record: give an amount, a currency or a milestone date")
            steps = [
                (label, getattr(ticket, attr))
                for label, attr in (
                    ("approved", "refund_approved_at"),
                    ("initiated", "refund_initiated_at"),
                    ("refunded", "refunded_at"),
                )
                if getattr(ticket, attr) is not None
            ]
            for (earlier, a), (later, b) in zip(steps, steps[1:]):
                if b < a:
                    raise DeskError(f"the refund cannot be {later} ({format_when(b)}) before it was {earlier}")
            self._append(
                ticket,
                kind="refund",
                channel=vocabulary.SYSTEM_CHANNEL,
                direction="internal",
                sender=vocabulary.SYSTEM,
                summary="Refund: " + ", ".join(parts),
            )
        return ticket

    # -- drafts ---------------------------------------------------------------------------

    def save_draft(self, case_number: str, data: dict, base: TicketSnapshot) -> None:
        """Keep a half-typed entry for this agent and ticket (replacing the previous draft)."""
        ticket = self.get(case_number)
        with self.writing():
            Draft.insert(
                ticket=ticket.id,
                agent=self.agent,
                data=json.dumps(data, ensure_ascii=False),
                base_version=base.version,
                updated_at=self.now(),
            ).on_conflict(
                conflict_target=[Draft.ticket, Draft.agent],
                update={Draft.data: pw.EXCLUDED.data, Draft.updated_at: pw.EXCLUDED.updated_at},
            ).execute()

    def load_draft(self, case_number: str) -> tuple[dict, int] | None:
        """This agent's draft for the ticket and the ticket version it was started on, if any."""
        ticket = self.get(case_number)
        with self.reading():
            row = Draft.get_or_none((Draft.ticket == ticket.id) & (Draft.agent == self.agent))
        return (json.loads(row.data), row.base_version) if row else None

    def discard_draft(self, case_number: str) -> None:
        ticket = self.get(case_number)
        with self.writing():
            Draft.delete().where((Draft.ticket == ticket.id) & (Draft.agent == self.agent)).execute()

    # -- presenting -----------------------------------------------------------------------

    def describe(self, ticket: Ticket, *, with_log: bool = True) -> dict:
        """Everything about a ticket as JSON-ready data (``show --json``, exports)."""
        tags = self.tags([ticket.id])[ticket.id]
        data = {
            "case_number": ticket.case_number,
            "kind": ticket.kind,
            "status": status_of(ticket.status).label,
            "priority": ticket.priority,
            "customer": ticket.customer,
            "email": ticket.email,
            "order_id": ticket.order_id,
            "subject": ticket.subject,
            "description": ticket.description,
            "reason": ticket.reason,
            "assignee": ticket.assignee,
            "tags": tags,
            "references": ticket.references,
            "created_by": ticket.created_by,
            "opened_at": iso(ticket.opened_at),
            "first_response_at": iso(ticket.first_response_at),
            "last_action_at": iso(ticket.last_action_at),
            "status_changed_at": iso(ticket.status_changed_at),
            "follow_up_at": iso(ticket.follow_up_at),
            "sla_response_due_at": iso(ticket.sla_response_due_at),
            "sla_resolution_due_at": iso(ticket.sla_resolution_due_at),
            "resolved_at": iso(ticket.resolved_at),
            "closed_at": iso(ticket.closed_at),
            "timer_due_at": iso(ticket.timer_due_at),
            "refund": {
                "amount": None if ticket.refund_amount is None else f"{ticket.refund_amount:.2f}",
                "currency": ticket.currency,
                "approved_at": iso(ticket.refund_approved_at),
                "initiated_at": iso(ticket.refund_initiated_at),
                "refunded_at": iso(ticket.refunded_at),
            },
            "sla": {
                "response_due_at": iso(ticket.sla_response_due_at),
                "response_risk_at": iso(ticket.sla_response_risk_at),
                "response_breached_at": iso(ticket.sla_response_breached_at),
                "resolution_due_at": iso(ticket.sla_resolution_due_at),
                "resolution_risk_at": iso(ticket.sla_resolution_risk_at),
                "resolution_breached_at": iso(ticket.sla_resolution_breached_at),
                "paused_seconds": ticket.sla_paused_seconds,
                "paused_since": iso(ticket.sla_paused_since),
            },
            "log_head": ticket.log_head,
        }
        if with_log:
            data["log"] = [describe_entry(e) for e in self.entries(ticket)]
        return data


def describe_entry(entry: LogEntry) -> dict:
    corrects = entry.corrects.seq if entry.corrects_id else None
    return {
        "seq": entry.seq,
        "at": iso(entry.at),
        "until": iso(entry.until),
        "logged_at": iso(entry.logged_at),
        "kind": entry.kind,
        "channel": entry.channel,
        "direction": entry.direction,
        "sender": entry.sender,
        "sender_name": entry.sender_name,
        "agent": entry.agent,
        "summary": entry.summary,
        "body": entry.body,
        "follow_up_at": iso(entry.follow_up_at),
        "corrects": corrects,
        "due_at": iso(entry.due_at),
        "digest": entry.digest,
        "attachments": [
            {"name": a.name, "size": a.size, "sha256": a.sha256} for a in getattr(entry, "attachment_list", [])
        ],
    }
