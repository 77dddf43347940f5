"""The texts of the system's own log entries and mail subjects: status changes, the acknowledgement, timer actions.

The log is evidence (DESIGN §2), so these strings are part of what a case file shows a third party: one place
writes them, byte for byte as the store has always written them. The mail *bodies* of reminders and closes
are not here: they are the configurable templates (``config.templates``).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from tui_desk.domain.dates import format_when
from tui_desk.domain.statuses import Status


def status_change_summary(old: Status, new: Status) -> str:
    """``Status: Waiting on Buyer → Closed``."""
    return f"Status: {old.label} → {new.label}"


def acknowledgement(customer: str, case_number: str, subject: str, description: str | None) -> tuple[str, str]:
    """The acknowledgement logged (and mailed) when a ticket opens: (summary, body)."""
    summary = f"Automatic acknowledgement sent to {customer}"
    body = f"Case number: {case_number}\nSubject: {subject}\n\n{description or ''}".rstrip()
    return summary, body


def acknowledgement_mail_subject(case_number: str, subject: str) -> str:
    """``[TD-REF-2026-00042] Parcel never arrived``: the case tag first, so a reply lands on the case."""
    return f"[{case_number}] {subject}"


def days_text(span: timedelta) -> str:
    """A timer span in days as the texts say it: ``30``, or ``1.5`` for a span that is not whole days."""
    days = span / timedelta(days=1)
    return str(int(days)) if days == int(days) else f"{days:g}"


def reminder_summary(slot: int, max_reminders: int, party: str) -> str:
    """``Reminder 2 of 3 sent to the buyer``."""
    return f"Reminder {slot} of {max_reminders} sent to the {party}"


def reminder_mail_subject(case_number: str, subject: str) -> str:
    return f"[{case_number}] Reminder: {subject}"


def skipped_reminder(slot: int, max_reminders: int, party: str, due_at: datetime, *, closing: bool) -> tuple[str, str]:
    """A reminder a late sweep does not send, because a later one (or the close) is due: (summary, body).

    ``closing``: the close is due as well, so the ticket is closed instead of reminded.
    """
    summary = f"Reminder {slot} of {max_reminders} to the {party} skipped: " + (
        "the ticket is closed instead" if closing else "a later reminder is sent instead"
    )
    body = f"Due {format_when(due_at)}; no sweep ran until " + (
        "the close was due." if closing else "a later reminder was due."
    )
    return summary, body


def auto_close(after: timedelta, party: str) -> tuple[str, str]:
    """A waiting ticket closed after ``after`` without the party's answer: (summary, status-change note)."""
    days = days_text(after)
    return (
        f"Closed after {days} days without an answer from the {party}; {party} told",
        f"No answer from the {party} in {days} days",
    )


def resolved_close(after: timedelta, party: str) -> tuple[str, str]:
    """A Resolved ticket closed for good ``after`` its resolution: (summary, status-change note)."""
    days = days_text(after)
    return (
        f"Closed for good {days} days after it was resolved; {party} told",
        f"Resolved {days} days ago without disagreement",
    )


def closed_mail_subject(case_number: str, subject: str) -> str:
    """The subject of the mail that tells the party a ticket was closed (auto-close and resolved-close alike)."""
    return f"[{case_number}] Closed: {subject}"
