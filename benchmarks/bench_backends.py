"""SQLite and PostgreSQL side by side, in one run: the same store built on each, the same measurements.

    python benchmarks/bench_backends.py                       # 20,000 tickets; a throw-away PostgreSQL server
    python benchmarks/bench_backends.py --tickets 1000000     # the issue's size (an hour or more on 2 cores)
    python benchmarks/bench_backends.py --pg postgresql://me@host/benchdb   # an existing, empty database
    python benchmarks/bench_backends.py --tickets 5000 --only sweep      # the store build and one measurement

Measured on each backend: the sweep of 1,000 tickets due (the demo's own timers, swept at the moment
the 1,000th falls due, at most 40 days on), the queue's first page (what the console's first paint
reads: a page of the newest tickets and the counts), the console's first paint (a fresh process, from
its start to the first frame with rows), a search keystroke (the ids of every match of a three-letter
prefix, as the queue asks), a log save on one ticket (p50/p99 of 200), and 20 writer processes at
once for 10 s (saves per second, p99 latency). Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_console import first_paint  # noqa: E402

from tui_desk.domain.clock import FixedClock, to_utc  # noqa: E402
from tui_desk.store import Store, TicketFilter  # noqa: E402
from tui_desk.store.demo import _fill  # noqa: E402
from tui_desk.store.models import Ticket  # noqa: E402
from tui_desk.store.sweep import due_ticket_ids, sweep_timers  # noqa: E402

NOW = datetime(2026, 11, 15, 14, 30, tzinfo=UTC)

WRITER = r"""
import json, sys, time
from tui_desk.store import Store
db, name, seconds, cases = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4].split(",")
store = Store(db, agent=name)
deadline = time.monotonic() + seconds
latencies = []
i = 0
while time.monotonic() < deadline:
    case = cases[i % len(cases)]
    started = time.perf_counter()
    store.add_entry(case, channel="note", summary=f"{name} note {i}")
    latencies.append(time.perf_counter() - started)
    i += 1
