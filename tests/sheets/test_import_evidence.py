"""An import's evidence is fixed: the same sheets at the same clock give the same rows, digests and seal on
both backends, whatever the importer does to be fast (batching, indexing after the load, other processes).

The expected figures below were recorded from the importer before its speed-up (branch ``imports``,
base 27fd39b); a change to how entries are chained, stamped, numbered or indexed changes them.
"""

from __future__ import annotations

import csv
import hashlib
import json
import sqlite3
from pathlib import Path

import pytest
from conftest import SHEETS_DATA as DATA
from seed_sheet import SEED_000, seed_rows

from tui_desk.sheets.columns import map_columns
from tui_desk.sheets.reader import read_sheet
from tui_desk.sheets.rows import ReadOptions, records_from_sheet
from tui_desk.store import backend, seal
from tui_desk.store.imports import import_tickets
from tui_desk.store.queries import TicketFilter
from tui_desk.store.verify import connect, verify_path

pytestmark = pytest.mark.backends

INTERACTIONS = [
    [
        "Ticket/Interaction ID",
        "Customer Identifier",
        "Contact Timestamp (Start/End)",
        "Communication Channel",
        "Issue Summary",
        "Key Actions & Agent Notes",
        "Resolution Status",
        "Follow-up Date/Notes",
    ],
    [
        "VB-T-9003",
        "anna.k",
        "2023-11-17 10:00 UTC / 2023-11-17 10:12 UTC",
        "Phone",
        "Parcel lost",
        "Called back",
        "Escalated",
        "waiting for the carrier",
    ],
    [
        "VB-T-9003",
        "anna.k",
        "2023-11-15 14:30 UTC / 2023-11-15 14:45 UTC",
        "Live Chat",
        "Parcel lost",
        "Asked for tracking",
        "Pending",
        "2023-11-17 callback promised",
    ],
    ["VB-T-9004", "VB-778812", "2023-11-16 09:00 UTC / 09:05", "Email", "Wrong size", "Sent label", "Resolved", ""],
]

LOG_HEADER = [
    "Case Number",
    "Customer",
    "Email",
    "Order ID",
    "Open Date",
    "Issue Summary",
    "Description",
    "Reason",
    "Status",
    "Priority",
    "Assignee",
    "Tags",
    "Refund Amount",
    "Currency",
    "Follow-up",
    "Entry #",
    "Entry At",
    "Entry Until",
    "Entry Kind",
    "Channel",
    "Direction",
    "Sender",
    "Sender Name",
    "Logged By",
    "Entry Summary",
    "Entry Body",
    "Entry Follow-up",
    "Corrects #",
    "Due At",
]
CASE = [
    "SUP-2024-00007",
    "Kim Ode",
    "kim@example.org",
    "VB-55",
    "2024-02-01 09:00",
    "Charger broken",
    "Sparks when plugged in",
    "Defective",
    "Waiting on customer",
    "High",
    "lee",
    "vip, fragile",
    "49.905",
    "eur",
    "2024-02-09",
]
LOG_SHEET = [
    LOG_HEADER,
    [
        *CASE,
        "1",
        "2024-02-01 09:00",
        "",
        "message",
        "email",
        "in",
        "buyer",
        "Kim",
        "",
        "Charger broken",
        "It sparks",
        "",
        "",
        "",
    ],
    [
        *CASE,
        "2",
        "2024-02-01 10:00",
        "2024-02-01 10:20",
        "message",
        "phone",
        "out",
        "agent",
        "",
        "lee",
        "Called: 3 units",
        "",
        "2024-02-03 09:00",
        "",
        "",
    ],
    [
        *CASE,
        "3",
        "2024-02-01 10:30",
        "",
        "correction",
        "note",
        "internal",
        "agent",
        "",
        "lee",
        "It was 2 units",
        "count fixed",
        "",
        "2",
        "2024-02-05 09:00",
    ],
]


