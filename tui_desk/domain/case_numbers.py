"""Case numbers: ``{PREFIX}-{KIND}-{YEAR}-{SEQ}``, e.g. ``GTB-REF-2026-00042``."""

from __future__ import annotations

import re

from tui_desk.domain.errors import DeskError

SEQ_WIDTH = 5
# The highest sequence a case number may carry: a billion cases of one kind in one year is no real
# desk's, and anything larger (an imported ``...-9223372036854775807``) would overflow SQLite's integers.
MAX_CASE_SEQ = 999_999_999
_CASE_RE = re.compile(r"^(?P<prefix>[A-Z0-9]+)-(?P<kind>[A-Z0-9]+)-(?P<year>\d{4})-(?P<seq>\d+)$")


def format_case_number(prefix: str, kind_code: str, year: int, seq: int) -> str:
    if not 1 <= seq <= MAX_CASE_SEQ:
        raise ValueError(f"case sequence {seq} is outside 1..{MAX_CASE_SEQ}")
    return f"{prefix}-{kind_code}-{year:04d}-{seq:0{SEQ_WIDTH}d}"


def parse_case_number(text: str) -> tuple[str, str, int, int]:
    """Split a case number into (prefix, kind code, year, sequence); refuse anything else."""
    match = _CASE_RE.match(text.strip().upper())
    if not match:
        raise DeskError(f"{text.strip()!r} is not a case number like GTB-REF-2026-00042")
    return match["prefix"], match["kind"], int(match["year"]), int(match["seq"])


def validate_code(code: str, what: str) -> str:
    """A prefix or kind code: letters and digits only, so case numbers stay parseable."""
    if not re.fullmatch(r"[A-Z0-9]{1,10}", code):
        raise DeskError(f"{what} {code!r} must be 1-10 capital letters or digits")
    return code


def check_imported_number(text: str) -> None:
    """A case number in our format must carry a sequence within ``MAX_CASE_SEQ`` (other formats pass)."""
    try:
        _, _, _, seq = parse_case_number(text)
    except DeskError:
        return  # a foreign format (GTB-REF-1101) is kept as it is and never allocated from
    if seq > MAX_CASE_SEQ:
        raise DeskError(f"case number {text} has a sequence above {MAX_CASE_SEQ:,}")
