"""The import operation: many tickets with their past dates, past log entries and final status, in ONE transaction.

Imported tickets keep their case numbers (later allocations go past them), their dates and their log
entries; the final status is set directly, without replaying transitions (a sheet knows where a case
ended, not how it got there). One StatusChange row records the status as imported. The timers of a
waiting or Resolved ticket count from its status date or from the import, whichever is later.

Re-running an import creates no duplicates: a row whose case number is in the store is skipped; a row
without a case number is keyed by a fingerprint of its identity (customer, email, order, open date,
subject, and which occurrence of that identity in the file it is), kept in ``Meta`` as
``import:row:<fingerprint>`` -> case number.

Rows are written by bulk inserts with ids handed out under the write lock, so 100,000 rows take
seconds, not minutes; every entry is chained and inserted by the log's one writer (store/log.py), in its batch form.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

import peewee as pw

from tui_desk.domain import timers, vocabulary
from tui_desk.domain.case_numbers import check_imported_number, parse_case_number
from tui_desk.domain.clock import to_utc
from tui_desk.domain.dates import EARLIEST, LATEST, check_in_range, format_when
from tui_desk.domain.errors import DeskError
from tui_desk.domain.statuses import Status
from tui_desk.store import backend, log, staging
from tui_desk.store.commands import check_opened, in_the_future
from tui_desk.store.models import LogEntry, Meta, StatusChange, Ticket, TicketTag, UTCDateTimeField

FINGERPRINT_KEY = "import:row:"
BATCH = 2000  # tickets buffered before a flush
BULK_INDEX_MIN = 1000  # tickets from which search indexing is done in one pass
HELPER_MIN = 2000  # records from which a second process reads, checks and builds part of them (``Share``)
HELPER_SHARE = 0.5  # the part it reads and checks: reading costs the same in either process
# The part of the new tickets it builds: more, as this process copies its rows in and indexes them for search
# besides building its own. This process hands it records it read to make up the difference (a record costs
# a tenth as much to send as to build).
HELPER_BUILD_SHARE = 0.57
ENTRY_CHANNELS = (*vocabulary.CHANNELS, vocabulary.SYSTEM_CHANNEL)
ENTRY_SENDERS = (*vocabulary.SENDERS, vocabulary.SYSTEM)
SYSTEM = vocabulary.SYSTEM


def helper_split(records: int) -> int:
    """Where a helper's share of ``records`` starts (``Share``): it takes the last HELPER_SHARE of them."""
    return records - round(records * HELPER_SHARE)


# Every date a record may carry: each must lie between 1970 and 2999 (domain/dates.py).
_RECORD_DATES = (
    "opened_at",
    "last_action_at",
    "status_changed_at",
    "first_response_at",
    "follow_up_at",
    "sla_response_due_at",
    "sla_resolution_due_at",
    "resolved_at",
    "closed_at",
    "refund_approved_at",
    "refund_initiated_at",
    "refunded_at",
)


def _date_label(name: str) -> str:
    """``opened_at`` -> ``open date``, ``at`` -> ``date``: how a message names a date field."""
    if name == "opened_at":
        return "open date"
    return (name.removesuffix("at").removesuffix("_").replace("_", " ") + " date").strip()


class BadRow(DeskError):  # noqa: N818 - a row, not an error kind
    """A row that cannot be imported: where it is and why."""

    def __init__(self, line: int, reason: str) -> None:
        self.line = line
        self.reason = reason
        super().__init__(f"line {line}: {reason}")

    def __reduce__(self):  # sent back by an import's helper process (store/staging.py)
        return (BadRow, (self.line, self.reason))


@dataclass(slots=True)
class EntryRecord:
    """One past log entry to import; ``agent`` None means the importing agent."""

    kind: str
    channel: str
    direction: str
    sender: str
    summary: str
    at: datetime
    body: str = ""
    until: datetime | None = None
    sender_name: str = ""
    agent: str | None = None
    follow_up_at: datetime | None = None
    corrects: int | None = None  # seq of the entry it corrects, in the same ticket
    due_at: datetime | None = None
    line: int = 0


