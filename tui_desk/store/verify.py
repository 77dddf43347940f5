"""Chain verification: recompute every case's hash chain and name each entry changed, removed or reordered.

The log is append-only inside the program (triggers refuse UPDATE and DELETE), but anyone with write
access to the file can drop the triggers and edit rows. ``verify`` recomputes each entry's digest from
what is stored now and compares it with the digest written when the entry was appended, so such edits
show up, entry by entry. Chains made since schema 3 start from a digest of their ticket's id and case
number, so a log moved to another ticket or a swapped case number shows up too. It also checks the
status changes against the entries they record, that every attachment's file is still there and still
hashes to its name (regular files only: a link or a FIFO is reported, never followed or read), and that
the guards are the program's own triggers, by their SQL. With a seal (store/seal.py) it proves that
nothing recorded up to the seal was removed, cut short, moved or changed.

It reads the file through its own read-only connection, after ``PRAGMA integrity_check``, and never
aborts on a damaged value: a BLOB or invalid UTF-8 where text belongs names the entry that holds it.
"""

from __future__ import annotations

import hashlib
import os
import re
import sqlite3
import stat
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

from tui_desk.domain import log_texts
from tui_desk.domain.errors import DeskError
from tui_desk.domain.evidence import CHAINED_FIELDS, GENESIS, entry_digest, genesis
from tui_desk.domain.statuses import status_of
from tui_desk.domain.text import printable
from tui_desk.store import backend, schema, seal, sqlite
from tui_desk.store.attachments import BlobFolder
from tui_desk.store.models import UTCDateTimeField

_DATE_FIELDS = ("at", "until", "logged_at", "follow_up_at", "due_at")
_to_datetime = UTCDateTimeField().python_value
_STORED_TIME = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}")
_HASH_CHUNK = 1 << 20

# Columns in the order _fields() reads them; corrects_seq is worked out from the corrected entry's row id.
_ENTRY_SQL = (
    "SELECT e.id, e.ticket_id, e.seq, e.kind, e.at, e.until, e.logged_at, e.channel, e.direction, e.sender, "
    "e.sender_name, e.agent, e.summary, e.body, e.follow_up_at, e.corrects_id, e.due_at, e.digest "
    "FROM log_entry e "
)
_ATTACHMENT_SQL = "SELECT a.entry_id, a.sha256, a.name, a.size FROM attachment a JOIN log_entry e ON e.id = a.entry_id "
_CHANGE_SQL = "SELECT id, ticket_id, entry_id, at, from_status, to_status, agent, note FROM status_change "
_NULLABLE = {"until", "follow_up_at", "corrects_seq", "due_at"}


@dataclass(frozen=True)
class Problem:
    """One thing wrong, with the case and entry it concerns (``seq`` None: the case or the store)."""

    case_number: str | None
    seq: int | None
    what: str  # changed, removed, reordered, unlinked, extra, head, count, damaged, status, attachment, blob,
    # guard, orphan, integrity, seal, refund
    message: str

    def line(self) -> str:
        where = printable(self.case_number, one_line=True) or "store"
        if self.seq is not None:
            where += f" #{self.seq}"
        return f"{where}: {self.message}"


@dataclass
class CaseResult:
    case_number: str
    entries: int
    head: str
    ok: bool = True


@dataclass
class VerifyReport:
    """What ``verify`` found: per-case results and every problem, store-wide ones included."""

    cases: list[CaseResult] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    entries: int = 0
    attachments: int = 0
    status_changes: int = 0
    sealed: dict | None = None  # the seal checked against: how far it reached and when it was made

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_json(self) -> dict:
        return {
            "ok": self.ok,
            "cases_checked": len(self.cases),
            "entries_checked": self.entries,
            "attachments_checked": self.attachments,
            "status_changes_checked": self.status_changes,
            "seal": self.sealed,
            "problems": [asdict(p) for p in self.problems],
            "cases": [asdict(c) for c in self.cases],
        }


