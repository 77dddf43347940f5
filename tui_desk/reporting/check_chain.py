# check_chain.py: check a tui-desk case file. Usage: python3 check_chain.py CASEFILE (the .md or .html file)
# It recomputes every digest from the chain data in Appendix A, then renders the WHOLE case file from that
# same data (and this script's own text, for Appendix B) and compares it with the file, byte for byte:
# nothing a reader sees can differ from what the digests cover without the check failing.
# Standard library only, and kept to Python 3.8 and later: a reader may not have a new Python.
# ruff: noqa: UP017, UP032, B905
import hashlib
import html
import json
import re
import sys
from datetime import datetime, timezone

FIELDS = [
    "seq",
    "kind",
    "at",
    "until",
    "logged_at",
    "channel",
    "direction",
    "sender",
    "sender_name",
    "agent",
    "summary",
    "body",
    "follow_up_at",
    "corrects_seq",
    "due_at",
]
CONTROL = re.compile("[\\x00-\\x08\\x0b-\\x1f\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069]")


def digest_of(document):
    return hashlib.sha256(json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")).hexdigest()


def genesis(data):
    # Chains bound to their ticket start from its id and case number; older ones from "".
    if not data.get("bound"):
        return ""
    return digest_of(["tui-desk chain genesis v1", data["ticket_id"], data["case_number"]])


def escape(match):
    n = ord(match.group())
    return f"\\x{n:02x}" if n < 0x100 else f"\\u{n:04x}"


def printable(text, one_line=False):
    if not text:
        return ""
    safe = CONTROL.sub(escape, text)
    return " ".join(safe.split()) if one_line else safe


def when(text, zone):
    if not text:
        return "\u2014"
    utc = datetime.fromisoformat(text).replace(tzinfo=timezone.utc)
    out = utc.strftime("%Y-%m-%d %H:%M:%S") + " UTC"
    if zone != "UTC":
        from zoneinfo import ZoneInfo

        local = utc.astimezone(ZoneInfo(zone))
        out += " ({} {}, UTC{})".format(local.strftime("%Y-%m-%d %H:%M:%S"), local.tzname(), local.strftime("%z"))
    return out


def code(value):
    if value is None or value == "":
        return "\u2014"
    text = printable(str(value), one_line=True)
    fence = "`" * (max([len(r) for r in re.findall("`+", text)] or [0]) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return fence + pad + text + pad + fence


def block(text, info="text"):
    shown = printable(text)
    fence = "`" * max(3, max([len(r) for r in re.findall("`{3,}", shown)] or [0]) + 1)
    return [fence + info, shown, fence]


def h(value):
    return "\u2014" if value is None or value == "" else html.escape(printable(str(value)))


HOW = (
    "How to check: each entry's digest is the SHA-256 (hex) of the UTF-8 JSON array "
    "`[previous digest, [the entry's fields], [[sha256, name, size] of each attachment, sorted]]`, "
    'written without spaces (`separators=(",", ":")`) and without escaping non-ASCII characters. '
    "The fields, in order, are " + ", ".join(FIELDS) + "; times are UTC text to the "
    "microsecond exactly as stored (e.g. `2026-11-15 14:30:00.000000`), "
    "an absent value is `null`. The first entry's previous digest is the SHA-256 of "
    '`["tui-desk chain genesis v1", ticket id, case number]` written the same way when the chain is bound '
    'to its ticket (`"bound": true` in Appendix A), else the empty string. '
    "The final digest is the last entry's digest. Appendix A holds exactly these values, and the rest of "
    "this file's content too; Appendix B is a script that recomputes the digests and renders this whole "
    "file from Appendix A and its own text, to compare with the file byte for byte: nothing shown here can "
    "differ from Appendix A without the check failing. The Case and Key dates sections are the case's "
    "current state: the check proves the file shows what Appendix A says, but only the log entries are "
    "chained. If someone gave you the final digest earlier (by mail, on paper), "
    "compare it with the one above: the same digest means no earlier entry was changed, removed or "
    "reordered since."
)
APPENDIX_A = "## Appendix A: chain data"


def source_text(text):
    """A script's text as the file shows it in Appendix B: line ends and trailing blank lines do not count."""
    return text.replace("\r\n", "\n").rstrip()


def render(data, fmt, script):
    """The whole case file, from Appendix A's data and the check script's text (Appendix B)."""
    return render_md(data, script) if fmt == "md" else render_html(data, script)


def render_md(data, script):
    zone, entries, f = data["timezone"], data["entries"], data["file"]
    out = [
        "# Case file " + data["case_number"],
        "",
        "Exported {} by tui-desk {}. All times are stored in UTC and shown with their zone. Text written by "
        "customers and agents is reproduced verbatim inside code spans and blocks; control characters are "
        "shown as escapes such as `\\x1b`.".format(when(f["generated_at"], zone), f["version"]),
        "",
        "## Case",
        "",
        "The case as it stands now (current state, not part of the chain; its history is in the log below).",
        "",
    ]
    out += ["- **{}:** {}".format(label, code(value)) for label, value in f["case"].items()]
    out += ["", "### Description", ""]
    out += block(f["description"]) if f["description"] else ["\u2014"]
    out += ["", "## Key dates (current state)", "", "| Date | When |", "|---|---|"]
    out += ["| {} | {} |".format(label, when(value, zone)) for label, value in f["key_dates"].items()]
    if f["refund_delay"]:
        out.append("| Approval to refund | {} |".format(f["refund_delay"]))
    out += ["", "## Status history (from the log)", "", "| When | Change | By | Note |", "|---|---|---|---|"]
    for e in entries:
        if e["kind"] == "status":
            cells = [code(e["summary"]), code(e["agent"]), code(e["body"])]
            out.append("| {} | {} |".format(when(e["at"], zone), " | ".join(c.replace("|", "\\|") for c in cells)))
    out += ["", "## Timeline ({} entries)".format(len(entries)), ""]
    for e in entries:
        span = " to " + when(e["until"], zone) if e["until"] else ""
        out += ["### #{} \u00b7 {}{}".format(e["seq"], when(e["at"], zone), span), ""]
        out.append(
            "- **Kind:** {}; **channel:** {}; **direction:** {}".format(
                *tuple(printable(str(e[k]), one_line=True) for k in ("kind", "channel", "direction"))
            )
        )
        name = " " + code(e["sender_name"]) if e["sender_name"] else ""
        out.append("- **From:** {}{}".format(printable(str(e["sender"]), one_line=True), name))
        out.append("- **Logged by:** {} at {}".format(code(e["agent"]), when(e["logged_at"], zone)))
        if e["corrects_seq"]:
            out.append("- **Corrects entry:** #{}".format(e["corrects_seq"]))
        if e["follow_up_at"]:
            out.append("- **Follow-up promised:** " + when(e["follow_up_at"], zone))
        if e["due_at"]:
            out.append("- **Timer action due:** " + when(e["due_at"], zone))
        out.append("- **Summary:** " + code(e["summary"]))
        for sha, name, size in e["attachments"]:
            out.append("- **Attachment:** {}, {} bytes, SHA-256 `{}`".format(code(name), size, printable(sha, True)))
        out.append("- **Digest:** `{}`".format(printable(e["digest"], True)))
        out += ([""] + block(e["body"]) if e["body"] else []) + [""]
    out += ["**Final digest:** `{}`".format(printable(data["final_digest"], True)), ""]
    out += ["## Integrity", ""]
    if f["problems"]:
        out += ["**At export tui-desk found these problems:**", ""]
        out += ["- " + code(p) for p in f["problems"]]
    else:
        out.append(
            "At export the chain of {} entries was intact and every attachment file matched its SHA-256.".format(
                len(entries)
            )
        )
    out += ["", HOW, "", APPENDIX_A, "", "The chained values, as JSON:", ""]
    out += block(json.dumps(data, ensure_ascii=True, indent=1), "json")
    out += [
        "",
        "## Appendix B: check script",
        "",
        "Save this block as `check_chain.py` and run `python3 check_chain.py` with this case file's name "
        "(it reads Appendix A from the file and checks both the chain and everything the file shows):",
        "",
        "```python",
        source_text(script),
        "```",
        "",
    ]
    return "\n".join(out)


def render_html(data, script):
    zone, entries, f = data["timezone"], data["entries"], data["file"]
    number = h(data["case_number"])
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        "<title>Case file {}</title><style>{}</style></head><body>".format(number, CSS),
        "<h1>Case file {}</h1>".format(number),
        "<p>Exported {} by tui-desk {}. All times are stored in UTC and shown with their zone. Control "
        "characters in text are shown as escapes.</p>".format(h(when(f["generated_at"], zone)), h(f["version"])),
        "<h2>Case</h2><p>The case as it stands now (current state, not part of the chain; its history is in "
        "the log below).</p><table>",
    ]
    out += ["<tr><th>{}</th><td>{}</td></tr>".format(h(label), h(value)) for label, value in f["case"].items()]
    out += ["</table>", "<h3>Description</h3>", "<pre>{}</pre>".format(h(f["description"]))]
    out += ["<h2>Key dates (current state)</h2><table>"]
    out += [
        "<tr><th>{}</th><td>{}</td></tr>".format(h(label), h(when(value, zone)))
        for label, value in f["key_dates"].items()
    ]
    if f["refund_delay"]:
        out.append("<tr><th>Approval to refund</th><td>{}</td></tr>".format(h(f["refund_delay"])))
    out += [
        "</table>",
        "<h2>Status history (from the log)</h2><table>",
        "<tr><th>When</th><th>Change</th><th>By</th><th>Note</th></tr>",
    ]
    for e in entries:
        if e["kind"] == "status":
            out.append(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>".format(
                    h(when(e["at"], zone)), h(e["summary"]), h(e["agent"]), h(e["body"])
                )
            )
    out += ["</table>", "<h2>Timeline ({} entries)</h2>".format(len(entries))]
    for e in entries:
        span = " to " + when(e["until"], zone) if e["until"] else ""
        out.append('<div class="entry"><h3>#{} \u00b7 {}</h3><table>'.format(e["seq"], h(when(e["at"], zone) + span)))
        facts = [
            ("Kind", e["kind"]),
            ("Channel", e["channel"]),
            ("Direction", e["direction"]),
            ("From", ("{} {}".format(e["sender"], e["sender_name"] or "")).strip()),
            ("Logged by", "{} at {}".format(e["agent"], when(e["logged_at"], zone))),
            ("Corrects entry", "#{}".format(e["corrects_seq"]) if e["corrects_seq"] else None),
            ("Follow-up promised", when(e["follow_up_at"], zone) if e["follow_up_at"] else None),
            ("Timer action due", when(e["due_at"], zone) if e["due_at"] else None),
            ("Summary", e["summary"]),
        ]
        out += ["<tr><th>{}</th><td>{}</td></tr>".format(label, h(value)) for label, value in facts if value]
        for sha, name, size in e["attachments"]:
            out.append(
                "<tr><th>Attachment</th><td>{}, {} bytes, SHA-256 <code>{}</code></td></tr>".format(
                    h(name), size, h(sha)
                )
            )
        out.append("<tr><th>Digest</th><td><code>{}</code></td></tr></table>".format(h(e["digest"])))
        out += ["<pre>{}</pre>".format(h(e["body"]))] if e["body"] else []
        out.append("</div>")
    out.append("<p><strong>Final digest:</strong> <code>{}</code></p>".format(h(data["final_digest"])))
    out.append("<h2>Integrity</h2>")
    if f["problems"]:
        out.append('<p class="bad"><strong>At export tui-desk found these problems:</strong></p><ul>')
        out += ["<li>{}</li>".format(h(p)) for p in f["problems"]]
        out.append("</ul>")
    else:
        out.append(
            "<p>At export the chain of {} entries was intact and every attachment file matched its SHA-256.</p>".format(
                len(entries)
            )
        )
    out += [
        "<p>{}</p>".format(html.escape(HOW.replace("`", ""))),
        "<h2>Appendix A: chain data</h2><p>The chained values, as JSON:</p>",
        '<pre id="chain-data">{}</pre>'.format(html.escape(json.dumps(data, ensure_ascii=True, indent=1))),
        "<h2>Appendix B: check script</h2><p>Save this block as <code>check_chain.py</code> and run "
        "<code>python3 check_chain.py</code> with this case file's name:</p>",
        "<pre>{}\n</pre>".format(html.escape(source_text(script))),
        "</body></html>",
        "",
    ]
    return "\n".join(out)


