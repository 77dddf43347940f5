"""A self-contained case file for a third party: every field, key dates, the full timeline, and how to check the chain.

Markdown by default, HTML on request. Customer text is data: in Markdown it goes into code spans and
fenced blocks (never read as Markdown or HTML), in HTML it is escaped; control characters are shown as
visible escapes in both. The appendix carries the exact chained values as JSON (ASCII-escaped, so it
survives any mail client byte for byte) and a short Python script that recomputes the chain from it.
"""

from __future__ import annotations

import html
import json
import re
from datetime import datetime, tzinfo
from zoneinfo import ZoneInfo

from tui_desk import __version__
from tui_desk.domain.dates import format_span
from tui_desk.domain.evidence import CHAINED_FIELDS, iso_micro
from tui_desk.domain.statuses import status_of
from tui_desk.domain.text import printable
from tui_desk.store.models import LogEntry, StatusChange, Ticket
from tui_desk.store.verify import verify_store

UTC = ZoneInfo("UTC")

CHECK_SCRIPT_TEMPLATE = """\
# check_chain.py: recompute a tui-desk case chain. Usage: python3 check_chain.py chain.json
import hashlib, json, sys

FIELDS = FIELDS_JSON
data = json.load(open(sys.argv[1], encoding="utf-8"))
previous, broken = "", 0
for entry in data["entries"]:
    document = [previous, [entry[name] for name in FIELDS], sorted(entry["attachments"])]
    canonical = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    digest = hashlib.sha256(canonical).hexdigest()
    if digest != entry["digest"]:
        broken += 1
        print("entry", entry["seq"], "does not match its digest")
    previous = entry["digest"]
print("final digest:", previous)
print("matches the case file" if previous == data["final_digest"] and not broken else "DOES NOT MATCH")
"""
CHECK_SCRIPT = CHECK_SCRIPT_TEMPLATE.replace("FIELDS_JSON", json.dumps(list(CHAINED_FIELDS)), 1)

_KEY_DATES = (
    ("Opened", "opened_at"),
    ("First response", "first_response_at"),
    ("Last action", "last_action_at"),
    ("Status last changed", "status_changed_at"),
    ("Promised follow-up", "follow_up_at"),
    ("SLA response due", "sla_response_due_at"),
    ("SLA resolution due", "sla_resolution_due_at"),
    ("Next timer action", "timer_due_at"),
    ("Resolved", "resolved_at"),
    ("Closed", "closed_at"),
    ("Refund approved", "refund_approved_at"),
    ("Refund initiated", "refund_initiated_at"),
    ("Refunded", "refunded_at"),
)


def when(dt: datetime | None, tz: tzinfo = UTC) -> str:
    """``2026-11-15 14:30:05 UTC``, and the local time too when the desk works in another zone."""
    if dt is None:
        return "—"
    utc = dt.astimezone(UTC)
    text = f"{utc:%Y-%m-%d %H:%M:%S} UTC"
    if str(tz) != "UTC":
        local = utc.astimezone(tz)
        text += f" ({local:%Y-%m-%d %H:%M:%S} {local.tzname()}, UTC{local:%z})"
    return text


def case_data(store, case_number: str) -> dict:
    """Everything the case file shows, gathered in one read."""
    ticket: Ticket = store.get(case_number)
    entries = store.entries(ticket)
    with store.reading():
        changes = list(StatusChange.select().where(StatusChange.ticket == ticket.id).order_by(StatusChange.id))
        seq_of = {e.id: e.seq for e in entries}
    report = verify_store(store, ticket.case_number)
    chain = []
    for entry in entries:
        item = {name: getattr(entry, name, None) for name in CHAINED_FIELDS if name != "corrects_seq"}
        item["corrects_seq"] = seq_of.get(entry.corrects_id) if entry.corrects_id else None
        plain = {k: iso_micro(v) if isinstance(v, datetime) else v for k, v in item.items()}
        plain["attachments"] = sorted([a.sha256, a.name, a.size] for a in entry.attachment_list)
        plain["digest"] = entry.digest
        chain.append(plain)
    return {
        "ticket": ticket,
        "fields": store.describe(ticket, with_log=False),
        "entries": entries,
        "changes": changes,
        "seq_of": seq_of,
        "report": report,
        "chain": {"case_number": ticket.case_number, "final_digest": ticket.log_head, "entries": chain},
        "generated_at": store.now(),
        "tz": store.config.tz,
    }