@dataclass
class _Row:
    id: int
    seq: int
    fields: dict | None  # None: a stored value could not be read back (itself a sign of tampering)
    digest: str
    files: list[tuple[str, str, int]]
    corrects_id: int | None = None
    damage: str | None = None  # what makes the stored row unreadable as an entry, if anything

    def digest_as(self, previous: str, seq: int, seq_of: dict[int, int]) -> str | None:
        """The digest this row would have at place ``seq`` after ``previous``; ``seq_of`` numbers the rows."""
        if self.fields is None or self.damage is not None:
            return None
        corrects = seq_of.get(self.corrects_id) if self.corrects_id is not None else None
        return entry_digest(previous, {**self.fields, "seq": seq, "corrects_seq": corrects}, self.files)


def _damage(name: str, value: object, *, nullable: bool = False) -> str | None:
    """Why a stored value cannot be what the program wrote there (a BLOB, invalid UTF-8, a missing value)."""
    if value is None:
        return None if nullable else f"its {name} is missing"
    if isinstance(value, bytes):
        return f"its {name} holds binary data (a BLOB), not text"
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return f"its {name} is not valid UTF-8 text"
    return None


def _fields(raw: tuple) -> tuple[dict | None, str | None]:
    """The chained values of a stored row, and what is damaged in it (None: nothing)."""
    values = dict(zip(CHAINED_FIELDS, raw, strict=True))
    for name, value in values.items():
        damage = _damage(name, value, nullable=name in _NULLABLE or name == "corrects_seq")
        if damage is None and name == "seq" and not isinstance(value, int):
            damage = "its number is not a whole number"
        if damage:
            return None, damage
    try:
        for name in _DATE_FIELDS:
            text = values[name]
            # Text already in the store's fixed form is exactly what the digest covers; other text is
            # read as a date (and chained in that form), so an odd spelling is judged by its value.
            if text is not None and not (isinstance(text, str) and _STORED_TIME.fullmatch(text)):
                values[name] = _to_datetime(text)
    except (TypeError, ValueError, OverflowError):
        return None, None
    return values, None


def _text_factory(data: bytes) -> str:
    # Invalid UTF-8 is kept (as surrogates) instead of failing the whole read; _damage names it.
    return data.decode("utf-8", "surrogateescape")


def connect(path) -> sqlite3.Connection:
    """verify's own read-only connection: nothing it does can write, and no value can fail a read."""
    location = backend.parse_location(path)
    if backend.is_postgres(location):
        return backend.module_for(location).connect_readonly(location)
    sqlite.refuse_odd_path(Path(path))
    if not Path(path).exists():
        raise DeskError(f"no store at {path}")
    con = sqlite3.connect(sqlite.read_only_uri(path), uri=True, timeout=sqlite.BUSY_TIMEOUT_S)
    con.text_factory = _text_factory
    con.execute("PRAGMA query_only = 1")
    return con


def _meta(con: sqlite3.Connection) -> dict[str, object]:
    return dict(con.execute("SELECT key, value FROM meta").fetchall())


def _bound_from(meta: dict[str, object]) -> tuple[int | None, list[Problem]]:
    """The first ticket id whose chain is bound to its ticket (None: none is, a store before schema 3)."""
    version = meta.get("schema_version")
    value = meta.get(schema.CHAIN_BOUND_FROM)
    if value is None:
        if isinstance(version, str) and version.isdigit() and int(version) >= 3:
            return 1, [Problem(None, None, "guard", "the store's record of which chains are bound was removed")]
        return None, []
    if not isinstance(value, str) or not value.isdigit():
        return 1, [Problem(None, None, "guard", "the store's record of which chains are bound is damaged")]
    return int(value), []


def verify_store(store, case_number: str | None = None, *, check_blobs: bool = True, against: dict | None = None):
    """``verify_path`` on an open ``Store``'s file (the case file's export uses it)."""
    return verify_path(store.path, case_number, check_blobs=check_blobs, against=against)


