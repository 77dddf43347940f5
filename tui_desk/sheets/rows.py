"""Turning sheet rows into tickets to import: one row per ticket (the seeds' layout) or one row per entry.

A row in the seeds' layout becomes a ticket whose log starts with one ``import`` entry (at the open
date, from ``system``) holding the whole row verbatim, then one ``import`` entry per dated line of its
communication-log cell. They are kind ``import``, not ``message``: a sheet line does not say who spoke
or by which channel, so we do not invent a direction or a party. A log sheet (``export --log``, or our
JSON) carries every entry's own kind, channel, direction and sender, and those are kept.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo

from tui_desk.domain import refunds
from tui_desk.domain.errors import DeskError
from tui_desk.domain.statuses import Status
from tui_desk.sheets.columns import DATE_FIELDS, TICKET_COLUMNS, ColumnMap
from tui_desk.sheets.dates import DateOrder, UnreadableDate, read_date
from tui_desk.sheets.interactions import records_from_interactions
from tui_desk.sheets.logcells import split_log_cell
from tui_desk.sheets.reader import Sheet
from tui_desk.sheets.statuses import sheet_status
from tui_desk.store.imports import BadRow, EntryRecord, TicketRecord

_PRIORITY_WORDS = {"medium": "normal", "med": "normal", "critical": "urgent", "highest": "urgent", "lowest": "low"}
_TICKET_DATES = frozenset(name for name in DATE_FIELDS if not name.startswith("entry_"))
_LABELS = {  # how the import entry names a field
    "opened_at": "open date",
    "last_action_at": "date of last action",
    "resolved_at": "resolution date",
    "follow_up_at": "follow-up date",
    "closed_at": "closed date",
}


@dataclass
class ReadOptions:
    source: str = "sheet"
    order: DateOrder = DateOrder.AUTO
    tz: tzinfo = UTC
    status_map: dict[str, Status] = field(default_factory=dict)
    kinds: dict[str, str] = field(default_factory=lambda: {"refund": "REF", "support": "SUP"})
    default_kind: str = "refund"
    status_cache: dict = field(default_factory=dict)


class Row:
    """One row's cells by field, with its line number; dates read on demand with the column's zone."""

    def __init__(
        self,
        line: int,
        values: dict[str, object],
        options: ReadOptions,
        utc: set[str] = frozenset(),
        cells: list[object] = (),
    ):
        self.line = line
        self.values = values
        self.options = options
        self.utc = utc
        self.cells = cells  # the row as the sheet has it, for keeping it verbatim

    def reader(self, name: str):
        """A function reading one date as this column's dates are read (its zone, the sheet's order)."""
        tz = UTC if name in self.utc else self.options.tz
        return lambda value: read_date(value, order=self.options.order, tz=tz)

    def raw(self, name: str) -> str:
        value = self.values.get(name)
        if value is None:
            return ""
        if type(value) is str:  # almost every cell: the fast way first (a row reads ~20 fields)
            return value
        if isinstance(value, datetime):
            return value.isoformat(sep=" ")
        return str(value)

    def text(self, name: str) -> str:
        value = self.values.get(name)
        if type(value) is str:
            return value.strip()
        if value is None:  # a field the sheet has no column for: most of the ~20 a row is asked
            return ""
        return self.raw(name).strip()

    def date(self, name: str) -> datetime | None:
        tz = UTC if name in self.utc else self.options.tz
        try:
            return read_date(self.values.get(name), order=self.options.order, tz=tz)
        except UnreadableDate as err:
            raise BadRow(self.line, f"{_LABELS.get(name, name.replace('_', ' '))}: {err}") from None


def rows_of(sheet: Sheet, mapping: ColumnMap, options: ReadOptions, part: slice = slice(None)) -> list[Row]:
    utc = {f for i, f in mapping.fields.items() if i in mapping.utc_columns}
    return [
        Row(line, {f: cells[i] for i, f in mapping.fields.items()}, options, utc, cells)
        for line, cells in sheet.rows[part]
    ]


def one_row_per_ticket(mapping: ColumnMap) -> bool:
    """The seeds' case sheet (each row a ticket): any run of its rows can be read apart from the others."""
    return not (mapping.is_log_sheet or mapping.is_interaction_log)


