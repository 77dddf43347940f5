"""Settings from a TOML file in the user config directory, with defaults for everything."""

from __future__ import annotations

import difflib
import math
import os
import string
import tomllib
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import platformdirs

from tui_desk.domain.case_numbers import validate_code
from tui_desk.domain.errors import DeskError
from tui_desk.domain.log_texts import ACKNOWLEDGEMENT_TEMPLATE
from tui_desk.domain.refunds import RefundPolicy
from tui_desk.domain.sla import AroundTheClock, SlaPolicy, SlaTarget, make_calendar, parse_span
from tui_desk.domain.statuses import parse_status
from tui_desk.domain.timers import TimerPolicy
from tui_desk.domain.vocabulary import PRIORITIES

APP_NAME = "tui-desk"

DEFAULT_TEMPLATES = {
    "reminder": (
        "Hello, this is a kind reminder about case {case_number} ({subject}). We are waiting for your "
        "answer to move forward. Without an answer the case will be closed in {days_left} days."
    ),
    "auto_close": (
        "Case {case_number} ({subject}) is now closed: we waited {days} days for an answer without one. "
        "If you still need help, open a new case and mention {case_number}."
    ),
    "resolved_close": (
        "Case {case_number} ({subject}) is now closed for good: the {days} days to disagree with the "
        "resolution have passed."
    ),
    "acknowledgement": ACKNOWLEDGEMENT_TEMPLATE,
}


# The placeholders a template may use ({days}: the waiting or resolved period in days).
TEMPLATE_FIELDS = ("case_number", "subject", "days_left", "days", "party", "customer", "description")
TIMER_KEYS = ("reminder_days", "max_reminders", "close_after_days", "resolved_close_days", "sweep_interval_seconds")
MAX_TIMER_DAYS = 3650
MAX_REMINDERS = 20
MIN_REMINDER_DAYS = 1 / 24  # an hour: more often is a flood, not a reminder
TOP_KEYS = (
    "prefix",
    "kinds",
    "timezone",
    "timers",
    "templates",
    "sla",
    "undo_minutes",
    "attachments",
    "refunds",
    "keys",
    "views",
    "console",
    "store",
    "mail",
)
REFUND_KEYS = ("initiate_within_days", "refund_within_days")
MAX_REFUND_DAYS = 365
STORE_KEYS = ("url", "identity")
IDENTITIES = ("login", "database")
MAX_ATTACHMENT_MB = 25


def _unknown(key: str, where: str, known) -> DeskError:
    """An unknown setting, with the nearest known one (a typo is the usual reason)."""
    near = difflib.get_close_matches(key, list(known), n=1)
    hint = f'; did you mean "{near[0]}"?' if near else f" (known: {', '.join(known)})"
    return DeskError(f"config: {where}{key} is not a setting{hint}")


MAIL_KEYS = (
    "from",
    "smtp_host",
    "smtp_port",
    "smtp_security",
    "smtp_user",
    "smtp_password_file",
    "timeout_seconds",
    "deliver_interval_seconds",
    "max_attempts",
    "acks_per_hour",
    "imap",
)
IMAP_KEYS = ("host", "port", "security", "user", "password_file", "folder", "move_to", "flag", "interval_seconds")
IMAP_PASSWORD_ENV = "TUI_DESK_IMAP_PASSWORD"
SMTP_SECURITY = ("starttls", "ssl", "none")
PASSWORD_ENV = "TUI_DESK_SMTP_PASSWORD"


def _read_password(env: str, path: Path | None, key: str) -> str | None:
    """A password from ``env``, else from the file at ``path`` (owner-only, as an ssh key), else none."""
    from_env = os.environ.get(env)
    if from_env:
        return from_env
    if path is None:
        return None
    try:
        mode = path.stat().st_mode & 0o777
        if mode & 0o077:
            raise DeskError(f"config: {key} {path} may be read by others (mode {mode:03o}); chmod 600 {path}")
        return path.read_text(encoding="utf-8").strip("\r\n")
    except OSError as err:
        raise DeskError(f"config: {key} {path}: cannot read ({err.strerror})") from None


