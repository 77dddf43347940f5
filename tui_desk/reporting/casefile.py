"""A self-contained case file for a third party: every field, key dates, the full timeline, and how to check it.

Markdown by default, HTML on request. Customer text is data: in Markdown it goes into code spans and
fenced blocks (never read as Markdown or HTML), in HTML it is escaped; control characters are shown as
visible escapes in both. The appendix carries the exact chained values as JSON (ASCII-escaped, so it
survives any mail client byte for byte), with everything else the file shows, and a Python script
(reporting/check_chain.py) that recomputes the chain from it.

The WHOLE file is rendered by that script's ``render`` from Appendix A and the script's own text, and the
script compares its rendering with the file byte for byte: an edit anywhere (the timeline, a section
added above it, the script shown in Appendix B) fails the check, and no customer text can confuse it
(there is no marked region to imitate). The case's current fields and key dates are labelled as current
state: the check proves the file shows what Appendix A says, but only the log entries are chained.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from tui_desk import __version__
from tui_desk.domain.dates import format_span
from tui_desk.domain.evidence import CHAINED_FIELDS, iso_micro
from tui_desk.domain.statuses import status_of
from tui_desk.reporting import check_chain
from tui_desk.store import schema
from tui_desk.store.models import Meta, Ticket
from tui_desk.store.verify import verify_store

UTC = ZoneInfo("UTC")

# The script the reader runs, as it is in this package: the one renderer of the checked part.
CHECK_SCRIPT = Path(check_chain.__file__).read_text(encoding="utf-8")


_KEY_DATES = (
    ("Opened", "opened_at"),
    ("First response", "first_response_at"),
    ("Last action", "last_action_at"),
    ("Status last changed", "status_changed_at"),
    ("Promised follow-up", "follow_up_at"),
    ("SLA response due", "sla_response_due_at"),
    ("SLA resolution due", "sla_resolution_due_at"),
    ("Next timer action", "timer_due_at"),
    ("Resolved", "resolved_at"),
    ("Closed", "closed_at"),
    ("Refund approved", "refund_approved_at"),
    ("Refund initiated", "refund_initiated_at"),
    ("Refunded", "refunded_at"),
)


def case_data(store, case_number: str) -> dict:
    """Everything the case file shows, gathered in one read."""
    ticket: Ticket = store.get(case_number)
    entries = store.entries(ticket)
    with store.reading():
        seq_of = {e.id: e.seq for e in entries}
        bound = Meta.get_or_none(Meta.key == schema.CHAIN_BOUND_FROM)
    report = verify_store(store, ticket.case_number)
    chain = []
    for entry in entries:
        item = {name: getattr(entry, name, None) for name in CHAINED_FIELDS if name != "corrects_seq"}
        item["corrects_seq"] = seq_of.get(entry.corrects_id) if entry.corrects_id else None
        plain = {k: iso_micro(v) if isinstance(v, datetime) else v for k, v in item.items()}
        plain["attachments"] = sorted([a.sha256, a.name, a.size] for a in entry.attachment_list)
        plain["digest"] = entry.digest
        chain.append(plain)
    return {
        "ticket": ticket,
        "fields": store.describe(ticket, with_log=False),
        "entries": entries,
        "report": report,
        "chain": {
            "case_number": ticket.case_number,
            "ticket_id": ticket.id,
            "bound": bound is not None and bound.value.isdigit() and ticket.id >= int(bound.value),
            "timezone": str(store.config.tz),
            "final_digest": ticket.log_head,
            "entries": chain,
        },
        "generated_at": store.now(),
        "tz": store.config.tz,
    }


def _date_of(ticket: Ticket, key: str) -> datetime | None:
    return getattr(ticket, key, None)


def _refund_delay(ticket: Ticket) -> str | None:
    if ticket.refund_approved_at and ticket.refunded_at:
        return format_span(ticket.refunded_at - ticket.refund_approved_at)
    return None


def _case_rows(t, f: dict) -> list[tuple[str, str | None]]:
    """The case's own fields, labelled, for either format."""
    refund = f["refund"]
    return [
        ("Case number", t.case_number),
        ("Kind", t.kind),
        ("Status", status_of(t.status).label),
        ("Priority", t.priority),
        ("Customer", t.customer),
        ("Email", t.email),
        ("Order", t.order_id),
        ("Subject", t.subject),
        ("Reason", t.reason),
        ("Assignee", t.assignee),
        ("Tags", " ".join(f["tags"])),
        ("Follows up case", t.references),
        ("Opened by", t.created_by),
        ("Refund amount", f"{refund['amount']} {refund['currency'] or ''}".strip() if refund["amount"] else None),
        ("Log entries", str(t.log_count)),
    ]


def file_data(data: dict) -> dict:
    """Appendix A: the chain data, and under ``file`` everything else the case file shows."""
    t: Ticket = data["ticket"]
    report = data["report"]
    stamp = lambda dt: iso_micro(dt) if dt is not None else None  # noqa: E731
    rows = {label: value or None for label, value in _case_rows(t, data["fields"])}
    return {
        **data["chain"],
        "file": {
            "generated_at": stamp(data["generated_at"]),
            "version": __version__,
            "case": rows,
            "description": t.description or "",
            "key_dates": {label: stamp(_date_of(t, key)) for label, key in _KEY_DATES},
            "refund_delay": _refund_delay(t),
            "problems": [] if report.ok else [p.line() for p in report.problems],
        },
    }


def to_markdown(data: dict) -> str:
    return check_chain.render(file_data(data), "md", CHECK_SCRIPT)


def to_html(data: dict) -> str:
    return check_chain.render(file_data(data), "html", CHECK_SCRIPT)


def export_case(store, case_number: str, fmt: str = "md") -> str:
    """The case file as text in ``fmt`` (``md`` or ``html``)."""
    data = case_data(store, case_number)
    return to_html(data) if fmt == "html" else to_markdown(data)
