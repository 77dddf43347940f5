"""Benchmark the console on a big store: first paint of the queue, search and scroll latency, a long ticket.

    python benchmarks/bench_console.py [--db PATH] [--tickets 100000]

Builds (or reuses) a demo store, adds one ticket with 1,000 log entries, then measures, each in a
fresh process where it matters: time from process start to the queue's first painted page, next to
a bare Textual app with the same widgets and no data; each search keystroke (typed → rows shown);
scroll steps (page down, jump to the end); opening the 1,000-entry ticket. Every latency ends at the
first frame the app writes to the terminal that shows the result (``FrameWatch``), not at a Pilot
pause, which also waits for work the user does not wait for. Not a test: it reports.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

NOW = datetime(2026, 11, 15, 14, 30, tzinfo=UTC)
LONG_SUBJECT = "bench: a ticket with 1,000 log entries"
SIZE = (100, 30)
OPEN_RUNS = 9
TYPING_GAP_S = 0.2  # search words are typed at five keys a second
SEARCH_WORDS = ("maria", "garcia", "refund", "TD-REF-2026-0423", "ORD-3", "parcel never")


def prepare(db: Path, tickets: int) -> str:
    """The demo store at ``db`` with one 1,000-entry ticket; returns that ticket's case number."""
    from tui_desk.domain.clock import FixedClock
    from tui_desk.store import Store
    from tui_desk.store.demo import build_demo
    from tui_desk.store.models import Ticket

    build_demo(db, tickets=tickets, seed=7, clock=FixedClock(NOW), progress=True)
    store = Store(db, clock=FixedClock(NOW), agent="bench")
    with store.reading():
        long = Ticket.get_or_none(Ticket.subject == LONG_SUBJECT)
    if long is None:
        long = store.create_ticket(customer="Bench Customer", subject=LONG_SUBJECT, email="bench@example.com")
        for i in range(999 - long.log_count + 1):
            store.add_entry(
                long.case_number,
                channel=("email", "chat", "phone", "note")[i % 4],
                summary=f"Interaction {i + 1}",
                body=f"Message number {i + 1}.\nIt has two lines and a little more text to wrap. " * 2,
            )
    case = long.case_number
    store.close()
    return case


async def _settle(pilot) -> None:
    from textual.worker import WorkerCancelled

    for _ in range(20):  # a worker superseded by a newer one is cancelled: that is normal, wait again
        try:
            await pilot.app.workers.wait_for_complete()
            break
        except WorkerCancelled:
            continue
    await pilot.pause()


async def _wait(pilot, condition, timeout: float = 30.0) -> None:
    end = time.perf_counter() + timeout
    while not condition():
        if time.perf_counter() > end:
            raise TimeoutError("the console did not get there in time")
        await pilot.pause(0.002)


def child_first_paint(mode: str, db: str, started: float) -> None:
    """Run in a fresh process: report seconds from ``started`` (the parent's clock) to the first frame
    written with the table (for the queue: with its first rows)."""
    from textual.app import App
    from textual.widgets import Input, Static

    from tui_desk.domain.clock import FixedClock
    from tui_desk.tui.widgets.key_bar import KeyBar
    from tui_desk.tui.widgets.ticket_table import TicketTable

    if mode == "bare":

        class Bare(App):
            def compose(self):
                yield Static("title")
                yield Static("views")
                yield Input(placeholder="search", compact=True)
                yield TicketTable()
                yield Static("status")
                yield KeyBar()

            def run_db(self, *a, **k):  # the table asks nothing of it without a loader
                pass

        app = Bare()
        shows = lambda: True  # noqa: E731 - its first frame is what it has to show

    else:
        from tui_desk.store import Store
        from tui_desk.tui.app import DeskApp

        store = Store(db, clock=FixedClock(NOW), agent="ana")  # a path or a postgresql:// URL
        app = DeskApp(store, timers=False, live=False)
        shows = lambda: getattr(app.screen, "loads", 0) > 0 and app.screen.table.row_at(0) is not None  # noqa: E731

    # The moment the first frame that shows it (for the queue: with rows) is written to the terminal.
    painted: list[float] = []
    display = app._display

    def spy(screen, renderable):
        if renderable is not None and not painted and shows():
            painted.append(time.time())
        return display(screen, renderable)

    app._display = spy

    async def run() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await _wait(pilot, lambda: bool(painted))
            print(json.dumps({"seconds": painted[0] - started}))

    asyncio.run(run())