@dataclass(frozen=True)
class ImapConfig:
    """``[mail.imap]``: the mailbox ``tui-desk fetch`` (and an open console) reads."""

    host: str
    port: int = 993
    security: str = "ssl"
    user: str = ""
    password_file: Path | None = None
    folder: str = "INBOX"
    move_to: str | None = None  # handled messages are moved there (else only flagged)
    flag: str = "$TuiDesk"  # the keyword a handled message gets (never deleted)
    interval_s: float = 60.0

    def password(self) -> str | None:
        return _read_password(IMAP_PASSWORD_ENV, self.password_file, "mail.imap.password_file")


def imap_config(m) -> ImapConfig:
    if not isinstance(m, dict):
        raise DeskError("config: mail.imap must be a table")
    for key in m:
        if key not in IMAP_KEYS:
            raise _unknown(key, "mail.imap.", IMAP_KEYS)
    host = m.get("host")
    if not isinstance(host, str) or not host.strip() or any(c.isspace() for c in host.strip()):
        raise DeskError(f"config: mail.imap.host must be a host name, not {host!r}")
    security = m.get("security", "ssl")
    if security not in SMTP_SECURITY:
        raise DeskError(f"config: mail.imap.security must be one of {', '.join(SMTP_SECURITY)}, not {security!r}")
    port = m.get("port", 993 if security == "ssl" else 143)
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        raise DeskError(f"config: mail.imap.port must be a port number from 1 to 65535, not {port!r}")
    texts = {}
    for key, default in (("user", None), ("folder", "INBOX"), ("move_to", None), ("flag", "$TuiDesk")):
        value = m.get(key, default)
        if value is not None and (not isinstance(value, str) or not value.strip() or any(c in value for c in '\r\n"')):
            raise DeskError(f"config: mail.imap.{key} must be a name, not {value!r}")
        texts[key] = value.strip() if isinstance(value, str) else value
    if not texts["user"]:
        raise DeskError("config: mail.imap.user is required")
    if not all(c.isalnum() or c in "$_-" for c in texts["flag"]):
        raise DeskError(f"config: mail.imap.flag must be an IMAP keyword such as $TuiDesk, not {texts['flag']!r}")
    password_file = m.get("password_file")
    if password_file is not None:
        if not isinstance(password_file, str) or not password_file.strip():
            raise DeskError(f"config: mail.imap.password_file must be a path, not {password_file!r}")
        password_file = Path(password_file).expanduser()
    interval = _positive(m, "interval_seconds", "mail.imap.", 60.0)
    if interval > 86400:
        raise DeskError(f"config: mail.imap.interval_seconds must be at most 86400, not {interval!r}")
    return ImapConfig(
        host=host.strip(),
        port=port,
        security=security,
        password_file=password_file,
        interval_s=float(interval),
        **texts,
    )


@dataclass(frozen=True)
class MailConfig:
    """``[mail]``: who the messages are from and the SMTP server that takes them."""

    from_addr: str
    smtp_host: str
    smtp_port: int = 587
    smtp_security: str = "starttls"
    smtp_user: str | None = None
    smtp_password_file: Path | None = None
    timeout_s: float = 30.0
    deliver_interval_s: float = 5.0  # how often an open console looks for messages to send
    max_attempts: int = 8  # temporary failures retried with backoff this many times, then failed
    acks_per_hour: int = 5  # acknowledgements to one address (two auto-responders must not loop)
    imap: ImapConfig | None = None

    @property
    def from_domain(self) -> str:
        """The domain of ``from``, for our Message-IDs."""
        from email.utils import parseaddr

        return parseaddr(self.from_addr)[1].rpartition("@")[2] or "tui-desk.invalid"

    def smtp_password(self) -> str | None:
        """``TUI_DESK_SMTP_PASSWORD``, else ``smtp_password_file`` (owner-only, as an ssh key), else none."""
        return _read_password(PASSWORD_ENV, self.smtp_password_file, "mail.smtp_password_file")


