"""A ticket's timeline as a line-API scroll view: entries are laid out as plain lines, only visible ones painted.

Wrapping is done with ``textwrap`` on already-escaped text, which is fast enough to lay out thousands
of entries at once; no widget per entry, so a 1,000-entry history opens as fast as a short one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import tzinfo

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding
from textual.events import Resize
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.selection import Selection
from textual.strip import Strip

from tui_desk.domain.dates import format_when
from tui_desk.domain.text import fold_quoted, printable
from tui_desk.store.models import LogEntry
from tui_desk.tui.colours import legible

ARROWS = {"in": "← in", "out": "→ out", "internal": "· internal"}
INDENT = 6


@dataclass(frozen=True)
class TimelineEntry:
    """What the timeline shows of one log entry; built in a worker from the store's rows."""

    seq: int
    kind: str
    at: str
    until: str
    channel: str
    direction: str
    sender: str
    agent: str
    summary: str
    body: str
    attachments: tuple[tuple[str, int, str], ...]  # name, size, sha256
    corrects: int | None
    corrected_by: tuple[int, ...]
    follow_up: str

    @classmethod
    def build(cls, entries: list[LogEntry], tz: tzinfo) -> list[TimelineEntry]:
        """From ``Store.entries`` rows (the whole log, or its newest part)."""
        corrected_by: dict[int, list[int]] = {}
        for e in entries:
            if e.corrects_seq:
                corrected_by.setdefault(e.corrects_seq, []).append(e.seq)
        out = []
        for e in entries:
            sender = e.sender if not e.sender_name else f"{e.sender} {e.sender_name}"
            out.append(
                cls(
                    seq=e.seq,
                    kind=e.kind,
                    at=format_when(e.at, tz),
                    until=format_when(e.until, tz) if e.until else "",
                    channel=e.channel,
                    direction=e.direction,
                    sender=printable(sender, one_line=True),
                    agent=printable(e.agent, one_line=True),
                    summary=printable(e.summary, one_line=True),
                    body=printable(e.body),
                    attachments=tuple(
                        (printable(a.name, one_line=True), a.size, a.sha256) for a in getattr(e, "attachment_list", [])
                    ),
                    corrects=e.corrects_seq,
                    corrected_by=tuple(corrected_by.get(e.seq, ())),
                    follow_up=format_when(e.follow_up_at, tz) if e.follow_up_at else "",
                )
            )
        return out


def wrap_line(text: str, width: int) -> list[str]:
    """Greedy wrap at spaces (hard cut for long words); much cheaper than ``textwrap`` for thousands of lines.

    Widths are counted in characters; a line of wide characters that overflows is cropped when painted.
    """
    if len(text) <= width:
        return [text]
    out = []
    while len(text) > width:
        cut = text.rfind(" ", 0, width + 1)
        if cut <= 0:
            out.append(text[:width])
            text = text[width:]
        else:
            out.append(text[:cut])
            text = text[cut + 1 :]
    out.append(text)
    return out


def human_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"


Line = list[tuple[str, str]]  # (text, style name)


def lay_out(entries: list[TimelineEntry], width: int) -> list[Line]:
    """The timeline's lines at this width: pure, so a worker can do it for a long history."""
    wrap = width - INDENT
    pad = " " * INDENT
    lines: list[Line] = []
    for e in entries:
        system = e.channel == "system"
        when = e.at + (f" – {e.until}" if e.until else "")
        if system:
            head: Line = [(f"#{e.seq:<4} ", "muted"), (when, "head"), (f"  system · {e.agent}", "system")]
        else:
            arrow_style = {"in": "inbound", "out": "outbound"}.get(e.direction, "muted")
            head = [
                (f"#{e.seq:<4} ", "muted"),
                (when, "head"),
                (f"  {e.channel} ", "head"),
                (ARROWS.get(e.direction, e.direction), arrow_style),
                (f"  {e.sender}", ""),
                (f"  logged by {e.agent}", "muted"),
            ]
        lines.append(head)
        lines.append([(pad, ""), (e.summary, "system" if system else "summary")])
        if e.corrects is not None:
            lines.append([(pad, ""), (f"↳ corrects #{e.corrects}", "link")])
        if e.corrected_by:
            refs = ", ".join(f"#{n}" for n in e.corrected_by)
            lines.append([(pad, ""), (f"↳ corrected by {refs}", "link")])
        if e.body:
            mail_in = e.channel == "email" and e.direction == "in"
            for paragraph in fold_quoted(e.body) if mail_in else e.body.splitlines():
                for chunk in wrap_line(paragraph, wrap):
                    lines.append([(pad, ""), (chunk, "")])
        for name, size, _sha in e.attachments:
            lines.append([(pad, ""), (f"📎 {name} ({human_size(size)})", "link")])
        if e.follow_up:
            lines.append([(pad, ""), (f"follow-up promised by {e.follow_up}", "link")])
        lines.append([])
    # A head or summary longer than the width (an edit's old → new, a long acknowledgement, a sender's
    # long name) goes on over the next lines, indented, rather than being cut off at the edge.
    return [part for line in lines for part in fit_line(line, width, pad)]


