"""Time `tui-desk import` of a generated N-row sheet in the seeds' layout (default 100,000), then a re-run.

    python benchmarks/import_sheet.py [ROWS] [--no-case-numbers]

Target (issue 14): at least 10,000 rows a second, wall time, for the first import (issue 6 asked for
100,000 rows in under a minute). Prints the figures and whether the target was met; exits 1 if not.
Wall time is what an agent waits for; on a shared machine it moves with the load, so the load average
is printed beside it.
"""

from __future__ import annotations

import csv
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from seed_sheet import SEED_000, seed_rows  # noqa: E402

TARGET_ROWS_PER_S = 10_000


def write_sheet(path: Path, rows: int, *, case_numbers: bool = True) -> None:
    """A seed-layout sheet of ``rows`` rows (tests/seed_sheet.py: the rows the evidence tests check)."""
    with path.open("w", encoding="utf-8", newline="") as out:
        w = csv.writer(out)
        w.writerow((["Case Number"] if case_numbers else []) + SEED_000)
        w.writerows(seed_rows(rows, 0, case_numbers=case_numbers))


def main() -> int:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    rows = int(args[0]) if args else 100_000
    tui_desk = str(Path(sys.executable).with_name("tui-desk"))
    with tempfile.TemporaryDirectory() as tmp:
        sheet = Path(tmp) / "big.csv"
        write_sheet(sheet, rows, case_numbers="--no-case-numbers" not in sys.argv)
        db = Path(tmp) / "desk.db"
        env = dict(os.environ, TUI_DESK_AGENT="bench")
        figures = []
        for label in ("import", "re-run"):
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            start = time.perf_counter()
            result = subprocess.run(
                [tui_desk, "--db", str(db), "import", str(sheet)], env=env, capture_output=True, text=True
            )
            took = time.perf_counter() - start
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
            if result.returncode:
                print(result.stderr, file=sys.stderr)
                return 1
            figures.append(took)
            print(
                f"{label}: {rows} rows in {took:.1f} s wall, {cpu:.1f} s CPU ({rows / took:,.0f} rows/s; "
                f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs): {result.stdout.strip()}"
            )
        print(f"store size: {db.stat().st_size / 1e6:.0f} MB")
    speed = rows / figures[0]
    print(f"target, at least {TARGET_ROWS_PER_S:,} rows/s: {'met' if speed >= TARGET_ROWS_PER_S else 'MISSED'}")
    return 0 if speed >= TARGET_ROWS_PER_S else 1


if __name__ == "__main__":
    sys.exit(main())
