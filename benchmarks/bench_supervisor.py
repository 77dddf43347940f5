"""Supervisor figures on a demo store: the overdue panel, workload and the 12-week report.

Targets (2-core machine, 20,000 demo tickets, most of them late): overdue panel under 1 s,
workload under 0.2 s, report under 2 s. All run in a worker thread in the console, never on the
UI thread; the reports screen reloads at most every 15 s.

    python benchmarks/bench_supervisor.py                    # 20,000 tickets in a temp folder
    python benchmarks/bench_supervisor.py --tickets 100000 --keep /tmp/sup.db
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from tui_desk.domain.clock import FixedClock
from tui_desk.reporting.overdue import overdue
from tui_desk.reporting.reports import build_report
from tui_desk.reporting.workload import workload
from tui_desk.store import Store
from tui_desk.store.demo import build_demo

NOW = datetime(2026, 11, 15, 14, 30, tzinfo=UTC)


def timed(fn, runs: int = 3) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=20_000)
    parser.add_argument("--keep", type=Path, help="build the store here and keep it for the next run")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = args.keep or Path(folder) / "bench.db"
        clock = FixedClock(NOW)
        started = time.perf_counter()
        build_demo(path, tickets=args.tickets, clock=clock, progress=False)
        print(f"store: {args.tickets:,} tickets ({time.perf_counter() - started:.1f} s to build or reuse)")
        store = Store(path, clock=clock, agent="bench", read_only=True)
        counts = {s.key: s.count for s in overdue(store)}
        print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
        print(f"overdue sections: {counts}")
        print(f"overdue panel  {timed(lambda: overdue(store)):.3f} s   (target < 1 s)")
        print(f"workload       {timed(lambda: workload(store)):.3f} s   (target < 0.2 s)")
        print(f"report 12 wk   {timed(lambda: build_report(store)):.3f} s   (target < 2 s)")
        store.close()


if __name__ == "__main__":
    main()
