"""Timer commands: ``sweep`` (for cron or a systemd timer), ``outbox`` (for a mail script), ``config``."""

from __future__ import annotations

import argparse
import json
from dataclasses import fields, is_dataclass
from datetime import date, time, timedelta, tzinfo

from tui_desk.cli import whole_number
from tui_desk.config import config_path
from tui_desk.domain.dates import format_when
from tui_desk.domain.errors import DeskError
from tui_desk.domain.sla import BusinessCalendar, Span
from tui_desk.domain.text import clip, printable


def register(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser("sweep", help="apply the due reminders and auto-closes once (for cron / systemd)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(handler=cmd_sweep)

    p = commands.add_parser("outbox", help="list messages waiting for delivery (and their state), or mark one sent")
    p.add_argument("--mark-sent", type=whole_number, metavar="ID", help="mark message ID as delivered")
    p.add_argument("--all", action="store_true", help="also list the messages sent, failed or bounced")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(handler=cmd_outbox)

    p = commands.add_parser("config", help="show the config file's path and the effective settings")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(handler=cmd_config)


def cmd_sweep(ctx) -> int:
    from tui_desk.store.sweep import sweep_timers

    result = sweep_timers(ctx.store(create=False))  # a mistyped --db in a cron line must not start a new store

    def text() -> str:
        lines = [result.summary() or "nothing due"]
        for a in result.actions:
            what = a["action"].replace("_", " ")
            slot = f" {a['slot']}" if a["action"] in ("reminder", "reminder_skipped") else ""
            lines.append(f"  {a['case_number']}  {what}{slot} (due {format_when(_parse(a['due_at']), ctx.config.tz)})")
        if result.duplicates:
            lines.append(f"  {result.duplicates} action(s) already applied by another sweep: nothing repeated")
        return "\n".join(lines)

    ctx.emit(result.as_dict(), text)
    return 0


def _parse(value: str):
    from datetime import datetime

    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def cmd_outbox(ctx) -> int:
    from tui_desk.store.outbox import describe_message, mark_sent, pending_outbox, state_of

    store = ctx.store(create=False)
    if ctx.args.mark_sent is not None:
        message = mark_sent(store, ctx.args.mark_sent)
        ctx.emit(describe_message(message), f"message {message.id} ({message.case_number}) marked sent")
        return 0
    messages = pending_outbox(store, include_sent=ctx.args.all)
    now = store.now()
    if getattr(ctx.args, "json", False):
        ctx.emit([describe_message(m, now) for m in messages], "")
        return 0
    if not messages:
        print("the outbox is empty" if ctx.args.all else "no messages waiting")
        return 0
    tz = ctx.config.tz
    for m in messages:
        state = state_of(m, now)
        if state == "sent":
            state = f"sent {format_when(m.sent_at, tz)}"
        elif state in ("failed", "bounced", "retrying") and m.last_error:
            state = f"{state}: {clip(printable(m.last_error, one_line=True), 40)}"
        to = printable(m.address or "(no address)", one_line=True)
        print(
            f"{m.id:>6}  {m.case_number:<20} {m.recipient:<7} {clip(to, 28):<28} {format_when(m.created_at, tz):<20} "
            f"{clip(printable(m.subject, one_line=True), 50):<50}  {state}"
        )
    return 0


def _days(span: timedelta) -> float | int:
    days = span / timedelta(days=1)
    return int(days) if days == int(days) else days


def _hours(span: timedelta) -> str:
    """A span as the ``[sla]`` keys take it back: hours (``8h``), since their days are working days."""
    return f"{span / timedelta(hours=1):g}h"


_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _plain(value):
    """A config value as TOML-ready data (dataclasses as tables, spans, times and zones as text)."""
    if isinstance(value, Span):
        return str(value)  # as written: 24h stays 24h, 3d stays 3d
    if is_dataclass(value):
        return {f.name: _plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, timedelta):
        return _hours(value)
    if isinstance(value, time):
        return "24:00" if value == time.max else value.strftime("%H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (frozenset, set, list, tuple)):
        items = sorted(value)
        if items and all(isinstance(i, int) and not isinstance(i, bool) and 0 <= i < 7 for i in items):
            return [_WEEKDAYS[i] for i in items]  # a calendar's working days
        return [_plain(i) for i in items]
    if isinstance(value, tzinfo):
        return str(value)
    return value


def effective_values(config) -> dict:
    """The settings in the shape of the TOML file, so the output can be pasted back into it."""
    values = {}
    for f in fields(config):
        if f.name == "sweep_interval_s":
            continue  # shown under [timers], where the file sets it
        value = getattr(config, f.name)
        if f.name == "timers":
            values["timers"] = {
                "reminder_days": _days(value.reminder_interval),
                "max_reminders": value.max_reminders,
                "close_after_days": _days(value.waiting_close_after),
                "resolved_close_days": _days(value.resolved_close_after),
                "sweep_interval_seconds": config.sweep_interval_s,
            }
        elif f.name == "keys":
            continue  # every id with its keys, added by cmd_config from the console's bindings
        elif f.name == "views":
            values["views"] = [{k: v for k, v in _plain(view).items() if v} for view in value]
        elif f.name == "undo_window":
            values["undo_minutes"] = int(value.total_seconds() // 60)
        elif f.name == "mail":
            if value is not None:
                values["mail"] = _mail_values(value)
        elif f.name == "refunds":
            values["refunds"] = {
                "initiate_within_days": _days(value.initiate_within),
                "refund_within_days": _days(value.refund_within),
            }
        elif f.name == "max_attachment_bytes":
            values["attachments"] = {"max_mb": value / (1024 * 1024)}
        elif f.name in ("store_url", "identity"):  # [store] url (when set) and identity
            if value is not None:
                values.setdefault("store", {})["url" if f.name == "store_url" else f.name] = value
        elif f.name == "sla":
            values["sla"] = _plain(value)
            calendar = values["sla"].pop("calendar", None)
            if isinstance(getattr(value, "calendar", None), BusinessCalendar):
                # The file's words for a calendar, not the dataclass's fields.
                holidays = calendar["holidays"]
                if calendar["country"]:
                    place = {"country": calendar["country"]}
                    if calendar["subdivision"]:
                        place["subdivision"] = calendar["subdivision"]
                    holidays = {**place, "dates": holidays}
                values["sla"]["calendar"] = {
                    "days": calendar["days"],
                    "hours": f"{calendar['start']}-{calendar['end']}",
                    "timezone": calendar["tz"],
                    "holidays": holidays,
                }
        else:
            values[f.name] = _plain(value)
    return values


def _mail_values(mail) -> dict:
    """``[mail]`` in the file's words (never a password: only where it comes from)."""
    values = {
        "from": mail.from_addr,
        "smtp_host": mail.smtp_host,
        "smtp_port": mail.smtp_port,
        "smtp_security": mail.smtp_security,
    }
    if mail.smtp_user:
        values["smtp_user"] = mail.smtp_user
    if mail.smtp_password_file:
        values["smtp_password_file"] = str(mail.smtp_password_file)
    values.update(
        timeout_seconds=mail.timeout_s,
        deliver_interval_seconds=mail.deliver_interval_s,
        max_attempts=mail.max_attempts,
        acks_per_hour=mail.acks_per_hour,
    )
    if mail.imap is not None:
        imap = {k: v for k, v in _plain(mail.imap).items() if v is not None}
        imap["interval_seconds"] = imap.pop("interval_s")
        if mail.imap.password_file:
            imap["password_file"] = str(mail.imap.password_file)
        values["imap"] = imap
    return values


def cmd_config(ctx) -> int:
    path = config_path()
    config = ctx.config  # loading it checks every value: an invalid one is a one-line error naming its key
    values = effective_values(config)
    from tui_desk.tui.keys import keys_in_force  # the console's binding ids; a bad [keys] entry is refused

    values["keys"] = keys_in_force(config)
    data = {"path": str(path), "exists": path.exists(), "values": values}
    ctx.emit(data, lambda: _as_toml(data))
    return 0


def _toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # a JSON string is a valid TOML basic string
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in value.items()) + " }"
    raise DeskError(f"cannot show the config value {value!r}")


def _toml_key(key: str) -> str:
    return key if key.replace("_", "").replace("-", "").isalnum() and key.isascii() else json.dumps(key)


def _table(lines: list[str], name: str, table: dict) -> None:
    """``[name]`` with its plain keys, then its sub-tables as ``[name.sub]``."""
    plain = {k: v for k, v in table.items() if not (isinstance(v, dict) and v)}
    nested = {k: v for k, v in table.items() if isinstance(v, dict) and v}
    if plain or not nested:
        lines.append("")
        lines.append(f"[{name}]")
        lines.extend(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in plain.items())
    for key, sub in nested.items():
        _table(lines, f"{name}.{_toml_key(key)}", sub)


def _as_toml(data: dict) -> str:
    lines = [f"# config file: {data['path']}" + ("" if data["exists"] else " (not present: all defaults)")]
    top = {k: v for k, v in data["values"].items() if not isinstance(v, dict)}
    if top:
        lines.append("")
        lines.extend(f"{k} = {_toml_value(v)}" for k, v in top.items())
    for name, table in data["values"].items():
        if isinstance(table, dict):
            _table(lines, name, table)
    return "\n".join(lines)
