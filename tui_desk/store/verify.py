"""Chain verification: recompute every case's hash chain and name each entry changed, removed or reordered.

The log is append-only inside the program (triggers refuse UPDATE and DELETE), but anyone with write
access to the file can drop the triggers and edit rows. ``verify`` recomputes each entry's digest from
what is stored now and compares it with the digest written when the entry was appended, so such edits
show up, entry by entry. It also checks that every attachment's file is still there and still hashes
to its name.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

from tui_desk.domain.evidence import CHAINED_FIELDS, GENESIS, entry_digest
from tui_desk.domain.text import printable
from tui_desk.store import sqlite
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


@dataclass(frozen=True)
class Problem:
    """One thing wrong, with the case and entry it concerns (``seq`` None: the case or the store)."""

    case_number: str | None
    seq: int | None
    what: str  # changed, removed, reordered, unlinked, extra, head, count, attachment, blob, guard, integrity
    message: str

    def line(self) -> str:
        where = self.case_number or "store"
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

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_json(self) -> dict:
        return {
            "ok": self.ok,
            "cases_checked": len(self.cases),
            "entries_checked": self.entries,
            "attachments_checked": self.attachments,
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

    def digest_as(self, previous: str, seq: int, seq_of: dict[int, int]) -> str | None:
        """The digest this row would have at place ``seq`` after ``previous``; ``seq_of`` numbers the rows."""
        if self.fields is None:
            return None
        corrects = seq_of.get(self.corrects_id) if self.corrects_id is not None else None
        return entry_digest(previous, {**self.fields, "seq": seq, "corrects_seq": corrects}, self.files)


def _fields(raw: tuple) -> dict | None:
    values = dict(zip(CHAINED_FIELDS, raw, strict=True))
    try:
        for name in _DATE_FIELDS:
            text = values[name]
            # Text already in the store's fixed form is exactly what the digest covers; other text is
            # read as a date (and chained in that form), so an odd spelling is judged by its value.
            if text is not None and not (isinstance(text, str) and _STORED_TIME.fullmatch(text)):
                values[name] = _to_datetime(text)
    except (TypeError, ValueError):
        return None
    return values


def verify_store(store, case_number: str | None = None, *, check_blobs: bool = True) -> VerifyReport:
    """Check one case (``case_number``) or every case in the store, and the attachment files they use."""
    report = VerifyReport()
    with store.reading():
        db = store.db
        if case_number is None:
            report.problems += _check_guards(db)
            report.problems += _check_integrity(db)
            tickets = db.execute_sql("SELECT id, case_number, log_count, log_head FROM ticket ORDER BY id").fetchall()
        else:
            ticket = store.get(case_number)
            tickets = [(ticket.id, ticket.case_number, ticket.log_count, ticket.log_head)]
        blob_sizes: dict[str, int | None] = {}
        for _ticket_id, number, count, head, rows in _tickets_with_rows(db, tickets):
            problems = _check_chain(number, count, head, rows)
            report.entries += len(rows)
            for row in rows:
                for sha, _name, _size in row.files:
                    report.attachments += 1
                    if sha not in blob_sizes:
                        found = db.execute_sql("SELECT size FROM blob WHERE sha256 = ?", (sha,)).fetchone()
                        blob_sizes[sha] = found[0] if found else None
            problems += _check_attachments(number, rows, blob_sizes)
            report.cases.append(CaseResult(number, len(rows), head, ok=not problems))
            report.problems += problems
    if check_blobs:
        report.problems += _check_blob_files(store.blobs, blob_sizes)
    return report


def _tickets_with_rows(db, tickets: list[tuple]) -> Iterator[tuple[int, str, int, str, list[_Row]]]:
    """Each ticket with its entries in stored order, read in batches so a big store streams."""
    batch = 500
    for start in range(0, len(tickets), batch):
        chunk = tickets[start : start + batch]
        ids = [t[0] for t in chunk]
        marks = ",".join("?" * len(ids))
        files: dict[int, list[tuple[str, str, int]]] = {}
        for entry_id, sha, name, size in db.execute_sql(
            _ATTACHMENT_SQL + f"WHERE e.ticket_id IN ({marks})", ids
        ).fetchall():
            files.setdefault(entry_id, []).append((sha, name, size))
        rows: dict[int, list[_Row]] = {i: [] for i in ids}
        for raw in db.execute_sql(
            _ENTRY_SQL + f"WHERE e.ticket_id IN ({marks}) ORDER BY e.ticket_id, e.seq, e.id", ids
        ).fetchall():
            entry_id, ticket_id, *chained, digest = raw
            row = _Row(entry_id, chained[0], _fields(tuple(chained)), digest, files.get(entry_id, []), chained[13])
            rows[ticket_id].append(row)
        for ticket_id, number, count, head in chunk:
            yield ticket_id, number, count, head, rows[ticket_id]


def _check_chain(number: str, count: int, head: str, rows: list[_Row]) -> list[Problem]:
    """Walk the chain from the start; where a link fails, find out whether the entry moved, changed or went."""
    problems: list[Problem] = []
    by_seq: dict[int, list[_Row]] = {}
    for row in rows:
        by_seq.setdefault(row.seq, []).append(row)
    for seq, same in by_seq.items():
        if len(same) > 1:
            problems.append(Problem(number, seq, "extra", f"{len(same)} entries carry number {seq}"))
    last = max([count, *by_seq]) if by_seq else count
    placed: set[int] = set()  # rows whose original place in the chain is known
    # A correction chains the number of the entry it corrects: its original number once known.
    seq_of = {r.id: r.seq for r in rows}
    previous: str | None = GENESIS  # None: the entry before is missing, so this link cannot be checked
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
        if previous is None:
            problems.append(
                Problem(number, seq, "unlinked", f"entry {seq} cannot be checked: the entry before it is missing")
            )
        else:
            problems.append(
                Problem(number, seq, "changed", f"entry {seq} was changed: its content no longer matches its digest")
            )
        previous = row.digest
    stored = sorted(by_seq)
    if stored and stored[-1] > count:
        extra = [s for s in stored if s > count]
        problems.append(
            Problem(number, None, "count", f"the case records {count} entries but entries {_span(extra)} also exist")
        )
    last_row = by_seq.get(count, [None])[0] if count else None
    expected_head = last_row.digest if last_row else GENESIS
    if head != expected_head:
        problems.append(
            Problem(
                number, None, "head", f"the recorded chain head {head[:16] or '(empty)'}… does not match entry {count}"
            )
        )
    return _dedupe(problems)


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


def _check_blob_files(blobs, sizes: dict[str, int | None]) -> list[Problem]:
    """Every attachment file present, of its size, and hashing to its name."""
    problems = []
    for sha, size in sorted(sizes.items()):
        if size is None:
            continue
        path = blobs.path_of(sha)
        actual, length = _hash_file(path)
        if actual is None:
            problems.append(Problem(None, None, "blob", f"attachment file {sha[:16]}… is missing from {blobs.root}"))
        elif actual != sha or length != size:
            problems.append(
                Problem(
                    None, None, "blob", f"attachment file {sha[:16]}… was altered (it no longer hashes to its name)"
                )
            )
    return problems


def _hash_file(path: Path) -> tuple[str | None, int]:
    digest = hashlib.sha256()
    length = 0
    try:
        with path.open("rb") as reader:
            while chunk := reader.read(_HASH_CHUNK):
                digest.update(chunk)
                length += len(chunk)
    except OSError:
        return None, 0
    return digest.hexdigest(), length


def _check_guards(db) -> list[Problem]:
    """The append-only triggers gone is itself a sign that someone edited the file by hand."""
    present = {name for (name,) in db.execute_sql("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
    missing = [
        f"{table}_no_{action}"
        for table in sqlite.APPEND_ONLY_TABLES
        for action in ("update", "delete")
        if f"{table}_no_{action}" not in present
    ]
    if not missing:
        return []
    return [Problem(None, None, "guard", f"the append-only guards were removed: {', '.join(missing)}")]


def _check_integrity(db) -> list[Problem]:
    rows = [r[0] for r in db.execute_sql("PRAGMA quick_check").fetchall()]
    if rows == ["ok"]:
        return []
    return [Problem(None, None, "integrity", f"SQLite integrity check failed: {printable(rows[0], one_line=True)}")]
