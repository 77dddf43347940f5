"""A self-contained case file for a third party: every field, key dates, the full timeline, and how to check the chain.

Markdown by default, HTML on request. Customer text is data: in Markdown it goes into code spans and
fenced blocks (never read as Markdown or HTML), in HTML it is escaped; control characters are shown as
visible escapes in both. The appendix carries the exact chained values as JSON (ASCII-escaped, so it
survives any mail client byte for byte) and a Python script (reporting/check_chain.py) that recomputes
the chain from it.

What a reader takes as evidence (the status history, the timeline, the final digest) is rendered by that
same script's ``render`` from the same JSON, and the script compares its rendering with the file byte
for byte: an edit to the readable timeline fails the check, not only an edit to the appendix. The case's
current fields and key dates are labelled as current state (they are not chained; their history is).
"""

from __future__ import annotations

import html
import json
import re
from datetime import datetime, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo

from tui_desk import __version__
from tui_desk.domain.dates import format_span
from tui_desk.domain.evidence import CHAINED_FIELDS, iso_micro
from tui_desk.domain.statuses import status_of
from tui_desk.domain.text import printable
from tui_desk.reporting import check_chain
from tui_desk.store import schema
from tui_desk.store.models import Meta, Ticket
from tui_desk.store.verify import verify_store

UTC = ZoneInfo("UTC")

# The script the reader runs, as it is in this package: the one renderer of the checked part.
CHECK_SCRIPT = Path(check_chain.__file__).read_text(encoding="utf-8")


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
        seq_of = {e.id: e.seq for e in entries}
        bound = Meta.get_or_none(Meta.key == schema.CHAIN_BOUND_FROM)
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
        "report": report,
        "chain": {
            "case_number": ticket.case_number,
            "ticket_id": ticket.id,
            "bound": bound is not None and bound.value.isdigit() and ticket.id >= int(bound.value),
            "timezone": str(store.config.tz),
            "final_digest": ticket.log_head,
            "entries": chain,
        },
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
        "The case as it stands now (current state, not part of the chain; its history is in the log below).",
        "",
    ]
    rows = _case_rows(t, f)
    out += [f"- **{label}:** {_code(value)}" for label, value in rows]
    out += ["", "### Description", ""]
    out += _block(t.description) if t.description else ["—"]
    out += ["", "## Key dates (current state)", "", "| Date | When |", "|---|---|"]
    for label, key in _KEY_DATES:
        out.append(f"| {label} | {when(_date_of(t, key), tz)} |")
    delay = _refund_delay(t)
    if delay:
        out.append(f"| Approval to refund | {delay} |")
    out += ["", check_chain.render(data["chain"], "md"), ""]
    out += _verification_markdown(t, report)
    out += ["", "## Appendix A: chain data", "", "The chained values, as JSON:", ""]
    out += _block(json.dumps(data["chain"], ensure_ascii=True, indent=1), "json")
    out += [
        "",
        "## Appendix B: check script",
        "",
        "Save this block as `check_chain.py` and run `python3 check_chain.py` with this case file's name "
        "(it reads Appendix A from the file and checks both the chain and what the file shows):",
        "",
    ]
    out += ["```python", CHECK_SCRIPT.rstrip(), "```", ""]
    return "\n".join(out)


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
        "How to check: each entry's digest is the SHA-256 (hex) of the UTF-8 JSON array "
        "`[previous digest, [the entry's fields], [[sha256, name, size] of each attachment, sorted]]`, "
        'written without spaces (`separators=(",", ":")`) and without escaping non-ASCII characters. '
        f"The fields, in order, are {', '.join(CHAINED_FIELDS)}; times are UTC text to the "
        f"microsecond exactly as stored (e.g. `{iso_micro(datetime(2026, 11, 15, 14, 30, tzinfo=UTC))}`), "
        "an absent value is `null`. The first entry's previous digest is the SHA-256 of "
        '`["tui-desk chain genesis v1", ticket id, case number]` written the same way when the chain is bound '
        'to its ticket (`"bound": true` in Appendix A), else the empty string. '
        "The final digest is the last entry's digest. Appendix A holds exactly these values and Appendix B "
        "a script that recomputes them and renders the status history and timeline above from them, to compare "
        "with what this file shows (the Case and Key dates sections are the case's current state and are "
        "not covered). If someone gave you the final digest earlier (by mail, on paper), "
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
        "<h2>Case</h2><p>The case as it stands now (current state, not part of the chain; its history is in "
        "the log below).</p><table>",
    ]
    rows = _case_rows(t, f)
    out += [f"<tr><th>{label}</th><td>{_h(value)}</td></tr>" for label, value in rows]
    out += ["</table>", "<h3>Description</h3>", f"<pre>{_h(t.description)}</pre>"]
    out += ["<h2>Key dates (current state)</h2><table>"]
    out += [f"<tr><th>{label}</th><td>{_h(when(_date_of(t, key), tz))}</td></tr>" for label, key in _KEY_DATES]
    delay = _refund_delay(t)
    if delay:
        out.append(f"<tr><th>Approval to refund</th><td>{_h(delay)}</td></tr>")
    out += ["</table>", check_chain.render(data["chain"], "html")]
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
        f"<p>{html.escape(how.replace('`', ''))}</p>",
        "<h2>Appendix A: chain data</h2><p>The chained values, as JSON:</p>",
        f'<pre id="chain-data">{html.escape(json.dumps(data["chain"], ensure_ascii=True, indent=1))}</pre>',
        "<h2>Appendix B: check script</h2><p>Save this block as <code>check_chain.py</code> and run "
        "<code>python3 check_chain.py</code> with this case file's name:</p>",
        f"<pre>{html.escape(CHECK_SCRIPT)}</pre>",
        "</body></html>",
        "",
    ]
    return "\n".join(out)


def export_case(store, case_number: str, fmt: str = "md") -> str:
    """The case file as text in ``fmt`` (``md`` or ``html``)."""
    data = case_data(store, case_number)
    return to_html(data) if fmt == "html" else to_markdown(data)
