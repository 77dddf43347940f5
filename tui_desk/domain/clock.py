"""The one clock everything asks for the time: real by default, fixed or movable in tests."""

from __future__ import annotations

import os
import threading
from datetime import UTC, datetime, timedelta
from typing import Protocol

from tui_desk.domain.errors import DeskError


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time as an aware UTC datetime."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock that only moves when told to; thread-safe so workers can read it."""

    def __init__(self, at: datetime) -> None:
        self._at = to_utc(at)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._at

    def set(self, at: datetime) -> None:
        with self._lock:
            self._at = to_utc(at)

    def advance(self, delta: timedelta) -> None:
        with self._lock:
            self._at += delta


def to_utc(dt: datetime) -> datetime:
    """Aware UTC; a naive datetime is taken to be UTC already."""
    if dt.tzinfo is None:
        return dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)


def clock_from_env() -> Clock:
    """``TUI_DESK_NOW`` (ISO 8601) freezes time for demos, scripts and end-to-end tests."""
    frozen = os.environ.get("TUI_DESK_NOW")
    if frozen:
        try:
            when = datetime.fromisoformat(frozen.strip().replace("Z", "+00:00"))
            year = to_utc(when).year
        except (ValueError, OverflowError):
            raise DeskError(f"TUI_DESK_NOW={frozen!r} is not an ISO 8601 time like 2026-11-15T14:30:00Z") from None
        # Every date is kept between 1970 and 2999 (domain/dates.py); "now" must be too, with room to add days.
        if not 1970 <= year <= 2999:
            raise DeskError(f"TUI_DESK_NOW={frozen!r} is out of range (years 1970 to 2999)")
        return FixedClock(when)
    return SystemClock()
