"""Seed 003's interaction log: one row per contact, the rows sharing a Ticket/Interaction ID make one ticket.

Each row becomes one log entry, in time order: kind ``import`` (the row is the agent's record of the
contact, not the customer's words, so no direction or party is invented), its channel from
Communication Channel (Live Chat -> chat, Phone -> phone, ...), at the contact's start and until its
end (``2023-11-15 14:30 UTC / 2023-11-15 14:45 UTC``, zones kept), the row's Issue Summary as its
summary and its Key Actions & Agent Notes as its content, followed by every other cell verbatim.
The ticket opens at the first contact; its subject is the first row's Issue Summary; its status is
the latest Resolution Status by the sheet status rule (sheets/statuses.py). A Follow-up Date/Notes
cell that holds a date is the entry's promised follow-up (and the ticket's, when the latest such
promise falls after the last contact and the ticket is open); its words are kept either way.
"""

from __future__ import annotations

import re
from datetime import datetime

from tui_desk.domain.errors import DeskError
from tui_desk.sheets.dates import DATE_TOKEN, UnreadableDate
from tui_desk.store.imports import BadRow, EntryRecord, TicketRecord

# Words people write in a channel column, by the channel they mean (compared lower case, spaces collapsed).
CHANNEL_WORDS: dict[str, tuple[str, ...]] = {
    "chat": ("live chat", "chat", "web chat", "webchat", "online chat", "messenger", "whatsapp", "sms", "text"),
    "phone": ("phone", "phone call", "call", "telephone", "callback", "call back", "voice", "voicemail"),
    "email": ("email", "e-mail", "mail", "email thread"),
    "social": ("social", "social media", "twitter", "x", "facebook", "instagram", "tiktok"),
    "note": ("note", "notes", "internal", "internal note"),
}
_CHANNEL = {word: channel for channel, words in CHANNEL_WORDS.items() for word in words}

# "start / end", "start - end", "start to end": a separator with spaces around it (dates hold - and / too).
_SPAN_SPLIT = re.compile(r"\s+(?:/|-|–|—|to|until)\s+", re.IGNORECASE)
_TIME_ONLY = re.compile(r"^\d{1,2}:\d{2}(?::\d{2})?(?:\s*[AaPp]\.?[Mm]\.?)?(?:\s*(?P<zone>\S+))?$")
_ZONE_AT_END = re.compile(r"\s(?P<zone>Z|UTC|GMT|[+-]\d{2}:?\d{2})$", re.IGNORECASE)
_DATE_PART = re.compile(r"^(?P<date>.*?)[ T]+\d{1,2}:\d{2}")
_DATE_IN_TEXT = re.compile(r"(?<![\w/.-])(?P<date>" + DATE_TOKEN + r")(?![\w/])", re.IGNORECASE)
# An order number: an optional "Order #" / "#", then an optional upper-case prefix, then at least four
# digits (VB-778812, ORD-0012345, #12345, 112-3456789-0123456); a username such as anna.k or jdoe92 is not.
_ORDER = re.compile(r"^(?:order\s*(?:id|no\.?|number)?\s*[:#]?\s*|#)?(?P<order>(?:[A-Z]{1,6}[-_]?)*\d[\d-]{3,}\d)$")
_ORDER_PREFIX = re.compile(r"^(?:order\s*(?:id|no\.?|number)?\s*[:#]?\s*|#)", re.IGNORECASE)


def channel_of(word: str) -> str:
    """The channel a sheet's word stands for; a blank cell is a note; DeskError for a word we do not know."""
    key = " ".join(word.lower().replace("-", " - ").replace(" - ", "-").split())
    if not key:
        return "note"
    found = _CHANNEL.get(key) or _CHANNEL.get(key.replace("-", " "))
    if found is None:
        known = ", ".join(sorted({w.title() for w in ("live chat", "chat", "phone", "email", "social", "note")}))
        raise DeskError(f"unknown communication channel {word.strip()!r} (one of: {known}, …)")
    return found


def order_id_in(identifier: str) -> str | None:
    """The order number a Customer Identifier holds, if it looks like one (``Order #12345`` -> ``12345``)."""
    text = identifier.strip()
    prefixed = _ORDER_PREFIX.match(text)
    body = text[prefixed.end() :] if prefixed else text
    match = _ORDER.match(body.strip())
    return match["order"] if match else None


def contact_span(value: object, *, read) -> tuple[datetime | None, datetime | None]:
    """(start, end) of a Contact Timestamp (Start/End) cell; ``read`` reads one date (the row's zone and order).

    An end given as a time alone (``14:30 UTC / 14:45``) is on the start's day, in the start's zone.
    """
    if value is None or isinstance(value, datetime):
        return read(value), None
    text = " ".join(str(value).split())
    if not text:
        return None, None
    parts = _SPAN_SPLIT.split(text, maxsplit=1)
    start_text = parts[0]
    start = read(start_text)
    if len(parts) == 1:
        return start, None
    end_text = parts[1]
    time_only = _TIME_ONLY.match(end_text)
    if time_only:
        day = _DATE_PART.match(start_text)
        if day is None:
            raise UnreadableDate(f"the end {end_text!r} is a time, but the start {start_text!r} has none to go by")
        zone = _ZONE_AT_END.search(start_text)
        end_text = f"{day['date']} {end_text}" + (f" {zone['zone']}" if zone and not time_only["zone"] else "")
    return start, read(end_text)