def mail_config(m) -> MailConfig:
    """Check ``[mail]``: every key known, the address and the server given, numbers within bounds."""
    from email.utils import parseaddr

    if not isinstance(m, dict):
        raise DeskError("config: mail must be a table")
    for key in m:
        if key not in MAIL_KEYS:
            raise _unknown(key, "mail.", MAIL_KEYS)
    sender = m.get("from")
    if not isinstance(sender, str) or "@" not in parseaddr(sender)[1] or any(c in sender for c in "\r\n"):
        raise DeskError(f'config: mail.from must be an address like "Support <support@example.com>", not {sender!r}')
    host = m.get("smtp_host")
    if not isinstance(host, str) or not host.strip() or any(c.isspace() for c in host.strip()):
        raise DeskError(f"config: mail.smtp_host must be a host name, not {host!r}")
    security = m.get("smtp_security", "starttls")
    if security not in SMTP_SECURITY:
        raise DeskError(f"config: mail.smtp_security must be one of {', '.join(SMTP_SECURITY)}, not {security!r}")
    port = m.get("smtp_port", 465 if security == "ssl" else 587)
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        raise DeskError(f"config: mail.smtp_port must be a port number from 1 to 65535, not {port!r}")
    user = m.get("smtp_user")
    if user is not None and (not isinstance(user, str) or not user.strip()):
        raise DeskError(f"config: mail.smtp_user must be a user name, not {user!r}")
    password_file = m.get("smtp_password_file")
    if password_file is not None:
        if not isinstance(password_file, str) or not password_file.strip():
            raise DeskError(f"config: mail.smtp_password_file must be a path, not {password_file!r}")
        password_file = Path(password_file).expanduser()
    timeout = _positive(m, "timeout_seconds", "mail.", 30.0)
    interval = _positive(m, "deliver_interval_seconds", "mail.", 5.0)
    for key, value, top in (("timeout_seconds", timeout, 600), ("deliver_interval_seconds", interval, 3600)):
        if value > top:
            raise DeskError(f"config: mail.{key} must be at most {top}, not {value!r}")
    counts = {}
    for key, default, low, high in (("max_attempts", 8, 1, 100), ("acks_per_hour", 5, 0, 1000)):
        value = m.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise DeskError(f"config: mail.{key} must be a whole number from {low} to {high}, not {value!r}")
        counts[key] = value
    return MailConfig(
        from_addr=sender.strip(),
        smtp_host=host.strip(),
        smtp_port=port,
        smtp_security=security,
        smtp_user=user.strip() if user else None,
        smtp_password_file=password_file,
        timeout_s=float(timeout),
        deliver_interval_s=float(interval),
        imap=imap_config(m["imap"]) if "imap" in m else None,
        **counts,
    )


@dataclass(frozen=True)
class SavedView:
    """A ``[[views]]`` entry: a named queue filter with its own key, sort and columns."""

    name: str
    key: str = ""  # a key on the queue that switches to it ("" = palette only)
    status: tuple[str, ...] = ()  # status slugs
    assignee: str = ""  # "me", "none", or an agent's name
    tag: str = ""
    kind: str = ""
    priority: tuple[str, ...] = ()
    text: str = ""  # the search box's text
    due: str = ""  # "overdue", or a span ("24h", "3d"): something falls due within it
    sort: str = ""  # a column key; "-due" sorts descending
    columns: tuple[str, ...] = ()  # the queue's column keys, in order ("" = all that fit)

    @property
    def slug(self) -> str:
        return "saved:" + self.name


@dataclass(frozen=True)
class ConsoleSettings:
    """``[console]``: what the console tells the agent by itself."""

    notify: bool = True  # a toast when a party answers one of my tickets or one becomes overdue
    bell: bool = True  # and the terminal bell, once
    columns: tuple[str, ...] = ()  # the queue's columns when the view names none


@dataclass(frozen=True)
class Config:
    prefix: str = "TD"
    kinds: dict[str, str] = field(default_factory=lambda: {"refund": "REF", "support": "SUP"})
    timezone: str = "UTC"
    timers: TimerPolicy = field(default_factory=TimerPolicy)
    sweep_interval_s: float = 60.0
    templates: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_TEMPLATES))
    sla: SlaPolicy = field(default_factory=SlaPolicy)
    undo_window: timedelta = timedelta(minutes=10)  # how long an agent may undo their own last change
    max_attachment_bytes: int = MAX_ATTACHMENT_MB * 1024 * 1024
    mail: MailConfig | None = None  # no [mail] section: nothing is sent, the outbox fills
    refunds: RefundPolicy = field(default_factory=RefundPolicy)  # when a refund counts as stuck
    keys: dict[str, str] = field(default_factory=dict)  # binding id -> keys (the console checks the ids)
    views: tuple[SavedView, ...] = ()  # [[views]]: the agent's own queue views
    console: ConsoleSettings = field(default_factory=lambda: ConsoleSettings())
    store_url: str | None = None  # [store] url: the store when neither --db nor TUI_DESK_DB names one
    identity: str = "login"  # [store] identity: "database" makes the database role the acting agent

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
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise DeskError(f"config: {where}{key} must be a positive number, not {value!r}")
    return value