def write_csv(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as out:
        csv.writer(out).writerows(rows)
    return path


def import_file(store, path: Path) -> None:
    sheet = read_sheet(path)
    records = records_from_sheet(sheet, map_columns(sheet.headers), ReadOptions(source=path.name))
    import_tickets(store, records)


def table_digest(con, sql: str) -> str:
    """SHA-256 of every row a query returns, in its order (values as the database gives them, as text)."""
    h = hashlib.sha256()
    for row in con.execute(sql).fetchall():
        h.update(json.dumps([str(v) if v is not None else None for v in row]).encode())
    return h.hexdigest()[:16]


TICKET_COLUMNS = (
    "id, case_number, kind, customer, email, order_id, subject, description, reason, priority, status, "
    'assignee, created_by, "references", opened_at, first_response_at, last_action_at, status_changed_at, '
    "follow_up_at, sla_response_due_at, sla_resolution_due_at, resolved_at, closed_at, refund_amount, currency, "
    "period_started_at, reminders_done, timer_due_at, log_count, log_head, version"
)


def store_digests(store) -> dict:
    """What the evidence tests compare: the seal, and a digest of each table an import writes."""
    con = connect(backend.parse_location(store.path))
    try:
        states = seal.compute(con)
        return {
            "entries": states["log_entry"].rows,
            "seal": states["log_entry"].digest[:16],
            "status_changes": states["status_change"].digest[:16],
            "tickets": table_digest(con, f"SELECT {TICKET_COLUMNS} FROM ticket ORDER BY id"),
            "log_entry": table_digest(con, "SELECT * FROM log_entry ORDER BY id"),
            "tags": table_digest(con, "SELECT ticket_id, name FROM ticket_tag ORDER BY ticket_id, name"),
            "fingerprints": table_digest(con, "SELECT key, value FROM meta WHERE key LIKE 'import:%' ORDER BY key"),
            "sequences": table_digest(con, "SELECT prefix, kind_code, year, last FROM case_sequence ORDER BY 1, 2, 3"),
        }
    finally:
        con.close()


def test_imported_sheets_keep_every_digest_and_row(store, tmp_path):
    # Big enough for the bulk path (index after the load) and several flushes; then small ones (indexed as
    # they go in), numbers allocated for rows without one, seed 003 and a log sheet with a correction.
    write_csv(tmp_path / "big.csv", [["Case Number", *SEED_000], *seed_rows(2500, 0, case_numbers=True)])
    write_csv(tmp_path / "unnumbered.csv", [SEED_000, *seed_rows(1200, 5000, case_numbers=False)])
    write_csv(tmp_path / "few.csv", [SEED_000, *seed_rows(7, 9000, case_numbers=False)])
    write_csv(tmp_path / "interactions.csv", INTERACTIONS)
    write_csv(tmp_path / "log.csv", LOG_SHEET)
    for name in ("big.csv", "unnumbered.csv", "few.csv", "interactions.csv", "log.csv"):
        import_file(store, tmp_path / name)
    for path in (DATA / "gtb_seed000.csv", DATA / "vigorbuy_seed002.csv", DATA / "no_case_numbers.csv"):
        import_file(store, path)
    import_file(store, tmp_path / "unnumbered.csv")  # a re-run: nothing new

    report = verify_path(store.path)
    assert report.ok, [p.line() for p in report.problems]
    found = store_digests(store)
    assert found == EXPECTED, repr(found)


def test_imported_rows_are_found_by_search(store, tmp_path):
    """The search indexes (words and fragments) are built for bulk-imported rows as for rows one at a time."""
    write_csv(tmp_path / "big.csv", [["Case Number", *SEED_000], *seed_rows(1500, 0, case_numbers=True)])
    write_csv(tmp_path / "few.csv", [["Case Number", *SEED_000], *seed_rows(3, 7000, case_numbers=True)])
    import_file(store, tmp_path / "big.csv")
    import_file(store, tmp_path / "few.csv")
    for query, number in (
        ("buyer1234", "GTB-REF-2023-01235"),  # a ticket field (the email), by a fragment
        ("Defective 1499", "GTB-REF-2023-01499 GTB-REF-2023-01500"),  # the subject (and a case number)
        ("return 7001", "GTB-REF-2023-07001 GTB-REF-2023-07002"),  # a row of the small import
        ("ORD-0000042", "GTB-REF-2023-00043"),  # the order id
    ):
        found = [t.case_number for t in store.list_tickets(TicketFilter(search=query))]
        assert found == number.split(), query
    assert store.count_tickets(TicketFilter(search="video proof")) == 1503  # the log text of every ticket


# Recorded from the importer at 27fd39b (before the speed-up); the same on SQLite and PostgreSQL.
EXPECTED = {
    "entries": 11149,
    "seal": "258eee8ba1ed300f",
    "status_changes": "3b9f842d95e7a2cb",
    "tickets": "0710d57542943fa8",
    "log_entry": "138a7fa0d15865c1",
    "tags": "bf655d865f895a38",
    "fingerprints": "40908d634b73382e",
    "sequences": "ffa336c189b652c8",
}


@pytest.mark.sqlite_only
def test_the_search_documents_of_a_bulk_import_are_those_a_rebuild_writes(store, tmp_path):
    """A big import hands its tickets' text to the index itself (store/sqlite.py ``BulkLoad.index``): the
    documents must be exactly those the index would read back from the rows (a full rebuild)."""
    from tui_desk.store import sqlite

    rows = [LOG_HEADER]
    for i in range(1100):  # over BULK_INDEX_MIN: the bulk path; names and text in several scripts
        case = [f"SUP-2024-{i + 100:05d}", f"Jürgen Groß {i}", "", f"VB-{i}", "2024-02-01 09:00", f"Größe falsch {i}",
                "", "", "Open", "", "", "", "", "", ""]  # fmt: skip
        rows.append([*case, "1", "2024-02-01 09:00", "", "message", "email", "in", "buyer", f"Ｊürgen {i}", "",
                     "退款 please", "Straße\nzweite Zeile", "", "", ""])  # fmt: skip
        rows.append([*case, "2", "2024-02-01 10:00", "", "status", "system", "internal", "system", "", "",
                     "moved", "not searched", "", "", ""])  # fmt: skip
    import_file(store, write_csv(tmp_path / "log.csv", rows))
    import_file(
        store, write_csv(tmp_path / "big.csv", [["Case Number", *SEED_000], *seed_rows(1200, 0, case_numbers=True)])
    )

    def documents() -> tuple[list, list]:
        con = sqlite3.connect(store.path)
        try:
            words = con.execute("SELECT rowid, fields, log FROM ticket_search ORDER BY rowid").fetchall()
            fragments = con.execute(f"SELECT rowid, doc FROM {sqlite.FRAGMENTS_TABLE} ORDER BY rowid").fetchall()
            return words, fragments
        finally:
            con.close()

    imported = documents()
    assert len(imported[0]) == len(imported[1]) == 2300
    assert imported[0][0][2] == "退款 please Ｊürgen 0 Straße\nzweite Zeile"  # the system entry left out
    with store.writing():
        sqlite.rebuild_search(store.db)
    assert documents() == imported