def _date_of(ticket: Ticket, key: str) -> datetime | None:
    return getattr(ticket, key, None)


def _refund_delay(ticket: Ticket) -> str | None:
    if ticket.refund_approved_at and ticket.refunded_at:
        return format_span(ticket.refunded_at - ticket.refund_approved_at)
    return None


# -- Markdown -------------------------------------------------------------------------------


def _code(value: object) -> str:
    """An inline code span that no backtick in the value can close early."""
    if value is None or value == "" or value == []:
        return "—"
    text = printable(str(value), one_line=True)
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _cell(value: object) -> str:
    """A code span inside a table cell: GFM reads a backslash-escaped pipe as text even in code."""
    return _code(value).replace("|", "\\|")


def _block(text: str, info: str = "text") -> list[str]:
    """A fenced block longer than any backtick run inside, so customer text stays verbatim."""
    shown = printable(text)
    longest = max((len(run) for run in re.findall(r"`{3,}", shown)), default=0)
    fence = "`" * max(3, longest + 1)
    return [f"{fence}{info}", shown, fence]


def _case_rows(t, f: dict) -> list[tuple[str, str | None]]:
    """The case's own fields, labelled, for either format."""
    refund = f["refund"]
    return [
        ("Case number", t.case_number),
        ("Kind", t.kind),
        ("Status", status_of(t.status).label),
        ("Priority", t.priority),
        ("Customer", t.customer),
        ("Email", t.email),
        ("Order", t.order_id),
        ("Subject", t.subject),
        ("Reason", t.reason),
        ("Assignee", t.assignee),
        ("Tags", " ".join(f["tags"])),
        ("Follows up case", t.references),
        ("Opened by", t.created_by),
        ("Refund amount", f"{refund['amount']} {refund['currency'] or ''}".strip() if refund["amount"] else None),
        ("Log entries", str(t.log_count)),
    ]


def to_markdown(data: dict) -> str:
    t: Ticket = data["ticket"]
    f = data["fields"]
    tz = data["tz"]
    report = data["report"]
    out = [
        f"# Case file {t.case_number}",
        "",
        f"Exported {when(data['generated_at'], tz)} by tui-desk {__version__}. All times are stored in UTC "
        "and shown with their zone. Text written by customers and agents is reproduced verbatim inside code "
        "spans and blocks; control characters are shown as escapes such as `\\x1b`.",
        "",
        "## Case",
        "",
    ]
    rows = _case_rows(t, f)
    out += [f"- **{label}:** {_code(value)}" for label, value in rows]
    out += ["", "### Description", ""]
    out += _block(t.description) if t.description else ["—"]
    out += ["", "## Key dates", "", "| Date | When |", "|---|---|"]
    for label, key in _KEY_DATES:
        out.append(f"| {label} | {when(_date_of(t, key), tz)} |")
    delay = _refund_delay(t)
    if delay:
        out.append(f"| Approval to refund | {delay} |")
    out += ["", "## Status history", "", "| When | From | To | By | Note |", "|---|---|---|---|---|"]
    for c in data["changes"]:
        out.append(
            f"| {when(c.at, tz)} | {status_of(c.from_status).label if c.from_status else '—'} | "
            f"{status_of(c.to_status).label} | {_cell(c.agent)} | {_cell(c.note)} |"
        )
    out += ["", f"## Timeline ({len(data['entries'])} entries)", ""]
    for e in data["entries"]:
        out += _entry_markdown(e, data["seq_of"], tz)
    out += _verification_markdown(t, report)
    out += ["", "## Appendix A: chain data", "", "Save this block as `chain.json`:", ""]
    out += _block(json.dumps(data["chain"], ensure_ascii=True, indent=1), "json")
    out += [
        "",
        "## Appendix B: check script",
        "",
        "Save this block as `check_chain.py` and run `python3 check_chain.py chain.json`:",
        "",
    ]
    out += ["```python", CHECK_SCRIPT.rstrip(), "```", ""]
    return "\n".join(out)