@dataclass(slots=True)  # slots: 100,000 records take a third of the memory, and are made and read faster
class TicketRecord:
    """One ticket to import, as read from a sheet row (or a group of log-sheet rows)."""

    line: int
    customer: str
    subject: str
    opened_at: datetime
    status: Status
    case_number: str | None = None
    fingerprint: str | None = None
    kind: str = "refund"
    email: str | None = None
    order_id: str | None = None
    description: str = ""
    reason: str | None = None
    priority: str = "normal"
    assignee: str | None = None
    tags: list[str] = field(default_factory=list)
    references: str | None = None
    created_by: str | None = None
    last_action_at: datetime | None = None
    status_changed_at: datetime | None = None
    first_response_at: datetime | None = None
    follow_up_at: datetime | None = None
    sla_response_due_at: datetime | None = None
    sla_resolution_due_at: datetime | None = None
    resolved_at: datetime | None = None
    closed_at: datetime | None = None
    refund_amount: Decimal | None = None
    currency: str | None = None
    refund_approved_at: datetime | None = None
    refund_initiated_at: datetime | None = None
    refunded_at: datetime | None = None
    entries: list[EntryRecord] = field(default_factory=list)


@dataclass
class ImportOutcome:
    created: list[tuple[int, str]] = field(default_factory=list)  # (line, case number)
    existing: list[tuple[int, str]] = field(default_factory=list)  # already in the store: skipped
    bad: list[BadRow] = field(default_factory=list)  # skipped with --skip-bad
    entries: int = 0
    dry_run: bool = False


def _check(record: TicketRecord, config, now: datetime) -> None:
    """The rules a ticket must meet before it is written (the same create_ticket applies): opened and its
    contacts dated no later than the clock skew allows past ``now``, as `new --opened` and `log` take them."""
    vocabulary.require_text(record.customer, "customer")
    vocabulary.require_text(record.subject, "subject")
    for what, value in (
        ("description", record.description),
        ("order id", record.order_id or ""),
        ("email", record.email or ""),
    ):
        if "\x00" in value:
            raise DeskError(f"{what} contains a NUL character")
    config.kind_code(record.kind)
    vocabulary.check_priority(record.priority)
    record.tags = sorted({vocabulary.check_tag(t) for t in record.tags})
    if record.email and "@" not in record.email:
        raise DeskError(f"email {record.email!r} has no @")
    if record.case_number is not None:
        number = record.case_number
        if not (number.isprintable() and 0 < len(number) <= 64) or len(number.split()) != 1 or number != number.strip():
            raise DeskError(f"case number {number!r} must be one printable word of at most 64 characters")
    if record.case_number is not None:
        check_imported_number(record.case_number)
    for name in _RECORD_DATES:
        value = getattr(record, name)
        if value is not None and not _surely_in_range(value):
            check_in_range(value, _date_label(name))
    if record.currency and not (record.currency.isalpha() and len(record.currency) == 3):
        raise DeskError(f"currency {record.currency!r} must be a three-letter code such as EUR")
    check_opened(record.opened_at, now, config.tz)
    for seq, entry in enumerate(record.entries, start=1):
        try:
            _check_entry(entry, seq)
            if in_the_future(entry.at, now):
                raise DeskError(f"entry {seq} is dated {format_when(entry.at, config.tz)}, in the future")
        except DeskError as err:
            raise BadRow(entry.line or record.line, str(err)) from None
    if not record.entries:
        raise DeskError("a ticket needs at least one log entry")


def _surely_in_range(value: datetime) -> bool:
    """The quick form of ``check_in_range`` for an aware instant (a sheet's dates are): True when it is in
    range; False sends the date to ``check_in_range``, which says why (a million dates are checked)."""
    return value.tzinfo is not None and EARLIEST <= value < LATEST