def follow_up_date(value: object, *, read) -> datetime | None:
    """The date a Follow-up Date/Notes cell holds (``2023-11-17 callback promised``), or None."""
    if value is None or isinstance(value, datetime):
        return read(value)
    match = _DATE_IN_TEXT.search(str(value))
    return read(match["date"]) if match else None


def records_from_interactions(
    rows, headers: list[str], notes_index: int | None, make_row, ticket_fields
) -> list[TicketRecord | BadRow]:
    """Rows of an interaction log grouped by their ticket id into tickets, one entry per row in time order.

    ``make_row(line, values)`` makes a row of the sheet's kind from values by field; ``ticket_fields(row)``
    is the ticket part every layout shares (customer, status, dates ...).
    """
    groups: dict[str, list] = {}
    out: list[TicketRecord | BadRow] = []
    for row in rows:
        number = row.text("case_number").upper()
        if not number:
            out.append(BadRow(row.line, "no Ticket/Interaction ID (the rows of one ticket share it)"))
            continue
        groups.setdefault(number, []).append(row)
    for number, group in groups.items():
        try:
            out.append(_ticket(group, headers, notes_index, make_row, ticket_fields))
        except BadRow as bad:
            out.append(_with_its_ticket(bad, number, group))
        except DeskError as err:
            out.append(_with_its_ticket(BadRow(group[0].line, str(err)), number, group))
    out.sort(key=lambda r: r.line)
    return out


def _with_its_ticket(bad: BadRow, number: str, group: list) -> BadRow:
    """A bad row stops its whole ticket: the reason names the ticket's other rows, which go with it."""
    others = [row.line for row in group if row.line != bad.line]
    if not others:
        return bad
    lines = ", ".join(str(line) for line in others[:5]) + (f" and {len(others) - 5} more" if len(others) > 5 else "")
    return BadRow(bad.line, f"{bad.reason} (so ticket {number} is not imported: its rows on lines {lines} too)")


def _ticket(group: list, headers: list[str], notes_index: int | None, make_row, ticket_fields) -> TicketRecord:
    contacts = []
    for row in group:
        try:
            start, end = contact_span(row.values.get("contact"), read=row.reader("contact"))
        except UnreadableDate as err:
            raise BadRow(row.line, f"contact timestamp: {err}") from None
        if start is None:
            raise BadRow(row.line, "no contact timestamp")
        try:
            promised = follow_up_date(row.values.get("follow_up_notes"), read=row.reader("follow_up_notes"))
        except UnreadableDate as err:
            raise BadRow(row.line, f"follow-up date/notes: {err}") from None
        try:
            channel = channel_of(row.text("entry_channel"))
        except DeskError as err:
            raise BadRow(row.line, str(err)) from None
        contacts.append((start, row.line, end, promised, channel, row))
    contacts.sort(key=lambda c: (c[0], c[1]))
    first_row = contacts[0][5]
    last_action = max(end or start for start, _, end, *_ in contacts)
    words = [c[5].text("status") for c in contacts if c[5].text("status")]
    values = dict(first_row.values)
    values.update(opened_at=contacts[0][0], status=words[-1] if words else "", last_action_at=last_action)
    for name in ("customer", "customer_id", "email", "order_id", "subject"):  # the first row that says
        values[name] = next((c[5].values.get(name) for c in contacts if c[5].text(name)), values.get(name))
    record: TicketRecord = ticket_fields(make_row(group[0].line, values))  # where the sheet first names it
    if record.order_id is None and values.get("customer_id"):
        record.order_id = order_id_in(str(values["customer_id"]))
    for start, line, end, promised, channel, row in contacts:
        summary = row.raw("subject") if row.text("subject") else ""
        notes = row.raw("notes")
        if not summary.strip():
            summary = " ".join(notes.split())[:120] or f"{channel} contact"
        record.entries.append(
            EntryRecord(
                kind="import",
                channel=channel,
                direction="internal",
                sender="agent",
                summary=summary,
                body=_body(notes, row, headers, notes_index),
                at=start,
                until=end,
                follow_up_at=promised,
                line=line,
            )
        )
    promises = [(c[0], c[3]) for c in contacts if c[3] is not None]
    if promises and record.status.is_open and promises[-1][1] > last_action:
        record.follow_up_at = promises[-1][1]
    return record


def _body(notes: str, row, headers: list[str], notes_index: int | None) -> str:
    """The notes as written, then every other cell of the row verbatim (nothing the sheet said is lost)."""
    texts = [c.isoformat(sep=" ") if isinstance(c, datetime) else str(c or "") for c in row.cells]
    cells = [
        f"{header}: {text}"
        for i, (header, text) in enumerate(zip(headers, texts, strict=False))
        if i != notes_index and text and not text.isspace()
    ]
    trailer = f"From {row.options.source} line {row.line}:\n" + "\n".join(cells)
    return f"{notes}\n\n{trailer}" if notes.strip() else trailer
