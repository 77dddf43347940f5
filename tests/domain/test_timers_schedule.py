"""The pure timer schedule: next due time, reminder slots, the catch-up plan."""

from datetime import UTC, datetime, timedelta

import pytest

from tui_desk.domain.statuses import Status
from tui_desk.domain.timers import TimerPolicy, last_reminder_slot, next_due, plan_timers

P = datetime(2026, 11, 15, 14, 30, tzinfo=UTC)
DAY = timedelta(days=1)
POLICY = TimerPolicy()


def kinds(plan):
    return [(a.action, a.slot) for a in plan.actions]


def test_next_due_walks_the_slots_then_the_close():
    assert [next_due(Status.WAITING_BUYER, P, n, POLICY) for n in range(4)] == [
        P + 3 * DAY,
        P + 6 * DAY,
        P + 9 * DAY,
        P + 30 * DAY,
    ]
    assert next_due(Status.RESOLVED, P, 0, POLICY) == P + 7 * DAY
    assert next_due(Status.WAITING_US, P, 0, POLICY) is None
    assert next_due(Status.WAITING_BUYER, None, 0, POLICY) is None


@pytest.mark.parametrize(
    ("at", "done", "expected", "after"),
    [
        (3 * DAY - timedelta(seconds=1), 0, [], 0),
        (3 * DAY, 0, [("reminder", 1)], 1),
        (7 * DAY, 0, [("reminder_skipped", 1), ("reminder", 2)], 2),
        (29 * DAY, 1, [("reminder_skipped", 2), ("reminder", 3)], 3),
        (29 * DAY, 3, [], 3),
        (30 * DAY, 3, [("auto_close", 0)], 3),
        (45 * DAY, 0, [("reminder_skipped", 1), ("auto_close", 0)], 3),
        (10 * DAY, 0, [("reminder_skipped", 1), ("reminder", 3)], 3),
    ],
)
def test_catch_up_plan(at, done, expected, after):
    plan = plan_timers(Status.WAITING_SELLER, P, done, P + at, POLICY)
    assert kinds(plan) == expected
    assert plan.reminders_done == after
    assert plan.closes == (expected[-1:] == [("auto_close", 0)])


def test_resolved_plan():
    assert kinds(plan_timers(Status.RESOLVED, P, 0, P + 7 * DAY - timedelta(seconds=1), POLICY)) == []
    plan = plan_timers(Status.RESOLVED, P, 0, P + 7 * DAY, POLICY)
    assert kinds(plan) == [("resolved_close", 0)] and plan.closes and plan.actions[0].due_at == P + 7 * DAY


def test_no_plan_outside_timed_statuses():
    for status in (Status.NEW, Status.L1, Status.WAITING_US, Status.CLOSED):
        assert plan_timers(status, P, 0, P + 90 * DAY, POLICY).actions == ()


def test_reminders_never_fall_on_or_after_the_close():
    policy = TimerPolicy(reminder_interval=10 * DAY, max_reminders=5)
    assert last_reminder_slot(policy) == 2  # days 10 and 20; day 30 is the close
    assert kinds(plan_timers(Status.WAITING_BUYER, P, 2, P + 30 * DAY, policy)) == [("auto_close", 0)]
    assert last_reminder_slot(TimerPolicy(max_reminders=0)) == 0
    assert last_reminder_slot(TimerPolicy(max_reminders=10**9)) == 9  # cheap: no loop over a billion slots


def test_skipped_reminders_are_one_action_however_many():
    """A sweep after a long gap writes one skipped entry per ticket, naming the run of slots."""
    hourly = TimerPolicy(reminder_interval=timedelta(hours=1), max_reminders=20)
    plan = plan_timers(Status.WAITING_BUYER, P, 0, P + 45 * DAY, hourly)
    [skipped, close] = plan.actions
    assert (skipped.action, skipped.slot, skipped.through, list(skipped.slots)) == (
        "reminder_skipped",
        1,
        20,
        list(range(1, 21)),
    )
    assert skipped.due_at == P + timedelta(hours=1) and close.action == "auto_close"
    plan = plan_timers(Status.WAITING_BUYER, P, 2, P + timedelta(hours=9, minutes=5), hourly)
    assert [(a.action, list(a.slots)) for a in plan.actions] == [
        ("reminder_skipped", [3, 4, 5, 6, 7, 8]),
        ("reminder", [9]),
    ]
