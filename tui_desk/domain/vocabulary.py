"""The words a ticket and a log entry may use: priorities, channels, directions, senders, tags."""

from __future__ import annotations

import re

from tui_desk.domain.errors import DeskError

PRIORITIES = ("low", "normal", "high", "urgent")
CHANNELS = ("email", "chat", "phone", "social", "note")
SYSTEM_CHANNEL = "system"
DIRECTIONS = ("in", "out", "internal")
PARTIES = ("buyer", "seller", "partner")
SENDERS = (*PARTIES, "agent")
SYSTEM = "system"

# Kinds of log entry. Messages and notes are typed by people; the rest are written by the program.
ENTRY_KINDS = (
    "message",
    "note",
    "correction",
    "acknowledgement",
    "status",
    "assignment",
    "tags",
    "edit",
    "refund",
    "reminder",
    "reminder_skipped",
    "auto_close",
    "resolved_close",
    "import",
    "delivery",
)

_TAG_RE = re.compile(r"^[\w][\w.:/+-]{0,63}$", re.UNICODE)


def _choose(value: str, allowed: tuple[str, ...], what: str) -> str:
    key = value.strip().lower()
    if key not in allowed:
        raise DeskError(f"unknown {what} {value.strip()!r} (one of: {', '.join(allowed)})")
    return key


def check_priority(value: str) -> str:
    return _choose(value, PRIORITIES, "priority")


def check_channel(value: str) -> str:
    return _choose(value, CHANNELS, "channel")


def check_direction(value: str) -> str:
    return _choose(value, DIRECTIONS, "direction")


def check_sender(value: str) -> str:
    return _choose(value, SENDERS, "sender")


def resolve_party(channel: str, direction: str | None, sender: str | None) -> tuple[str, str]:
    """Fill in and check the direction and sender role of an entry typed by a person.

    An internal note is from an agent; inbound messages come from a party (the buyer unless
    said otherwise); outbound messages come from an agent.
    """
    direction = check_direction(direction) if direction else None
    sender = check_sender(sender) if sender else None
    if channel == "note":
        direction = direction or "internal"
        if direction != "internal":
            raise DeskError("a note is internal; use another channel for messages in or out")
    if direction is None:
        direction = "out" if sender == "agent" else "in"
    if sender is None:
        sender = "buyer" if direction == "in" else "agent"
    if direction == "in" and sender == "agent":
        raise DeskError("an inbound message comes from a buyer, seller or partner, not an agent")
    if direction in ("out", "internal") and sender != "agent":
        raise DeskError(
            f"an {'outbound' if direction == 'out' else 'internal'} entry is written by an agent, not a {sender}"
        )
    return direction, sender


def check_tag(value: str) -> str:
    tag = value.strip().lower()
    if not _TAG_RE.match(tag):
        raise DeskError(f"tag {value.strip()!r} must be one word of letters, digits or - _ . : / +")
    return tag


def require_text(value: str | None, what: str) -> str:
    """Refuse blank or whitespace-only text; keep the text itself exactly as given."""
    if value is None or not value.strip():
        raise DeskError(f"{what} is blank")
    if "\x00" in value:
        raise DeskError(f"{what} contains a NUL character")
    return value
