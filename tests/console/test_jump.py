"""`:` jumps to a case by any unique fragment of its number; an ambiguous one lists the candidates."""

from __future__ import annotations

from tests.console.test_tui_flows import app_for, desk, settle, sync  # noqa: F401 - desk is a fixture
from tui_desk.store import TicketFilter
from tui_desk.tui.screens.detail import DetailScreen
from tui_desk.tui.screens.dialogs import ChoiceDialog


@sync
async def test_colon_jumps_by_a_fragment_and_lists_an_ambiguous_one(desk):  # noqa: F811
    cases = [t.case_number for t in desk.list_tickets(TicketFilter(), limit=1000)]
    target = next(c for c in cases if sum(c[-4:] in other for other in cases) == 1)
    app = app_for(desk)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        queue = app.screen
        await pilot.press("colon", *target[-4:].lower(), "enter")
        await settle(pilot)
        assert isinstance(app.screen, DetailScreen) and app.screen.case_number == target
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is queue
        fragment = "2026-0001"  # TD-REF-2026-00010 … 00019 and more
        matching = sorted((c for c in cases if fragment in c), reverse=True)
        assert len(matching) > 1
        await pilot.press("colon", *fragment, "enter")
        await settle(pilot)
        assert isinstance(app.screen, ChoiceDialog)
        assert [value for value, _label in app.screen.choices] == matching[:12]
        await pilot.press("down", "enter")
        await settle(pilot)
        assert isinstance(app.screen, DetailScreen) and app.screen.case_number == matching[1]


@sync
async def test_a_fragment_no_case_has_says_so(desk):  # noqa: F811
    app = app_for(desk)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        queue = app.screen
        await pilot.press("colon", *"99999", "enter")
        await settle(pilot)
        assert app.screen is queue
        assert [n.message for n in app._notifications] == ["No case number contains 99999"]


@sync
async def test_an_exact_number_wins_over_the_newer_numbers_that_contain_it(desk, tmp_path):  # noqa: F811
    """VB-INT-7 from an imported sheet, then 30 newer cases whose numbers contain it (VB-INT-70 …): `:` and the
    exact number opens VB-INT-7, though more than 12 others contain it."""
    from tui_desk.sheets.columns import map_columns
    from tui_desk.sheets.reader import read_sheet
    from tui_desk.sheets.rows import ReadOptions, records_from_sheet
    from tui_desk.store.imports import import_tickets

    numbers = ["VB-INT-7", *(f"VB-INT-7{i}" for i in range(10)), *(f"VB-INT-70{i:02d}" for i in range(20))]
    sheet = tmp_path / "numbered.csv"
    sheet.write_text(
        "Case Number,Customer,Open Date,Issue Summary\n"
        + "".join(f"{n},Buyer {i},2023-10-{1 + i % 28:02d},Parcel {n}\n" for i, n in enumerate(numbers)),
        encoding="utf-8",
    )
    read = read_sheet(sheet)
    assert len(import_tickets(desk, records_from_sheet(read, map_columns(read.headers), ReadOptions())).created) == 31
    app = app_for(desk)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("colon", *"vb-int-7", "enter")
        await settle(pilot)
        assert isinstance(app.screen, DetailScreen) and app.screen.case_number == "VB-INT-7"


@sync
async def test_a_subject_of_thousands_of_characters_leaves_the_ticket_in_view(desk):  # noqa: F811
    """A sheet's cell may give a 5,000-character subject: the header shows its start on at most three lines,
    and the fields and the log keep the rest of the screen."""
    from tui_desk.tui.widgets.timeline import Timeline

    words = " ".join(f"word{i}" for i in range(800))
    ticket = desk.create_ticket(customer="Long Story", subject=words)
    app = app_for(desk)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("colon", *ticket.case_number, "enter")
        await settle(pilot)
        assert isinstance(app.screen, DetailScreen) and app.screen.case_number == ticket.case_number
        head = app.screen.query_one("#head")
        assert head.outer_size.height <= 3
        assert "word0 word1" in str(head.render())
        assert app.screen.query_one(Timeline).size.height >= 12
        assert app.screen.query_one("#fields").region.y < 5