def verify_path(
    path: Path, case_number: str | None = None, *, check_blobs: bool = True, against: dict | None = None
) -> VerifyReport:
    """Check one case (``case_number``) or the whole store, and the attachment files they use.

    ``against`` is a seal (store/seal.py ``read``): the whole store is then also checked against it.
    Never raises on a damaged store: what could not be read is a problem in the report.
    """
    report = VerifyReport()
    blob_sizes: dict[str, int | None] = {}
    location = backend.parse_location(path)
    store = backend.module_for(location)
    con = connect(location)
    try:
        if case_number is None and store is sqlite:
            report.problems += _check_integrity(con, location)
        con.execute("BEGIN")  # one snapshot for everything below, the seal included
        meta = _meta(con)
        version = meta.get("schema_version")
        if isinstance(version, str) and version.isdigit():
            schema.check_not_newer(int(version), location)
        elif version is not None:
            report.problems.append(
                Problem(None, None, "damaged", f"the store's schema_version {version!r} is not a whole number")
            )
        bound_from, problems = _bound_from(meta)
        report.problems += problems
        if case_number is None:
            report.problems += _check_guards(con, store)
            report.problems += _check_orphans(con)
            report.problems += _check_refund_milestones(con, store)
            tickets = con.execute("SELECT id, case_number, log_count, log_head FROM ticket ORDER BY id").fetchall()
        else:
            key = case_number.strip().upper()
            tickets = con.execute(
                "SELECT id, case_number, log_count, log_head FROM ticket WHERE case_number = ?", (key,)
            ).fetchall()
            if not tickets:
                raise DeskError(f"no ticket {case_number.strip()!r}")
        for ticket_id, number, count, head, rows, changes in _tickets_with_rows(con, tickets):
            number = number if isinstance(number, str) else repr(number)
            start = genesis(ticket_id, number) if bound_from is not None and ticket_id >= bound_from else GENESIS
            problems = _check_chain(number, count, head, rows, start)
            problems += _check_status_changes(number, rows, changes)
            report.entries += len(rows)
            report.status_changes += len(changes)
            for row in rows:
                for sha, _name, _size in row.files:
                    report.attachments += 1
                    if sha not in blob_sizes:
                        found = con.execute("SELECT size FROM blob WHERE sha256 = ?", (sha,)).fetchone()
                        blob_sizes[sha] = found[0] if found else None
            problems += _check_attachments(number, rows, blob_sizes)
            report.cases.append(CaseResult(number, len(rows), head if isinstance(head, str) else "", ok=not problems))
            report.problems += problems
        if against is not None:
            report.problems += _check_seal(con, against, meta, bound_from)
            report.sealed = {k: against.get(k) for k in ("made_at", "last_entry_id", "entries", "digest")}
    except _UnreadableError as err:
        report.problems.append(Problem(None, None, "integrity", str(err)))
        return report
    except backend.driver_errors() as err:
        report.problems.append(
            Problem(
                None, None, "integrity", f"the store could not be read further: {printable(str(err), one_line=True)}"
            )
        )
    finally:
        if check_blobs and store is not sqlite:  # the contents are in the database: read them now
            report.problems += _check_blob_rows(con, store, blob_sizes)
        con.close()
    if check_blobs and store is sqlite:
        report.problems += _check_blob_files(BlobFolder(location.with_name(location.name + ".files")), blob_sizes)
    return report


def _check_seal(con: sqlite3.Connection, data: dict, meta: dict, bound_from: int | None) -> list[Problem]:
    problems = []
    store_id = meta.get(schema.STORE_ID)
    if data.get("store_id") and store_id and data["store_id"] != store_id:
        return [Problem(None, None, "seal", "the seal is of another store (its store id differs)")]
    sealed_bound = data.get("chain_bound_from")
    if sealed_bound is not None and sealed_bound != bound_from:
        problems.append(
            Problem(
                None, None, "seal", f"chains were bound from ticket {sealed_bound} at the seal, now from {bound_from}"
            )
        )
    made = printable(str(data.get("made_at")), one_line=True)
    for diff in seal.check(con, data):
        where = ""
        if diff.table == "log_entry" and diff.first_id is not None:
            cases = [
                printable(str(r[0]), one_line=True)
                for r in con.execute(
                    "SELECT DISTINCT t.case_number FROM log_entry e JOIN ticket t ON t.id = e.ticket_id "
                    "WHERE e.id BETWEEN ? AND ? ORDER BY t.id LIMIT 6",
                    (diff.first_id, diff.last_id),
                )
            ]
            shown = ", ".join(cases[:5]) + (" …" if len(cases) > 5 else "")
            where = f"; the first difference is among entries {diff.first_id}-{diff.last_id}" + (
                f" (now in {shown})" if shown else ""
            )
        problems.append(Problem(None, None, "seal", f"against the seal of {made}: {diff.message}{where}"))
    return problems