CSS = (
    "body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#111}"
    "pre{white-space:pre-wrap;background:#f4f4f4;padding:.6rem;border:1px solid #ddd;overflow-wrap:anywhere}"
    "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2rem .5rem;text-align:left;vertical-align:top}"
    "code{overflow-wrap:anywhere}.entry{border-top:1px solid #999;margin-top:1rem}.bad{color:#a00}"
)


def chain_data(text):
    """Appendix A of a case file (or a chain.json on its own), and the file's format.

    In Markdown it is the block after the LAST "Appendix A" heading: customer text comes before it (in
    the timeline), so text that imitates the heading cannot stand in for it.
    """
    if text.lstrip().startswith("{"):
        return json.loads(text), None
    if text.lstrip().startswith("<!DOCTYPE"):
        found = re.search('<pre id="chain-data">(.*?)</pre>', text, re.S)  # customer text is escaped: no "<pre"
        return json.loads(html.unescape(found.group(1))), "html"
    at = text.rfind("\n" + APPENDIX_A + "\n")
    found = re.search("^(`{3,})json\n(.*?)\n\\1$", text[at:], re.S | re.M) if at >= 0 else None
    return json.loads(found.group(2)), "md"


def first_difference(shown, expected):
    """The first line where the file differs from its rendering, for the reader to look at."""
    a, b = shown.split("\n"), expected.split("\n")
    for n, (x, y) in enumerate(zip(a, b), start=1):
        if x != y:
            return "line {}: {!r} where the chain data gives {!r}".format(n, x[:80], y[:80])
    return "line {}: the file {} than the chain data gives".format(
        min(len(a), len(b)) + 1, "is longer" if len(a) > len(b) else "ends sooner"
    )