def _check_entry(entry: EntryRecord, seq: int) -> None:
    if entry.kind not in vocabulary.ENTRY_KINDS:
        raise DeskError(f"unknown entry kind {entry.kind!r} (one of: {', '.join(vocabulary.ENTRY_KINDS)})")
    if entry.channel not in ENTRY_CHANNELS:
        raise DeskError(f"unknown channel {entry.channel!r} (one of: {', '.join(ENTRY_CHANNELS)})")
    if entry.direction not in vocabulary.DIRECTIONS:
        raise DeskError(f"unknown direction {entry.direction!r} (one of: {', '.join(vocabulary.DIRECTIONS)})")
    if entry.sender not in ENTRY_SENDERS:
        raise DeskError(f"unknown sender {entry.sender!r} (one of: {', '.join(ENTRY_SENDERS)})")
    if not entry.summary or "\x00" in entry.summary + entry.body + entry.sender_name:
        raise DeskError("a log entry needs a summary, without NUL characters")
    for name in ("at", "until", "follow_up_at", "due_at"):
        value = getattr(entry, name)
        if value is not None and not _surely_in_range(value):
            check_in_range(value, f"entry {seq} {_date_label(name)}")
    if entry.until and entry.until < entry.at:
        raise DeskError("a log entry ends before it starts")
    if entry.corrects is not None and not 1 <= entry.corrects < seq:
        raise DeskError(f"entry {seq} corrects entry {entry.corrects}, which is not before it")


def import_tickets(
    store,
    records: Sequence[TicketRecord | BadRow],
    *,
    skip_bad: bool = False,
    dry_run: bool = False,
    progress: Callable[[int], None] | None = None,
    share: Share | None = None,
) -> ImportOutcome:
    """Import ``records`` (BadRow items stand for rows the reader refused) all or nothing; then those of
    ``share``, held by a helper process (received: its ``items`` follow ``records`` in the file).

    Without ``skip_bad`` the first bad row stops the import and nothing is written; with it, bad
    rows are skipped and returned in the outcome. ``progress(n)`` is told each time n more rows are done.
    """
    outcome = ImportOutcome(dry_run=dry_run)
    good: list[TicketRecord | Summary] = []
    now = store.now()
    checked = (checked_record(record, store.config, now) for record in records)
    for record in itertools.chain(checked, _received(share)):
        if isinstance(record, BadRow):
            if not skip_bad:
                raise record
            outcome.bad.append(record)
            continue
        good.append(record)
    with store.writing(dry_run=dry_run):
        _write(store, good, outcome, skip_bad, progress, share)
    return outcome


def _received(share: Share | None) -> Iterator[Summary | BadRow]:
    """The items of ``share``, waited for once this process has checked its own records."""
    if share is not None:
        yield from share.receive()


def checked_record(record: TicketRecord | BadRow, config, now: datetime) -> TicketRecord | BadRow:
    """The record if it meets the rules (``_check``), else the BadRow saying where and why."""
    if isinstance(record, BadRow):
        return record
    try:
        _check(record, config, now)
    except BadRow as bad:
        return bad
    except DeskError as err:
        return BadRow(record.line, str(err))
    return record


@dataclass(slots=True)
class Summary:
    """A record an import's helper process holds (``Share``), as much of it as the import decides by."""

    index: int  # its place in the helper's list
    line: int
    case_number: str | None
    fingerprint: str | None
    kind: str
    opened_at: datetime
    customer: str
    entry_count: int


class Share:
    """The last part of a big import into SQLite, read and checked by a second process (store/staging.py), which
    then builds its rows and those of some records this process read (``HELPER_BUILD_SHARE``).

    ``records()`` runs in that process (forked here, before the store is opened): it makes the share's
    ``size`` records, from the sheet this process read or from its records. ``items`` is then each of them
    in file order, as a ``Summary`` or as the BadRow it is; ``fingerprinted`` pairs an item's place with
    what its fingerprint is made of (``identity(record)``), and ``renumber(share)``, called on receiving
    them, makes the fingerprints again counting on from the reader's own part (sheets/rows.py). ``now`` is
    what the records' dates are checked against (``_check``). Use it as a context manager around the
    import: the helper is let go after the commit."""

    def __init__(
        self,
        store_path,
        config,
        now: datetime,
        records: Callable[[], list],
        size: int,
        identity: Callable | None = None,
        renumber: Callable[[Share], None] | None = None,
    ) -> None:
        self.helper = staging.Helper(store_path)
        self.size = size  # how many records ``records()`` makes
        self.items: list[Summary | BadRow] = []
        self.fingerprinted: list[tuple[int, str]] = []
        self._renumber = renumber

        def prepare():
            kept, items, fingerprinted = [], [], []
            for record in records():
                if identity is not None and isinstance(record, TicketRecord) and record.fingerprint:
                    fingerprinted.append((len(items), identity(record)))
                record = checked_record(record, config, now)
                if isinstance(record, BadRow):
                    items.append(record)
                    continue
                # Sent as a plain tuple (a Summary once received): 55,000 dataclasses took 0.6 s to pickle
                # and unpickle, a tuple a quarter of that, and the import waits for them.
                items.append(
                    (
                        len(kept),
                        record.line,
                        record.case_number,
                        record.fingerprint,
                        record.kind,
                        record.opened_at,
                        record.customer,
                        len(record.entries),
                    )
                )
                kept.append(record)
            return kept, (items, fingerprinted)

        self.helper.start(prepare, functools.partial(_build_share, config))

    def __enter__(self) -> Share:
        return self

    def __exit__(self, *exc) -> None:
        self.helper.close()

    def receive(self) -> list[Summary | BadRow]:
        """Wait for the helper's part to be read and checked; its items."""
        items, self.fingerprinted = self.helper.summary()
        self.items = [Summary(*item) if isinstance(item, tuple) else item for item in items]
        if self._renumber is not None:
            self._renumber(self)
        return self.items