def _check_orphans(con: sqlite3.Connection) -> list[Problem]:
    """Entries whose ticket is gone: the ticket was deleted behind the program's back."""
    rows = con.execute(
        "SELECT ticket_id, count(*) FROM log_entry WHERE ticket_id NOT IN (SELECT id FROM ticket) "
        "GROUP BY ticket_id ORDER BY ticket_id"
    ).fetchall()
    return [
        Problem(
            None, None, "orphan", f"{count} log entries belong to ticket id {tid}, which no longer exists (deleted)"
        )
        for tid, count in rows
    ]


def _check_refund_milestones(con: sqlite3.Connection, store=sqlite) -> list[Problem]:
    """Each recorded refund milestone sits beside a refund entry of its own case (schema 4 on)."""
    if not store.has_table(con, "refund_milestone"):
        return []
    rows = con.execute(
        "SELECT r.id, t.case_number, e.seq, r.number, r.milestone FROM refund_milestone r "
        "LEFT JOIN ticket t ON t.id = r.ticket_id LEFT JOIN log_entry e ON e.id = r.entry_id "
        "WHERE t.id IS NULL OR e.id IS NULL OR e.ticket_id IS DISTINCT FROM r.ticket_id "
        "OR e.kind IS DISTINCT FROM 'refund' "
        "ORDER BY r.id LIMIT 20"
    ).fetchall()
    return [
        Problem(
            number if isinstance(number, str) else None,
            seq if isinstance(seq, int) else None,
            "refund",
            f"refund {printable(str(refund))} {printable(str(milestone))} (row {row_id}) is not beside a refund "
            "entry of its case",
        )
        for row_id, number, seq, refund, milestone in rows
    ]


def _tickets_with_rows(con, tickets: list[tuple]) -> Iterator[tuple[int, str, int, str, list[_Row], list[tuple]]]:
    """Each ticket with its entries in stored order and its status changes, read in batches so a big store streams."""
    batch = 500
    for start in range(0, len(tickets), batch):
        chunk = tickets[start : start + batch]
        ids = [t[0] for t in chunk]
        marks = ",".join("?" * len(ids))
        files: dict[int, list[tuple[str, str, int]]] = {}
        for entry_id, sha, name, size in con.execute(
            _ATTACHMENT_SQL + f"WHERE e.ticket_id IN ({marks})", ids
        ).fetchall():
            files.setdefault(entry_id, []).append((sha, name, size))
        rows: dict[int, list[_Row]] = {i: [] for i in ids}
        for raw in con.execute(
            _ENTRY_SQL + f"WHERE e.ticket_id IN ({marks}) ORDER BY e.ticket_id, e.seq, e.id", ids
        ).fetchall():
            entry_id, ticket_id, *chained, digest = raw
            fields, damage = _fields(tuple(chained))
            attached = files.get(entry_id, [])
            damage = (
                damage
                or _damage("digest", digest)
                or next(
                    (
                        d
                        for sha, name, size in attached
                        for d in (_damage("attachment name", name), _damage("attachment hash", sha))
                        if d
                    ),
                    None,
                )
            )
            rows[ticket_id].append(_Row(entry_id, chained[0], fields, digest, attached, chained[13], damage))
        changes: dict[int, list[tuple]] = {i: [] for i in ids}
        for change in con.execute(_CHANGE_SQL + f"WHERE ticket_id IN ({marks}) ORDER BY ticket_id, id", ids):
            changes[change[1]].append(change)
        for ticket_id, number, count, head in chunk:
            yield ticket_id, number, count, head, rows[ticket_id], changes[ticket_id]