def _check_template(key: str, text: str) -> str:
    """Refuse a template the sweep could not fill, now rather than when a reminder falls due."""
    try:
        names = [name for _, name, _, _ in string.Formatter().parse(text) if name is not None]
    except ValueError as err:
        raise DeskError(f"config: templates.{key} is not a valid template ({err}; write {{{{ for a brace)") from None
    for name in names:
        if name not in TEMPLATE_FIELDS:
            allowed = ", ".join("{" + f + "}" for f in TEMPLATE_FIELDS)
            raise DeskError(f"config: templates.{key} uses {{{name}}}, which is not one of {allowed}")
    try:
        text.format(
            case_number="TD-REF-2026-00001",
            subject="s",
            days_left=1,
            days=30,
            party="buyer",
            customer="c",
            description="d",
        )
    except (ValueError, KeyError, IndexError, AttributeError) as err:
        raise DeskError(f"config: templates.{key} cannot be filled in ({err})") from None
    return text


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
    for key in data:
        if key not in TOP_KEYS:
            raise _unknown(key, "", TOP_KEYS)
    base = Config()
    prefix = validate_code(str(data.get("prefix", base.prefix)), "config: prefix")
    kinds = data.get("kinds", base.kinds)
    if not isinstance(kinds, dict) or not kinds:
        raise DeskError('config: kinds must be a table like { refund = "REF" }')
    kinds = {str(k): validate_code(str(v), f"config: kinds.{k}") for k, v in kinds.items()}
    timezone = str(data.get("timezone", base.timezone))
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise DeskError(f"config: timezone {timezone!r} is not a known time zone") from None
    t = data.get("timers", {})
    if not isinstance(t, dict):
        raise DeskError("config: timers must be a table")
    for key, value in t.items():
        if key not in TIMER_KEYS:
            raise _unknown(key, "timers.", TIMER_KEYS)
        if key.endswith("_days") and isinstance(value, (int, float)) and value > MAX_TIMER_DAYS:
            raise DeskError(f"config: timers.{key} must be at most {MAX_TIMER_DAYS} days, not {value!r}")
    d = base.timers
    max_reminders = t.get("max_reminders", d.max_reminders)
    if isinstance(max_reminders, bool) or not isinstance(max_reminders, int) or not 0 <= max_reminders <= MAX_REMINDERS:
        raise DeskError(
            f"config: timers.max_reminders must be a whole number from 0 to {MAX_REMINDERS}, not {max_reminders!r}"
        )
    reminder_days = _positive(t, "reminder_days", "timers.", d.reminder_interval.days)
    if reminder_days < MIN_REMINDER_DAYS:
        raise DeskError(
            f"config: timers.reminder_days must be at least an hour ({MIN_REMINDER_DAYS:.4f}), not {reminder_days!r}"
        )
    policy = TimerPolicy(
        reminder_interval=timedelta(days=reminder_days),
        max_reminders=max_reminders,
        waiting_close_after=timedelta(days=_positive(t, "close_after_days", "timers.", d.waiting_close_after.days)),
        resolved_close_after=timedelta(
            days=_positive(t, "resolved_close_days", "timers.", d.resolved_close_after.days)
        ),
    )
    sweep = _positive(t, "sweep_interval_seconds", "timers.", base.sweep_interval_s)
    templates = dict(base.templates)
    given = data.get("templates", {})
    if not isinstance(given, dict):
        raise DeskError("config: templates must be a table")
    for key, text in given.items():
        if key not in templates:
            raise DeskError(f"config: templates.{key} is not a known template ({', '.join(templates)})")
        if not isinstance(text, str) or not text.strip():
            raise DeskError(f"config: templates.{key} must be a non-empty text")
        templates[key] = _check_template(key, text)
    return Config(
        prefix=prefix,
        kinds=kinds,
        timezone=timezone,
        timers=policy,
        sweep_interval_s=sweep,
        templates=templates,
        sla=_sla_policy(data.get("sla", {}), timezone),
        undo_window=timedelta(minutes=_undo_minutes(data)),
        max_attachment_bytes=_attachment_limit(data.get("attachments", {})),
        mail=mail_config(data["mail"]) if "mail" in data else None,
        refunds=_refund_policy(data.get("refunds", {})),
        keys=_keys_table(data.get("keys", {})),
        views=_views(data.get("views", []), kinds),
        console=_console(data.get("console", {})),
        **_store_table(data.get("store", {})),
    )


