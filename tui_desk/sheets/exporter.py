"""Exporting tickets for a spreadsheet: one row per ticket (the seeds' columns + the latest log entry),
or with ``log=True`` one row per log entry; or the same as JSON. Dates are UTC and the headers say so.

A log export (CSV or JSON) imports back into the same tickets and entries; a per-ticket CSV imports
back into the same tickets with only their latest entry.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import IO

from tui_desk.domain.clock import to_utc
from tui_desk.domain.statuses import Status, status_of
from tui_desk.sheets.cells import escape_cell
from tui_desk.sheets.dates import write_date
from tui_desk.store.models import LogEntry, Ticket, TicketTag

# (header, Ticket attribute or a computed name) in the order a sheet shows them: the seeds' columns first.
TICKET_EXPORT = (
    ("Case Number", "case_number"),
    ("Customer", "customer"),
    ("Email", "email"),
    ("Order ID", "order_id"),
    ("Open Date (UTC)", "opened_at"),
    ("Issue Summary", "subject"),
    ("Reason", "reason"),
    ("Communication Log (Latest)", "latest"),
    ("Status", "status"),
    ("Date of Last Action (UTC)", "last_action_at"),
    ("Resolution Date (UTC)", "resolved_at"),
    ("Follow-up (UTC)", "follow_up_at"),
    ("Kind", "kind"),
    ("Priority", "priority"),
    ("Assignee", "assignee"),
    ("Tags", "tags"),
    ("Description", "description"),
    ("References", "references"),
    ("Created By", "created_by"),
    ("Closed (UTC)", "closed_at"),
    ("Status Date (UTC)", "status_changed_at"),
    ("First Response (UTC)", "first_response_at"),
    ("SLA Response Due (UTC)", "sla_response_due_at"),
    ("SLA Resolution Due (UTC)", "sla_resolution_due_at"),
    ("Refund Amount", "refund_amount"),
    ("Currency", "currency"),
    ("Refund Approved (UTC)", "refund_approved_at"),
    ("Refund Initiated (UTC)", "refund_initiated_at"),
    ("Refunded (UTC)", "refunded_at"),
    ("Log Entries", "log_count"),
)
ENTRY_EXPORT = (
    ("Entry #", "seq"),
    ("Entry At (UTC)", "at"),
    ("Entry Until (UTC)", "until"),
    ("Entry Kind", "kind"),
    ("Channel", "channel"),
    ("Direction", "direction"),
    ("Sender", "sender"),
    ("Sender Name", "sender_name"),
    ("Logged By", "agent"),
    ("Entry Summary", "summary"),
    ("Entry Body", "body"),
    ("Entry Follow-up (UTC)", "follow_up_at"),
    ("Corrects #", "corrects"),
    ("Due At (UTC)", "due_at"),
    ("Logged At (UTC)", "logged_at"),
    ("Digest", "digest"),
)


@dataclass
class ExportFilter:
    statuses: tuple[Status, ...] = ()
    since: datetime | None = None  # tickets with an action at or after this


def _iso(dt: datetime | None) -> str | None:
    """ISO 8601 UTC with a Z, to the microsecond when there are any (so re-import is exact)."""
    if dt is None:
        return None
    value = to_utc(dt)
    text = value.strftime("%Y-%m-%dT%H:%M:%S")
    return (f"{text}.{value.microsecond:06d}" if value.microsecond else text) + "Z"


def _tickets(flt: ExportFilter):
    query = Ticket.select().order_by(Ticket.id)
    if flt.statuses:
        query = query.where(Ticket.status.in_([s.slug for s in flt.statuses]))
    if flt.since is not None:
        query = query.where(Ticket.last_action_at >= to_utc(flt.since))
    return query


def _tags(flt: ExportFilter) -> dict[int, list[str]]:
    ids = _tickets(flt).select(Ticket.id)
    tags: dict[int, list[str]] = {}
    for ticket_id, name in (
        TicketTag.select(TicketTag.ticket, TicketTag.name)
        .where(TicketTag.ticket.in_(ids))
        .order_by(TicketTag.name)
        .tuples()
        .iterator()
    ):
        tags.setdefault(ticket_id, []).append(name)
    return tags


def _latest(flt: ExportFilter):
    """Each ticket's latest entry, in ticket order (walked beside the tickets, never all in memory)."""
    ids = _tickets(flt).select(Ticket.id)
    return (
        LogEntry.select(LogEntry)
        .join(Ticket, on=(LogEntry.ticket == Ticket.id) & (LogEntry.seq == Ticket.log_count))
        .where(LogEntry.ticket.in_(ids))
        .order_by(LogEntry.ticket)
        .iterator()
    )


