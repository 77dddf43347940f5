"""Benchmark the forms: the key that opens one → the first frame that shows it ready for typing.

    python benchmarks/bench_forms.py [--db PATH] [--tickets 100000] [--runs 30]

On the demo store of ``bench_console.py`` (built once, reused), from the queue: `l` log entry, `n` new
ticket, `s` status, `A` assign, `t` tags. A form is ready when the frame the console writes to the
terminal (``FrameWatch``) shows it with its text field focused and mounted: what the agent types from
then on lands in it. Each form is opened ``--runs`` times, in turns, then closed with Escape. Not a
test: it reports p50 and p95 per form.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_console import NOW, SIZE, FrameWatch, _settle, _wait, prepare  # noqa: E402

FORMS = (("l", "log entry"), ("n", "new ticket"), ("s", "status"), ("A", "assign"), ("t", "tags"))


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def takes_typing(app, before) -> bool:
    """A new screen is up, mounted, and its focused widget is a text field on it."""
    from textual.widgets import Input, OptionList, TextArea

    screen = app.screen
    focused = screen.focused
    return (
        screen is not before
        and screen.is_mounted
        and isinstance(focused, Input | TextArea | OptionList)
        and focused.is_mounted
        and focused.screen is screen
    )


async def measure(db: Path, runs: int) -> dict[str, list[float]]:
    from textual import events

    from tui_desk.domain.clock import FixedClock
    from tui_desk.store import Store
    from tui_desk.tui.app import DeskApp

    store = Store(db, clock=FixedClock(NOW), agent="bench")
    app = DeskApp(store, timers=False, live=False)
    frames = FrameWatch(app)
    results: dict[str, list[float]] = {name: [] for _, name in FORMS}
    async with app.run_test(size=SIZE) as pilot:
        queue = app.screen
        await _wait(pilot, lambda: getattr(queue, "loads", 0) > 0)
        await _settle(pilot)
        queue.table.focus()
        await pilot.pause()
        for _ in range(runs):
            for key, name in FORMS:
                frames.expect(lambda: takes_typing(app, queue))
                t0 = time.perf_counter()
                app.post_message(events.Key(key, key))
                await _wait(pilot, lambda: frames.at is not None)
                results[name].append(frames.at - t0)
                await _settle(pilot)
                while app.screen is not queue:
                    await pilot.press("escape")
                    await _settle(pilot)
                    if app.screen is not queue and "Leave" in str(getattr(app.screen, "title_text", "")):
                        await pilot.press("down", "down", "enter")  # "Leave and discard it"
                        await _settle(pilot)
    store.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="/tmp/tui-desk-bench-100k.db")
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    db = Path(args.db)
    prepare(db, args.tickets)
    load_before = os.getloadavg()
    results = asyncio.run(measure(db, args.runs))
    print(
        f"tui-desk forms benchmark · {args.tickets:,} tickets · {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()} · {datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
    )
    print(f"key → first frame with the form ready for typing ({args.runs} opens each, from the queue):")
    print("| form | p50 | p95 | max |")
    print("|---|---|---|---|")
    for name, times in results.items():
        print(
            f"| {name} | {statistics.median(times) * 1000:.0f} ms | {percentile(times, 95) * 1000:.0f} ms "
            f"| {max(times) * 1000:.0f} ms |"
        )
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"load average before: {' '.join(f'{x:.1f}' for x in load_before)}; after: {load}")


if __name__ == "__main__":
    main()