def _entry_markdown(e: LogEntry, seq_of: dict[int, int], tz: tzinfo) -> list[str]:
    span = f" to {when(e.until, tz)}" if e.until else ""
    out = [
        f"### #{e.seq} · {when(e.at, tz)}{span}",
        "",
        f"- **Kind:** {e.kind}; **channel:** {e.channel}; **direction:** {e.direction}",
        f"- **From:** {e.sender} {_code(e.sender_name) if e.sender_name else ''}".rstrip(),
        f"- **Logged by:** {_code(e.agent)} at {when(e.logged_at, tz)}",
    ]
    if e.corrects_id:
        out.append(f"- **Corrects entry:** #{seq_of.get(e.corrects_id, '?')}")
    if e.follow_up_at:
        out.append(f"- **Follow-up promised:** {when(e.follow_up_at, tz)}")
    if e.due_at:
        out.append(f"- **Timer action due:** {when(e.due_at, tz)}")
    out.append(f"- **Summary:** {_code(e.summary)}")
    for a in e.attachment_list:
        out.append(f"- **Attachment:** {_code(a.name)}, {a.size} bytes, SHA-256 `{a.sha256}`")
    out.append(f"- **Digest:** `{e.digest}`")
    if e.body:
        out += [""] + _block(e.body)
    out.append("")
    return out


def _verification_markdown(t: Ticket, report) -> list[str]:
    out = ["## Integrity", ""]
    if report.ok:
        out.append(
            f"At export the chain of {t.log_count} entries was intact and every attachment file matched its SHA-256."
        )
    else:
        out.append("**At export tui-desk found these problems:**")
        out.append("")
        out += [f"- {_code(p.line())}" for p in report.problems]
    out += [
        "",
        f"**Final digest:** `{t.log_head}`",
        "",
        "How to check: each entry's digest is the SHA-256 (hex) of the UTF-8 JSON array "
        "`[previous digest, [the entry's fields], [[sha256, name, size] of each attachment, sorted]]`, "
        'written without spaces (`separators=(",", ":")`) and without escaping non-ASCII characters. '
        f"The fields, in order, are {', '.join(CHAINED_FIELDS)}; times are UTC text to the "
        f"microsecond exactly as stored (e.g. `{iso_micro(datetime(2026, 11, 15, 14, 30, tzinfo=UTC))}`), "
        "an absent value is `null`, and the first entry's previous digest is the empty string. "
        "The final digest is the last entry's digest. Appendix A holds exactly these values and Appendix B "
        "a script that recomputes them. If someone gave you the final digest earlier (by mail, on paper), "
        "compare it with the one above: the same digest means no earlier entry was changed, removed or "
        "reordered since.",
    ]
    return out


# -- HTML -----------------------------------------------------------------------------------

_CSS = (
    "body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#111}"
    "pre{white-space:pre-wrap;background:#f4f4f4;padding:.6rem;border:1px solid #ddd;overflow-wrap:anywhere}"
    "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2rem .5rem;text-align:left;vertical-align:top}"
    "code{overflow-wrap:anywhere}.entry{border-top:1px solid #999;margin-top:1rem}.bad{color:#a00}"
)


def _h(value: object) -> str:
    if value is None or value == "":
        return "—"
    return html.escape(printable(str(value)))


