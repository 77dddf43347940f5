"""Sweep cost on a big store: 1,000,000 tickets of which 1,000 have a timer due, then idle sweeps.

Targets (2-core machine): the 1,000 due actions in under 0.5 s, an idle sweep in under 10 ms.
The store is built with bulk SQL (like ``tui_desk.store.demo``), every ticket with its acknowledgement
entry in the hash chain, so the indexes and full-text tables have their real size.

    python benchmarks/bench_sweep.py                   # build in a temp folder, measure, delete
    python benchmarks/bench_sweep.py --keep /tmp/b.db  # build once, reuse on the next run
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tui_desk.domain import timers
from tui_desk.domain.case_numbers import format_case_number
from tui_desk.domain.clock import FixedClock
from tui_desk.domain.evidence import entry_digest
from tui_desk.domain.statuses import Status
from tui_desk.store import Store
from tui_desk.store.models import LogEntry, Meta, Ticket, UTCDateTimeField
from tui_desk.store.sweep import next_timer_due, sweep_timers

NOW = datetime(2026, 11, 15, 14, 30, tzinfo=UTC)
DAY = timedelta(days=1)
_stamp = UTCDateTimeField().db_value


def build(path: Path, tickets: int, due: int, seed: int = 1) -> None:
    """Tickets in every status; ``due`` of them have a timer due at NOW, ~10% more have one later."""
    rng = random.Random(seed)
    store = Store(path, clock=FixedClock(NOW), agent="bench")
    policy = store.config.timers
    ticket_cols = [f.column_name for f in Ticket._meta.sorted_fields]
    entry_cols = [f.column_name for f in LogEntry._meta.sorted_fields]
    ticket_sql = (
        f"INSERT INTO ticket({', '.join(map(repr, ticket_cols))}) VALUES ({', '.join('?' * len(ticket_cols))})"
    ).replace("'", '"')
    entry_sql = f"INSERT INTO log_entry({', '.join(entry_cols)}) VALUES ({', '.join('?' * len(entry_cols))})"
    defaults = {f.column_name: (f.default() if callable(f.default) else f.default) for f in Ticket._meta.sorted_fields}
    # The due ones spread evenly through the id range, so they are not one contiguous block.
    due_ids = {n: i for i, n in enumerate(sorted(range(1, tickets + 1, max(1, tickets // due)))[:due])}
    conn = store.db.connection()
    conn.execute("PRAGMA synchronous = OFF")  # a benchmark store can be rebuilt
    conn.execute("PRAGMA cache_size = -262144")
    started = time.perf_counter()
    ticket_rows, entry_rows = [], []
    with store.writing():
        for tid in range(1, tickets + 1):
            opened = NOW - timedelta(minutes=rng.randint(60, 200 * 24 * 60))
            number = format_case_number("TD", "REF", opened.year, tid)
            period = None
            reminders_done = 0
            if tid in due_ids:
                # On time (a console or cron sweeps often): each has just its current action due,
                # fallen due within the last minute. 60% reminders, 20% auto-closes, 20% resolved-closes.
                roll = due_ids[tid] % 10
                late = timedelta(seconds=rng.uniform(0, 60))
                if roll < 6:
                    reminders_done = roll % 3
                    status, period = Status.WAITING_BUYER, NOW - late - (reminders_done + 1) * 3 * DAY
                elif roll < 8:
                    reminders_done = 3
                    status, period = Status.WAITING_SELLER, NOW - late - 30 * DAY
                else:
                    status, period = Status.RESOLVED, NOW - late - 7 * DAY
            elif rng.random() < 0.1:
                status = rng.choice((Status.WAITING_BUYER, Status.WAITING_SELLER, Status.RESOLVED))
                period = NOW - timedelta(hours=rng.uniform(1, 60))
            else:
                status = rng.choice((Status.NEW, Status.L1, Status.WAITING_US, Status.CLOSED, Status.CLOSED))
            subject = "Parcel never arrived"
            fields = dict(
                seq=1,
                kind="acknowledgement",
                at=opened,
                until=None,
                logged_at=opened,
                channel="system",
                direction="out",
                sender="system",
                sender_name="",
                agent="bench",
                summary=f"Automatic acknowledgement sent to Customer {tid}",
                body=f"Case number: {number}",
                follow_up_at=None,
                corrects_seq=None,
                due_at=None,
            )
            head = entry_digest("", fields, [])
            entry = {**fields, "id": tid, "ticket_id": tid, "corrects_id": None, "digest": head}
            entry_rows.append(tuple(_stamp(entry[c]) if c in _DATES else entry[c] for c in entry_cols))
            row = dict(defaults)
            row.update(
                id=tid,
                case_number=number,
                kind="refund",
                customer=f"Customer {tid}",
                email=f"c{tid}@example.com",
                subject=subject,
                description="",
                status=status.slug,
                created_by="bench",
                opened_at=_stamp(opened),
                last_action_at=_stamp(opened),
                status_changed_at=_stamp(period or opened),
                period_started_at=_stamp(period),
                reminders_done=reminders_done,
                log_count=1,
                log_head=head,
                timer_due_at=_stamp(timers.next_due(status, period, reminders_done, policy)),
                closed_at=_stamp(opened + DAY) if status is Status.CLOSED else None,
            )
            ticket_rows.append(tuple(row[c] for c in ticket_cols))
            if len(ticket_rows) >= 5000:
                conn.executemany(ticket_sql, ticket_rows)
                conn.executemany(entry_sql, entry_rows)
                ticket_rows.clear()
                entry_rows.clear()
                print(f"\r  building: {tid:,} tickets", end="", file=sys.stderr, flush=True)
        conn.executemany(ticket_sql, ticket_rows)
        conn.executemany(entry_sql, entry_rows)
        Meta.replace(key="bench", value=f"{tickets}:{due}").execute()
    with store.reading():  # a fresh connection, with the store's normal pragmas again
        store.db.execute_sql("ANALYZE")
    store.close()
    print(f"\r  built {tickets:,} tickets in {time.perf_counter() - started:.0f} s", file=sys.stderr)


_DATES = {"at", "until", "logged_at", "follow_up_at", "due_at"}


def make_catch_up(path: Path) -> None:
    """Turn the due tickets into ones nobody swept for a while: 7 and 10 days into waiting (one reminder
    sent, the older ones recorded as skipped), 45 days (closed, three reminders skipped), resolved 8 days."""
    store = Store(path, clock=FixedClock(NOW), agent="bench")
    policy = store.config.timers
    with store.writing():
        rows = store.db.execute_sql("SELECT id, status FROM ticket WHERE timer_due_at <= ?", (_stamp(NOW),))
        for i, (tid, slug) in enumerate(rows.fetchall()):
            if slug == Status.RESOLVED.slug:
                status, period = Status.RESOLVED, NOW - 8 * DAY
            elif slug == Status.WAITING_SELLER.slug:
                status, period = Status.WAITING_SELLER, NOW - 45 * DAY
            else:
                status, period = Status.WAITING_BUYER, NOW - (7, 10)[i % 2] * DAY
            store.db.execute_sql(
                "UPDATE ticket SET period_started_at = ?, reminders_done = 0, timer_due_at = ? WHERE id = ?",
                (_stamp(period), _stamp(timers.next_due(status, period, 0, policy)), tid),
            )
    store.close()


def is_built(path: Path, tickets: int, due: int) -> bool:
    if not path.exists():
        return False
    store = Store(path, clock=FixedClock(NOW), agent="bench")
    with store.reading():
        row = Meta.get_or_none(Meta.key == "bench")
    store.close()
    return row is not None and row.value == f"{tickets}:{due}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--due", type=int, default=1_000)
    parser.add_argument("--keep", type=Path, metavar="PATH", help="build the store here (once) and keep it")
    parser.add_argument("--idle-runs", type=int, default=50)
    args = parser.parse_args()

    folder = None
    if args.keep:
        path = args.keep
    else:
        folder = Path(tempfile.mkdtemp(prefix="bench-sweep-"))
        path = folder / "bench.db"
    try:
        pristine = path.with_name(path.name + ".pristine")
        if not (is_built(pristine, args.tickets, args.due)):
            for p in (pristine, path):
                for suffix in ("", "-wal", "-shm"):
                    Path(str(p) + suffix).unlink(missing_ok=True)
            build(pristine, args.tickets, args.due)
        print(
            f"machine: {platform.machine()}, {_cpus()} CPUs, Python {platform.python_version()}, "
            f"SQLite {sqlite3.sqlite_version}; {datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
        )
        for scenario in ("on time", "catch-up"):
            # Sweep a copy, so the kept store stays "1,000 due" for the next run.
            for suffix in ("-wal", "-shm"):
                Path(str(path) + suffix).unlink(missing_ok=True)
            shutil.copyfile(pristine, path)
            if scenario == "catch-up":
                make_catch_up(path)
            measure(path, args, scenario)
    finally:
        if folder:
            shutil.rmtree(folder, ignore_errors=True)


def measure(path: Path, args, scenario: str) -> None:
    clock = FixedClock(NOW)
    store = Store(path, clock=clock, agent="bench")
    with store.reading():
        due_now = Ticket.select().where(Ticket.timer_due_at <= NOW).count()
    # Warm the page cache the way a running console would have it (a cold-disk first read is not the sweep).
    sweep_timers(store, NOW - timedelta(days=3650))

    load = os.getloadavg()[0]
    started, cpu = time.perf_counter(), time.process_time()
    result = sweep_timers(store)
    busy, busy_cpu = time.perf_counter() - started, time.process_time() - cpu

    idle, idle_cpu = [], []
    for _ in range(args.idle_runs):
        t0, c0 = time.perf_counter(), time.process_time()
        again = sweep_timers(store)
        idle.append(time.perf_counter() - t0)
        idle_cpu.append(time.process_time() - c0)
        assert not again.acted
    t0 = time.perf_counter()
    next_timer_due(store)
    lookup = time.perf_counter() - t0
    store.close()

    print(f"\n[{scenario}] {args.tickets:,} tickets, {due_now:,} due; load average {load:.1f} at the sweep")
    print(f"  sweep of the due tickets: {busy * 1000:.0f} ms wall, {busy_cpu * 1000:.0f} ms CPU  [target < 500 ms]")
    print(f"    did: {result.summary()}; {result.skipped} stale reminders recorded as skipped")
    idle_ms, idle_cpu_ms = statistics.median(idle) * 1000, statistics.median(idle_cpu) * 1000
    print(
        f"  idle sweep: median {idle_ms:.2f} ms wall ({idle_cpu_ms:.2f} ms CPU), max {max(idle) * 1000:.2f} ms "
        f"over {len(idle)} runs  [target < 10 ms]"
    )
    print(f"  next_timer_due: {lookup * 1000:.2f} ms")
    if scenario == "on time":
        t0 = time.perf_counter()
        done = subprocess.run(
            [str(Path(sys.executable).with_name("tui-desk")), "--db", str(path), "sweep"],
            capture_output=True,
            text=True,
            env={"TUI_DESK_NOW": NOW.isoformat(), "PATH": "/usr/bin:/bin", "HOME": str(path.parent)},
        )
        print(
            f"  `tui-desk sweep` process on the swept store (the cron case; mostly Python start-up): "
            f"{(time.perf_counter() - t0) * 1000:.0f} ms, exit {done.returncode}"
        )


def _cpus() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 0


if __name__ == "__main__":
    main()
