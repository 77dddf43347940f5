"""The timer schedule (DESIGN §3): reminders and auto-close while waiting, the close after Resolved."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from tui_desk.domain.statuses import Status


@dataclass(frozen=True)
class TimerPolicy:
    reminder_interval: timedelta = timedelta(days=3)
    max_reminders: int = 3
    waiting_close_after: timedelta = timedelta(days=30)
    resolved_close_after: timedelta = timedelta(days=7)


def next_due(status: Status, period_started_at: datetime | None, reminders_done: int, policy: TimerPolicy) -> datetime | None:
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