def records_from_sheet(
    sheet: Sheet,
    mapping: ColumnMap,
    options: ReadOptions,
    *,
    part: slice = slice(None),
    identities: dict[str, int] | None = None,
) -> list[TicketRecord | BadRow]:
    """Every row as a ticket to import, or as a BadRow saying what is wrong with it.

    A sheet of ``one_row_per_ticket`` may be read a ``part`` (of ``sheet.rows``) at a time: the rows without
    case numbers are fingerprinted by the occurrences of their identity in ``identities``, which counts on
    from one part to the next (``fingerprint``)."""
    if part != slice(None) and not one_row_per_ticket(mapping):
        raise ValueError("only a sheet of one row per ticket is read in parts")
    rows = rows_of(sheet, mapping, options, part)
    if mapping.is_log_sheet:
        return records_from_log_rows(rows)
    if mapping.is_interaction_log:
        utc = {f for i, f in mapping.fields.items() if i in mapping.utc_columns}
        return records_from_interactions(
            rows,
            sheet.headers,
            mapping.index_of("notes"),
            lambda line, values: Row(line, values, options, utc),
            _ticket_fields,
        )
    identities = {} if identities is None else identities
    out: list[TicketRecord | BadRow] = []
    for row, (_, cells) in zip(rows, sheet.rows[part], strict=True):
        try:
            out.append(_seed_record(row, cells, sheet.headers, identities))
        except BadRow as bad:
            out.append(bad)
        except DeskError as err:
            out.append(BadRow(row.line, str(err)))
    return out


def _ticket_fields(row: Row) -> TicketRecord:
    """The ticket part of a row (both layouts)."""
    customer = row.text("customer") or row.text("customer_id")
    order_id = row.text("order_id") or None
    if not customer and row.text("customer_and_order"):
        customer, split_order = split_customer_and_order(row.text("customer_and_order"))
        order_id = order_id or split_order
    email = row.text("email") or None
    if not customer and email:
        customer = email
    if not customer:
        raise BadRow(row.line, "no customer")
    if email is None and re.fullmatch(r"[^@\s]+@[^@\s]+", customer):
        email = customer
    opened = row.date("opened_at")
    if opened is None:
        raise BadRow(row.line, "no open date")
    subject = row.raw("subject") if row.text("subject") else row.raw("reason")
    if not subject.strip():
        raise BadRow(row.line, "no issue summary (nor reason)")
    dates = dict.fromkeys(_TICKET_DATES)
    for name in _TICKET_DATES.intersection(row.values):
        dates[name] = row.date(name)
    number = row.text("case_number").upper() or None
    status = _status(row.text("status"), dates["resolved_at"] is not None, row)
    kind = row.text("kind").lower() or _kind_from_number(number, row.options)
    priority = row.text("priority").lower() or "normal"
    priority = _PRIORITY_WORDS.get(priority, priority)
    amount = None
    if row.text("refund_amount"):
        try:
            amount = refunds.check_amount(row.text("refund_amount"), round_cents=True)
        except DeskError as err:
            raise BadRow(row.line, str(err)) from None
    record = TicketRecord(
        line=row.line,
        customer=customer,
        subject=subject,
        opened_at=opened,
        status=status,
        case_number=number,
        kind=kind,
        email=email,
        order_id=order_id,
        description=row.raw("description"),
        reason=row.text("reason") or None,
        priority=priority,
        assignee=row.text("assignee") or None,
        tags=_words(row.text("tags")),
        references=row.text("references").upper() or None,
        created_by=row.text("created_by") or None,
        refund_amount=amount,
        currency=row.text("currency").upper() or None,
        **{name: value for name, value in dates.items() if name != "opened_at"},
    )
    if status is Status.RESOLVED and record.resolved_at is None:
        record.resolved_at = record.last_action_at or opened
    if status is Status.CLOSED and record.closed_at is None:
        record.closed_at = record.resolved_at or record.last_action_at or opened
    if status.is_open:
        record.closed_at = None
    return record


_SEPARATORS = re.compile(r"[,;\s]+")


def _words(cell: str) -> list[str]:
    """A tags cell's words (``vip, fragile`` or ``vip fragile``)."""
    return [t for t in _SEPARATORS.split(cell) if t] if cell else []


def _status(word: str, resolved: bool, row: Row) -> Status:
    # A sheet uses a handful of words 100,000 times: remember each answer.
    key = (word, resolved)
    cache = row.options.status_cache
    if key not in cache:
        try:
            cache[key] = sheet_status(word, has_resolution_date=resolved, extra=row.options.status_map)
        except DeskError as err:
            cache[key] = err
    found = cache[key]
    if isinstance(found, DeskError):
        raise BadRow(row.line, str(found))
    return found


_ORDER_SPLIT = re.compile(
    r"^(?P<name>.+?)\s*(?:/|\||,|;|\s-\s|\s–\s)\s*(?:order\s*(?:id|no|#)?[:\s]*)?#?"
    r"(?P<order>[A-Za-z0-9][\w./-]*\d[\w./-]*)$",
    re.IGNORECASE,
)
_ORDER_PAREN = re.compile(
    r"^(?P<name>.+?)\s*\(\s*(?:order\s*(?:id|no|#)?[:\s]*)?#?"
    r"(?P<order>[A-Za-z0-9][\w./-]*\d[\w./-]*)\s*\)$",
    re.IGNORECASE,
)


