"""Customer text shown safely: control characters (escape sequences included) become visible escapes."""

from __future__ import annotations

import re

# C0 controls except tab and newline, DEL, C1 controls, and bidi overrides that can disguise text.
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str | None, *, one_line: bool = False) -> str:
    """Text safe to put on a terminal: controls shown as ``\\x1b`` etc., a CRLF line end as a line end (sheets
    made on Windows hold them); the stored text is untouched. A lone CR, which would overwrite, stays shown."""
    if not text:
        return ""
    safe = _CONTROL_RE.sub(_escape, text.replace("\r\n", "\n"))
    if one_line:
        safe = " ".join(safe.split())
    return safe


def printable_json(text: str) -> str:
    """JSON text safe to put on a terminal and still JSON: the controls ``json.dumps`` leaves as they are (DEL,
    C1 such as the 8-bit CSI) and bidi overrides as ``\\u`` escapes; it escapes the others itself."""
    return _CONTROL_RE.sub(lambda match: f"\\u{ord(match.group()):04x}", text)


def clip(text: str, width: int) -> str:
    """Cut to ``width`` characters with an ellipsis."""
    return text if len(text) <= width else text[: max(width - 1, 0)] + "…"


_WROTE = re.compile(r"^(On .{4,200} wrote:|.{0,120}(schrieb|a écrit|escribió|scrisse)\s?.{0,80}:)\s*$")


def fold_quoted(body: str) -> list[str]:
    """An email's lines with the earlier replies it quotes (``> …``, and the "On … wrote:" line before
    them) folded into one line saying how many; for showing only: the entry keeps them all."""
    lines = body.splitlines()
    out: list[str] = []
    i = 0
    while i < len(lines):
        start = i
        if _WROTE.match(lines[i].strip()) and i + 1 < len(lines) and lines[i + 1].lstrip().startswith(">"):
            i += 1
        if lines[i].lstrip().startswith(">"):
            while i < len(lines) and (lines[i].lstrip().startswith(">") or not lines[i].strip()):
                i += 1
            count = i - start
            out.append(f"… {count} quoted line{'s' if count != 1 else ''} folded (kept in the entry)")
            continue
        out.append(lines[i])
        i += 1
    return out
