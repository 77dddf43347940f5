"""Mail commands: ``deliver`` (the outbox by SMTP, for cron or by hand), ``reply``, ``replies``."""

from __future__ import annotations

import argparse

from tui_desk.cli import whole_number
from tui_desk.domain.errors import DeskError
from tui_desk.domain.text import printable


def register(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser("deliver", help="send the outbox's due messages by SMTP ([mail] in config.toml)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(handler=cmd_deliver)

    p = commands.add_parser("reply", help="write to a party of the case: logged as an outbound email and queued")
    p.add_argument("case")
    p.add_argument("--body", help="the message; - reads standard input")
    p.add_argument(
        "--to", help="buyer, seller, partner or an address (default: the waited-on party, else the customer)"
    )
    p.add_argument("--template", metavar="NAME", help="a canned reply (replies/NAME.md in the config folder)")
    p.add_argument("--attach", action="append", default=[], metavar="FILE", help="a file to attach (repeatable)")
    p.add_argument("--status", help="move the ticket with the reply (e.g. waiting-on-buyer)")
    p.add_argument("--note", help="the status change's note (Resolved needs one)")
    p.add_argument("--if-version", type=whole_number, metavar="N", help="refuse if the ticket is not at version N")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(handler=cmd_reply)

    p = commands.add_parser("receive", help="take one incoming message (standard input, as an MTA pipes it)")
    p.add_argument("--file", metavar="MESSAGE.eml", help="read it from this file instead")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(handler=cmd_receive)

    p = commands.add_parser("fetch", help="take the new mail of the [mail.imap] mailbox, or of a Maildir")
    p.add_argument("--maildir", metavar="PATH", help="read this Maildir instead of IMAP")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(handler=cmd_fetch)

    p = commands.add_parser("replies", help="list the canned replies (replies/NAME.md in the config folder)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(handler=cmd_replies)


def _mail(ctx):
    mail = ctx.config.mail
    if mail is None:
        raise DeskError("no [mail] section in the config: nothing is sent (see the README's Mail section)")
    return mail


def cmd_deliver(ctx) -> int:
    from tui_desk.mail.deliver import deliver_due

    mail = _mail(ctx)
    run = deliver_due(ctx.store(create=False), mail)

    def text() -> str:
        lines = [run.summary()]
        for what, rows in (("sent", run.sent), ("retrying", run.retrying), ("failed", run.failed)):
            for r in rows:
                detail = f" to {r['to']}" if what == "sent" else f": {r['error']}"
                lines.append(printable(f"  {r['case_number']}  {r['what']} — {what}{detail}", one_line=True))
        return "\n".join(lines)

    ctx.emit(run.as_dict(), text)
    return 1 if run.failed else 0


def cmd_reply(ctx) -> int:
    import sys

    from tui_desk.domain import log_texts
    from tui_desk.domain.statuses import parse_status
    from tui_desk.mail.canned import find_reply
    from tui_desk.store import TicketSnapshot
    from tui_desk.store.outbox import message_for_entry

    a = ctx.args
    store = ctx.store(create=False)
    ticket = store.get(a.case)
    canned = find_reply(a.template) if a.template else None
    if a.body is None and canned is None:
        raise DeskError("give the message with --body TEXT (- reads standard input) or --template NAME")
    body = sys.stdin.read() if a.body == "-" else a.body
    if body is None:
        body = canned.fill(ticket, store.agent)
    if not body.strip():
        raise DeskError("the message is blank")
    status = parse_status(a.status) if a.status else (canned.status if canned else None)
    expected = TicketSnapshot.at_version(a.if_version) if a.if_version is not None else None
    entry = store.add_entry(
        ticket.case_number,
        channel="email",
        direction="out",
        sender="agent",
        summary=log_texts.reply_summary(body),
        body=body,
        attachments=a.attach,
        status=status,
        status_note=a.note,
        expected=expected,
        mail_to=a.to or "",
    )
    tags = list(canned.tags) if canned else []
    if tags:
        store.tag(ticket.case_number, add=tags)
    message = message_for_entry(store, entry.id)
    data = {
        "case_number": ticket.case_number,
        "entry": entry.seq,
        "outbox": message.id,
        "to": message.address,
        "party": message.recipient,
        "subject": message.subject,
        "tags_added": tags,
    }
    ctx.emit(data, printable(f"{ticket.case_number}: reply #{entry.seq} queued for {message.address}", one_line=True))
    return 0


def cmd_replies(ctx) -> int:
    from tui_desk.mail.canned import list_replies, replies_folder

    replies = list_replies()
    data = [
        {"name": r.name, "status": r.status.label if r.status else None, "tags": list(r.tags), "text": r.text}
        for r in replies
    ]

    def text() -> str:
        if not replies:
            return f"no canned replies (put NAME.md files in {replies_folder()})"
        lines = []
        for r in replies:
            extra = " ".join(([f"status: {r.status.label}"] if r.status else []) + [f"+{t}" for t in r.tags])
            first = next((line for line in r.text.splitlines() if line.strip()), "")
            lines.append(printable(f"{r.name:<20} {first[:60]}" + (f"  [{extra}]" if extra else ""), one_line=True))
        return "\n".join(lines)

    ctx.emit(data, text)
    return 0


EX_TEMPFAIL = 75  # sendmail's "try again later": an MTA piping to receive keeps the message and retries


def _received_line(r: dict) -> str:
    outcome = r["outcome"]
    where = f" {r['case_number']}" if r.get("case_number") else ""
    if outcome == "error":
        return printable(f"{r.get('source', '')}: not taken: {r['error']}", one_line=True)
    extra = f" ({r['auto']})" if r.get("auto") else ""
    return printable(f"{outcome}{where}: {r.get('from') or '?'} “{r.get('subject', '')}”{extra}", one_line=True)


def cmd_receive(ctx) -> int:
    import sys
    from pathlib import Path

    from tui_desk.mail.intake import receive

    if ctx.args.file:
        try:
            raw = Path(ctx.args.file).read_bytes()
        except OSError as err:
            raise DeskError(f"cannot read {ctx.args.file}: {err.strerror}") from None
    else:
        raw = sys.stdin.buffer.read()
    if not raw.strip():
        raise DeskError("no message: the input is empty")
    try:
        result = receive(ctx.store(create=False), raw)
    except DeskError as err:
        print(f"tui-desk: error: {err} (the message was not taken; try again)", file=sys.stderr)
        return EX_TEMPFAIL
    ctx.emit(result, lambda: _received_line(result))
    return 0


def cmd_fetch(ctx) -> int:
    from pathlib import Path

    from tui_desk.mail.fetch import fetch_imap, fetch_maildir

    store = ctx.store(create=False)
    if ctx.args.maildir:
        results = fetch_maildir(store, Path(ctx.args.maildir).expanduser())
    else:
        mail = _mail(ctx)
        if mail.imap is None:
            raise DeskError("no [mail.imap] section in the config; give --maildir PATH or configure IMAP")
        results = fetch_imap(store, mail.imap)
    ctx.emit(results, lambda: "\n".join(_received_line(r) for r in results) or "no new mail")
    return 1 if any(r["outcome"] == "error" for r in results) else 0