def _build_share(config, kept: list[TicketRecord], staged, args) -> None:
    """In the helper process: build into its file the rows of the records the import took (``args``): those
    the store's process handed it, then its own."""
    handed, picks, numbers, first_ticket_id, first_entry_id, import_time, agent, documents = args
    batches = _batches(
        agent,
        config.timers,
        handed + [kept[i] for i in picks],
        numbers,
        first_ticket_id=first_ticket_id,
        first_entry_id=first_entry_id,
        import_time=import_time,
        documents=documents,
    )
    tables = _Tables(staged)
    for batch in batches:
        tables.write(batch, functools.partial(backend.of(staged).stage_documents, staged) if documents else None)


def _write(
    store, records: list[TicketRecord | Summary], outcome: ImportOutcome, skip_bad: bool, progress, share
) -> None:
    db = store.db
    existing = {
        row[0]: row[1:] for row in Ticket.select(Ticket.case_number, Ticket.customer, Ticket.opened_at).tuples()
    }
    known_prints = {
        key[len(FINGERPRINT_KEY) :]: value
        for key, value in Meta.select(Meta.key, Meta.value).where(Meta.key.startswith(FINGERPRINT_KEY)).tuples()
    }
    # Keep every case number the file brings before allocating any new one, so none can collide.
    first_line: dict[str, int] = {}
    todo: list[TicketRecord] = []
    highest: dict[tuple[str, str, int], tuple[int, str]] = {}
    for record in records:
        number = record.case_number
        if number is None:
            if record.fingerprint and record.fingerprint in known_prints:
                outcome.existing.append((record.line, known_prints[record.fingerprint]))
                continue
            todo.append(record)
            continue
        if number in first_line:
            bad = BadRow(record.line, f"case number {number} appears again (first on line {first_line[number]})")
            if not skip_bad:
                raise bad
            outcome.bad.append(bad)
            continue
        first_line[number] = record.line
        if number in existing:
            other = _another_case(record, *existing[number])
            if other:
                bad = BadRow(record.line, f"case {number} exists {other}")
                if not skip_bad:
                    raise bad
                outcome.bad.append(bad)
            else:
                outcome.existing.append((record.line, number))
            continue
        try:
            prefix, code, year, seq = parse_case_number(number)
        except DeskError:
            pass  # a foreign format (GTB-REF-1101) can never collide with ours
        else:
            if seq > highest.get((prefix, code, year), (0, ""))[0]:
                highest[(prefix, code, year)] = (seq, number)
        todo.append(record)
    for _, number in highest.values():
        store.reserve_case_number(number)
    # Indexing each row for search as it goes in costs most of a big import: index the new rows in one
    # pass at the end instead (not worth the schema change for a few rows).
    bulk = len(todo) >= BULK_INDEX_MIN
    # The rows get their ids here (_insert): bulk_ids keeps other writers out meanwhile (PostgreSQL).
    with store.backend.bulk_ids(db), store.backend.bulk_load(db) if bulk else contextlib.nullcontext() as load:
        if bulk and len(todo) >= len(existing):
            load.defer_indexes("ticket")  # more new tickets than old: index them after
        # A backend whose bulk load takes the tickets' search text from the builder (SQLite) is given it:
        # it is at hand here, and reading it back from the new rows cost a tenth of a big import.
        _insert(store, todo, outcome, known_prints, progress, load, share)