print(json.dumps(latencies))
"""


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))] * 1000


MEASUREMENTS = ("first_page", "search", "saves", "sweep", "writers")


def _when_due(store, count: int) -> datetime:
    """The moment ``count`` tickets are due (the demo's own timers), but at most 40 days on: at 20,000
    tickets about 1,000 fall due by then; a million-ticket store has 1,000 due within days."""
    with store.reading():
        values = sorted(
            to_utc(v) for v in Ticket.select(Ticket.timer_due_at).where(Ticket.timer_due_at.is_null(False)).scalars()
        )
    return min(NOW + timedelta(days=40), values[count - 1]) if len(values) >= count else NOW + timedelta(days=40)


def measure(db, tickets: int, writers: int, seconds: float, only: tuple[str, ...] = MEASUREMENTS) -> dict:
    clock = FixedClock(NOW)
    store = Store(db, clock=clock, agent="bench")
    started = time.perf_counter()
    _fill(store, tickets, 7, f"{tickets}:7", False)
    figures = {"build_s": time.perf_counter() - started}

    # The console's first paint reads a page of the newest tickets and the queue's counts.
    runs = []
    for _ in range(5 if "first_page" in only else 0):
        started = time.perf_counter()
        store.list_tickets(TicketFilter(), descending=True, limit=60)
        store.count_tickets(TicketFilter())
        runs.append(time.perf_counter() - started)
    figures["first_page_ms"] = statistics.median(runs) * 1000 if runs else None
    # And the console's own first paint: a fresh process, from its start to the first frame with rows.
    paints = [first_paint("queue", db) for _ in range(5 if "first_page" in only else 0)]
    figures["first_paint_ms"] = statistics.median(paints) * 1000 if paints else None

    runs = []
    for word in ("par", "cou", "ref", "kett", "bro") if "search" in only else ():
        started = time.perf_counter()
        store.ticket_ids(TicketFilter(search=word), descending=True)
        runs.append(time.perf_counter() - started)
    figures["search_keystroke_ms"] = statistics.median(runs) * 1000 if runs else None

    case = store.create_ticket(customer="Bench", subject="Saves").case_number
    saves = []
    for i in range(200 if "saves" in only else 0):
        started = time.perf_counter()
        store.add_entry(case, channel="note", summary=f"save {i}")
        saves.append(time.perf_counter() - started)
    figures["save_p50_ms"], figures["save_p99_ms"] = (pct(saves, 50), pct(saves, 99)) if saves else (None, None)

    if "sweep" in only:
        later = _when_due(store, 1000)
        due = len(due_ticket_ids(store, later))
        started = time.perf_counter()
        result = sweep_timers(store, later)
        figures["sweep_due"] = due
        figures["sweep_ms"] = (time.perf_counter() - started) * 1000
        figures["sweep_actions"] = result.acted
    if "writers" not in only:
        store.close()
        return figures

    cases = [store.create_ticket(customer=f"W{n}", subject="Throughput").case_number for n in range(writers * 5)]
    store.close()
    env = dict(os.environ)
    env.pop("TUI_DESK_NOW", None)
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(db), f"w{n}", str(seconds), ",".join(cases[n::writers])],
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        for n in range(writers)
    ]
    latencies = []
    for proc in procs:
        out, _ = proc.communicate(timeout=seconds + 300)
        latencies += json.loads(out)
    figures["writers"] = writers
    figures["saves_per_s"] = len(latencies) / seconds
    figures["writers_p99_ms"] = pct(latencies, 99)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=20_000)
    parser.add_argument("--writers", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--pg", help="an empty PostgreSQL database (default: start a throw-away server)")
    parser.add_argument("--backends", default="sqlite,postgresql", help="one of them, or both (the default)")
    parser.add_argument("--only", default=",".join(MEASUREMENTS), help=f"some of {','.join(MEASUREMENTS)}")
    args = parser.parse_args()
    only = tuple(args.only.split(","))
    if not set(only) <= set(MEASUREMENTS):
        sys.exit(f"--only: choose from {', '.join(MEASUREMENTS)}")
    server = None
    if args.pg:
        pg = args.pg
    else:
        from pg_server import PostgresServer, find_bindir

        bindir = find_bindir()
        if bindir is None:
            sys.exit("no PostgreSQL binaries (apt-get install postgresql) and no --pg URL")
        server = PostgresServer(bindir).start()
        pg = server.new_database("bench")
    folder = tempfile.mkdtemp(prefix="tui-desk-bench-")
    results = {}
    try:
        for name, db in (("SQLite", Path(folder) / "desk.db"), ("PostgreSQL", pg)):
            if name.lower() not in args.backends:
                continue
            started = datetime.now(UTC)
            results[name] = measure(db, args.tickets, args.writers, args.seconds, only)
            # Each backend's figures as soon as they are in (a million-ticket run takes long).
            when = f"{started:%H:%M}–{datetime.now(UTC):%H:%M} UTC, load {os.getloadavg()[0]:.1f}"
            print(f"{name} ({when}): {json.dumps(results[name])}")
            sys.stdout.flush()
    finally:
        if server is not None:
            server.stop()
        subprocess.run(["rm", "-rf", folder], check=False)
    load = os.getloadavg()[0]
    print(f"{args.tickets:,} tickets, {platform.python_version()}, {os.cpu_count()} cores, load average {load:.1f}")
    rows = [
        ("store build (demo data)", "build_s", "{:.1f} s"),
        ("queue first page (60 rows + count)", "first_page_ms", "{:.1f} ms"),
        ("console first paint (process start to rows)", "first_paint_ms", "{:.0f} ms"),
        ("search keystroke (ids of all matches)", "search_keystroke_ms", "{:.1f} ms"),
        ("log save p50", "save_p50_ms", "{:.1f} ms"),
        ("log save p99", "save_p99_ms", "{:.1f} ms"),
        ("sweep: tickets due", "sweep_due", "{:,}"),
        ("sweep: time", "sweep_ms", "{:.0f} ms"),
        (f"{args.writers} writers: saves/s", "saves_per_s", "{:.0f}"),
        (f"{args.writers} writers: p99", "writers_p99_ms", "{:.0f} ms"),
    ]
    print("| | SQLite | PostgreSQL |\n|---|---|---|")
    for label, key, fmt in rows:
        shown = [results[name].get(key) if name in results else None for name in ("SQLite", "PostgreSQL")]
        if shown == [None, None]:
            continue
        print(f"| {label} | " + " | ".join("–" if v is None else fmt.format(v) for v in shown) + " |")


if __name__ == "__main__":
    main()
