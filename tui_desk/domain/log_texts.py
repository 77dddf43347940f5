"""The words of the entries the program writes itself: acknowledgements, status changes, timer actions, mail subjects.

Each text has one definition here, so a ticket opened, moved or reminded by the console, the command
line, the sweep, an import or the demo builder reads the same in its log and in the customer's inbox.
The templates a team may change (``[templates]`` in the config) are filled in here too.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from tui_desk.domain.dates import format_when
from tui_desk.domain.errors import DeskError
from tui_desk.domain.statuses import Status
from tui_desk.domain.timers import TimerPolicy


def mail_subject(case_number: str, subject: str, what: str = "") -> str:
    """``[TD-REF-2026-00042] Reminder: Blender broken``: the case number first, where mail gateways look for it."""
    return f"[{case_number}] {what + ': ' if what else ''}{subject}"


@dataclass(frozen=True)
class Acknowledgement:
    summary: str
    body: str
    mail_subject: str


ACKNOWLEDGEMENT_TEMPLATE = "Case number: {case_number}\nSubject: {subject}\n\n{description}"


def acknowledgement(
    customer: str, case_number: str, subject: str, description: str, templates: dict[str, str] | None = None
) -> Acknowledgement:
    """The automatic acknowledgement a new ticket logs and sends (seed 004 "New"): number, subject, description.

    Its text is ``[templates] acknowledgement`` when given (the store passes the config's).
    """
    values = {"case_number": case_number, "subject": subject, "customer": customer, "description": description or ""}
    if templates and "acknowledgement" in templates:
        body = fill_template(templates, "acknowledgement", values)
    else:
        body = ACKNOWLEDGEMENT_TEMPLATE.format(**values)
    return Acknowledgement(
        summary=f"Automatic acknowledgement sent to {customer}",
        body=body.rstrip(),
        mail_subject=mail_subject(case_number, subject),
    )


# -- mail: what the timeline says of a message's delivery ------------------------------------

_OUTBOUND = {
    "acknowledgement": "Acknowledgement",
    "reminder": "Reminder",
    "auto_close": "Closing notice",
    "resolved_close": "Closing notice",
    "reply": "Reply",
}


def outbound_label(kind: str, slot: int | None = None) -> str:
    """``Reminder 2``, ``Acknowledgement``, ``Reply``: a message as its delivery entries name it."""
    label = _OUTBOUND.get(kind, kind.replace("_", " ").capitalize())
    return f"{label} {slot}" if kind == "reminder" and slot else label


def delivery_sent(label: str, at: datetime, address: str) -> str:
    return f"{label} — sent {format_when(at)} to {address}"


def delivery_delayed(label: str, error: str) -> str:
    return f"{label} — not delivered yet ({error}); trying again"


def delivery_failed(label: str, error: str) -> str:
    return f"{label} — failed: {error}"


def delivery_bounced(label: str, reason: str) -> str:
    return f"{label} — bounced: {reason}"


def gave_up(attempts: int, error: str) -> str:
    return f"gave up after {attempts} attempts; last: {error}"


def no_address(party: str) -> str:
    return f"no address for the {party} on the ticket"


def reply_summary(body: str) -> str:
    """An agent's emailed reply in the timeline: its first line."""
    first = next((line.strip() for line in body.splitlines() if line.strip()), "")
    return "Email: " + (first if len(first) <= 80 else first[:79] + "…")


def acknowledgement_held(reason: str) -> str:
    return f"Automatic acknowledgement not sent: {reason}"


def acknowledgements_limited(count: int, address: str) -> str:
    return f"{count} were sent to {address} in the last hour (a loop of auto-responders is cut here)"


def status_change(old: Status, new: Status) -> str:
    return f"Status: {old.label} → {new.label}"


def assignment(assignee: str | None, previous: str | None) -> str:
    return f"Assigned to {assignee}" if assignee else f"Unassigned (was {previous})"


def tags_changed(added: list[str], removed: list[str]) -> str:
    return "Tags " + " ".join([f"+{n}" for n in added] + [f"-{n}" for n in removed])


def refund_change(number: int, changes: list[tuple[str, str | None, str]], *, started: bool = False) -> str:
    """``Refund 1: approved — → 2026-11-12 10:00 UTC, 49.90 EUR`` (each change old → new; blank as —).

    A second refund on a case says so: ``Refund 2 (a new refund on this case): approved — → …``.
    """
    head = f"Refund {number}" + (" (a new refund on this case)" if started and number > 1 else "")
    return f"{head}: " + "; ".join(f"{what} {old or '—'} → {new}" for what, old, new in changes)


def refund_carried_over(number: int, steps: list[str]) -> str:
    """The body of the entry that starts a refund after one whose milestones were on the ticket row only."""
    return f"Refund {number} as it stood: " + "; ".join(steps)


def field_edit(changes: list[tuple[str, str | None, str | None]]) -> str:
    """``Edited: priority normal → high; subject “Parcel” → “Parcel lost”`` (blank values as —)."""

    def shown(value: str | None) -> str:
        return f"“{value}”" if value else "—"

    return "Edited: " + "; ".join(f"{name.replace('_', ' ')} {shown(old)} → {shown(new)}" for name, old, new in changes)


def undo_of(seq: int) -> str:
    return f"Undo of #{seq}"


def answered(who: str) -> str:
    """The note of the automatic move to Waiting on Us when the waited-on party writes."""
    return f"{who} answered"


@dataclass(frozen=True)
class TimerTexts:
    """What a timer action writes: its log entry, the note of the status change it makes, the mail it queues."""

    summary: str
    body: str
    direction: str  # out: the party is told; internal: a note for the agents only
    mail_subject: str | None = None  # None: nothing is sent
    note: str = ""  # the status change's note, for closes


def days_left(until: datetime, now: datetime) -> int:
    """Whole days left, rounded up: a reminder sent a few seconds late still says 27 days, not 26."""
    return max(0, math.ceil((until - now) / timedelta(days=1)))


def _days(span: timedelta) -> str:
    days = span / timedelta(days=1)
    return str(int(days)) if days == int(days) else f"{days:g}"


def fill_template(templates: dict[str, str], name: str, values: dict) -> str:
    try:
        return templates[name].format(**values)
    except (KeyError, IndexError, ValueError, AttributeError) as err:  # config checks this; a last guard
        raise DeskError(f"config: templates.{name} cannot be filled in ({err})") from None


def timer_action(
    action: str,
    *,
    slot: int,
    through: int = 0,
    party: str,
    case_number: str,
    subject: str,
    period_started_at: datetime,
    due_at: datetime,
    now: datetime,
    policy: TimerPolicy,
    templates: dict[str, str],
) -> TimerTexts:
    """The texts of one timer action (``reminder``, ``reminder_skipped``, ``auto_close``, ``resolved_close``)."""
    values = {"case_number": case_number, "subject": subject, "party": party}
    if action in ("reminder", "reminder_skipped"):
        close_at = period_started_at + policy.waiting_close_after
        values.update(days_left=days_left(close_at, now), days=_days(policy.waiting_close_after))
        of = f"{slot} of {policy.max_reminders}"
        if action == "reminder":
            return TimerTexts(
                summary=f"Reminder {of} sent to the {party}",
                body=fill_template(templates, "reminder", values),
                direction="out",
                mail_subject=mail_subject(case_number, subject, "Reminder"),
            )
        closing = now >= close_at
        if through > slot:  # a run of skipped reminders: one entry names them all
            last_due = due_at + policy.reminder_interval * (through - slot)
            summary = f"Reminders {slot} to {through} of {policy.max_reminders} to the {party} skipped: "
            body = f"Due {format_when(due_at)} to {format_when(last_due)}; no sweep ran until "
        else:
            summary = f"Reminder {of} to the {party} skipped: "
            body = f"Due {format_when(due_at)}; no sweep ran until "
        return TimerTexts(
            summary=summary + ("the ticket is closed instead" if closing else "a later reminder is sent instead"),
            body=body + ("the close was due." if closing else "a later reminder was due."),
            direction="internal",
        )
    if action == "auto_close":
        values.update(days_left=0, days=_days(policy.waiting_close_after))
        return TimerTexts(
            summary=f"Closed after {values['days']} days without an answer from the {party}; {party} told",
            body=fill_template(templates, "auto_close", values),
            direction="out",
            mail_subject=mail_subject(case_number, subject, "Closed"),
            note=f"No answer from the {party} in {values['days']} days",
        )
    if action == "resolved_close":
        values.update(days_left=0, days=_days(policy.resolved_close_after))
        return TimerTexts(
            summary=f"Closed for good {values['days']} days after it was resolved; {party} told",
            body=fill_template(templates, "resolved_close", values),
            direction="out",
            mail_subject=mail_subject(case_number, subject, "Closed"),
            note=f"Resolved {values['days']} days ago without disagreement",
        )
    raise ValueError(action)