def _refund_policy(r) -> RefundPolicy:
    """``[refunds]``: how many days a refund may wait to be initiated, then to be refunded, before it is stuck."""
    if not isinstance(r, dict):
        raise DeskError("config: refunds must be a table")
    for key in r:
        if key not in REFUND_KEYS:
            raise _unknown(key, "refunds.", REFUND_KEYS)
    base = RefundPolicy()
    spans = {}
    for key, attr, default in (
        ("initiate_within_days", "initiate_within", base.initiate_within),
        ("refund_within_days", "refund_within", base.refund_within),
    ):
        days = r.get(key, default / timedelta(days=1))
        if (
            isinstance(days, bool)
            or not isinstance(days, (int, float))
            or not math.isfinite(days)
            or not 0 < days <= MAX_REFUND_DAYS
        ):
            raise DeskError(
                f"config: refunds.{key} must be a number of days above 0, at most {MAX_REFUND_DAYS}, not {days!r}"
            )
        spans[attr] = timedelta(days=days)
    return RefundPolicy(**spans)


def _store_table(s) -> dict:
    """``[store]``: ``url`` (a path or a postgresql:// URL) and ``identity`` ("login" or "database")."""
    if not isinstance(s, dict):
        raise DeskError("config: store must be a table")
    for key in s:
        if key not in STORE_KEYS:
            raise _unknown(key, "store.", STORE_KEYS)
    url = s.get("url")
    if url is not None and (not isinstance(url, str) or not url.strip()):
        raise DeskError("config: store.url must be a path or a postgresql:// URL")
    identity = s.get("identity", "login")
    if identity not in IDENTITIES:
        raise DeskError(f"config: store.identity must be one of {', '.join(IDENTITIES)}, not {identity!r}")
    return {"store_url": url.strip() if url else None, "identity": identity}


def _attachment_limit(a) -> int:
    """``[attachments] max_mb``: the largest file ``log --attach`` takes (default 25 MB)."""
    if not isinstance(a, dict):
        raise DeskError("config: attachments must be a table")
    for key in a:
        if key != "max_mb":
            raise _unknown(key, "attachments.", ("max_mb",))
    mb = a.get("max_mb", MAX_ATTACHMENT_MB)
    if isinstance(mb, bool) or not isinstance(mb, (int, float)) or not math.isfinite(mb) or not 0 < mb <= 4096:
        raise DeskError(f"config: attachments.max_mb must be a number of megabytes from 0 to 4096, not {mb!r}")
    return int(mb * 1024 * 1024)


def _undo_minutes(data: dict) -> int:
    value = data.get("undo_minutes", 10)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 24 * 60:
        raise DeskError(f"config: undo_minutes must be a whole number of minutes from 0 to 1440, not {value!r}")
    return value


def _sla_policy(s, timezone: str) -> SlaPolicy:
    """``[sla]``: at_risk, no_action_days, closing_soon_days, ``[sla.targets.PRIORITY]`` and ``[sla.calendar]``."""
    if not isinstance(s, dict):
        raise DeskError("config: sla must be a table")
    base = SlaPolicy()
    at_risk = s.get("at_risk", base.at_risk)
    if isinstance(at_risk, bool) or not isinstance(at_risk, (int, float)) or not 0 < at_risk < 1:
        raise DeskError(f"config: sla.at_risk must be a fraction between 0 and 1 (e.g. 0.75), not {at_risk!r}")
    counts = {}
    for key in ("no_action_days", "closing_soon_days"):
        value = s.get(key, getattr(base, key))
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise DeskError(f"config: sla.{key} must be a whole number >= 1, not {value!r}")
        counts[key] = value
    targets = dict(base.targets)
    given = s.get("targets", {})
    if not isinstance(given, dict):
        raise DeskError("config: sla.targets must be a table of priorities")
    for priority, spec in given.items():
        if priority not in targets or not isinstance(spec, dict):
            raise DeskError(f"config: sla.targets.{priority} is not a priority ({', '.join(targets)})")
        unknown = set(spec) - {"response", "resolution"}
        if unknown:
            raise DeskError(f"config: sla.targets.{priority}.{sorted(unknown)[0]} is not response or resolution")
        where = f"config: sla.targets.{priority}."
        targets[priority] = SlaTarget(
            response=parse_span(spec.get("response", ""), where + "response")
            if "response" in spec
            else targets[priority].response,
            resolution=parse_span(spec["resolution"], where + "resolution")
            if "resolution" in spec
            else targets[priority].resolution,
        )
    cal = s.get("calendar")
    if cal is None:
        calendar = AroundTheClock()
    elif not isinstance(cal, dict):
        raise DeskError("config: sla.calendar must be a table")
    else:
        unknown = set(cal) - {"days", "hours", "timezone", "holidays"}
        if unknown:
            raise DeskError(f"config: sla.calendar.{sorted(unknown)[0]} is not a calendar key")
        calendar = make_calendar(
            days=cal.get("days"),
            hours=cal.get("hours", "09:00-17:00"),
            tz=cal.get("timezone", timezone),
            holidays=cal.get("holidays", []),
        )
    return SlaPolicy(targets=targets, calendar=calendar, at_risk=float(at_risk), **counts)


