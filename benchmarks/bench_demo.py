"""Benchmark: build a demo store of N tickets (default 100,000) and report tickets per second.

python benchmarks/bench_demo.py [--tickets N]
"""

from __future__ import annotations

import argparse
import os
import platform
import sqlite3
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from tui_desk.domain.clock import FixedClock
from tui_desk.store.demo import build_demo


def measure(tickets: int) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "demo.db"
        start = time.perf_counter()
        build_demo(
            path, tickets=tickets, seed=7, clock=FixedClock(datetime(2026, 11, 15, 14, 30, tzinfo=UTC)), progress=False
        )
        seconds = time.perf_counter() - start
        raw = sqlite3.connect(path)
        entries = raw.execute("SELECT count(*) FROM log_entry").fetchone()[0]
        raw.close()
        size = path.stat().st_size
    return {
        "tickets": tickets,
        "entries": entries,
        "seconds": seconds,
        "tickets_per_s": tickets / seconds,
        "size_mb": size / 1e6,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=100_000)
    args = parser.parse_args()
    r = measure(args.tickets)
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"SQLite {sqlite3.sqlite_version}, {datetime.now(UTC):%Y-%m-%d}"
    )
    print(
        f"demo build: {r['tickets']:,} tickets, {r['entries']:,} log entries in {r['seconds']:.1f} s "
        f"= {r['tickets_per_s']:,.0f} tickets/s; store {r['size_mb']:.0f} MB"
    )


if __name__ == "__main__":
    main()
