"""The timer schedule (DESIGN §3): reminders and auto-close while waiting, the close after Resolved."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from tui_desk.domain.statuses import Status


@dataclass(frozen=True)
class TimerPolicy:
    reminder_interval: timedelta = timedelta(days=3)
    max_reminders: int = 3
    waiting_close_after: timedelta = timedelta(days=30)
    resolved_close_after: timedelta = timedelta(days=7)


def next_due(
    status: Status, period_started_at: datetime | None, reminders_done: int, policy: TimerPolicy
) -> datetime | None:
    """When the next timer action of the current period falls due, or None if no timer runs."""
    if period_started_at is None:
        return None
    if status.is_waiting_on_party:
        if reminders_done < policy.max_reminders:
            reminder_at = period_started_at + policy.reminder_interval * (reminders_done + 1)
            close_at = period_started_at + policy.waiting_close_after
            return min(reminder_at, close_at)
        return period_started_at + policy.waiting_close_after
    if status is Status.RESOLVED:
        return period_started_at + policy.resolved_close_after
    return None


@dataclass(frozen=True)
class TimerAction:
    """One timer slot of a period: a reminder to send or skip, or the close."""

    action: str  # reminder, reminder_skipped, auto_close, resolved_close
    slot: int  # reminder number 1..N; 0 for closes
    due_at: datetime
    through: int = 0  # reminder_skipped: the last of the skipped slots ``slot..through`` (0: ``slot`` alone)

    @property
    def slots(self) -> range:
        """The reminder slots this action stands for: one, or a run of skipped ones."""
        return range(self.slot, max(self.slot, self.through) + 1)


@dataclass(frozen=True)
class TimerPlan:
    """What a sweep at ``now`` does to one ticket, and the ticket's timer state afterwards."""

    actions: tuple[TimerAction, ...]
    reminders_done: int
    closes: bool

    @property
    def sent(self) -> TimerAction | None:
        for a in self.actions:
            if a.action != "reminder_skipped":
                return a
        return None


def reminder_due(period_started_at: datetime, slot: int, policy: TimerPolicy) -> datetime:
    return period_started_at + policy.reminder_interval * slot


def last_reminder_slot(policy: TimerPolicy) -> int:
    """The last reminder actually sent in a period: at most ``max_reminders``, and only those due before the close."""
    before_close = math.ceil(policy.waiting_close_after / policy.reminder_interval) - 1
    return max(0, min(policy.max_reminders, before_close))


def plan_timers(
    status: Status, period_started_at: datetime | None, reminders_done: int, now: datetime, policy: TimerPolicy
) -> TimerPlan:
    """The catch-up rules: a due close wins (the unsent reminders are recorded as skipped, none is sent);
    otherwise only the latest due reminder is sent and the earlier due ones are recorded as skipped.
    The skipped ones are one action, so a sweep writes at most one skipped entry per ticket."""
    if period_started_at is None:
        return TimerPlan((), reminders_done, False)
    if status is Status.RESOLVED:
        close_at = period_started_at + policy.resolved_close_after
        if now >= close_at:
            return TimerPlan((TimerAction("resolved_close", 0, close_at),), reminders_done, True)
        return TimerPlan((), reminders_done, False)
    if not status.is_waiting_on_party:
        return TimerPlan((), reminders_done, False)
    close_at = period_started_at + policy.waiting_close_after
    # Reminder slots that still lie before the close; a reminder due at or after it is never sent.
    last = last_reminder_slot(policy)
    slots = list(range(reminders_done + 1, last + 1))
    if now >= close_at:
        skipped = _skipped(slots, period_started_at, policy)
        return TimerPlan((*skipped, TimerAction("auto_close", 0, close_at)), max([reminders_done, *slots]), True)
    due = [s for s in slots if reminder_due(period_started_at, s, policy) <= now]
    if not due:
        return TimerPlan((), reminders_done, False)
    latest = due[-1]
    actions = [*_skipped(due[:-1], period_started_at, policy)]
    actions.append(TimerAction("reminder", latest, reminder_due(period_started_at, latest, policy)))
    return TimerPlan(tuple(actions), latest, False)


def _skipped(slots: list[int], period_started_at: datetime, policy: TimerPolicy) -> tuple[TimerAction, ...]:
    """The skipped reminders as ONE action (one log entry, however long no sweep ran), or none."""
    if not slots:
        return ()
    first, last = slots[0], slots[-1]
    return (TimerAction("reminder_skipped", first, reminder_due(period_started_at, first, policy), last),)