VIEW_FIELDS = ("name", "key", "status", "assignee", "tag", "kind", "priority", "text", "due", "sort", "columns")
VIEW_COLUMNS = (
    "case",
    "status",
    "priority",
    "assignee",
    "customer",
    "order",
    "subject",
    "tags",
    "opened",
    "last_action",
    "due",
    "refund",
)


def _keys_table(k, prefix: str = "") -> dict[str, str]:
    """``[keys]``: binding id = keys; ``queue.log`` may be written quoted or as a ``[keys.queue]`` table."""
    if not isinstance(k, dict):
        raise DeskError('config: keys must be a table like { "queue.log" = "ctrl+l" }')
    out: dict[str, str] = {}
    for name, value in k.items():
        full = f"{prefix}{name}"
        if isinstance(value, dict):
            out.update(_keys_table(value, full + "."))
        elif isinstance(value, str) and value.strip():
            out[full] = ",".join(part.strip() for part in value.split(","))
        else:
            raise DeskError(f'config: keys.{full} must be keys like "ctrl+l" or "f5,ctrl+l", not {value!r}')
    return out


def check_keymap(keys: dict[str, str], known: dict[str, str], is_key) -> dict[str, str]:
    """Refuse an id the console does not have, or a key it cannot bind, naming the nearest right one.

    ``known`` maps each binding id to its default keys; ``is_key`` says whether a key name can be bound
    (the console knows Textual's key names; this module stays free of Textual).
    """
    for binding_id, value in keys.items():
        if binding_id not in known:
            near = difflib.get_close_matches(binding_id, list(known), n=1, cutoff=0.5)
            hint = f'; did you mean "{near[0]}"?' if near else " (tui-desk config lists the ids)"
            raise DeskError(f"config: keys.{binding_id} is not a key binding of the console{hint}")
        for key in value.split(","):
            if not is_key(key):
                near = next((n for n in _key_spellings(key) if n != key and is_key(n)), None)
                hint = f'; did you mean "{near}"?' if near else ' (e.g. "ctrl+l", "f5", "question_mark")'
                raise DeskError(f"config: keys.{binding_id} = {key!r} is not a key{hint}")
    return dict(keys)


def _key_spellings(key: str) -> list[str]:
    """What a mistyped key was likely meant to be: ``^l``/``C-l``/``ctrll``/``Ctrl+L`` -> ``ctrl+l``."""
    k = key.strip()
    out = [k.lower(), k.replace(" ", "_").lower()]
    for short, long in (("^", "ctrl+"), ("c-", "ctrl+"), ("m-", "alt+"), ("s-", "shift+")):
        if k.lower().startswith(short):
            out.append(long + k[len(short) :].lower())
    for mod in ("ctrl", "shift", "alt"):
        if k.lower().startswith(mod) and not k.lower().startswith(mod + "+"):
            out.append(mod + "+" + k[len(mod) :].lstrip("-_ ").lower())
    return out


