"""Benchmark the store's search as the queue asks it, keystroke by keystroke, without the console.

    python benchmarks/bench_search.py --db PATH [--repeat 5]

For every prefix of the console benchmark's search words from the 3rd character (the queue searches
live from there), the queries a keystroke makes: the first page (40 rows, newest case first) and the
count; then a few fragment searches (CJK, accents, a number inside case numbers). Reports wall and
CPU time per query, the median of ``--repeat`` runs. The console benchmark (bench_console.py) adds
the screen on top; this one isolates the store and is steadier on a shared machine. Not a test.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from datetime import UTC, datetime

SEARCH_WORDS = ("maria", "garcia", "refund", "TD-REF-2026-0423", "ORD-3", "parcel never")  # as bench_console
FRAGMENTS = ("1212", "Grosse", "Jurgen", "退款", "返金", "arcel")
PAGE = 40


def measure(store, words: str, repeat: int) -> tuple[float, float, float, float, int]:
    from tui_desk.store import TicketFilter

    flt = TicketFilter(search=words)
    page_wall, page_cpu, count_wall, count_cpu = [], [], [], []
    total = 0
    for _ in range(repeat):
        w, c = time.perf_counter(), time.process_time()
        store.list_tickets(flt, sort="case", descending=True, limit=PAGE)
        page_wall.append(time.perf_counter() - w)
        page_cpu.append(time.process_time() - c)
        w, c = time.perf_counter(), time.process_time()
        total = store.count_tickets(flt)
        count_wall.append(time.perf_counter() - w)
        count_cpu.append(time.process_time() - c)
    med = statistics.median
    return med(page_wall), med(page_cpu), med(count_wall), med(count_cpu), total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    from tui_desk.store import Store

    store = Store(args.db, agent="bench", read_only=True)
    print(
        f"tui-desk search benchmark · {store.count_tickets():,} tickets · {platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()} · {datetime.now(UTC):%Y-%m-%d %H:%M} UTC · load {os.getloadavg()[0]:.1f}"
    )
    keystrokes = [word[:i] for word in SEARCH_WORDS for i in range(3, len(word) + 1) if word[i - 1] != " "]
    rows = [(q, *measure(store, q, args.repeat)) for q in keystrokes]
    pages = [r[1] for r in rows]
    counts = [r[3] for r in rows]
    page_median, page_max = statistics.median(pages) * 1000, max(pages) * 1000
    print(f"{len(rows)} keystrokes: first page median {page_median:.1f} ms, max {page_max:.1f} ms")
    print(
        f"               count      median {statistics.median(counts) * 1000:.1f} ms, max {max(counts) * 1000:.1f} ms"
    )
    print(f"{'query':<18} {'page ms':>8} {'cpu':>6} {'count ms':>9} {'cpu':>6} {'hits':>7}")
    for q, pw, pc, cw, cc, n in rows + [(f, *measure(store, f, args.repeat)) for f in FRAGMENTS]:
        print(f"{q:<18} {pw * 1000:8.1f} {pc * 1000:6.1f} {cw * 1000:9.1f} {cc * 1000:6.1f} {n:7,}")
    store.close()


if __name__ == "__main__":
    main()
