"""Regenerate the README's screenshots from the demo store: `python scripts/screenshots.py [OUT_DIR]`.

Every picture is the real console (Textual's ``run_test`` and ``save_screenshot``) on a fresh demo store
with a frozen clock, its own config and state folders (so nobody's theme or keys leak in), at the sizes
the README shows. Nothing here is test data: the demo's customers, subjects and histories.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 11, 16, 10, 30, tzinfo=UTC)  # a Monday morning
TICKETS = 400


async def settle(pilot) -> None:
    from textual.worker import WorkerState

    app = pilot.app
    for _ in range(6):
        for _ in range(200):
            if not [w for w in app.workers if w.state in (WorkerState.PENDING, WorkerState.RUNNING)]:
                break
            await asyncio.sleep(0.02)
        await pilot.pause()


async def shoot(store, out: Path, name: str, size: tuple[int, int], steps, **app_options) -> None:
    from tui_desk.tui.app import DeskApp

    app = DeskApp(store, timers=False, live=False, **app_options)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        await steps(app, pilot)
        await settle(pilot)
        app.save_screenshot(f"{name}.svg", str(out))
    print(f"  {out / (name + '.svg')}")


def pick_history(store) -> str:
    """An open refund with a long history: what a detail screen is for."""
    from tui_desk.domain.statuses import Status
    from tui_desk.store import TicketFilter

    tickets = store.list_tickets(TicketFilter(statuses=[Status.WAITING_US, Status.L2], kind="refund"), limit=200)
    return max(tickets, key=lambda t: (t.log_count, t.case_number)).case_number


async def main(out: Path) -> None:
    from tui_desk.domain.clock import FixedClock
    from tui_desk.store import Store
    from tui_desk.store.demo import build_demo

    out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="tui-desk-shots-"))
    path = build_demo(work / "demo.db", tickets=TICKETS, seed=7, clock=FixedClock(NOW), progress=False)
    store = Store(path, clock=FixedClock(NOW), agent="ana")
    case = pick_history(store)

    async def nothing(app, pilot) -> None:
        pass

    async def detail(app, pilot) -> None:
        app.open_ticket(case)

    async def log_entry(app, pilot) -> None:
        app.open_log_entry(case)
        await settle(pilot)
        await pilot.press(*"Called the buyer: the courier lost the parcel at the depot")
        await pilot.press("tab")
        await pilot.press(*"DHL confirms the loss; refund the full amount once the claim number is in.")

    async def new_ticket(app, pilot) -> None:
        app.open_new_ticket()
        await settle(pilot)
        await pilot.press(*"Marta Kowalczyk", "tab", *"marta.k@example.pl", "tab", *"ORD-58213", "tab")
        await pilot.press(*"Jacket arrived with a torn sleeve")

    async def light(app, pilot) -> None:
        app.theme = "textual-light"

    async def help_keys(app, pilot) -> None:
        await pilot.press("question_mark")

    shots = [
        ("queue-100x30", (100, 30), nothing, {}),
        ("queue-80x24", (80, 24), nothing, {}),
        ("queue-light-100x30", (100, 30), light, {}),
        ("detail-100x30", (100, 30), detail, {}),
        ("detail-80x24", (80, 24), detail, {}),
        ("log_entry-100x30", (100, 30), log_entry, {}),
        ("log_entry-80x24", (80, 24), log_entry, {}),
        ("new_ticket-80x24", (80, 24), new_ticket, {}),
        ("help-100x30", (100, 30), help_keys, {}),
        ("overdue", (80, 24), nothing, {"start_screen": "overdue"}),
        ("workload", (80, 24), nothing, {"start_screen": "workload"}),
        ("reports", (100, 30), nothing, {"start_screen": "reports"}),
    ]
    try:
        for name, size, steps, options in shots:
            await shoot(store, out, name, size, steps, **options)
    finally:
        store.close()


if __name__ == "__main__":
    home = Path(tempfile.mkdtemp(prefix="tui-desk-shots-home-"))
    for var, sub in (("XDG_CONFIG_HOME", ".config"), ("XDG_STATE_HOME", ".state"), ("XDG_DATA_HOME", ".data")):
        os.environ[var] = str(home / sub)
    os.environ["TUI_DESK_CONFIG"] = str(home / "config.toml")
    os.environ.pop("TUI_DESK_DB", None)
    sys.path.insert(0, str(HERE))
    asyncio.run(main(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / "screenshots"))
