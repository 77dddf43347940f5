"""Cells that a spreadsheet would run as a formula (``=…``, ``+…``, ``-…``, ``@…``) are written with a leading ``'``.

Customer text is data: a subject of ``=HYPERLINK(…)`` must not become a live formula in someone's
spreadsheet. The escape is reversible: import drops exactly the apostrophe that export added.
"""

from __future__ import annotations

_TRIGGERS = frozenset("=+-@\t\r")


def _needs(text: str) -> bool:
    rest = text.lstrip("'")
    return bool(rest) and rest[0] in _TRIGGERS


def escape_cell(text: str) -> str:
    return "'" + text if text and _needs(text) else text


def unescape_cell(text: str) -> str:
    return text[1:] if text.startswith("'") and _needs(text[1:]) else text