def _check_chain(number: str, count: int, head: str, rows: list[_Row], start: str = GENESIS) -> list[Problem]:
    """Walk the chain from ``start`` (the ticket's genesis); where a link fails, find out whether the entry
    moved, changed or went."""
    problems: list[Problem] = []
    if not isinstance(count, int) or not isinstance(head, str):
        problems.append(Problem(number, None, "damaged", "the case's recorded entry count or chain head is damaged"))
        count = count if isinstance(count, int) else 0
        head = head if isinstance(head, str) else ""
    by_seq: dict[int, list[_Row]] = {}
    for row in rows:
        if not isinstance(row.seq, int):
            problems.append(Problem(number, None, "damaged", f"a log entry (row id {row.id}) has a damaged number"))
            continue
        by_seq.setdefault(row.seq, []).append(row)
    for seq, same in by_seq.items():
        if len(same) > 1:
            problems.append(Problem(number, seq, "extra", f"{len(same)} entries carry number {seq}"))
    last = max([count, *by_seq]) if by_seq else count
    placed: set[int] = set()  # rows whose original place in the chain is known
    # A correction chains the number of the entry it corrects: its original number once known.
    seq_of = {r.id: r.seq for r in rows}
    previous: str | None = start  # None: the entry before is missing, so this link cannot be checked
    for seq in range(1, last + 1):
        here = by_seq.get(seq, [])
        match = next((r for r in here if previous is not None and r.digest_as(previous, seq, seq_of) == r.digest), None)
        if match is not None:
            placed.add(match.id)
            previous = match.digest
            continue
        if previous is not None:
            moved = next(
                (
                    r
                    for r in rows
                    if r.id not in placed and r.seq != seq and r.digest_as(previous, seq, seq_of) == r.digest
                ),
                None,
            )
            if moved is not None:
                placed.add(moved.id)
                seq_of[moved.id] = seq
                problems.append(
                    Problem(number, seq, "reordered", f"entry {seq} was moved: it is now stored as number {moved.seq}")
                )
                previous = moved.digest
                continue
        if not here:
            if seq > count:
                break
            problems.append(Problem(number, seq, "removed", f"entry {seq} is missing (removed)"))
            previous = None
            continue
        row = here[0]
        placed.add(row.id)
        if row.damage is not None:
            problems.append(Problem(number, seq, "damaged", f"entry {seq} is damaged: {row.damage}"))
        elif previous is None:
            problems.append(
                Problem(number, seq, "unlinked", f"entry {seq} cannot be checked: the entry before it is missing")
            )
        elif seq == 1 and start != GENESIS:
            problems.append(
                Problem(
                    number,
                    seq,
                    "changed",
                    "entry 1 was changed, or the log belongs to another case: it does not chain from this "
                    "case's ticket id and case number",
                )
            )
        else:
            problems.append(
                Problem(number, seq, "changed", f"entry {seq} was changed: its content no longer matches its digest")
            )
        previous = row.digest if isinstance(row.digest, str) else None
    stored = sorted(by_seq)
    if stored and stored[-1] > count:
        extra = [s for s in stored if s > count]
        problems.append(
            Problem(number, None, "count", f"the case records {count} entries but entries {_span(extra)} also exist")
        )
    last_row = by_seq.get(count, [None])[0] if count else None
    expected_head = last_row.digest if last_row else start
    if head != expected_head:
        problems.append(
            Problem(
                number, None, "head", f"the recorded chain head {head[:16] or '(empty)'}… does not match entry {count}"
            )
        )
    return _dedupe(problems)