def split_customer_and_order(cell: str) -> tuple[str, str | None]:
    """``Maria Garcia / VB-778812`` -> (``Maria Garcia``, ``VB-778812``): a name, a separator (/ | , ; -)
    or parentheses, and one word with a digit in it. Anything else stays whole as the customer."""
    for pattern in (_ORDER_PAREN, _ORDER_SPLIT):
        match = pattern.match(cell.strip())
        if match and match["name"].strip():
            return match["name"].strip(), match["order"]
    return cell.strip(), None


def _kind_from_number(number: str | None, options: ReadOptions) -> str:
    if number:
        parts = number.split("-", 2)
        if len(parts) > 1:
            return {code: kind for kind, code in options.kinds.items()}.get(parts[1], options.default_kind)
    return options.default_kind


def identity_of(record: TicketRecord) -> str:
    """What a row without a case number is known by again: customer, email, order, open date and subject."""
    return "\x1f".join(
        [
            record.customer,
            record.email or "",
            record.order_id or "",
            record.opened_at.isoformat(),
            record.subject.strip(),
        ]
    )


def fingerprint(identity: str, identities: dict[str, int]) -> str:
    """The fingerprint of the next row of this ``identity`` (its occurrences so far counted in ``identities``)."""
    occurrence = identities.get(identity, 0) + 1
    identities[identity] = occurrence
    return hashlib.sha256(f"{identity}\x1f{occurrence}".encode()).hexdigest()[:32]


def _seed_record(row: Row, cells: list[object], headers: list[str], identities: dict[str, int]) -> TicketRecord:
    record = _ticket_fields(row)
    if record.case_number is None:
        record.fingerprint = fingerprint(identity_of(record), identities)
    try:
        _lead, lines = split_log_cell(row.raw("log"), order=row.options.order, tz=row.options.tz)
    except UnreadableDate as err:
        raise BadRow(row.line, f"communication log: {err}") from None
    word = row.text("status")
    summary = f"Imported from {row.options.source} line {row.line}"
    if word:
        summary += f" (sheet status “{word}”)"
    texts = [c if isinstance(c, str) else _cell_text(c) for c in cells]
    body = "\n".join(f"{h}: {t}" for h, t in zip(headers, texts, strict=False) if t and not t.isspace())
    record.entries.append(
        EntryRecord(
            kind="import",
            channel="system",
            direction="internal",
            sender="system",
            summary=summary,
            body=body,
            at=record.opened_at,
            line=row.line,
        )
    )
    for line in lines:
        first = " ".join(line.text.split()) or line.original
        record.entries.append(
            EntryRecord(
                kind="import",
                channel="note",
                direction="internal",
                sender="agent",
                summary=first,
                body=line.original,
                at=line.at,
                line=row.line,
            )
        )
    if record.last_action_at is None:
        known = [e.at for e in record.entries] + [d for d in (record.resolved_at, record.closed_at) if d]
        record.last_action_at = max(known)
    return record


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    return str(value)


def records_from_log_rows(rows: Iterable[Row]) -> list[TicketRecord | BadRow]:
    """Rows of a log sheet (one per entry) grouped by case number into tickets with their entries."""
    groups: dict[str, list[Row]] = {}
    out: list[TicketRecord | BadRow] = []
    for row in rows:
        number = row.text("case_number").upper()
        if not number:
            out.append(BadRow(row.line, "no case number (a log sheet needs one on every row)"))
            continue
        groups.setdefault(number, []).append(row)
    for group in groups.values():
        try:
            record = _ticket_fields(group[0])
            entries = [(_seq(row), row.line, _entry(row)) for row in group]
            entries.sort(key=lambda e: (e[0], e[1]))
            record.entries = [e for _, _, e in entries]
            out.append(record)
        except BadRow as bad:
            out.append(bad)
        except DeskError as err:
            out.append(BadRow(group[0].line, str(err)))
    out.sort(key=lambda r: r.line)
    return out


def _seq(row: Row) -> int:
    text = row.text("entry_seq")
    if not text:
        return 0
    if not text.isdigit():
        raise BadRow(row.line, f"entry number {text!r} is not a number")
    return int(text)


