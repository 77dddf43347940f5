# check_chain.py: check a tui-desk case file. Usage: python3 check_chain.py CASEFILE (the .md or .html file)
# It recomputes every digest from the chain data in Appendix A, then renders the status history and the
# timeline from that same data and compares them with what the file shows, byte for byte.
# Standard library only, and kept to Python 3.8 and later: a reader may not have a new Python.
# ruff: noqa: UP017, UP032
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
# The markers around the checked part, built so that this script's own text (Appendix B) holds neither.
BEGIN, END = "<!-- chain-checked: " + "begin -->", "<!-- chain-checked: " + "end -->"
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


def block(text):
    shown = printable(text)
    fence = "`" * max(3, max([len(r) for r in re.findall("`{3,}", shown)] or [0]) + 1)
    return [fence + "text", shown, fence]


def h(value):
    return "\u2014" if value is None or value == "" else html.escape(printable(str(value)))


def render(data, fmt):
    """The part of the case file the chain covers: status history, timeline, final digest."""
    zone, entries = data["timezone"], data["entries"]
    moves = [e for e in entries if e["kind"] == "status"]
    if fmt == "md":
        out = [BEGIN, "## Status history (from the log)", "", "| When | Change | By | Note |", "|---|---|---|---|"]
        for e in moves:
            cells = [code(e["summary"]), code(e["agent"]), code(e["body"])]
            out.append("| {} | {} |".format(when(e["at"], zone), " | ".join(c.replace("|", "\\|") for c in cells)))
        out += ["", f"## Timeline ({len(entries)} entries)", ""]
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
                out.append(f"- **Attachment:** {code(name)}, {size} bytes, SHA-256 `{printable(sha, True)}`")
            out.append("- **Digest:** `{}`".format(printable(e["digest"], True)))
            out += ([""] + block(e["body"]) if e["body"] else []) + [""]
        out += ["**Final digest:** `{}`".format(printable(data["final_digest"], True)), END]
        return "\n".join(out)
    out = [
        BEGIN,
        "<h2>Status history (from the log)</h2><table>",
        "<tr><th>When</th><th>Change</th><th>By</th><th>Note</th></tr>",
    ]
    for e in moves:
        out.append(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>".format(
                h(when(e["at"], zone)), h(e["summary"]), h(e["agent"]), h(e["body"])
            )
        )
    out += ["</table>", f"<h2>Timeline ({len(entries)} entries)</h2>"]
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
        out += [f"<tr><th>{label}</th><td>{h(value)}</td></tr>" for label, value in facts if value]
        for sha, name, size in e["attachments"]:
            out.append(f"<tr><th>Attachment</th><td>{h(name)}, {size} bytes, SHA-256 <code>{h(sha)}</code></td></tr>")
        out.append("<tr><th>Digest</th><td><code>{}</code></td></tr></table>".format(h(e["digest"])))
        out += ["<pre>{}</pre>".format(h(e["body"]))] if e["body"] else []
        out.append("</div>")
    out += ["<p><strong>Final digest:</strong> <code>{}</code></p>".format(h(data["final_digest"])), END]
    return "\n".join(out)


def chain_data(text):
    """Appendix A of a case file (or a chain.json on its own), and the file's format."""
    if text.lstrip().startswith("{"):
        return json.loads(text), None
    if text.lstrip().startswith("<!DOCTYPE"):
        found = re.search('<pre id="chain-data">(.*?)</pre>', text, re.S)
        return json.loads(html.unescape(found.group(1))), "html"
    found = re.search("^## Appendix A.*?^(`{3,})json\n(.*?)\n\\1$", text, re.S | re.M)
    return json.loads(found.group(2)), "md"


def shown(text):
    """The checked part of a case file: between the two markers, each there exactly once."""
    if text.count(BEGIN) != 1 or text.count(END) != 1:
        return None
    return text.split(BEGIN)[1].split(END)[0]


def main(path):
    text = open(path, encoding="utf-8").read()
    data, fmt = chain_data(text)
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
    elif shown(text) != shown(render(data, fmt)):
        broken += 1
        print("the status history or timeline shown in the case file does not match the chain data")
    else:
        print("the status history and timeline shown match the chain data")
    print("matches the case file" if not broken else "DOES NOT MATCH")
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
