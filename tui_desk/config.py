"""Settings from a TOML file in the user config directory, with defaults for everything."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import platformdirs

from tui_desk.domain.case_numbers import validate_code
from tui_desk.domain.errors import DeskError
from tui_desk.domain.timers import TimerPolicy

APP_NAME = "tui-desk"

DEFAULT_TEMPLATES = {
    "reminder": (
        "Hello, this is a kind reminder about case {case_number} ({subject}). We are waiting for your "
        "answer to move forward. Without an answer the case will be closed in {days_left} days."
    ),
    "auto_close": (
        "Case {case_number} ({subject}) is now closed: we waited 30 days for an answer without one. "
        "If you still need help, open a new case and mention {case_number}."
    ),
    "resolved_close": (
        "Case {case_number} ({subject}) is now closed for good: the 7 days to disagree with the "
        "resolution have passed."
    ),
}


@dataclass(frozen=True)
class Config:
    prefix: str = "TD"
    kinds: dict[str, str] = field(default_factory=lambda: {"refund": "REF", "support": "SUP"})
    timezone: str = "UTC"
    timers: TimerPolicy = field(default_factory=TimerPolicy)
    sweep_interval_s: float = 60.0
    templates: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_TEMPLATES))

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def kind_code(self, kind: str) -> str:
        try:
            return self.kinds[kind]
        except KeyError:
            raise DeskError(f"unknown kind {kind!r} (one of: {', '.join(self.kinds)})") from None


def config_path() -> Path:
    """``TUI_DESK_CONFIG`` or ``config.toml`` in the platformdirs user config directory."""
    override = os.environ.get("TUI_DESK_CONFIG")
    if override:
        return Path(override)
    return Path(platformdirs.user_config_dir(APP_NAME)) / "config.toml"


def _positive(data: dict, key: str, where: str, default: float) -> float:
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise DeskError(f"config: {where}{key} must be a positive number, not {value!r}")
    return value


def load_config(path: Path | None = None) -> Config:
    """Read the TOML file if it exists; an invalid value is refused with a message naming its key."""
    path = path or config_path()
    if not path.exists():
        return Config()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise DeskError(f"config {path}: not valid TOML ({err})") from None
    except OSError as err:
        raise DeskError(f"config {path}: cannot read ({err.strerror})") from None
    base = Config()
    prefix = validate_code(str(data.get("prefix", base.prefix)), "config: prefix")
    kinds = data.get("kinds", base.kinds)
    if not isinstance(kinds, dict) or not kinds:
        raise DeskError("config: kinds must be a table like { refund = \"REF\" }")
    kinds = {str(k): validate_code(str(v), f"config: kinds.{k}") for k, v in kinds.items()}
    timezone = str(data.get("timezone", base.timezone))
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise DeskError(f"config: timezone {timezone!r} is not a known time zone") from None
    t = data.get("timers", {})
    if not isinstance(t, dict):
        raise DeskError("config: timers must be a table")
    d = base.timers
    max_reminders = t.get("max_reminders", d.max_reminders)
    if isinstance(max_reminders, bool) or not isinstance(max_reminders, int) or max_reminders < 0:
        raise DeskError(f"config: timers.max_reminders must be a whole number >= 0, not {max_reminders!r}")
    policy = TimerPolicy(
        reminder_interval=timedelta(days=_positive(t, "reminder_days", "timers.", d.reminder_interval.days)),
        max_reminders=max_reminders,
        waiting_close_after=timedelta(days=_positive(t, "close_after_days", "timers.", d.waiting_close_after.days)),
        resolved_close_after=timedelta(
            days=_positive(t, "resolved_close_days", "timers.", d.resolved_close_after.days)
        ),
    )
    sweep = _positive(t, "sweep_interval_seconds", "timers.", base.sweep_interval_s)
    templates = dict(base.templates)
    for key, text in data.get("templates", {}).items():
        if key not in templates or not isinstance(text, str):
            raise DeskError(f"config: templates.{key} is not a known template ({', '.join(templates)})")
        templates[key] = text
    return Config(
        prefix=prefix, kinds=kinds, timezone=timezone, timers=policy, sweep_interval_s=sweep, templates=templates
    )
