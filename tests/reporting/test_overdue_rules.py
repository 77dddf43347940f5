"""One meaning of "overdue": the queue's Overdue view, its ``!`` mark, the overdue panel and workload agree.

A real store holds a ticket for every status and every kind of due date; all four places must name the
same tickets as overdue, the ones domain/overdue.py names, and a Resolved ticket's past follow-up (which
nobody owes any more) must be in none of them.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from tui_desk.domain.overdue import (
    OWING_STATUSES,
    Owed,
    Promise,
    broken_promises,
    is_late,
    is_overdue,
    owes,
    pending_promises,
)
from tui_desk.domain.statuses import NOT_CLOSED_STATUSES, OPEN_STATUSES, Status
from tui_desk.reporting.overdue import overdue
from tui_desk.reporting.workload import workload
from tui_desk.store import Store
from tui_desk.store.models import Ticket
from tui_desk.tui.presenting import VIEW_BY_KEY, VIEWS, next_due
from tui_desk.tui.widgets.ticket_table import QueueRow

NOW = datetime(2026, 11, 15, 14, 30, tzinfo=UTC)
HOUR = timedelta(hours=1)

# Every kind of due date, as the ticket's columns (unnamed ones are empty), and whether it breaks a promise.
SCENARIOS = {
    "nothing-due": ({}, False),
    "response-due-later": ({"sla_response_due_at": NOW + 5 * HOUR}, False),
    "response-late": ({"sla_response_due_at": NOW - HOUR / 2}, True),
    "response-late-but-responded": ({"sla_response_due_at": NOW - HOUR / 2, "first_response_at": NOW - HOUR}, False),
    "resolution-late": ({"first_response_at": NOW - 24 * HOUR, "sla_resolution_due_at": NOW - HOUR}, True),
    "resolution-due-later": ({"first_response_at": NOW - 24 * HOUR, "sla_resolution_due_at": NOW + 24 * HOUR}, False),
    "follow-up-past": ({"first_response_at": NOW - 24 * HOUR, "follow_up_at": NOW - HOUR}, True),
    "follow-up-future": ({"first_response_at": NOW - 24 * HOUR, "follow_up_at": NOW + HOUR}, False),
    "follow-up-due-this-instant": ({"first_response_at": NOW - 24 * HOUR, "follow_up_at": NOW}, False),  # strict
}
DUE_COLUMNS = ("first_response_at", "sla_response_due_at", "sla_resolution_due_at", "follow_up_at")
AGENTS = ("ana", "ben", None)


def build(store: Store, clock) -> dict[str, tuple[Status, str, str | None]]:
    """One ticket per (status, scenario); case number -> (status, scenario, assignee)."""
    made = {}
    clock.set(NOW - HOUR)  # the waiting and resolved timers run from here: days ahead, never due in this test
    for i, (status, scenario) in enumerate((s, n) for s in Status for n in SCENARIOS):
        assignee = AGENTS[i % len(AGENTS)]
        case = store.create_ticket(customer=f"C{i}", subject=f"{status.label} / {scenario}", kind="support")
        case = case.case_number
        if assignee:
            store.assign(case, assignee)
        if status is not Status.NEW:
            store.change_status(case, status, "Done" if status in (Status.RESOLVED, Status.CLOSED) else None)
        fields, _ = SCENARIOS[scenario]
        with store.writing():
            Ticket.update(
                **{c: fields.get(c) for c in DUE_COLUMNS}, sla_response_risk_at=None, sla_resolution_risk_at=None
            ).where(Ticket.case_number == case).execute()
        made[case] = (status, scenario, assignee)
    clock.set(NOW)
    return made


@pytest.fixture
def desk(store, clock):
    return build(store, clock)


def expected_overdue(desk) -> set[str]:
    return {case for case, (status, scenario, _) in desk.items() if status in OWING_STATUSES and SCENARIOS[scenario][1]}


def queue_overdue_view(store) -> set[str]:
    flt = VIEW_BY_KEY["overdue"].filter(store.agent, NOW)
    cases = {t.case_number for t in store.list_tickets(flt)}
    assert store.count_tickets(flt) == len(cases)
    return cases


def queue_marks(store) -> set[str]:
    """The rows the queue marks ``!``, built as the queue builds them, over every ticket."""
    return {t.case_number for t in store.list_tickets() if QueueRow.of(t, [], NOW, store.config, UTC).overdue}


def panel_overdue(store) -> set[str]:
    sections = {s.key: s for s in overdue(store, NOW, limit=None)}
    return {r.case_number for key in ("breached", "follow_up") for r in sections[key].rows}


def test_every_place_names_the_same_overdue_tickets(store, desk):
    expected = expected_overdue(desk)
    assert len(expected) == 3 * len(OWING_STATUSES)  # response, resolution and follow-up late, per owing status
    assert queue_overdue_view(store) == expected
    assert queue_marks(store) == expected
    assert panel_overdue(store) == expected
    assert {t.case_number for t in store.list_tickets() if is_overdue(t, NOW)} == expected
    late_per_agent = Counter(desk[case][2] for case in expected)
    assert {w.agent: w.overdue for w in workload(store, NOW)} == {a: late_per_agent[a] for a in AGENTS}


def test_a_resolved_ticket_owes_no_follow_up(store, desk):
    (case,) = [
        c for c, (status, scenario, _) in desk.items() if (status, scenario) == (Status.RESOLVED, "follow-up-past")
    ]
    assert case not in queue_overdue_view(store)
    assert case not in queue_marks(store)
    assert case not in panel_overdue(store)
    assert case not in {r.case_number for s in overdue(store, NOW, limit=None) for r in s.rows}
    ticket = store.get(case)
    assert not is_overdue(ticket, NOW)
    assert next_due(ticket, store.config).what == "close"  # what the row shows instead: the 7-day close


def test_the_panel_sections_say_why(store, desk):
    sections = {s.key: s for s in overdue(store, NOW, limit=None)}
    why = {r.case_number: r.what for key in ("breached", "follow_up") for r in sections[key].rows}
    assert {desk[case][1] for case in why} == {"response-late", "resolution-late", "follow-up-past"}
    for case, what in why.items():
        assert (
            what
            == {"response-late": "response", "resolution-late": "resolution", "follow-up-past": "follow-up"}[
                desk[case][1]
            ]
        )


def test_reopening_a_resolved_ticket_makes_its_promise_count_again(store, clock, desk):
    (case,) = [
        c for c, (status, scenario, _) in desk.items() if (status, scenario) == (Status.RESOLVED, "follow-up-past")
    ]
    store.add_entry(case, channel="email", direction="in", sender="buyer", summary="That did not fix it")
    assert store.get(case).status == Status.WAITING_US.slug
    assert case in queue_overdue_view(store)
    assert case in queue_marks(store)
    assert case in panel_overdue(store)


def test_the_queue_views_show_what_they_showed(store, desk):
    """Only the Overdue view changed: My tickets, Unassigned and All open still show Resolved tickets."""

    def shown(key):
        return {t.case_number for t in store.list_tickets(VIEW_BY_KEY[key].filter(store.agent, NOW))}

    def having(statuses, assignee=...):
        return {c for c, (s, _, a) in desk.items() if s in statuses and (assignee is ... or a == assignee)}

    assert shown("open") == having(NOT_CLOSED_STATUSES)
    assert shown("mine") == having(NOT_CLOSED_STATUSES, "ana")
    assert shown("unassigned") == having(NOT_CLOSED_STATUSES, None)
    assert shown("waiting") == having((Status.WAITING_BUYER, Status.WAITING_SELLER))
    assert shown("closed") == having((Status.CLOSED,))
    assert [v.key for v in VIEWS] == ["mine", "unassigned", "waiting", "overdue", "open", "closed", "stuck"]


# -- the rule itself, without a store -----------------------------------------------------------


class Like:
    """A ticket-like object: only the attributes the rule reads."""

    def __init__(self, status, **due):
        self.status = status
        for name in DUE_COLUMNS:
            setattr(self, name, due.get(name))


def test_the_status_sets():
    assert OPEN_STATUSES == tuple(s for s in Status if s not in (Status.RESOLVED, Status.CLOSED))
    assert NOT_CLOSED_STATUSES == tuple(s for s in Status if s is not Status.CLOSED)
    assert OWING_STATUSES == OPEN_STATUSES
    assert not owes(Status.RESOLVED) and not owes("closed") and owes("waiting-buyer")


def test_late_means_strictly_past():
    assert not is_late(NOW, NOW)
    assert is_late(NOW - timedelta(microseconds=1), NOW)
    assert not is_overdue(Like(Status.L1, follow_up_at=NOW), NOW)
    assert is_overdue(Like(Status.L1, follow_up_at=NOW), NOW + timedelta(seconds=1))


def test_broken_promises_most_late_first_and_a_slug_status_reads_the_same():
    t = Like(
        "waiting-us", sla_response_due_at=NOW - HOUR, sla_resolution_due_at=NOW - 2 * HOUR, follow_up_at=NOW + HOUR
    )
    assert broken_promises(t, NOW) == [Owed(Promise.RESOLUTION, NOW - 2 * HOUR), Owed(Promise.RESPONSE, NOW - HOUR)]
    assert pending_promises(t)[-1] == Owed(Promise.FOLLOW_UP, NOW + HOUR)
    t.first_response_at = NOW - 3 * HOUR
    assert [o.promise for o in broken_promises(t, NOW)] == [Promise.RESOLUTION]
    for status in (Status.RESOLVED, Status.CLOSED):
        t.status = status
        assert pending_promises(t) == [] and not is_overdue(t, NOW)