def _ticket_values(ticket: Ticket, tags: list[str]) -> dict[str, object]:
    values = {attr: getattr(ticket, attr) for _, attr in TICKET_EXPORT if attr not in ("latest", "tags", "status")}
    values["status"] = status_of(ticket.status).label
    values["tags"] = tags
    values["refund_amount"] = None if ticket.refund_amount is None else f"{ticket.refund_amount:.2f}"
    return values


def _entry_values(entry: LogEntry, seq_of: dict[int, int]) -> dict[str, object]:
    values = {attr: getattr(entry, attr) for _, attr in ENTRY_EXPORT if attr != "corrects"}
    values["corrects"] = seq_of.get(entry.corrects_id) if entry.corrects_id else None
    return values


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return write_date(value)
    if isinstance(value, list):
        return " ".join(value)
    return escape_cell(str(value))


def _latest_text(entry: LogEntry | None) -> str:
    if entry is None:
        return ""
    return f"{to_utc(entry.at):%Y-%m-%d %H:%M} UTC: {entry.summary}"


def iter_export(store, flt: ExportFilter, *, log: bool) -> Iterator[tuple[dict, dict | None]]:
    """(ticket values, entry values or None) in case order; one pair per ticket, or per entry with ``log``."""
    with store.reading():
        tags = _tags(flt)
        if not log:
            latest = _latest(flt)
            pending = next(latest, None)
            for ticket in _tickets(flt).iterator():
                values = _ticket_values(ticket, tags.get(ticket.id, []))
                values["latest"] = None
                if pending is not None and pending.ticket_id == ticket.id:
                    values["latest"] = pending
                    pending = next(latest, None)
                yield values, None
            return
        ids = _tickets(flt).select(Ticket.id)
        entries = LogEntry.select().where(LogEntry.ticket.in_(ids)).order_by(LogEntry.ticket, LogEntry.seq).iterator()
        pending = next(entries, None)
        for ticket in _tickets(flt).iterator():
            values = _ticket_values(ticket, tags.get(ticket.id, []))
            seq_of: dict[int, int] = {}
            while pending is not None and pending.ticket_id == ticket.id:
                seq_of[pending.id] = pending.seq
                yield values, _entry_values(pending, seq_of)
                pending = next(entries, None)


def write_csv(out: IO[str], rows: Iterator[tuple[dict, dict | None]], *, log: bool) -> int:
    """Write the rows as CSV (Excel dialect, CRLF); returns how many rows were written."""
    ticket_columns = [(h, a) for h, a in TICKET_EXPORT if not (log and a in ("latest", "log_count"))]
    writer = csv.writer(out)
    writer.writerow([h for h, _ in ticket_columns] + ([h for h, _ in ENTRY_EXPORT] if log else []))
    count = 0
    for ticket, entry in rows:
        cells = [
            escape_cell(_latest_text(ticket["latest"])) if attr == "latest" else _cell(ticket[attr])
            for _, attr in ticket_columns
        ]
        if entry is not None:
            cells += [_cell(entry[attr]) for _, attr in ENTRY_EXPORT]
        writer.writerow(cells)
        count += 1
    return count


def _json_value(value: object) -> object:
    if isinstance(value, datetime):
        return _iso(value)
    if isinstance(value, LogEntry):
        return _json_entry(_entry_values(value, {}))
    return value


def _json_entry(entry: dict) -> dict:
    return {k: _json_value(v) for k, v in entry.items()}


def write_json(out: IO[str], rows: Iterator[tuple[dict, dict | None]], *, log: bool) -> int:
    """Write a JSON list of tickets, each with its ``log`` (with ``log``) or its ``latest_entry``."""
    out.write("[")
    count = 0
    current: dict | None = None

    def flush(ticket: dict | None) -> None:
        nonlocal count
        if ticket is None:
            return
        out.write(("," if count else "") + "\n  " + json.dumps(ticket, ensure_ascii=False))
        count += 1

    for ticket, entry in rows:
        if current is None or current["case_number"] != ticket["case_number"]:
            flush(current)
            current = {k: _json_value(v) for k, v in ticket.items() if k != "latest"}
            if log:
                current["log"] = []
            else:
                latest = ticket["latest"]
                current["latest_entry"] = _json_value(latest) if latest is not None else None
        if entry is not None:
            current["log"].append(_json_entry(entry))
    flush(current)
    out.write("\n]\n" if count else "]\n")
    return count
