"""The supervise panel gives spare width to the Late column (then to Customer), and keeps 80 columns."""

from __future__ import annotations

from tests.console.test_tui_flows import app_for, desk, screen_text, settle, sync  # noqa: F401 - desk is a fixture
from tui_desk.tui.screens.supervisor.overdue import BASE_WIDTHS, column_widths


def test_spare_width_goes_to_late_first():
    assert column_widths(80) == BASE_WIDTHS
    wide = column_widths(84)
    assert wide["late"] > BASE_WIDTHS["late"] and wide["customer"] == BASE_WIDTHS["customer"]
    assert column_widths(120)["customer"] > BASE_WIDTHS["customer"]


@sync
async def test_at_100_columns_late_reads_in_full(desk):  # noqa: F811
    app = app_for(desk, start_screen="overdue")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        table = app.screen.table
        assert table.columns["late"].width == column_widths(100)["late"] > BASE_WIDTHS["late"]
        assert " late " in screen_text(app)
        await pilot.resize_terminal(80, 24)
        await settle(pilot)
        assert table.columns["late"].width == BASE_WIDTHS["late"]
