"""Customer text shown safely: control characters (escape sequences included) become visible escapes."""

from __future__ import annotations

import re

# C0 controls except tab and newline, DEL, C1 controls, and bidi overrides that can disguise text.
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str | None, *, one_line: bool = False) -> str:
    """Text safe to put on a terminal: controls shown as ``\\x1b`` etc.; the stored text is untouched."""
    if not text:
        return ""
    safe = _CONTROL_RE.sub(_escape, text)
    if one_line:
        safe = " ".join(safe.split())
    return safe


def clip(text: str, width: int) -> str:
    """Cut to ``width`` characters with an ellipsis."""
    return text if len(text) <= width else text[: max(width - 1, 0)] + "…"
