"""Saved views ([[views]] in config.toml): beside the built-in six with live counts, their rows, sort and
columns; the same tickets from `tui-desk list --view`; a view saved from the console's search."""

from __future__ import annotations

import pytest

from tests.console.test_tui_flows import app_for, desk, screen_text, settle, sync  # noqa: F401 - desk is a fixture
from tui_desk.config import load_config
from tui_desk.domain.errors import DeskError
from tui_desk.domain.statuses import NOT_CLOSED_STATUSES
from tui_desk.store import TicketFilter

VIEWS = """
[[views]]
name = "Urgent refunds"
kind = "refund"
priority = ["urgent", "high"]
status = ["New", "To do next", "L1 in progress", "L2 in progress", "Waiting on Us"]
sort = "-priority"
columns = ["case", "priority", "subject", "due"]

[[views]]
name = "VIP"
key = "v"
tag = "vip"
"""


async def shows(pilot, text: str, seconds: float = 10.0) -> bool:
    """Wait for ``text`` on screen: a recount asked for while one runs follows it a moment later."""
    for _ in range(int(seconds / 0.1)):
        if text in screen_text(pilot.app):
            return True
        await pilot.pause(0.1)
    return False


def expected(desk, **flt) -> list[str]:  # noqa: F811
    return [t.case_number for t in desk.list_tickets(TicketFilter(**flt), limit=1000)]


@sync
async def test_saved_views_show_counts_rows_sort_and_columns(desk, isolated_env):  # noqa: F811
    (isolated_env / "config.toml").write_text(VIEWS, encoding="utf-8")
    desk.config = load_config()
    working = [s for s in NOT_CLOSED_STATUSES if s.slug not in ("waiting-seller", "waiting-buyer", "resolved")]
    urgent = set(expected(desk, kind="refund", priorities=("urgent", "high"), statuses=working))
    vip = set(expected(desk, tag="vip"))
    assert urgent and vip
    app = app_for(desk)
    async with app.run_test(size=(150, 30)) as pilot:
        await settle(pilot)
        queue = app.screen
        assert await shows(pilot, f"8 Urgent refunds {len(urgent)}") and await shows(pilot, f"v VIP {len(vip)}")
        await pilot.press("8")
        await settle(pilot)
        table = queue.table
        rows = [table.row_at(i) for i in range(table.total)]
        assert {r.case_number for r in rows} == urgent
        assert [r.priority for r in rows] == sorted((r.priority for r in rows), key=["urgent", "high"].index)
        assert table.shown_columns == ["case", "priority", "subject", "due"]
        await pilot.press("v")
        await settle(pilot)
        assert {table.row_at(i).case_number for i in range(table.total)} == vip
        assert "customer" in table.shown_columns  # a view without columns: every column that fits


def test_list_view_gives_the_same_tickets(desk, cli, isolated_env):  # noqa: F811
    (isolated_env / "config.toml").write_text(VIEWS, encoding="utf-8")
    rows = cli.json("--db", str(desk.path), "list", "--view", "vip")
    assert {r["case_number"] for r in rows} == set(expected(desk, tag="vip"))
    assert 'did you mean "VIP"' in cli.fails("--db", str(desk.path), "list", "--view", "VPI")


def test_a_bad_view_is_refused_naming_it(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text('[[views]]\nname = "x"\nstatsu = ["New"]\n', encoding="utf-8")
    with pytest.raises(DeskError, match=r"views.'x'.statsu is not a setting; did you mean \"status\""):
        load_config(path)
    path.write_text('[[views]]\nname = "x"\ncolumns = ["case", "agent"]\n', encoding="utf-8")
    with pytest.raises(DeskError, match="agent is not a setting"):
        load_config(path)


@sync
async def test_a_view_saved_from_the_search_is_written_to_the_config(desk, isolated_env):  # noqa: F811
    app = app_for(desk)
    async with app.run_test(size=(150, 30)) as pilot:
        await settle(pilot)
        queue = app.screen
        await pilot.press("3")  # Waiting
        await settle(pilot)
        await pilot.press("slash", *"refund", "enter")
        await settle(pilot)
        shown = {queue.table.row_at(i).case_number for i in range(queue.table.total)}
        await pilot.press("V", *"Waiting refunds", "enter")
        await settle(pilot)
        assert queue.view.title == "Waiting refunds"
        assert await shows(pilot, f"8 Waiting refunds {len(shown)}")
        assert {queue.table.row_at(i).case_number for i in range(queue.table.total)} == shown
    config = load_config()
    (view,) = config.views
    assert view.name == "Waiting refunds" and view.text == "refund"
    assert set(view.status) == {"waiting-seller", "waiting-buyer"}
    desk.config = config
    app = app_for(desk)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("8")
        await settle(pilot)
        table = app.screen.table
        assert {table.row_at(i).case_number for i in range(table.total)} == shown


@sync
async def test_picked_columns_stay_at_80_columns(desk, isolated_env):  # noqa: F811
    app = app_for(desk)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        table = app.screen.table
        assert "customer" not in table.shown_columns and "order" not in table.shown_columns  # dropped by default
        await pilot.press("c")
        await settle(pilot)
        dialog = app.screen
        from textual.widgets import SelectionList

        ticks = dialog.query_one(SelectionList)
        ticks.deselect_all()
        for key in ("case", "customer", "order", "subject"):
            ticks.select(key)
        await pilot.press("enter")
        await settle(pilot)
        assert table.shown_columns == ["case", "customer", "order", "subject"]
    app = app_for(desk)  # the next run keeps them for this view
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert app.screen.table.shown_columns == ["case", "customer", "order", "subject"]


def test_a_due_span_is_clock_time_and_finds_what_falls_due_in_it(desk, isolated_env):  # noqa: F811
    from datetime import timedelta

    from tests.conftest import NOW
    from tui_desk.store.views import view_filter

    (isolated_env / "config.toml").write_text('[[views]]\nname = "Soon"\ndue = "1d 12h"\n', encoding="utf-8")
    (view,) = load_config().views
    flt = view_filter(view, "ana", NOW)
    assert flt.due_before == NOW + timedelta(hours=36)
    for t in desk.list_tickets(flt, limit=1000):
        dues = [d for d in (t.follow_up_at, t.timer_due_at, t.sla_resolution_due_at) if d]
        assert min(dues) <= NOW + timedelta(hours=36)