def main(path):
    text = open(path, encoding="utf-8", newline="").read()
    try:
        data, fmt = chain_data(text)
    except (AttributeError, ValueError):
        print("no chain data found (Appendix A is missing or damaged)")
        print("DOES NOT MATCH")
        return 1
    previous, broken = genesis(data), 0
    for entry in data["entries"]:
        document = [previous, [entry[name] for name in FIELDS], sorted(entry["attachments"])]
        if digest_of(document) != entry["digest"]:
            broken += 1
            print("entry", entry["seq"], "does not match its digest")
        previous = entry["digest"]
    print("final digest:", previous)
    if previous != data["final_digest"]:
        broken += 1
    if fmt is None:
        print("(only the chain data was checked: give the case file itself to check what it shows too)")
    else:
        script = open(__file__, encoding="utf-8").read()
        try:
            expected = render(data, fmt, script)
        except (KeyError, TypeError, ValueError):
            expected = None
        if expected is None:
            broken += 1
            print("the chain data cannot be rendered (Appendix A is incomplete)")
        elif text != expected:
            broken += 1
            print("what the case file shows does not match the chain data:", first_difference(text, expected))
        else:
            print("everything the case file shows matches the chain data")
    print("matches the case file" if not broken else "DOES NOT MATCH")
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
