"""The seed-000 layout's rows as the import benchmark and the import evidence tests generate them: each row
has two dated communication-log lines. One generator, so that the benchmark times the sheets the tests check
(benchmarks/import_sheet.py puts this folder on its path, as bench_backends.py does for pg_server)."""

from __future__ import annotations

STATUSES = (
    "Pending",
    "Escalated",
    "Refund Initiated",
    "Resolved",
    "Closed",
    "Open",
    "In progress",
    "Awaiting customer",
)
SEED_000 = ["Customer", "Order ID", "Open Date", "Issue Summary", "Communication Log", "Status", "Date of Last Action"]


def seed_rows(rows: int, start: int, *, case_numbers: bool) -> list[list[str]]:
    """Rows ``start`` to ``start + rows`` (with a Case Number first when ``case_numbers``)."""
    out = []
    for i in range(start, start + rows):
        day = 1 + i % 28
        cells = [
            f"buyer{i}@example.com",
            f"ORD-{i:07d}",
            f"2023-10-{day:02d}",
            f"Defective item return {i}",
            f"2023-11-{day:02d}: Customer provided video proof.\n2023-11-{day:02d} 15:00: Support approved RMA.",
            STATUSES[i % len(STATUSES)],
            f"2023-11-{day:02d}",
        ]
        out.append(([f"GTB-REF-2023-{i + 1:05d}"] if case_numbers else []) + cells)
    return out
