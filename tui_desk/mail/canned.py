"""Canned replies: ``replies/NAME.md`` in the config folder, a text with placeholders and, optionally, a
status and tags to set with it (a macro).

A file may start with a header between ``---`` lines::

    ---
    status: waiting-on-buyer
    tags: needs-photos, damaged-shipment
    ---
    Hello {customer},

    could you send us a photo of the damage? Your case is {case_number} ({subject}).

    {agent}
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from pathlib import Path

from tui_desk.config import config_path
from tui_desk.domain import vocabulary
from tui_desk.domain.errors import DeskError
from tui_desk.domain.statuses import Status, parse_status, status_of

PLACEHOLDERS = ("customer", "case_number", "subject", "agent", "order_id", "status", "email")
HEADER_KEYS = ("status", "tags")
MAX_BYTES = 256 * 1024
NAME_CHARS = frozenset(string.ascii_letters + string.digits + "-_.")


@dataclass(frozen=True)
class CannedReply:
    name: str
    text: str
    status: Status | None = None
    tags: tuple[str, ...] = ()

    def fill(self, ticket, agent: str) -> str:
        """The text for this ticket (placeholders filled in; the ticket's own text is taken as it is)."""
        values = {
            "customer": ticket.customer,
            "case_number": ticket.case_number,
            "subject": ticket.subject,
            "agent": agent,
            "order_id": ticket.order_id or "",
            "status": status_of(ticket.status).label,
            "email": ticket.email or "",
        }
        return self.text.format(**values)


def replies_folder() -> Path:
    return config_path().parent / "replies"


def load_reply(path: Path) -> CannedReply:
    """Read and check one file; a problem is named with the file (a typo shows when listed, not when sent)."""
    where = f"canned reply {path}"
    try:
        if path.stat().st_size > MAX_BYTES:
            raise DeskError(f"{where}: larger than {MAX_BYTES // 1024} KB")
        raw = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise DeskError(f"{where}: not UTF-8 text") from None
    except OSError as err:
        raise DeskError(f"{where}: cannot read ({err.strerror})") from None
    if "\x00" in raw:
        raise DeskError(f"{where}: contains a NUL character")
    status, tags, text = None, (), raw
    lines = raw.splitlines(keepends=True)
    if lines and lines[0].strip() == "---":
        try:
            end = next(i for i in range(1, len(lines)) if lines[i].strip() == "---")
        except StopIteration:
            raise DeskError(f"{where}: the header opened by --- on line 1 is never closed") from None
        for number, line in enumerate(lines[1:end], start=2):
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            key, sep, value = line.partition(":")
            key = key.strip().lower()
            if not sep or key not in HEADER_KEYS:
                raise DeskError(
                    f"{where}, line {number}: {key or line.strip()!r} is not one of {', '.join(HEADER_KEYS)}"
                )
            if key == "status":
                try:
                    status = parse_status(value.strip())
                except DeskError as err:
                    raise DeskError(f"{where}, line {number}: {err}") from None
            else:
                try:
                    tags = tuple(vocabulary.check_tag(t) for t in value.split(",") if t.strip())
                except DeskError as err:
                    raise DeskError(f"{where}, line {number}: {err}") from None
        text = "".join(lines[end + 1 :])
    text = text.strip("\n")
    try:
        names = [name for _, name, _, _ in string.Formatter().parse(text) if name is not None]
    except ValueError as err:
        raise DeskError(f"{where}: not a valid template ({err}; write {{{{ for a brace)") from None
    for name in names:
        if name not in PLACEHOLDERS:
            allowed = ", ".join("{" + p + "}" for p in PLACEHOLDERS)
            raise DeskError(f"{where}: {{{name}}} is not one of {allowed}")
    return CannedReply(name=path.stem, text=text, status=status, tags=tags)


def list_replies(folder: Path | None = None) -> list[CannedReply]:
    """Every ``*.md`` in the folder, by name (none if there is no folder)."""
    folder = folder or replies_folder()
    if not folder.is_dir():
        return []
    return [load_reply(path) for path in sorted(folder.glob("*.md")) if path.is_file()]


def find_reply(name: str, folder: Path | None = None) -> CannedReply:
    folder = folder or replies_folder()
    key = name.strip().removesuffix(".md")
    if not key or not set(key) <= NAME_CHARS or key.startswith("."):
        raise DeskError(f"canned reply {name!r}: a name is letters, digits, - _ and .")
    path = folder / f"{key}.md"
    if not path.is_file():
        known = [p.stem for p in sorted(folder.glob("*.md"))] if folder.is_dir() else []
        hint = f" (known: {', '.join(known)})" if known else f" (there are none in {folder})"
        raise DeskError(f"no canned reply {key!r}{hint}")
    return load_reply(path)