def _check_status_changes(number: str, rows: list[_Row], changes: list[tuple]) -> list[Problem]:
    """Each status change must be the one its (chained) log entry records, and they must follow on.

    The ``status_change`` rows are what reports read; their entries are what the chain proves. A row
    edited behind the program's back no longer agrees with its entry; one removed or added breaks the
    sequence from one status to the next.
    """
    problems: list[Problem] = []
    by_id = {r.id: r for r in rows}
    previous_to: object = None
    for n, (_id, _ticket, entry_id, at, from_status, to_status, agent, note) in enumerate(changes, 1):
        entry = by_id.get(entry_id)
        seq = entry.seq if entry is not None and isinstance(entry.seq, int) else None
        found = [
            _damage("time", at),
            _damage("agent", agent),
            _damage("note", note, nullable=True),
            _damage("status", from_status, nullable=True),
            _damage("status", to_status),
        ]
        damage = next((d for d in found if d), None)
        messages = []
        if damage:
            messages.append(f"the row is damaged: {damage}")
        elif entry is None:
            messages.append("its log entry is not in this case's log")
        elif entry.fields is not None and entry.damage is None:
            if not _change_matches(entry, at, from_status, to_status, agent, note):
                messages.append(f"it was changed: it no longer matches entry {seq}")
        if not damage:
            if n == 1 and from_status is not None:
                messages.append("the first status change does not start from the case's opening")
            elif n > 1 and from_status != previous_to:
                messages.append(
                    f"it starts from {printable(str(from_status))!r} but the change before it ended in "
                    f"{printable(str(previous_to))!r} (one was removed or edited)"
                )
        problems += [Problem(number, seq, "status", f"status change {n}: {m}") for m in messages]
        previous_to = to_status
    return problems


def _change_matches(entry: _Row, at, from_status, to_status, agent, note) -> bool:
    """Does a status change row say what its entry says (the opening row only: the status it opened in)?"""
    try:
        target = status_of(to_status)
        old = status_of(from_status) if from_status is not None else None
    except (KeyError, ValueError, TypeError):
        return False
    if old is None:
        return True  # the opening row points at the acknowledgement (or an import's first entry)
    f = entry.fields
    stored_at = f["at"] if isinstance(f["at"], str) else None
    return (
        f["kind"] == "status"
        and f["summary"] == log_texts.status_change(old, target)
        and f["agent"] == agent
        and (f["body"] or "") == (note or "")
        and (stored_at is None or stored_at == at)
    )


def _dedupe(problems: list[Problem]) -> list[Problem]:
    seen: set[tuple] = set()
    out = []
    for p in problems:
        key = (p.case_number, p.seq, p.what)
        if key not in seen:
            seen.add(key)
            out.append(p)
    return out


def _span(numbers: list[int]) -> str:
    return ", ".join(str(n) for n in numbers[:10]) + (" …" if len(numbers) > 10 else "")


def _check_attachments(number: str, rows: list[_Row], blob_sizes: dict[str, int | None]) -> list[Problem]:
    problems = []
    for row in rows:
        for sha, name, size in row.files:
            known = blob_sizes.get(sha)
            if known is None:
                problems.append(
                    Problem(number, row.seq, "attachment", f"attachment {printable(name)!r} has no stored content")
                )
            elif known != size:
                problems.append(
                    Problem(
                        number,
                        row.seq,
                        "attachment",
                        f"attachment {printable(name)!r} says {size} bytes but its content has {known}",
                    )
                )
    return problems


def _check_blob_rows(con, store, sizes: dict[str, int | None]) -> list[Problem]:
    """Every attachment's content present in the database, of its size, and hashing to its name."""
    try:
        found = store.blob_problems(con, sizes)
    except backend.driver_errors() as err:
        return [Problem(None, None, "blob", f"attachment contents could not be read: {printable(str(err))}")]
    return [Problem(None, None, "blob", f"attachment content {sha[:16]}… {what}") for sha, what in found]


def _check_blob_files(blobs, sizes: dict[str, int | None]) -> list[Problem]:
    """Every attachment file present, a regular file of its size, and hashing to its name."""
    problems = []
    for sha, size in sorted(sizes.items()):
        if size is None or not isinstance(sha, str) or not re.fullmatch(r"[0-9a-f]{64}", sha):
            continue
        path = blobs.path_of(sha)
        actual, length, odd = _hash_file(path, size)
        if odd:
            problems.append(Problem(None, None, "blob", f"attachment file {sha[:16]}… {odd}; it was not read"))
        elif actual is None:
            problems.append(Problem(None, None, "blob", f"attachment file {sha[:16]}… is missing from {blobs.root}"))
        elif actual != sha or length != size:
            problems.append(
                Problem(
                    None, None, "blob", f"attachment file {sha[:16]}… was altered (it no longer hashes to its name)"
                )
            )
    return problems