def fit_line(line: Line, width: int, pad: str) -> list[Line]:
    """``line`` as it is if it fits in ``width``, else wrapped at spaces onto lines that start with ``pad``
    (each piece keeps its style; a word longer than a line is cut)."""
    if sum(len(text) for text, _ in line) <= width:
        return [line]
    out: list[Line] = []
    current: Line = []
    used = 0
    for text, style in line:
        for word in re.split(r"(?<= )(?=\S)", text):  # words, each with the spaces after it
            while word:
                room = width - used
                if len(word.rstrip(" ")) <= room:
                    current.append((word[:room] if len(word) > room else word, style))
                    used += min(len(word), room)
                    word = ""
                elif used > len(pad) or (current and used == len(pad) and current[0][0] != pad):
                    out.append(current)  # the word goes to the next line
                    current, used = [(pad, "")], len(pad)
                    word = word.lstrip(" ")
                else:
                    current.append((word[:room], style))  # longer than a whole line: cut
                    out.append(current)
                    current, used = [(pad, "")], len(pad)
                    word = word[room:]
    if current and used > len(pad):
        out.append(current)
    return out


class Timeline(ScrollView, can_focus=True):
    """Every entry in time order: header line, summary, content, attachments, correction links."""

    COMPONENT_CLASSES = {
        "timeline--head",
        "timeline--system",
        "timeline--summary",
        "timeline--muted",
        "timeline--link",
        "timeline--inbound",
        "timeline--outbound",
    }
    DEFAULT_CSS = """
    Timeline { background: $surface; scrollbar-gutter: stable; }
    Timeline > .timeline--head { color: $text-muted; }
    Timeline > .timeline--system { color: $text-muted; text-style: italic; }
    Timeline > .timeline--summary { text-style: bold; }
    Timeline > .timeline--muted { color: $text-muted; }
    Timeline > .timeline--link { color: $warning; }
    Timeline > .timeline--inbound { color: $success; text-style: bold; }
    Timeline > .timeline--outbound { color: $primary; text-style: bold; }
    """
    BINDINGS = [
        Binding("up,k", "scroll_up", "Up", show=False, id="timeline.up"),
        Binding("down,j", "scroll_down", "Down", show=False, id="timeline.down"),
        Binding("pageup", "page_up", "Page up", show=False, id="timeline.page_up"),
        Binding("pagedown,space", "page_down", "Page down", show=False, id="timeline.page_down"),
        Binding("home,g", "scroll_home", "Oldest", show=False, id="timeline.home"),
        Binding("end,G", "scroll_end", "Newest", show=False, id="timeline.end"),
    ]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.entries: list[TimelineEntry] = []
        self._lines: list[Line] = []
        self._laid_out_width = 0
        self.placeholder = "Loading…"
        self._follow_end = False  # keep showing the newest entry until the agent scrolls back

    @property
    def text_width(self) -> int:
        """The width ``lay_out`` wraps to: read it on the UI thread, lay out in a worker."""
        return max(self.scrollable_content_region.width, 20)

    def set_entries(
        self, entries: list[TimelineEntry], *, to_end: bool = True, lines: tuple[int, list[Line]] | None = None
    ) -> None:
        """Show these entries; ``lines`` is ``(width, lay_out(entries, width))`` if a worker did it already."""
        self.entries = entries
        if to_end:
            self._follow_end = True
        if lines is not None and lines[0] == self.text_width:
            self._show_lines(lines[0], lines[1])
        else:
            self._layout(self.scrollable_content_region.width)

    def on_resize(self, _: Resize) -> None:
        width = self.scrollable_content_region.width
        if width != self._laid_out_width:
            self._layout(width)
        elif self._follow_end:  # e.g. the header above grew once the ticket was read
            self.call_after_refresh(self._to_end)

    def _layout(self, width: int) -> None:
        width = max(width, 20)
        self._show_lines(width, lay_out(self.entries, width))

    def _show_lines(self, width: int, lines: list[Line]) -> None:
        self._laid_out_width = width
        self._lines = lines
        self.virtual_size = Size(width, len(lines))
        self.refresh()
        if self._follow_end:
            self.call_after_refresh(self._to_end)

    def _to_end(self) -> None:
        # Set directly once the new virtual size is laid out (a scroll before that is clamped to the old one).
        if self._follow_end:
            self.scroll_to(
                y=max(0, len(self._lines) - self.scrollable_content_region.height),
                animate=False,
                immediate=True,
                force=True,
            )

    def action_scroll_up(self) -> None:
        self._follow_end = False
        super().action_scroll_up()

    # Jumps, not animations: an animated scroll through a long history takes a second.
    def action_scroll_home(self) -> None:
        self._follow_end = False
        self.scroll_home(animate=False, immediate=True)

    def action_scroll_end(self) -> None:
        self._follow_end = True  # at the newest entry: keep showing the newest as they come
        self.scroll_end(animate=False, immediate=True)

    def action_page_down(self) -> None:
        self.scroll_page_down(animate=False)

    def action_page_up(self) -> None:
        self._follow_end = False
        self.scroll_page_up(animate=False)

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        index = int(self.scroll_y) + y
        base = self.rich_style
        if not self.entries:
            text = self.placeholder if y == 0 else ""
            return Strip([Segment(text.ljust(width), base + self.get_component_rich_style("timeline--muted"))])
        if index >= len(self._lines):
            return Strip.blank(width, base)
        segments = []
        used = 0
        span = self._selected_span(index)
        for text, style in self._lines[index]:
            if used >= width:
                break
            part = text
            if used + cell_len(part) > width:
                part = set_cell_size(part, width - used)
            painted = base + self._style(style)
            if span is None:
                segments.append(Segment(part, painted))
            else:
                segments.extend(self._with_selection(part, painted, used, span))
            used += cell_len(part)
        if used < width:
            segments.append(Segment(" " * (width - used), base))
        # Offsets tell Textual where each cell is in the text (line, column): mouse selection works on them.
        return Strip(segments, width).apply_offsets(0, index)

    # -- mouse selection (Textual's text selection; Ctrl+C copies it, by OSC 52) -------------------

    def get_selection(self, selection: Selection) -> tuple[str, str] | None:
        text = "\n".join("".join(t for t, _ in line) for line in self._lines)
        return selection.extract(text), "\n"

    def selection_updated(self, selection: Selection | None) -> None:
        self.refresh()

    def _selected_span(self, index: int) -> tuple[int, int] | None:
        selection = self.text_selection
        if selection is None:
            return None
        return selection.get_span(index)

    def _with_selection(self, part: str, style: Style, start: int, span: tuple[int, int]) -> list[Segment]:
        """``part`` (at column ``start``) split where the selection ``span`` of its line begins and ends."""
        first, last = span
        last = start + len(part) if last == -1 else last
        a, b = max(first - start, 0), min(max(last - start, 0), len(part))
        if a >= b:
            return [Segment(part, style)]
        selected = style + self.screen.get_component_rich_style("screen--selection")
        pieces = [(part[:a], style), (part[a:b], selected), (part[b:], style)]
        return [Segment(text, st) for text, st in pieces if text]

    def _style(self, name: str) -> Style:
        # Theme colours (``$success`` on a light surface) are made readable here (tui/colours.py).
        if not name:
            return Style()
        return legible(self.get_component_rich_style(f"timeline--{name}"), self.rich_style.bgcolor)