def _another_case(record: TicketRecord, customer: str, stored: datetime) -> str | None:
    """Why a known case number in the file is not the stored case (None when it is: already imported).

    The same customer (letter case and spacing aside) and an open date within a day of the stored
    one (a sheet may keep only the day, or a time in another zone) is the same case.
    """
    if " ".join(record.customer.split()).casefold() != " ".join(customer.split()).casefold():
        return "for another customer"
    if abs(to_utc(record.opened_at) - stored) >= timedelta(days=1):
        return f"with another open date ({stored.date().isoformat()})"
    return None


def _insert(
    store, todo: list[TicketRecord | Summary], outcome: ImportOutcome, known_prints, progress, load, share
) -> None:
    index = getattr(load, "index", None)
    numbers = _case_numbers(store, todo, known_prints)
    import_time = store.now()
    first_ticket = (Ticket.select(pw.fn.MAX(Ticket.id)).scalar() or 0) + 1
    first_entry = (LogEntry.select(pw.fn.MAX(LogEntry.id)).scalar() or 0) + 1
    # The records of this process come first; a helper's (Summary) after them. The helper builds the rows of
    # the last ``HELPER_BUILD_SHARE`` into its own file meanwhile (store/staging.py): its own records and as
    # many of this process's as make up that share, sent to it. They are copied in after this process's rows.
    own = next((i for i, record in enumerate(todo) if isinstance(record, Summary)), len(todo))
    keep = len(todo) if share is None else max(0, min(own, len(todo) - round(len(todo) * HELPER_BUILD_SHARE)))
    helped = todo[keep:]
    tables = _Tables(store.db)
    if helped:
        share.helper.build(
            store.db,
            tables.columns(),
            (
                todo[keep:own],
                [summary.index for summary in todo[own:]],
                numbers[keep:],
                first_ticket + keep,
                first_entry + sum(len(record.entries) for record in todo[:keep]),
                import_time,
                store.agent,
                index is not None,
            ),
        )
    batches = _batches(
        store.agent,
        store.config.timers,
        todo[:keep],
        numbers[:keep],
        first_ticket_id=first_ticket,
        first_entry_id=first_entry,
        import_time=import_time,
        documents=index is not None,
    )
    for batch in batches:
        tables.write(batch, index)
        outcome.created += batch.created
        outcome.entries += batch.entry_count
        if progress:
            progress(len(batch.created))
    if helped:
        share.helper.copy_in(store.db, tables.columns())
        if index is not None:
            load.index_staged(staging.SCHEMA)
        outcome.created += [(record.line, number) for record, number in zip(helped, numbers[keep:], strict=True)]
        outcome.entries += sum(_entry_count(record) for record in helped)
        if progress:
            progress(len(helped))
    if progress:
        progress(len(outcome.existing) + len(outcome.bad))


def _entry_count(record: TicketRecord | Summary) -> int:
    return record.entry_count if isinstance(record, Summary) else len(record.entries)


def _case_numbers(store, todo: list[TicketRecord], known_prints: dict) -> list[str]:
    """Each record's case number: its own, or the next free one (with its fingerprint kept, so that the
    same row is known again), all taken before the rows are built, a kind and year at a time."""
    numbers = [record.case_number for record in todo]
    wanting: dict[tuple[str, int], list[int]] = {}
    for i, record in enumerate(todo):
        if record.case_number is None:
            wanting.setdefault((store.config.kind_code(record.kind), record.opened_at.year), []).append(i)
    for (kind_code, year), places in wanting.items():
        for i, number in zip(places, store.allocate_case_numbers(kind_code, year, len(places)), strict=True):
            numbers[i] = number
    prints = []
    for record, number in zip(todo, numbers, strict=True):
        if record.case_number is None and record.fingerprint:
            prints.append((FINGERPRINT_KEY + record.fingerprint, number))
            known_prints[record.fingerprint] = number
    _Table(store.db, Meta, ("key", "value")).insert(prints)
    return numbers