def _hash_file(path: Path, size: int) -> tuple[str | None, int, str | None]:
    """SHA-256 and length of a regular file, never following a link nor reading a FIFO or a device.

    The third value says what is odd about the path instead (a link, not a regular file), if anything.
    """
    for folder in (path.parent.parent, path.parent):
        try:
            mode = os.lstat(folder).st_mode
        except OSError:
            return None, 0, None
        if not stat.S_ISDIR(mode):
            return None, 0, f"lies in {folder.name}, which is a link or not a folder"
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
    except FileNotFoundError:
        return None, 0, None
    except OSError as err:
        if os.path.islink(path):
            return None, 0, "is a symbolic link"
        return None, 0, f"cannot be opened ({err.strerror})"
    with os.fdopen(fd, "rb") as reader:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return None, 0, "is not a regular file (a FIFO, a device or a socket)"
        if info.st_size != size:
            return "", info.st_size, None  # altered: no need to read it all
        digest = hashlib.sha256()
        length = 0
        try:
            while chunk := reader.read(_HASH_CHUNK):
                digest.update(chunk)
                length += len(chunk)
        except OSError as err:
            return None, 0, f"cannot be read ({err.strerror})"
    return digest.hexdigest(), length, None


def _check_guards(con, store=sqlite) -> list[Problem]:
    """The guards must be the program's own triggers, by their SQL: gone, or replaced by one that does
    nothing, is a sign that someone edited the store by hand. Other triggers on the evidence are too.

    ``store`` is the backend module: SQLite triggers, or PostgreSQL triggers and the function they call."""
    try:
        row = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    except backend.driver_errors():
        row = None  # reported elsewhere; check every guard
    version = int(row[0]) if row and str(row[0]).isdigit() else None
    expected = store.guard_sql(version)
    present = store.stored_guards(con)
    missing = [name for name in expected if name not in present]
    altered = [
        name
        for name, sql in expected.items()
        if name in present
        and not (
            isinstance(present[name][1], str) and store.normalised_sql(present[name][1]) == store.normalised_sql(sql)
        )
    ]
    guarded = store.guarded_tables()
    foreign = sorted(
        str(name)
        for name, (table, _sql) in present.items()
        if name not in expected and name not in store.OWN_TRIGGERS and table in guarded
    )
    problems = []
    if missing:
        problems.append(Problem(None, None, "guard", f"the append-only guards were removed: {', '.join(missing)}"))
    if altered:
        problems.append(
            Problem(
                None, None, "guard", f"the append-only guards were replaced (their SQL differs): {', '.join(altered)}"
            )
        )
    if foreign:
        shown = printable(", ".join(foreign), one_line=True)
        problems.append(
            Problem(None, None, "guard", f"triggers the program never made act on evidence tables: {shown}")
        )
    return problems


class _UnreadableError(Exception):
    """The integrity check itself failed: the store cannot be read further."""


def _check_integrity(con: sqlite3.Connection, path: Path) -> list[Problem]:
    """SQLite's own full check, first: a damaged file is said to be damaged before anything else is read."""
    try:
        rows = [r[0] for r in con.execute("PRAGMA integrity_check").fetchall()]
    except UnicodeDecodeError:
        raise _UnreadableError("SQLite integrity check failed: the schema holds text that is not UTF-8") from None
    except sqlite3.Error as err:
        if "not a database" in str(err):
            raise DeskError(sqlite.explain_error(err, path)) from None
        # A schema SQLite cannot parse, or pages it cannot read: said here, and nothing further is read.
        raise _UnreadableError(f"SQLite integrity check failed: {printable(str(err), one_line=True)}") from None
    if rows == ["ok"]:
        return []
    return [
        Problem(None, None, "integrity", f"SQLite integrity check failed: {printable(str(rows[0]), one_line=True)}")
    ]