def _entry(row: Row) -> EntryRecord:
    at = row.date("entry_at")
    if at is None:
        raise BadRow(row.line, "no entry date")
    corrects = row.text("entry_corrects")
    if corrects and not corrects.isdigit():
        raise BadRow(row.line, f"corrects {corrects!r} is not an entry number")
    summary = row.raw("entry_summary")
    if not summary.strip():
        raise BadRow(row.line, "no entry summary")
    return EntryRecord(
        kind=row.text("entry_kind").lower() or "import",
        channel=row.text("entry_channel").lower() or "note",
        direction=row.text("entry_direction").lower() or "internal",
        sender=row.text("entry_sender").lower() or "agent",
        summary=summary,
        body=row.raw("entry_body"),
        at=at,
        until=row.date("entry_until"),
        sender_name=row.raw("entry_sender_name"),
        agent=row.text("entry_agent") or None,
        follow_up_at=row.date("entry_follow_up_at"),
        corrects=int(corrects) if corrects else None,
        due_at=row.date("entry_due_at"),
        line=row.line,
    )


_ENTRY_KEYS = {
    "seq": "entry_seq",
    "at": "entry_at",
    "until": "entry_until",
    "kind": "entry_kind",
    "channel": "entry_channel",
    "direction": "entry_direction",
    "sender": "entry_sender",
    "sender_name": "entry_sender_name",
    "agent": "entry_agent",
    "summary": "entry_summary",
    "body": "entry_body",
    "follow_up_at": "entry_follow_up_at",
    "corrects": "entry_corrects",
    "due_at": "entry_due_at",
}


_REFUND_KEYS = {"amount": "refund_amount", "approved_at": "refund_approved_at", "initiated_at": "refund_initiated_at"}


def records_from_json(data: object, options: ReadOptions) -> list[TicketRecord | BadRow]:
    """Tickets from our JSON export (a list of tickets, each with ``log`` or ``latest_entry``); the
    line number of a bad ticket is its position in the list."""
    if isinstance(data, dict) and "case_number" in data:
        data = [data]  # one ticket, as `show --json` prints it
    if not isinstance(data, list):
        raise DeskError("the JSON file must hold a list of tickets (as `tui-desk export --format json` writes)")
    rows: list[Row] = []
    bad: list[BadRow] = []
    for number, ticket in enumerate(data, start=1):
        try:
            rows.extend(_json_ticket_rows(number, ticket, options))
        except DeskError as err:
            bad.append(BadRow(number, str(err)))
    return sorted([*bad, *records_from_log_rows(rows)], key=lambda r: r.line)


def _json_ticket_rows(number: int, ticket: object, options: ReadOptions) -> list[Row]:
    """One ticket object as log-sheet rows (one per entry); a value of the wrong type is a DeskError."""
    if not isinstance(ticket, dict):
        raise DeskError(f"not a ticket object (found {_json_type(ticket)})")
    # Only the fields an import reads (`show --json` adds others, such as the SLA state, to show).
    base = {k: _json_cell(v, k) for k, v in ticket.items() if k in TICKET_COLUMNS and k != "log"}
    refund = ticket.get("refund") or {}
    if not isinstance(refund, dict):
        raise DeskError(f"refund must be an object, not {_json_type(refund)}")
    for k, v in refund.items():  # the shape `show --json` uses
        name = _REFUND_KEYS.get(k, k)
        if name in TICKET_COLUMNS:
            base[name] = _json_cell(v, f"refund {k}")
    entries = ticket.get("log")
    if entries is None:
        entries = [ticket["latest_entry"]] if ticket.get("latest_entry") else []
    if not isinstance(entries, list):
        raise DeskError(f"log must be a list of entries, not {_json_type(entries)}")
    if not entries:
        raise DeskError("a ticket needs at least one log entry")
    rows = []
    for seq, entry in enumerate(entries, start=1):
        if not isinstance(entry, dict):
            raise DeskError(f"log entry {seq} must be an object, not {_json_type(entry)}")
        values = dict(base)
        values.update(
            {_ENTRY_KEYS[k]: _json_cell(v, f"log entry {seq} {k}") for k, v in entry.items() if k in _ENTRY_KEYS}
        )
        rows.append(Row(number, values, options, utc=set(DATE_FIELDS)))
    return rows


def _json_type(value: object) -> str:
    if isinstance(value, bool):
        return "true/false"
    return {dict: "an object", list: "a list", str: "text", type(None): "null"}.get(type(value), "a number")


def _json_cell(value: object, name: str) -> object:
    """A JSON value as a sheet cell: text, a number, null; a list of those (tags) joined by spaces."""
    if isinstance(value, list):
        if any(isinstance(v, (dict, list)) for v in value):
            raise DeskError(f"{name} must be text or a list of words, not a nested list")
        return " ".join(str(v) for v in value)
    if isinstance(value, dict):
        raise DeskError(f"{name} must be text or a number, not an object")
    if isinstance(value, float) and value != value:
        raise DeskError(f"{name} is NaN")
    return value