@dataclass
class _Batch:
    """The rows of up to BATCH new tickets, table by table, in the order they are written."""

    tickets: list[tuple] = field(default_factory=list)
    entries: list[tuple] = field(default_factory=list)
    changes: list[tuple] = field(default_factory=list)
    tags: list[tuple] = field(default_factory=list)
    documents: list[tuple] = field(default_factory=list)  # (id, fields text, log text) for the search index
    created: list[tuple[int, str]] = field(default_factory=list)  # (sheet line, case number) of each ticket
    entry_count: int = 0


def _batches(
    agent: str,
    timer_policy,
    todo: list[TicketRecord],
    numbers: list[str],
    *,
    first_ticket_id: int,
    first_entry_id: int,
    import_time: datetime,
    documents: bool,
) -> Iterator[_Batch]:
    """The new tickets' rows, BATCH tickets at a time, with ids from ``first_ticket_id`` and ``first_entry_id`` on,
    chained and numbered, logged at ``import_time``; with ``documents``, their search documents too. Pure work
    on memory: the database is asked before (ids, case numbers) and written after, by the caller."""
    next_ticket = first_ticket_id
    entries = log.LogBatch(first_id=first_entry_id)
    stamp, amount = log.stamp, Ticket.refund_amount.db_value
    batch = _Batch()
    tickets, changes, tags = batch.tickets, batch.changes, batch.tags
    for record, number in zip(todo, numbers, strict=True):
        ticket_id = next_ticket
        next_ticket += 1
        chain = log.Chain(ticket_id, log_head=log.genesis(ticket_id, number))
        status_entry, first_entry, entry_ids = None, None, {}
        said = []  # what people wrote in its log, as the search indexes take it
        for entry in record.entries:
            if documents and entry.sender != SYSTEM:
                said.append(f"{entry.summary} {entry.sender_name} {entry.body}")
            corrects = (entry_ids.get(entry.corrects), entry.corrects) if entry.corrects is not None else None
            entry_id = entries.add(
                chain,
                log.NewEntry(
                    kind=entry.kind,
                    channel=entry.channel,
                    direction=entry.direction,
                    sender=entry.sender,
                    summary=entry.summary,
                    agent=entry.agent or agent,
                    at=entry.at,
                    body=entry.body,
                    until=entry.until,
                    logged_at=import_time,
                    sender_name=entry.sender_name,
                    follow_up_at=entry.follow_up_at,
                    corrects=corrects,
                    due_at=entry.due_at,
                ),
            )
            entry_ids[chain.log_count] = entry_id
            first_entry = first_entry or entry_id
            if entry.kind == "status":
                status_entry = entry_id
        count = chain.log_count
        status_at = to_utc(record.status_changed_at or record.resolved_at or record.last_action_at or record.opened_at)
        last_action = record.last_action_at or max([record.opened_at, *(e.at for e in record.entries)])
        # Timers count from the import at the earliest: no sheet ran them, and a customer must not be
        # told about a 30-day wait (or sent reminders) that nobody counted before tui-desk knew the case.
        timed = record.status.is_waiting_on_party or record.status is Status.RESOLVED
        period = max(status_at, import_time) if timed else None
        # In _TICKET_COLUMNS order.
        tickets.append(
            (
                ticket_id,
                number,
                record.kind,
                record.customer.strip(),
                (record.email or "").strip() or None,
                (record.order_id or "").strip() or None,
                record.subject,
                record.description or "",
                (record.reason or "").strip() or None,
                record.priority,
                record.status.slug,
                (record.assignee or "").strip() or None,
                record.created_by or agent,
                record.references,
                stamp(record.opened_at),
                stamp(record.first_response_at),
                stamp(last_action),
                stamp(status_at),
                stamp(record.follow_up_at),
                stamp(record.sla_response_due_at),
                stamp(record.sla_resolution_due_at),
                stamp(record.resolved_at),
                stamp(record.closed_at),
                amount(record.refund_amount) if record.refund_amount is not None else None,
                record.currency,
                stamp(record.refund_approved_at),
                stamp(record.refund_initiated_at),
                stamp(record.refunded_at),
                stamp(period),
                0,
                stamp(timers.next_due(record.status, period, 0, timer_policy)),
                count,
                chain.log_head,
                1,
            )
        )
        if documents:
            row = tickets[-1]
            fields = " ".join(v or "" for v in (row[1], row[3], row[4], row[5], row[6], row[7]))
            batch.documents.append((ticket_id, fields, " ".join(said)))
        changes.append(
            (ticket_id, status_entry or first_entry, stamp(status_at), None, record.status.slug, agent, "imported")
        )
        tags.extend((ticket_id, name) for name in record.tags)
        batch.created.append((record.line, number))
        batch.entry_count += count
        if len(tickets) >= BATCH:
            batch.entries = entries.take()
            yield batch
            batch = _Batch()
            tickets, changes, tags = batch.tickets, batch.changes, batch.tags
    batch.entries = entries.take()
    yield batch


