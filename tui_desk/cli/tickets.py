"""Ticket commands: demo, new, log, status, assign, tag, refund, show, list."""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from pathlib import Path

from tui_desk.cli import whole_number
from tui_desk.domain.dates import format_when, parse_when
from tui_desk.domain.errors import DeskError
from tui_desk.domain.statuses import OPEN_STATUSES, parse_status, status_of
from tui_desk.domain.text import clip, printable
from tui_desk.domain.vocabulary import CHANNELS, DIRECTIONS, PRIORITIES, SENDERS
from tui_desk.store import TicketFilter, TicketSnapshot, describe_entry
from tui_desk.store.commands import EDITABLE_FIELDS


def register(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser("demo", help="build a realistic demo store and open the console on it")
    p.add_argument("--tickets", type=whole_number, default=2000, metavar="N", help="how many tickets (default 2000)")
    p.add_argument("--seed", type=whole_number, default=7, metavar="S", help="random seed (default 7)")
    p.add_argument(
        "--no-open", action="store_true", help="build the store, list a few tickets, do not open the console"
    )
    p.add_argument("--fresh", action="store_true", help="rebuild even if a demo store with these settings exists")
    p.set_defaults(handler=cmd_demo)

    p = commands.add_parser("new", help="open a ticket")
    p.add_argument("--customer", required=True, help="customer name or username")
    p.add_argument("--subject", required=True, help="the issue in a line")
    p.add_argument("--kind", default="refund", help="refund or support (or a configured kind)")
    p.add_argument("--email", help="customer contact email")
    p.add_argument("--seller-email", help="where messages for the seller go")
    p.add_argument("--partner-email", help="where messages for the partner go")
    p.add_argument("--order", help="order id")
    p.add_argument("--reason", help="reason or category, e.g. 'defective item'")
    p.add_argument("--priority", default="normal", help=f"one of {', '.join(PRIORITIES)}")
    p.add_argument("--tag", action="append", default=[], help="a tag (repeatable)")
    p.add_argument("--description", default="", help="the issue as the customer gave it; - reads stdin")
    p.add_argument("--references", metavar="CASE", help="an earlier (closed) case this one follows")
    p.add_argument(
        "--opened",
        metavar="WHEN",
        help="when the case opened, if before now (the first contact; same dates as log --at)",
    )
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(handler=cmd_new)

    p = commands.add_parser("log", help="log an interaction or a note on a ticket")
    p.add_argument("case")
    p.add_argument("--channel", required=True, help=f"one of {', '.join(CHANNELS)}")
    p.add_argument("--summary", required=True, help="what happened, in a line")
    p.add_argument("--direction", help=f"one of {', '.join(DIRECTIONS)} (default from --from)")
    p.add_argument("--from", dest="sender", help=f"sender role: {', '.join(SENDERS)}")
    p.add_argument("--name", default="", help="sender's name")
    p.add_argument("--body", default="", help="the full content; - reads stdin")
    p.add_argument("--attach", action="append", default=[], metavar="FILE", help="attach a file (repeatable)")
    p.add_argument("--at", help="when the contact started (default now)")
    p.add_argument("--until", help="when the contact ended")
    p.add_argument("--follow-up", help="the follow-up date promised to the customer")
    p.add_argument("--corrects", type=whole_number, metavar="SEQ", help="this entry corrects entry number SEQ")
    p.add_argument("--status", help="also move the ticket to this status")
    p.add_argument("--note", help="resolution note or final summary for --status")
    p.add_argument("--json", action="store_true")
    _guarded(p)
    p.set_defaults(handler=cmd_log)

    p = commands.add_parser("status", help="change a ticket's status")
    p.add_argument("case")
    p.add_argument("status", help='a label ("Waiting on Buyer") or slug (waiting-buyer)')
    p.add_argument("--note", help="resolution note (Resolved) or final summary (Closed)")
    p.add_argument("--json", action="store_true")
    _guarded(p)
    p.set_defaults(handler=cmd_status)

    p = commands.add_parser("assign", help="assign a ticket to an agent ('-' unassigns)")
    p.add_argument("case")
    p.add_argument("assignee")
    p.add_argument("--json", action="store_true")
    _guarded(p)
    p.set_defaults(handler=cmd_assign)

    p = commands.add_parser("tag", help="add tags to a ticket (or remove them)")
    p.add_argument("case")
    p.add_argument("tags", nargs="+")
    p.add_argument("--remove", action="store_true", help="remove these tags instead")
    p.add_argument("--json", action="store_true")
    _guarded(p)
    p.set_defaults(handler=cmd_tag)

    p = commands.add_parser(
        "refund",
        help="record a refund's amount, currency and milestones (approved → initiated → refunded)",
        description=(
            "Record the case's current refund: its amount and currency (an ISO 4217 code such as EUR), and "
            "each milestone with its date (now, 14:30, yesterday, 2026-11-12 10:00, -2d). Milestones only move "
            "forward: initiated needs approved, refunded needs initiated, dates in order and not in the future. "
            "An amount given with a milestone is that milestone's amount (the amount approved, sent, received): "
            "less than the one before is a partial refund. --new starts the case's next refund (refund 2, …) "
            "once the current one is refunded. A refund approved but not initiated within [refunds] "
            "initiate_within_days (default 2), or initiated but not refunded within refund_within_days "
            "(default 5), is stuck: tui-desk overdue lists it."
        ),
    )
    p.add_argument("case")
    p.add_argument("--amount", help="e.g. 49.90 (with a milestone: that milestone's amount)")
    p.add_argument("--currency", help="an ISO 4217 code, e.g. EUR, USD, GBP (fixed once approved)")
    p.add_argument("--approved", metavar="WHEN", help="when the refund was approved")
    p.add_argument("--initiated", metavar="WHEN", help="when it was sent to the payment provider")
    p.add_argument("--refunded", metavar="WHEN", help="when it reached the customer")
    p.add_argument("--new", action="store_true", help="start the case's next refund (the current one is refunded)")
    p.add_argument("--json", action="store_true")
    _guarded(p)
    p.set_defaults(handler=cmd_refund)

    p = commands.add_parser("edit", help="correct a ticket's fields (each change is logged, old → new)")
    p.add_argument("case")
    p.add_argument("--priority", help=f"one of {', '.join(PRIORITIES)} (moves the SLA due times)")
    p.add_argument("--subject")
    p.add_argument("--customer")
    p.add_argument("--email", help="blank clears it")
    p.add_argument("--seller-email", help="blank clears it")
    p.add_argument("--partner-email", help="blank clears it")
    p.add_argument("--order", dest="order_id", help="blank clears it")
    p.add_argument("--reason", help="blank clears it")
    p.add_argument("--kind")
    p.add_argument(
        "--opened",
        metavar="WHEN",
        help="when the case really opened (same dates as log --at; not after its first entry; moves the SLA)",
    )
    p.add_argument("--json", action="store_true")
    _guarded(p)
    p.set_defaults(handler=cmd_edit)

    p = commands.add_parser("undo", help="undo your own last change on a ticket (status, assignment, tags, edit)")
    p.add_argument("case")
    p.add_argument("--json", action="store_true")
    _guarded(p)
    p.set_defaults(handler=cmd_undo)

    p = commands.add_parser("show", help="a ticket's fields, key dates, tags and whole log")
    p.add_argument("case")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_show)

    p = commands.add_parser("list", help="list tickets")
    p.add_argument("--status", action="append", default=[], help="only this status (repeatable)")
    p.add_argument("--assignee", help="only this agent's tickets ('-' for unassigned)")
    p.add_argument("--tag", help="only tickets with this tag")
    p.add_argument("--search", help="full-text search: case number, customer, email, order, subject, log")
    p.add_argument("--kind", help="only this kind")
    p.add_argument("--sort", default="case", help="case, opened, last_action, priority, status, due, …")
    p.add_argument("--desc", action="store_true", help="newest / highest first")
    p.add_argument("--limit", type=whole_number, default=None, help="at most this many")
    p.add_argument("--view", metavar="NAME", help="a saved view of the config's [[views]] (as the console shows it)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_list)


def _text_arg(value: str) -> str:
    """``-`` reads the text from standard input: UTF-8, kept byte for byte (no newline translation)."""
    if value != "-":
        return value
    data = sys.stdin.buffer.read()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        byte = f"byte 0x{data[err.start]:02x} at offset {err.start}"
        raise DeskError(f"standard input is not UTF-8 text ({byte}); nothing was written") from None


def _when(ctx, value: str | None):
    if value is None:
        return None
    return parse_when(value, ctx.clock.now(), ctx.config.tz)


def _guarded(p) -> None:
    p.add_argument(
        "--if-version",
        type=whole_number,
        metavar="N",
        help="write only if the ticket is still at version N (from show --json); else exit status 3",
    )


def _expected(ctx) -> TicketSnapshot | None:
    version = ctx.args.if_version
    return None if version is None else TicketSnapshot.at_version(version)


def cmd_new(ctx) -> int:
    a = ctx.args
    store = ctx.store()
    ticket = store.create_ticket(
        customer=a.customer,
        subject=a.subject,
        kind=a.kind,
        email=a.email,
        seller_email=a.seller_email,
        partner_email=a.partner_email,
        order_id=a.order,
        reason=a.reason,
        priority=a.priority,
        tags=a.tag,
        description=_text_arg(a.description),
        references=a.references,
        opened=_when(ctx, a.opened),
    )
    ctx.emit(store.describe(ticket, with_log=False), ticket.case_number)
    return 0


def cmd_log(ctx) -> int:
    a = ctx.args
    store = ctx.store()
    status = parse_status(a.status) if a.status else None
    entry = store.add_entry(
        a.case,
        channel=a.channel,
        summary=a.summary,
        direction=a.direction,
        sender=a.sender,
        sender_name=a.name,
        body=_text_arg(a.body),
        attachments=a.attach,
        at=_when(ctx, a.at),
        until=_when(ctx, a.until),
        follow_up=_when(ctx, a.follow_up),
        corrects=a.corrects,
        status=status,
        status_note=a.note,
        expected=_expected(ctx),
    )
    ticket = store.get(a.case)
    entry.attachment_list = list(entry.attachments)
    ctx.emit(
        {
            "case_number": ticket.case_number,
            "status": status_of(ticket.status).label,
            "status_slug": ticket.status,
            "entry": describe_entry(entry),
        },
        f"{ticket.case_number} #{entry.seq} logged; status {status_of(ticket.status).label}",
    )
    return 0


def cmd_status(ctx) -> int:
    a = ctx.args
    ticket = ctx.store().change_status(a.case, parse_status(a.status), a.note, expected=_expected(ctx))
    label = status_of(ticket.status).label
    ctx.emit(
        {"case_number": ticket.case_number, "status": label, "status_slug": ticket.status},
        f"{ticket.case_number} is now {label}",
    )
    return 0


def cmd_assign(ctx) -> int:
    a = ctx.args
    assignee = None if a.assignee.strip() in ("-", "") else a.assignee
    ticket = ctx.store().assign(a.case, assignee, expected=_expected(ctx))
    ctx.emit(
        {"case_number": ticket.case_number, "assignee": ticket.assignee},
        f"{ticket.case_number} assigned to {ticket.assignee}"
        if ticket.assignee
        else f"{ticket.case_number} unassigned",
    )
    return 0


def cmd_tag(ctx) -> int:
    a = ctx.args
    store = ctx.store()
    if a.remove:
        tags = store.tag(a.case, remove=a.tags, expected=_expected(ctx))
    else:
        tags = store.tag(a.case, add=a.tags, expected=_expected(ctx))
    number = store.get(a.case).case_number
    ctx.emit({"case_number": number, "tags": tags}, f"{number} tags: {' '.join(tags) or '(none)'}")
    return 0


def cmd_refund(ctx) -> int:
    a = ctx.args
    store = ctx.store()
    ticket = store.set_refund(
        a.case,
        amount=a.amount,
        currency=a.currency,
        approved_at=_when(ctx, a.approved),
        initiated_at=_when(ctx, a.initiated),
        refunded_at=_when(ctx, a.refunded),
        new=a.new,
        expected=_expected(ctx),
    )
    data = store.describe(ticket, with_log=False)
    latest = data["refunds"][-1] if data["refunds"] else None
    number = f" {latest['number']}" if latest else ""
    ctx.emit(
        {"case_number": ticket.case_number, **data["refund"], "current": latest, "version": ticket.version},
        f"{ticket.case_number} refund{number} recorded",
    )
    return 0


def cmd_edit(ctx) -> int:
    a = ctx.args
    store = ctx.store()
    fields = {name: getattr(a, name) for name in EDITABLE_FIELDS}
    ticket = store.edit_ticket(a.case, expected=_expected(ctx), opened=_when(ctx, a.opened), **fields)
    data = store.describe(ticket, with_log=False)
    ctx.emit(data, f"{ticket.case_number} edited (version {ticket.version})")
    return 0


def cmd_undo(ctx) -> int:
    a = ctx.args
    store = ctx.store()
    entry = store.undo(a.case, expected=_expected(ctx))
    ticket = store.get(a.case)
    ctx.emit(
        {"case_number": ticket.case_number, "entry": describe_entry(entry), "version": ticket.version},
        f"{ticket.case_number} #{entry.seq}: {entry.summary}",
    )
    return 0


def cmd_show(ctx) -> int:
    store = ctx.store()
    ticket = store.get(ctx.args.case)
    data = store.describe(ticket)
    ctx.emit(data, lambda: render_ticket(data, ctx.config.tz))
    return 0


def _iso_to_when(value: str | None, tz) -> str:
    if not value:
        return "-"
    from datetime import datetime

    return format_when(datetime.fromisoformat(value.replace("Z", "+00:00")), tz)


def render_ticket(data: dict, tz) -> str:
    """A ticket as plain text for the terminal; customer text made printable."""
    p = printable
    lines = [
        f"{data['case_number']}  [{data['status']}]  {data['kind']}, {data['priority']} priority",
        f"Subject:    {p(data['subject'], one_line=True)}",
        f"Customer:   {p(data['customer'])}" + (f" <{p(data['email'])}>" if data["email"] else ""),
        f"Order:      {p(data['order_id']) or '-'}    Reason: {p(data['reason']) or '-'}",
        f"Assignee:   {p(data['assignee']) or '(unassigned)'}    Tags: {' '.join(data['tags']) or '-'}",
    ]
    if data.get("references"):
        lines.append(f"Follows:    {data['references']}")
    if data.get("follow_ups"):
        lines.append(f"Follow-ups: {', '.join(data['follow_ups'])}")
    for refund in data.get("refunds", []):
        lines.append(f"Refund {refund['number']}:   {refund_line(refund, tz)}")
    for label, key in (
        ("Opened", "opened_at"),
        ("First reply", "first_response_at"),
        ("Last action", "last_action_at"),
        ("Follow-up", "follow_up_at"),
        ("SLA due", "sla_resolution_due_at"),
        ("Next timer", "timer_due_at"),
        ("Resolved", "resolved_at"),
        ("Closed", "closed_at"),
    ):
        if data.get(key):
            lines.append(f"{label + ':':<13}{_iso_to_when(data[key], tz)}")
    if data["description"]:
        lines += ["", "Description:", *("  " + p(line) for line in data["description"].splitlines())]
    count = len(data["log"])
    lines += ["", f"Log ({count} {'entry' if count == 1 else 'entries'}, in the order they happened):"]
    for e in sorted(data["log"], key=lambda e: (e["at"], e["seq"])):  # fixed-width UTC text: sorts as time
        who = e["sender"] + (f" {p(e['sender_name'])}" if e["sender_name"] else "")
        span = f" - {_iso_to_when(e['until'], tz)}" if e["until"] else ""
        how = f"{e['channel']}/{e['direction']}"
        lines.append(f"#{e['seq']:<3} {_iso_to_when(e['at'], tz)}{span}  {how}  {who}  (by {p(e['agent'])})")
        corr = f"[corrects #{e['corrects']}] " if e["corrects"] else ""
        lines.append(f"     {corr}{p(e['summary'], one_line=True)}")
        for line in e["body"].splitlines():
            lines.append(f"       {p(line)}")
        for att in e["attachments"]:
            lines.append(f"     attachment: {p(att['name'])} ({att['size']} bytes, sha256 {att['sha256'][:16]}…)")
        if e["follow_up_at"]:
            lines.append(f"     follow-up promised: {_iso_to_when(e['follow_up_at'], tz)}")
    return "\n".join(lines)


def refund_line(refund: dict, tz) -> str:
    """``100.00 EUR  approved 2026-11-12 10:00 UTC → initiated … (2 d) → refunded … (5 d), 60.00 (partial)``."""
    from datetime import datetime

    from tui_desk.domain.dates import format_span

    currency = refund["currency"] or ""
    parts, before = [], None
    for name, m in refund["milestones"].items():
        at = datetime.fromisoformat(m["at"].replace("Z", "+00:00"))
        gap = f" ({format_span(at - before)})" if before is not None else ""
        parts.append(f"{name} {format_when(at, tz)}{gap}")
        before = at
    first = next(iter(refund["milestones"].values()), None)
    amount = (first or {}).get("amount") or refund["amount"]
    text = f"{amount or '-'} {currency}".strip()
    text += "  " + " → ".join(parts) if parts else "  (no milestone yet)"
    if refund["partial"]:
        text += f", {refund['amount']} {currency} (partial)"
    return text


def cmd_list(ctx) -> int:
    a = ctx.args
    store = ctx.store()
    flt = TicketFilter(
        statuses=[parse_status(s) for s in a.status],
        assignee=None if a.assignee in (None, "-") else a.assignee,
        unassigned=a.assignee == "-",
        tag=a.tag,
        search=a.search,
        kind=a.kind,
    )
    if a.limit is not None and a.limit < 0:
        raise DeskError("--limit must be zero or more")
    sort, descending = a.sort, a.desc
    if a.view:
        flt, sort, descending = _saved_view(ctx, store, a.view, flt, sort, descending)
    tickets = store.list_tickets(flt, sort=sort, descending=descending, limit=a.limit)
    tags = store.tags(t.id for t in tickets)
    if getattr(a, "json", False):
        rows = []
        for t in tickets:
            row = store.describe(t, with_log=False) if len(tickets) <= 1000 else None
            if row is None:
                row = {
                    "case_number": t.case_number,
                    "status": status_of(t.status).label,
                    "status_slug": t.status,
                    "priority": t.priority,
                    "kind": t.kind,
                    "customer": t.customer,
                    "subject": t.subject,
                    "assignee": t.assignee,
                    "tags": tags[t.id],
                }
            rows.append(row)
        ctx.emit(rows, "")
        return 0
    tz = ctx.config.tz
    out = [f"{'CASE':<20} {'STATUS':<17} {'PRIO':<6} {'ASSIGNEE':<10} {'OPENED':<20} {'CUSTOMER':<18} SUBJECT"]
    for t in tickets:
        out.append(
            f"{t.case_number:<20} {status_of(t.status).label:<17} {t.priority:<6} "
            f"{clip(printable(t.assignee or '-', one_line=True), 10):<10} {format_when(t.opened_at, tz):<20} "
            f"{clip(printable(t.customer, one_line=True), 18):<18} {clip(printable(t.subject, one_line=True), 60)}"
        )
    out.append(f"({len(tickets)} ticket{'' if len(tickets) == 1 else 's'})")
    print("\n".join(out))
    return 0


def _saved_view(ctx, store, name: str, flt: TicketFilter, sort: str, descending: bool):
    """``list --view NAME``: the saved view's filter (its text narrowed by ``--search``) and its sort."""
    from tui_desk.store.views import find_view, view_filter, view_sort

    view = find_view(ctx.config, name)
    narrowed = view_filter(view, store.agent, store.now(), flt.search)
    return (narrowed, *(view_sort(view) or (sort, descending)))


def cmd_demo(ctx) -> int:
    from tui_desk.store.backend import is_postgres, parse_location
    from tui_desk.store.demo import build_demo, demo_path

    a = ctx.args
    if a.tickets < 1:
        raise DeskError("--tickets must be at least 1")
    # Only an explicit --db moves the demo (a file, or an empty PostgreSQL database): TUI_DESK_DB names the
    # team's real store.
    path = parse_location(a.db) if a.db else demo_path()
    elsewhere = bool(a.db) and not a.demo  # reached by its --db, not by --demo
    if ctx.read_only:
        # Read-only builds nothing: it opens the demo store that is there, as it is.
        if a.fresh or (not is_postgres(path) and (not path.exists() or not path.stat().st_size)):
            raise DeskError(f"demo: read-only, so no demo store is built at {path}; build it without --read-only")
    else:
        build_demo(path, tickets=a.tickets, seed=a.seed, clock=ctx.clock, config=ctx.config, fresh=a.fresh)
    if a.no_open:
        store = ctx.store(path=path)
        print(f"demo store: {path} ({store.count_tickets()} tickets)")
        for t in store.list_tickets(TicketFilter(statuses=OPEN_STATUSES), sort="due", limit=10):
            print(f"  {t.case_number}  {status_of(t.status).label:<17} {clip(printable(t.subject, one_line=True), 50)}")
        print(demo_hint(path, explicit=elsewhere))
        return 0
    from tui_desk.cli import open_console
    from tui_desk.store.demo import AGENTS

    ctx.args.db = str(path)
    if not ctx.args.agent and not os.environ.get("TUI_DESK_AGENT"):
        ctx.args.agent = AGENTS[0]  # one of the demo's agents, so that "My tickets" has some
    code = open_console(ctx)
    # After the console: the full screen is gone, so this stays on the terminal.
    print(f"demo store: {path}\n{demo_hint(path, explicit=elsewhere)}")
    return code


def demo_hint(path: Path, *, explicit: bool) -> str:
    """How to reach the demo store from the command line (the commands look at desk.db otherwise)."""
    how = f"tui-desk --db {shlex.quote(str(path))}" if explicit else "tui-desk --demo"
    hint = f"the command line reaches it with {how}, e.g.: {how} list --status waiting-buyer"
    if not explicit:
        hint += "\n  (without --demo, commands use your own store: --db, $TUI_DESK_DB or desk.db)"
    return hint
