"""Run every benchmark and print one table (Markdown, ready for the README).

    python benchmarks/run_all.py                 # the issue's sizes: 100k console store, 1M sweep store
    python benchmarks/run_all.py --quick         # 10k / 100k, fewer runs: a smoke run in a few minutes
    python benchmarks/run_all.py --dir /tmp/b    # where the big stores are built once and kept

It calls the other scripts rather than repeating them: ``bench_demo.measure`` (build rate),
``bench_console`` (first paint against a bare Textual app, search, a 1,000-entry ticket) and
``bench_sweep.py`` in a subprocess (1,000 due among 1,000,000, idle sweep). It measures two things
itself: the save latency of a log entry (``Store.add_entry``, what the console's save calls) on the
100k store, and the console's resident memory at 100k and 1M tickets, each in a fresh process.
Not a test: it reports, and marks each figure against its target.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import resource
import sqlite3
import statistics
import subprocess
import sys
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

ROWS: list[tuple[str, str, str, str]] = []  # (what, result, target, verdict)


def row(what: str, result: str, target: str = "", ok: bool | None = None) -> None:
    verdict = "" if ok is None else ("ok" if ok else "MISSED")
    ROWS.append((what, result, target, verdict))
    print(f"  {what}: {result} {('[' + verdict + ']') if verdict else ''}", file=sys.stderr, flush=True)


def guarded(name: str, fn) -> None:
    """One benchmark failing (say, the console not built yet) leaves the others' rows."""
    try:
        fn()
    except Exception as err:  # a benchmark script's failure is a row in the table, not the end of the run
        traceback.print_exc(file=sys.stderr)
        row(name, f"error: {type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}"[:100])


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


# -- each benchmark ------------------------------------------------------------------------------


def bench_demo_build(tickets: int) -> None:
    import bench_demo

    r = bench_demo.measure(tickets)
    row(f"demo store build ({tickets:,} tickets)", f"{r['tickets_per_s']:,.0f} tickets/s ({r['seconds']:.1f} s)")


def bench_console_all(db: Path, tickets: int, runs: int) -> None:
    import bench_console

    case = bench_console.prepare(db, tickets)
    bare_runs, queue_runs = bench_console.first_paints(db, runs)
    bare, queue = statistics.median(bare_runs), statistics.median(queue_runs)
    ratio = queue / bare
    row(
        f"console first paint at {tickets:,} tickets vs bare Textual app",
        f"{queue * 1000:.0f} ms vs {bare * 1000:.0f} ms = {ratio:.2f}x",
        "≤ 1.5x",
        ratio <= 1.5,
    )
    r = asyncio.run(bench_console.in_app(db, case))
    keys = [t for _, t, _ in r["search"]]
    row(
        "search, keystroke → rows shown",
        f"median {statistics.median(keys) * 1000:.0f} ms, max {max(keys) * 1000:.0f} ms ({len(keys)} keystrokes)",
        "< 100 ms",
        max(keys) < 0.1,
    )
    row(
        f"open a ticket with {r['open_entries']:,} entries → first frame (newest entries)",
        f"median {statistics.median(r['open']) * 1000:.0f} ms, max {max(r['open']) * 1000:.0f} ms",
        "< 200 ms",
        max(r["open"]) < 0.2,
    )
    row(
        f"open a ticket with {r['open_entries']:,} entries → whole history in",
        f"median {statistics.median(r['open_whole']) * 1000:.0f} ms, max {max(r['open_whole']) * 1000:.0f} ms",
    )


def bench_save(db: Path, count: int) -> None:
    from tui_desk.store import Store

    store = Store(db, agent="bench")
    ticket = store.create_ticket(customer="Bench Saver", subject="bench: save latency", email="s@example.com")
    times = []
    for i in range(count):
        started = time.perf_counter()
        store.add_entry(ticket.case_number, channel="email", summary=f"Save {i}", body="A message body. " * 20)
        times.append(time.perf_counter() - started)
    store.close()
    p99 = percentile(times, 99)
    row(
        f"log entry save ({count} saves, store of {_tickets(db):,})",
        f"p50 {statistics.median(times) * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms",
        "p99 < 20 ms",
        p99 < 0.020,
    )