def first_paint(mode: str, db: Path | str) -> float:
    started = time.time()
    out = subprocess.run(
        [sys.executable, __file__, "--child", mode, "--db", str(db), "--started", str(started)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])["seconds"]


def first_paints(db: Path, runs: int) -> tuple[list[float], list[float]]:
    """First paint of the bare app and of the queue, ``runs`` times each, taken in turns (so that a
    change in the machine's load weighs on both alike)."""
    bare, queue = [], []
    for _ in range(runs):
        bare.append(first_paint("bare", db))
        queue.append(first_paint("queue", db))
    return bare, queue


class FrameWatch:
    """The time of the first frame written to the terminal while a condition holds: what a user sees."""

    def __init__(self, app) -> None:
        self.condition = None
        self.at: float | None = None
        display = app._display

        def spy(screen, renderable):
            if renderable is not None and self.at is None and self.condition is not None and self.condition():
                self.at = time.perf_counter()
            return display(screen, renderable)

        app._display = spy

    def expect(self, condition) -> None:
        self.condition, self.at = condition, None


async def in_app(db: Path, case: str) -> dict:
    from textual.widgets import Input

    from tui_desk.domain.clock import FixedClock
    from tui_desk.store import Store
    from tui_desk.tui.app import DeskApp
    from tui_desk.tui.screens.detail import DetailScreen
    from tui_desk.tui.screens.queue import LIVE_SEARCH_FROM

    store = Store(db, clock=FixedClock(NOW), agent="ana")
    app = DeskApp(store, timers=False, live=False)
    results: dict = {}
    frames = FrameWatch(app)
    async with app.run_test(size=SIZE) as pilot:
        queue = app.screen
        await _wait(pilot, lambda: queue.loads > 0)
        await _settle(pilot)
        box = queue.query_one("#search", Input)
        box.focus()
        search = []
        for word in SEARCH_WORDS:
            box.value = ""
            await _wait(pilot, lambda: queue.search == "")
            await _settle(pilot)
            for i in range(1, len(word) + 1):
                if i < LIVE_SEARCH_FROM or word[:i].strip() == word[: i - 1].strip():  # waits for Enter / a space
                    await pilot.press(word[i - 1])
                    continue
                before = queue.loads
                frames.expect(lambda b=before: queue.loads > b)
                t0 = time.perf_counter()
                await pilot.press(word[i - 1])
                await _wait(pilot, lambda: frames.at is not None)
                await pilot.pause(TYPING_GAP_S - (time.perf_counter() - t0))  # the next key comes meanwhile
                search.append((word[:i], frames.at - t0, queue.total))
        results["search"] = search
        box.value = ""
        await _wait(pilot, lambda: queue.search == "")
        await pilot.pause(0.2)
        await _settle(pilot)
        table = queue.table
        table.focus()
        steps = []
        for key in ["down"] * 5 + ["pagedown"] * 10 + ["end", "pageup", "home"]:
            before = table.cursor
            frames.expect(lambda b=before: table.cursor != b and table.current is not None)
            t0 = time.perf_counter()
            await pilot.press(key)
            await _wait(pilot, lambda: frames.at is not None)
            steps.append((key, frames.at - t0))
            await pilot.pause()
        results["scroll"] = steps

        # Opening: to the first frame that shows the ticket (a long history shows its newest entries
        # first), and to the whole history read, laid out and painted.
        async def open_times(number: str) -> tuple[list[float], list[float], int]:
            shown, whole = [], []
            for _ in range(OPEN_RUNS):
                frames.expect(lambda: isinstance(app.screen, DetailScreen) and app.screen.view is not None)
                t0 = time.perf_counter()
                app.open_ticket(number)
                await _wait(
                    pilot,
                    lambda: (
                        isinstance(app.screen, DetailScreen)
                        and app.screen.view is not None
                        and len(app.screen.view.entries) == app.screen.view.ticket.log_count
                    ),
                )
                await pilot.pause()
                whole.append(time.perf_counter() - t0)
                shown.append(frames.at - t0)
                entries = len(app.screen.view.entries)
                app.pop_screen()
                await _settle(pilot)
            return shown, whole, entries

        results["open"], results["open_whole"], results["open_entries"] = await open_times(case)
        short = store.list_tickets(sort="case", limit=1)[0].case_number
        results["open_short"], _, results["short_entries"] = await open_times(short)
    store.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="/tmp/tui-desk-bench-100k.db")
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--child")
    parser.add_argument("--started", type=float)
    args = parser.parse_args()
    if args.child:
        child_first_paint(args.child, args.db, args.started)
        return
    from tui_desk.tui.screens.queue import SEARCH_DELAY_S

    db = Path(args.db)
    case = prepare(db, args.tickets)
    bare, queue = first_paints(db, args.runs)
    r = asyncio.run(in_app(db, case))
    keys = [t for _, t, _ in r["search"]]
    scroll = [t for _, t in r["scroll"]]
    print(
        f"tui-desk console benchmark · {args.tickets:,} tickets · {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()} · {datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
    )
    print(f"first paint, process start → rows shown (median of {args.runs}):")
    print(f"  bare Textual app, same widgets, no data: {statistics.median(bare) * 1000:7.0f} ms")
    print(f"  queue on {args.tickets:,} tickets:          {statistics.median(queue) * 1000:7.0f} ms")
    print(
        f"search, keystroke → first frame written with the new rows ({len(keys)} keystrokes from "
        f"the 3rd character on, typed at {1 / TYPING_GAP_S:.0f} keys a second; incl. the "
        f"{SEARCH_DELAY_S * 1000:.0f} ms wait for more keys):"
    )
    print(f"  median {statistics.median(keys) * 1000:.0f} ms, max {max(keys) * 1000:.0f} ms")
    per_word: dict[str, list[float]] = {}
    for query, seconds, _hits in r["search"]:
        per_word.setdefault(next(w for w in SEARCH_WORDS if w.startswith(query)), []).append(seconds)
    print("  per word: " + ", ".join(f"{w!r} {statistics.median(t) * 1000:.0f} ms" for w, t in per_word.items()))
    worst = sorted(r["search"], key=lambda s: -s[1])[:3]
    print(
        "  slowest: "
        + ", ".join(
            f"{q!r} {t * 1000:.0f} ms ({'still counting' if n is None else f'{n:,}'} hits)" for q, t, n in worst
        )
    )
    print(
        f"scroll steps, key → first frame with the rows (down, page down, end, page up, home): "
        f"median {statistics.median(scroll) * 1000:.0f} ms, "
        f"max {max(scroll) * 1000:.0f} ms ({max(r['scroll'], key=lambda s: s[1])[0]})"
    )
    print(
        f"open a ticket with {r['open_entries']:,} entries → first frame with its newest entries: median "
        f"{statistics.median(r['open']) * 1000:.0f} ms, max {max(r['open']) * 1000:.0f} ms "
        f"(a ticket with {r['short_entries']} entries: median {statistics.median(r['open_short']) * 1000:.0f} ms); "
        f"→ whole history in and painted: median {statistics.median(r['open_whole']) * 1000:.0f} ms, "
        f"max {max(r['open_whole']) * 1000:.0f} ms ({OPEN_RUNS} opens each)"
    )
    print(f"load average while measuring: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