def to_html(data: dict) -> str:
    t: Ticket = data["ticket"]
    f = data["fields"]
    tz = data["tz"]
    report = data["report"]
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>Case file {_h(t.case_number)}</title><style>{_CSS}</style></head><body>",
        f"<h1>Case file {_h(t.case_number)}</h1>",
        f"<p>Exported {_h(when(data['generated_at'], tz))} by tui-desk {_h(__version__)}. All times are stored "
        "in UTC and shown with their zone. Control characters in text are shown as escapes.</p>",
        "<h2>Case</h2><table>",
    ]
    rows = _case_rows(t, f)
    out += [f"<tr><th>{label}</th><td>{_h(value)}</td></tr>" for label, value in rows]
    out += ["</table>", "<h3>Description</h3>", f"<pre>{_h(t.description)}</pre>"]
    out += ["<h2>Key dates</h2><table>"]
    out += [f"<tr><th>{label}</th><td>{_h(when(_date_of(t, key), tz))}</td></tr>" for label, key in _KEY_DATES]
    delay = _refund_delay(t)
    if delay:
        out.append(f"<tr><th>Approval to refund</th><td>{_h(delay)}</td></tr>")
    out += [
        "</table>",
        "<h2>Status history</h2><table><tr><th>When</th><th>From</th><th>To</th><th>By</th><th>Note</th></tr>",
    ]
    for c in data["changes"]:
        out.append(
            f"<tr><td>{_h(when(c.at, tz))}</td><td>{_h(status_of(c.from_status).label if c.from_status else None)}</td>"
            f"<td>{_h(status_of(c.to_status).label)}</td><td>{_h(c.agent)}</td><td>{_h(c.note)}</td></tr>"
        )
    out += ["</table>", f"<h2>Timeline ({len(data['entries'])} entries)</h2>"]
    for e in data["entries"]:
        span = f" to {when(e.until, tz)}" if e.until else ""
        out.append(f'<div class="entry"><h3>#{e.seq} · {_h(when(e.at, tz) + span)}</h3><table>')
        facts = [
            ("Kind", e.kind),
            ("Channel", e.channel),
            ("Direction", e.direction),
            ("From", f"{e.sender} {e.sender_name}".strip()),
            ("Logged by", f"{e.agent} at {when(e.logged_at, tz)}"),
            ("Corrects entry", f"#{data['seq_of'].get(e.corrects_id, '?')}" if e.corrects_id else None),
            ("Follow-up promised", when(e.follow_up_at, tz) if e.follow_up_at else None),
            ("Timer action due", when(e.due_at, tz) if e.due_at else None),
            ("Summary", e.summary),
        ]
        out += [f"<tr><th>{label}</th><td>{_h(value)}</td></tr>" for label, value in facts if value]
        for a in e.attachment_list:
            sha = f"SHA-256 <code>{_h(a.sha256)}</code>"
            out.append(f"<tr><th>Attachment</th><td>{_h(a.name)}, {a.size} bytes, {sha}</td></tr>")
        out.append(f"<tr><th>Digest</th><td><code>{_h(e.digest)}</code></td></tr></table>")
        if e.body:
            out.append(f"<pre>{_h(e.body)}</pre>")
        out.append("</div>")
    out.append("<h2>Integrity</h2>")
    if report.ok:
        intact = f"the chain of {t.log_count} entries was intact"
        out.append(f"<p>At export {intact} and every attachment file matched its SHA-256.</p>")
    else:
        out.append('<p class="bad"><strong>At export tui-desk found these problems:</strong></p><ul>')
        out += [f"<li>{_h(p.line())}</li>" for p in report.problems]
        out.append("</ul>")
    how = _verification_markdown(t, report)[-1]
    out += [
        f"<p><strong>Final digest:</strong> <code>{_h(t.log_head)}</code></p>",
        f"<p>{html.escape(how.replace('`', ''))}</p>",
        "<h2>Appendix A: chain data</h2><p>Save this block as <code>chain.json</code>:</p>",
        f"<pre>{html.escape(json.dumps(data['chain'], ensure_ascii=True, indent=1))}</pre>",
        "<h2>Appendix B: check script</h2><p>Save this block as <code>check_chain.py</code> and run "
        "<code>python3 check_chain.py chain.json</code>:</p>",
        f"<pre>{html.escape(CHECK_SCRIPT)}</pre>",
        "</body></html>",
        "",
    ]
    return "\n".join(out)


def export_case(store, case_number: str, fmt: str = "md") -> str:
    """The case file as text in ``fmt`` (``md`` or ``html``)."""
    data = case_data(store, case_number)
    return to_html(data) if fmt == "html" else to_markdown(data)