def bench_sweep_all(folder: Path, tickets: int) -> None:
    keep = folder / f"sweep-{tickets}.db"
    done = subprocess.run(
        [sys.executable, str(HERE / "bench_sweep.py"), "--tickets", str(tickets), "--keep", str(keep)],
        capture_output=True,
        text=True,
        timeout=7200,
    )
    if done.returncode:
        raise RuntimeError(done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "bench_sweep failed")
    on_time = done.stdout.split("[on time]", 1)[1].split("[catch-up]", 1)[0]
    due = re.search(r"tickets, ([\d,]+) due", on_time)
    busy = float(re.search(r"sweep of the due tickets: (\d+) ms wall", on_time).group(1))
    idle = float(re.search(r"idle sweep: median ([\d.]+) ms wall", on_time).group(1))
    row(f"sweep, {due.group(1) if due else '1,000'} due of {tickets:,}", f"{busy:.0f} ms", "< 500 ms", busy < 500)
    row(f"idle sweep on {tickets:,}", f"median {idle:.2f} ms", "< 10 ms", idle < 10)


def console_memory(db: Path, label: str, target_mb: float | None) -> None:
    out = subprocess.run(
        [sys.executable, __file__, "--child-memory", str(db)], capture_output=True, text=True, timeout=1800
    )
    if out.returncode:
        raise RuntimeError(out.stderr.strip().splitlines()[-1] if out.stderr.strip() else "child failed")
    data = json.loads(out.stdout.strip().splitlines()[-1])
    mb = data["max_rss_mb"]
    row(
        f"console resident memory at {label} tickets",
        f"{mb:.0f} MB (queue shown, {data['rows']:,} rows)",
        f"< {target_mb:.0f} MB" if target_mb else "",
        (mb < target_mb) if target_mb else None,
    )


def child_memory(db: str) -> None:
    """In a fresh process: open the console on ``db``, wait for the queue's first page, report peak RSS."""
    from tui_desk.store import Store
    from tui_desk.tui.app import DeskApp

    store = Store(Path(db), agent="bench")
    app = DeskApp(store, timers=False, live=False)

    async def run() -> None:
        async with app.run_test(size=(100, 30)) as pilot:
            end = time.perf_counter() + 600
            while not (getattr(app.screen, "loads", 0) > 0 and app.screen.table.row_at(0)):
                if time.perf_counter() > end:
                    raise TimeoutError("the queue never showed")
                await pilot.pause(0.01)
            await pilot.app.workers.wait_for_complete()
            await pilot.pause(0.2)
            print(json.dumps({"max_rss_mb": _peak_rss_kb() / 1024, "rows": app.screen.table.total}))

    asyncio.run(run())


def _peak_rss_kb() -> int:
    """This process's peak resident memory. Not ``getrusage``: its ru_maxrss carries the parent's peak over fork."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _tickets(db: Path) -> int:
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return con.execute("SELECT COUNT(*) FROM ticket").fetchone()[0]
    finally:
        con.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10k / 100k tickets and fewer runs")
    parser.add_argument("--tickets", type=int, help="console store size (default 100,000)")
    parser.add_argument("--big", type=int, help="sweep and memory store size (default 1,000,000)")
    parser.add_argument("--dir", type=Path, default=Path("/tmp/tui-desk-bench"), help="where big stores are kept")
    parser.add_argument("--child-memory", metavar="DB", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_memory:
        child_memory(args.child_memory)
        return
    tickets = args.tickets or (10_000 if args.quick else 100_000)
    big = args.big or (100_000 if args.quick else 1_000_000)
    runs = 2 if args.quick else 5
    args.dir.mkdir(parents=True, exist_ok=True)
    console_db = args.dir / f"console-{tickets}.db"
    started = time.perf_counter()

    guarded("demo store build", lambda: bench_demo_build(tickets))
    guarded("console", lambda: bench_console_all(console_db, tickets, runs))
    guarded("log entry save", lambda: bench_save(console_db, 200 if args.quick else 500))
    guarded("sweep", lambda: bench_sweep_all(args.dir, big))
    guarded(f"console memory at {tickets:,}", lambda: console_memory(console_db, f"{tickets:,}", None))
    big_db = args.dir / f"sweep-{big}.db"
    guarded(f"console memory at {big:,}", lambda: console_memory(big_db, f"{big:,}", 150))

    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(
        f"tui-desk benchmarks · {datetime.now(UTC):%Y-%m-%d %H:%M} UTC · {platform.machine()}, {cpus} CPUs, "
        f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version} · load average "
        f"{os.getloadavg()[0]:.1f} · {time.perf_counter() - started:.0f} s in all"
    )
    print()
    width = max(len(r[0]) for r in ROWS)
    print(f"| {'benchmark':<{width}} | result | target | |")
    print(f"|{'-' * (width + 2)}|---|---|---|")
    for what, result, target, verdict in ROWS:
        print(f"| {what:<{width}} | {result} | {target} | {verdict} |")


if __name__ == "__main__":
    main()