def _string_list(value, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise DeskError(f"config: {where} must be a text or a list of texts")
    return tuple(v.strip() for v in value)


def _views(views, kinds: dict[str, str]) -> tuple[SavedView, ...]:
    """``[[views]]``: each a table with a name and filters; a wrong field or value names the view."""
    if not isinstance(views, list):
        raise DeskError("config: views must be a list of tables ([[views]])")
    out: list[SavedView] = []
    names: set[str] = set()
    for i, v in enumerate(views, start=1):
        if not isinstance(v, dict):
            raise DeskError(f"config: views #{i} must be a table")
        name = v.get("name")
        if not isinstance(name, str) or not name.strip():
            raise DeskError(f"config: views #{i} needs a name")
        name = name.strip()
        where = f"views.{name!r}."
        for key in v:
            if key not in VIEW_FIELDS:
                raise _unknown(key, where, VIEW_FIELDS)
        if name.lower() in names:
            raise DeskError(f"config: two views are named {name!r}")
        names.add(name.lower())
        try:
            statuses = tuple(parse_status(s).slug for s in _string_list(v.get("status", []), where + "status"))
        except DeskError as err:
            raise DeskError(f"config: {where}status: {err}") from None
        priorities = tuple(p.lower() for p in _string_list(v.get("priority", []), where + "priority"))
        for p in priorities:
            if p not in PRIORITIES:
                raise DeskError(f"config: {where}priority {p!r} is not one of {', '.join(PRIORITIES)}")
        kind = str(v.get("kind", "")).strip()
        if kind and kind not in kinds:
            raise DeskError(f"config: {where}kind {kind!r} is not one of {', '.join(kinds)}")
        due = str(v.get("due", "")).strip()
        if due and due != "overdue":
            parse_span(due, f"config: {where}due")
        sort = str(v.get("sort", "")).strip()
        if sort and sort.lstrip("-") not in VIEW_COLUMNS:
            raise _unknown(sort.lstrip("-"), where + "sort = ", VIEW_COLUMNS)
        columns = _string_list(v.get("columns", []), where + "columns")
        for c in columns:
            if c not in VIEW_COLUMNS:
                raise _unknown(c, where + "columns: ", VIEW_COLUMNS)
        key = v.get("key", "")
        if not isinstance(key, str):
            raise DeskError(f'config: {where}key must be a key like "7" or "ctrl+b"')
        out.append(
            SavedView(
                name=name,
                key=key.strip(),
                status=statuses,
                assignee=str(v.get("assignee", "")).strip(),
                tag=str(v.get("tag", "")).strip().lower(),
                kind=kind,
                priority=priorities,
                text=str(v.get("text", "")).strip(),
                due=due,
                sort=sort,
                columns=columns,
            )
        )
    return tuple(out)


def _console(c) -> ConsoleSettings:
    """``[console]``: notify, bell (true/false), columns (the queue's columns by default)."""
    if not isinstance(c, dict):
        raise DeskError("config: console must be a table")
    known = ("notify", "bell", "columns")
    for key in c:
        if key not in known:
            raise _unknown(key, "console.", known)
    for key in ("notify", "bell"):
        if not isinstance(c.get(key, True), bool):
            raise DeskError(f"config: console.{key} must be true or false, not {c[key]!r}")
    columns = _string_list(c.get("columns", []), "console.columns")
    for col in columns:
        if col not in VIEW_COLUMNS:
            raise _unknown(col, "console.columns: ", VIEW_COLUMNS)
    return ConsoleSettings(notify=c.get("notify", True), bell=c.get("bell", True), columns=columns)


def _toml_text(value: str) -> str:
    import json

    return json.dumps(value, ensure_ascii=False)  # a JSON string is a valid TOML basic string


def view_as_toml(view: SavedView) -> str:
    """A ``[[views]]`` block for this view (only the fields it sets)."""
    lines = ["[[views]]"]
    for name in VIEW_FIELDS:
        value = getattr(view, name)
        if not value:
            continue
        if isinstance(value, tuple):
            lines.append(f"{name} = [{', '.join(_toml_text(v) for v in value)}]")
        else:
            lines.append(f"{name} = {_toml_text(value)}")
    return "\n".join(lines) + "\n"


def append_view(view: SavedView, path: Path | None = None) -> Path:
    """Add a ``[[views]]`` block at the end of the config file (made if missing); the file is read back and,
    if it no longer loads (a view of that name exists, ``views`` written another way), left as it was."""
    path = path or config_path()
    before = path.read_text(encoding="utf-8") if path.exists() else None
    text = (before or "").rstrip("\n")
    text = (text + "\n\n" if text else "") + view_as_toml(view)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    try:
        load_config(path)
    except DeskError:
        if before is None:
            path.unlink()
        else:
            path.write_text(before, encoding="utf-8")
        raise
    return path