# The columns an import writes, in the order it builds its rows (tuples: a dict per row cost more than its insert).
_TICKET_COLUMNS = (
    "id",
    "case_number",
    "kind",
    "customer",
    "email",
    "order_id",
    "subject",
    "description",
    "reason",
    "priority",
    "status",
    "assignee",
    "created_by",
    "references",
    "opened_at",
    "first_response_at",
    "last_action_at",
    "status_changed_at",
    "follow_up_at",
    "sla_response_due_at",
    "sla_resolution_due_at",
    "resolved_at",
    "closed_at",
    "refund_amount",
    "currency",
    "refund_approved_at",
    "refund_initiated_at",
    "refunded_at",
    "period_started_at",
    "reminders_done",
    "timer_due_at",
    "log_count",
    "log_head",
    "version",
)
_CHANGE_COLUMNS = ("ticket", "entry", "at", "from_status", "to_status", "agent", "note")
_TAG_COLUMNS = ("ticket", "name")


class _Table:
    """One table's INSERT, built once: the given columns, then those this import does not know (added by
    later schema versions) with their model default, as Model.create would give them.

    Rows are tuples of stored values in ``columns`` order: text, numbers and instants (stamped by
    log.stamp) as they are, and keys as ids; Peewee would build the SQL text of every row again."""

    def __init__(self, db, model, columns: tuple[str, ...]) -> None:
        self.db = db
        fields = [model._meta.fields[c] for c in columns]
        more = [f for f in model._meta.sorted_fields if f.name not in columns and f.default is not None]
        plain = (pw.TextField, pw.IntegerField, pw.AutoField, UTCDateTimeField)
        self.defaults = tuple(
            value if isinstance(f, plain) else f.db_value(value)
            for f in more
            for value in [f.default() if callable(f.default) else f.default]
        )
        self.table = model._meta.table_name
        self.columns = tuple(f.column_name for f in (*fields, *more))
        names = ", ".join(f'"{c}"' for c in self.columns)
        marks = ", ".join([db.param] * (len(fields) + len(more)))
        self.sql = f'INSERT INTO "{self.table}" ({names}) VALUES ({marks})'

    def insert(self, rows: list[tuple]) -> None:
        """Insert ``rows`` in one ``executemany``; the list is emptied."""
        if not rows:
            return
        self.db.cursor().executemany(self.sql, [row + self.defaults for row in rows] if self.defaults else rows)
        rows.clear()


class _Tables:
    def __init__(self, db) -> None:
        self.db = db
        self.tickets = _Table(db, Ticket, _TICKET_COLUMNS)
        self.changes = _Table(db, StatusChange, _CHANGE_COLUMNS)
        self.tags = _Table(db, TicketTag, _TAG_COLUMNS)

    def columns(self) -> list[tuple[str, tuple[str, ...]]]:
        """Each table this writes and the columns it fills, in the order of ``write`` (parents first)."""
        return [
            (self.tickets.table, self.tickets.columns),
            (LogEntry._meta.table_name, log.ENTRY_COLUMNS),
            (self.changes.table, self.changes.columns),
            (self.tags.table, self.tags.columns),
        ]

    def write(self, batch: _Batch, index) -> None:
        """Write a batch, parents first, one prepared INSERT per table; then index its tickets."""
        self.tickets.insert(batch.tickets)
        log.insert_rows(self.db, batch.entries)
        self.changes.insert(batch.changes)
        self.tags.insert(batch.tags)
        if index is not None:
            index(batch.documents)
