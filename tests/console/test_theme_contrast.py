"""Every built-in theme keeps the queue's coloured cells readable: contrast of at least 4.5 : 1.

The queue is rendered in each theme and the contrast computed from the painted segments' own colours
(foreground against background), for every status cell and every priority and due cell.
"""

from __future__ import annotations

import pytest
from rich.segment import Segment
from textual.color import Color
from textual.theme import BUILTIN_THEMES

from tests.console.test_tui_flows import app_for, desk, settle, sync  # noqa: F401 - desk is a fixture
from tui_desk.domain.statuses import Status
from tui_desk.tui.colours import MIN_CONTRAST, contrast, readable
from tui_desk.tui.widgets.ticket_table import TicketTable

LABELS = {s.label for s in Status}


def cells(table: TicketTable) -> list[Segment]:
    """The painted segments of the table's rows below the cursor row (the cursor paints its own colours)."""
    out = []
    for y in range(2, table.size.height):
        out.extend(table.render_line(y))
    return out


@pytest.mark.parametrize("theme", sorted(BUILTIN_THEMES))
@sync
async def test_status_cells_are_readable_in_every_theme(desk, theme):  # noqa: F811
    app = app_for(desk)
    async with app.run_test(size=(160, 50)) as pilot:
        app.theme = theme
        await settle(pilot)
        app.screen.action_view("open")
        await settle(pilot)
        table = app.screen.query_one(TicketTable)
        seen: set[str] = set()
        for segment in cells(table):
            text = segment.text.strip()
            if text not in LABELS:
                continue
            seen.add(text)
            fg, bg = segment.style.color, segment.style.bgcolor
            if theme.startswith("ansi"):
                # The terminal's palette decides: our text is its own default colour on its background.
                assert fg is None or fg.is_default, (theme, text, fg)
                continue
            ratio = contrast(Color(*fg.triplet), Color(*bg.triplet))
            assert ratio >= MIN_CONTRAST, f"{theme}: {text} at {ratio:.2f} : 1 ({fg.triplet.hex} on {bg.triplet.hex})"
        assert len(seen) >= 5, seen  # the demo's open tickets carry most statuses


def test_readable_moves_a_pale_colour_until_it_reads():
    surface, green = Color.parse("#D8D8D8"), Color.parse("#4EBF71")  # textual-light
    assert contrast(green, surface) < 2
    fixed = readable(green, surface)
    assert contrast(fixed, surface) >= MIN_CONTRAST
    assert fixed.g > fixed.r and fixed.g > fixed.b  # still green
