"""What a supervisor watches first: the overdue panel (breached, at risk, missed follow-ups, closing, idle,
stuck refunds)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from tui_desk.domain import refunds, sla
from tui_desk.domain.clock import to_utc
from tui_desk.domain.dates import format_span, iso
from tui_desk.domain.overdue import OWING_STATUSES, SLA_PROMISES, Promise, broken_promises
from tui_desk.domain.statuses import OPEN_STATUSES, WAITING_ON_PARTY_STATUSES, parse_status, status_of
from tui_desk.store.models import Ticket
from tui_desk.store.queries import overdue_condition, stuck_refund_condition

OPEN_SLUGS = [s.slug for s in OPEN_STATUSES]
OWING_SLUGS = [s.slug for s in OWING_STATUSES]
WAITING_SLUGS = [s.slug for s in WAITING_ON_PARTY_STATUSES]
ROW_LIMIT = 500  # per section: the count still says how many there are
PANEL_COLUMNS = (
    Ticket.id,
    Ticket.case_number,
    Ticket.customer,
    Ticket.status,
    Ticket.assignee,
    Ticket.priority,
    Ticket.first_response_at,
    Ticket.follow_up_at,
    Ticket.period_started_at,
    Ticket.last_action_at,
    Ticket.sla_response_due_at,
    Ticket.sla_response_risk_at,
    Ticket.sla_resolution_due_at,
    Ticket.sla_resolution_risk_at,
    Ticket.refund_approved_at,
    Ticket.refund_initiated_at,
    Ticket.refunded_at,
)


def status_slug(label: str) -> str:
    return parse_status(label).slug


@dataclass(frozen=True)
class OverdueRow:
    ticket_id: int
    case_number: str
    customer: str
    status: str  # label
    assignee: str | None
    priority: str
    due_at: datetime
    late: timedelta  # positive: late by; negative: due in
    what: str  # what is due

    @property
    def how_late(self) -> str:
        if self.late > timedelta():
            return format_span(self.late) + " late"
        return "in " + format_span(self.late)

    def as_dict(self) -> dict:
        return {
            "case_number": self.case_number,
            "customer": self.customer,
            "status": self.status,
            "status_slug": status_slug(self.status),
            "assignee": self.assignee,
            "priority": self.priority,
            "due_at": iso(self.due_at),
            "late_seconds": int(self.late.total_seconds()),
            "how_late": self.how_late,
            "what": self.what,
        }


@dataclass
class OverdueSection:
    key: str
    title: str
    rows: list[OverdueRow] = field(default_factory=list)
    count: int = 0

    def as_dict(self) -> dict:
        return {"key": self.key, "title": self.title, "count": self.count, "rows": [r.as_dict() for r in self.rows]}


SECTION_TITLES = {
    "breached": "SLA breached",
    "at_risk": "SLA at risk",
    "follow_up": "Promised follow-ups missed",
    "closing": "Waiting, auto-closing soon",
    "idle": "No action",
    "stuck": "Refunds stuck",
}


def _days(span: timedelta) -> str:
    days = span / timedelta(days=1)
    return f"{days:g} day" + ("" if days == 1 else "s")


def _row(t, due_at: datetime, what: str, now: datetime) -> OverdueRow:
    return OverdueRow(
        ticket_id=t.id,
        case_number=t.case_number,
        customer=t.customer,
        status=status_of(t.status).label,
        assignee=t.assignee,
        priority=t.priority,
        due_at=due_at,
        late=now - due_at,
        what=what,
    )


def _breached(t, now: datetime) -> tuple[datetime, str] | None:
    """The most late SLA promise the ticket broke (domain/overdue.py), or None."""
    found = [(owed.due_at, owed.promise.value) for owed in broken_promises(t, now) if owed.promise in SLA_PROMISES]
    return min(found) if found else None


def _at_risk(t, now: datetime) -> tuple[datetime, str] | None:
    """The most pressing SLA clock of an owing ticket past its risk time (from the risk time on), or None."""

    def passed(mark: datetime | None) -> bool:
        return mark is not None and mark <= now

    found = []
    if t.first_response_at is None and passed(t.sla_response_risk_at or t.sla_response_due_at):
        found.append((t.sla_response_due_at, Promise.RESPONSE.value))
    if passed(t.sla_resolution_risk_at or t.sla_resolution_due_at):
        found.append((t.sla_resolution_due_at, Promise.RESOLUTION.value))
    return min(found) if found else None


def overdue(store, now: datetime | None = None, *, limit: int | None = ROW_LIMIT) -> list[OverdueSection]:
    """The overdue panel: six sections, most late first, each with its full count (rows cut at ``limit``)."""
    now = to_utc(now or store.now())
    policy: sla.SlaPolicy = store.config.sla
    close_after = store.config.timers.waiting_close_after
    sections = {key: OverdueSection(key, title) for key, title in SECTION_TITLES.items()}
    sections["idle"].title = f"No action for {policy.no_action_days} days"
    sections["closing"].title = f"Waiting, auto-closing within {policy.closing_soon_days} days"
    refund_policy: refunds.RefundPolicy = store.config.refunds
    sections["stuck"].title = (
        f"Refunds stuck (not initiated {_days(refund_policy.initiate_within)} after approval, "
        f"not refunded {_days(refund_policy.refund_within)} after)"
    )
    is_open = Ticket.status.in_(OPEN_SLUGS)

    def select():
        # Only the columns the panel uses: building full Ticket rows for thousands of late tickets is slow.
        return Ticket.select(*PANEL_COLUMNS).namedtuples()

    with store.reading():
        # One query for the three promise sections: the overdue tickets (the store's SQL form of the domain
        # rule) and those whose SLA risk time has passed. Risk times come before due times.
        pressing = select().where(
            overdue_condition(now)
            | (
                Ticket.status.in_(OWING_SLUGS)
                & (
                    (
                        Ticket.first_response_at.is_null()
                        & ((Ticket.sla_response_risk_at <= now) | (Ticket.sla_response_due_at <= now))
                    )
                    | (Ticket.sla_resolution_risk_at <= now)
                    # Imported tickets may carry due times without the risk times computed here.
                    | (Ticket.sla_resolution_due_at <= now)
                )
            )
        )
        for t in pressing:
            breached = _breached(t, now)
            if breached:
                sections["breached"].rows.append(_row(t, *breached, now))
            else:
                at_risk = _at_risk(t, now)
                if at_risk:
                    sections["at_risk"].rows.append(_row(t, *at_risk, now))
            if any(owed.promise is Promise.FOLLOW_UP for owed in broken_promises(t, now)):
                sections["follow_up"].rows.append(_row(t, t.follow_up_at, Promise.FOLLOW_UP.value, now))
        horizon = now + timedelta(days=policy.closing_soon_days) - close_after
        closing = select().where(Ticket.status.in_(WAITING_SLUGS) & (Ticket.period_started_at <= horizon))
        for t in closing:
            sections["closing"].rows.append(_row(t, t.period_started_at + close_after, "auto-close", now))
        idle_for = timedelta(days=policy.no_action_days)
        idle = select().where(is_open & (Ticket.last_action_at < now - idle_for))
        for t in idle:
            sections["idle"].rows.append(_row(t, t.last_action_at + idle_for, "any action", now))
        # Refunds waiting at a milestone longer than [refunds] allows (domain/refunds.py, its SQL form).
        for t in select().where(stuck_refund_condition(now, refund_policy)):
            found = refunds.stuck(t, now, refund_policy)
            if found is not None:
                sections["stuck"].rows.append(_row(t, found.due_at, found.step.what, now))
    for section in sections.values():
        section.rows.sort(key=lambda r: (-r.late, r.case_number))
        section.count = len(section.rows)
        if limit is not None:
            del section.rows[limit:]
    return list(sections.values())
