"""Which sheet column holds which ticket field: the seeds' names and common variants, or ``--map``."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from tui_desk.domain.errors import DeskError

# Field -> the column names that mean it (compared case-insensitively, spaces and _ alike, "(UTC)" dropped).
# The first name is the one export writes.
TICKET_COLUMNS: dict[str, tuple[str, ...]] = {
    "case_number": (
        "Case Number",
        "Case ID",
        "Case No",
        "Case #",
        "Case",
        "Ticket Number",
        "Ticket ID",
        "Ticket No",
        "Ticket #",
        "Ticket",
        "Ticket Ref",
        "Ticket/Interaction ID",
        "Ticket / Interaction ID",
        "Ticket or Interaction ID",
        "Interaction ID",
        "Ticket/Interaction",
        "Reference",
        "Reference Number",
        "Case Reference",
        "Ref",
        "Ref No",
    ),
    "customer": ("Customer", "Customer Name", "Name", "Buyer", "Client", "Username", "Customer Username"),
    # Seed 003: "Name, username, or order number" in one column; kept as the customer, and as the order
    # id too when it looks like one.
    "customer_id": (
        "Customer Identifier",
        "Customer ID",
        "Customer Id / Order",
        "Customer Ref",
        "Customer Reference",
        "Client Identifier",
        "Client ID",
    ),
    # Seed 002 keeps both in one column: "Maria Garcia / VB-778812" is split when it splits cleanly.
    "customer_and_order": (
        "Customer Name & Order ID",
        "Customer Name and Order ID",
        "Customer & Order ID",
        "Customer / Order ID",
        "Customer & Order",
    ),
    "email": ("Email", "E-mail", "Customer Email", "Customer E-mail", "Contact", "Contact Email", "Email Address"),
    "order_id": ("Order ID", "Order", "Order Number", "Order No", "Order #", "Order Ref"),
    "opened_at": (
        "Open Date",
        "Case Open Date",
        "Opened",
        "Opened At",
        "Date Opened",
        "Date Request Received",
        "Request Date",
        "Date Received",
        "Received",
        "Submission Date",
        "Date Submitted",
        "Submitted",
        "Created",
        "Created At",
        "Date Created",
        "Date",
    ),
    "subject": ("Issue Summary", "Subject", "Issue", "Summary", "Title", "Problem"),
    "reason": ("Reason", "Reason for Refund", "Refund Reason", "Category", "Reason / Category"),
    "log": (
        "Communication Log (Latest)",
        "Communication Log",
        "Communication Log Latest",
        "Notes & Communications",
        "Notes and Communications",
        "Notes",
        "Log",
        "Communications",
        "Comments",
        "History",
        "Updates",
    ),
    "status": ("Status", "State", "Case Status", "Ticket Status", "Resolution Status"),
    "last_action_at": (
        "Date of Last Action",
        "Last Action",
        "Last Action Date",
        "Last Updated",
        "Last Update",
        "Updated",
        "Updated At",
    ),
    "resolved_at": ("Resolution Date", "Resolved", "Resolved At", "Date Resolved", "Resolved Date"),
    "follow_up_at": (
        "Follow-up",
        "Follow up",
        "Follow-up Date",
        "Follow up Date",
        "Next Follow-up",
        "Follow-up Due",
        "Followup",
    ),
    # Seed 003: one row per contact. "2023-11-15 14:30 UTC / 2023-11-15 14:45 UTC": start, then end.
    "contact": (
        "Contact Timestamp (Start/End)",
        "Contact Timestamp",
        "Contact Timestamps",
        "Contact Timestamp Start/End",
        "Contact Time (Start/End)",
        "Contact Time",
        "Contact Date",
        "Contact Start/End",
        "Timestamp (Start/End)",
        "Interaction Timestamp",
        "Interaction Time",
        "Interaction Date",
    ),
    "notes": (
        "Key Actions & Agent Notes",
        "Key Actions and Agent Notes",
        "Key Actions / Agent Notes",
        "Actions & Notes",
        "Actions and Notes",
        "Agent Notes",
        "Key Actions",
        "Actions Taken",
    ),
    # Seed 003: "Any promised callbacks or next steps": a promised follow-up when it starts with a date.
    "follow_up_notes": (
        "Follow-up Date/Notes",
        "Follow-up Date / Notes",
        "Follow-up Date & Notes",
        "Follow-up Date and Notes",
        "Follow-up Notes",
        "Follow up Notes",
        "Next Steps",
    ),
    "kind": ("Kind", "Type", "Case Type", "Ticket Type"),
    "priority": ("Priority",),
    "assignee": ("Assignee", "Assigned To", "Agent", "Owner", "Handler"),
    "tags": ("Tags", "Labels", "Tag"),
    "description": ("Description", "Details", "Issue Details"),
    "references": ("References", "Follows Case", "Related Case"),
    "closed_at": ("Closed", "Closed At", "Date Closed", "Closed Date"),
    "status_changed_at": ("Status Date", "Status Changed", "Status Changed At"),
    "first_response_at": ("First Response", "First Response At", "First Reply"),
    "sla_response_due_at": ("SLA Response Due",),
    "sla_resolution_due_at": ("SLA Resolution Due", "SLA Due"),
    "refund_amount": ("Refund Amount", "Amount"),
    "currency": ("Currency",),
    "refund_approved_at": ("Refund Approved", "Approved", "Approved At", "Date Approved"),
    "refund_initiated_at": ("Refund Initiated", "Refund Initiated At"),
    "refunded_at": ("Refunded", "Refunded At", "Date Refunded"),
    "created_by": ("Created By",),
}

# Columns of a log sheet (``export --log``): one row per entry.
ENTRY_COLUMNS: dict[str, tuple[str, ...]] = {
    "entry_seq": ("Entry #", "Entry No", "Entry Seq"),
    "entry_at": ("Entry At", "Entry Date"),
    "entry_until": ("Entry Until",),
    "entry_kind": ("Entry Kind",),
    "entry_channel": ("Channel", "Communication Channel", "Contact Channel", "Channel Used"),
    "entry_direction": ("Direction",),
    "entry_sender": ("Sender",),
    "entry_sender_name": ("Sender Name",),
    "entry_agent": ("Logged By",),
    "entry_summary": ("Entry Summary",),
    "entry_body": ("Entry Body",),
    "entry_follow_up_at": ("Entry Follow-up",),
    "entry_corrects": ("Corrects #",),
    "entry_due_at": ("Due At",),
}

# Written by export for people to read; recognised so they are not reported as unknown, never imported.
INFORMATIONAL = {"logged_at": ("Logged At",), "digest": ("Digest",), "log_count": ("Log Entries",)}

ALL_COLUMNS = {**TICKET_COLUMNS, **ENTRY_COLUMNS, **INFORMATIONAL}
DATE_FIELDS = frozenset(
    {
        "opened_at",
        "last_action_at",
        "resolved_at",
        "follow_up_at",
        "closed_at",
        "status_changed_at",
        "first_response_at",
        "sla_response_due_at",
        "sla_resolution_due_at",
        "refund_approved_at",
        "refund_initiated_at",
        "refunded_at",
        "entry_at",
        "entry_until",
        "entry_follow_up_at",
        "entry_due_at",
    }
)
REQUIRED = ("customer", "opened_at")
IGNORE = "-"


def normal(header: str) -> str:
    """A column name as compared: lower case, ``_`` as space, spaces collapsed (none around ``/``), a trailing
    ``(UTC)`` dropped."""
    text = header.replace("\ufeff", "").replace("_", " ").strip().lower()
    text = re.sub(r"\(\s*utc\s*\)\s*$", "", text)
    text = re.sub(r"\s*/\s*", "/", text)  # "Date / Notes" and "Date/Notes" alike
    return " ".join(text.split())


def says_utc(header: str) -> bool:
    return bool(re.search(r"\(\s*utc\s*\)\s*$", header.strip(), re.IGNORECASE))


_BY_NAME = {}
for _field, _names in ALL_COLUMNS.items():
    for _name in (*_names, _field):
        _BY_NAME.setdefault(normal(_name), _field)


@dataclass
class ColumnMap:
    """The field each column index holds; columns not in ``fields`` are extra and kept only verbatim."""

    headers: list[str]
    fields: dict[int, str] = field(default_factory=dict)
    utc_columns: set[int] = field(default_factory=set)

    def index_of(self, name: str) -> int | None:
        for index, f in self.fields.items():
            if f == name:
                return index
        return None

    def has(self, name: str) -> bool:
        return self.index_of(name) is not None

    @property
    def is_log_sheet(self) -> bool:
        return self.has("entry_at") or self.has("entry_seq")

    @property
    def is_interaction_log(self) -> bool:
        """Seed 003's layout: one row per contact, rows sharing a ticket id make one ticket."""
        return self.has("contact") and not self.is_log_sheet

    @property
    def extra(self) -> list[str]:
        return [h for i, h in enumerate(self.headers) if i not in self.fields and h.strip()]


def known_count(headers: list[object], also: frozenset[str] = frozenset()) -> int:
    """How many of these cells are column names we know, or names ``--map`` gives (to find the header row)."""
    return sum(1 for h in headers if isinstance(h, str) and (normal(h) in _BY_NAME or normal(h) in also))


def parse_map_option(values: list[str]) -> dict[str, str]:
    """``--map "Col Name=field"`` options as {normal column name: field}; ``field`` may be ``-`` to ignore it."""
    chosen: dict[str, str] = {}
    for value in values:
        column, sep, target = value.rpartition("=")
        column, target = column.strip(), target.strip().lower().replace(" ", "_").replace("-", "_")
        if target == "_":
            target = IGNORE
        if not sep or not column:
            raise DeskError(f'--map {value!r} must look like "Column Name=field"')
        if target != IGNORE and target not in ALL_COLUMNS:
            raise DeskError(f"--map {value!r}: unknown field {target!r} (one of: {', '.join(TICKET_COLUMNS)}, -)")
        chosen[normal(column)] = target
    return chosen


def map_columns(headers: list[str], overrides: dict[str, str] | None = None) -> ColumnMap:
    """Recognise each column; refuse a field named twice or a required field missing, in one line."""
    overrides = dict(overrides or {})
    mapping = ColumnMap(headers=[str(h) if h is not None else "" for h in headers])
    unknown = [k for k in overrides if k not in {normal(h) for h in mapping.headers}]
    if unknown:
        missing = ", ".join(repr(k) for k in unknown)
        raise DeskError(f"--map names no column of this sheet: {missing} (columns: {', '.join(mapping.headers)})")
    seen: dict[str, str] = {}
    for index, header in enumerate(mapping.headers):
        key = normal(header)
        if not key:
            continue
        target = overrides.pop(key, None) or _BY_NAME.get(key)
        if target is None or target == IGNORE:
            continue
        if target in seen:
            raise DeskError(
                f"columns {seen[target]!r} and {header!r} both look like {target}; "
                f'use --map "{header}=-" or --map "{header}=FIELD"'
            )
        seen[target] = header
        mapping.fields[index] = target
        if says_utc(header):
            mapping.utc_columns.add(index)
    needed = [f for f in REQUIRED if not mapping.has(f)]
    if mapping.is_interaction_log:  # the first contact opens the ticket; the id groups the rows
        needed = [f for f in needed if f != "opened_at"]
        if not mapping.has("case_number"):
            needed.append("case_number")
    if "customer" in needed and any(mapping.has(f) for f in ("email", "customer_and_order", "customer_id")):
        needed.remove("customer")  # an email alone names the customer, and so does the combined column
    if not mapping.has("subject") and not mapping.has("reason"):  # seed 002 has only the reason
        needed.append("subject")
    if mapping.is_log_sheet and not mapping.has("case_number"):
        needed.append("case_number")
    if needed:
        found = ", ".join(h for h in mapping.headers if h.strip()) or "none"
        raise DeskError(
            f'no column for {", ".join(needed)} (columns found: {found}); name it with --map "Column=FIELD"'
        )
    return mapping
