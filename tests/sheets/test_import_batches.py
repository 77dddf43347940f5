"""A big import writes its rows in batches: the paths test_import_evidence.py does not take. Several batches of
rows without case numbers into a store with tickets, an error in a later batch, Ctrl+C between batches and a
dry run give the digests of the importer before batches were built apart from their writing (3362330^), or
the store as it was; the indexes a big load puts off are all made again. The command's import of a big
sheet into SQLite, whose last part a helper process reads, checks and builds (store/staging.py), gives the
store one process gives, and Ctrl+C or an error stops both processes and leaves nothing behind."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import time

import pytest
from conftest import NOW, TUI_DESK
from seed_sheet import SEED_000, seed_rows
from test_import_evidence import import_file, store_digests, write_csv

from tui_desk.domain.clock import FixedClock
from tui_desk.domain.errors import DeskError
from tui_desk.sheets.columns import map_columns
from tui_desk.sheets.reader import read_sheet
from tui_desk.sheets.rows import ReadOptions, records_from_sheet
from tui_desk.store import Store
from tui_desk.store.imports import import_tickets
from tui_desk.store.queries import TicketFilter
from tui_desk.store.verify import verify_path

pytestmark = pytest.mark.backends


def test_unnumbered_sheets_of_several_batches_into_a_store_with_tickets_keep_every_digest(store, tmp_path):
    # A store with tickets (the existing path); then 4,500 rows without case numbers: three batches of
    # BATCH=2000, numbers allocated and fingerprinted, more than the store holds (ticket indexes deferred);
    # then 2,100 unnumbered rows, fewer than it holds (indexes kept);
    # then the first unnumbered sheet again (every row already imported).
    write_csv(tmp_path / "first.csv", [["Case Number", *SEED_000], *seed_rows(1500, 0, case_numbers=True)])
    write_csv(tmp_path / "wide.csv", [SEED_000, *seed_rows(4500, 20000, case_numbers=False)])
    write_csv(tmp_path / "narrow.csv", [SEED_000, *seed_rows(2100, 40000, case_numbers=False)])
    for name in ("first.csv", "wide.csv", "narrow.csv", "wide.csv"):
        import_file(store, tmp_path / name)
    report = verify_path(store.path)
    assert report.ok, [p.line() for p in report.problems]
    assert store.count_tickets(TicketFilter(search="video proof")) == 8100  # every ticket's log text indexed
    assert store.count_tickets(TicketFilter(search="ORD-0041999")) == 1  # a row of the narrow sheet's 2nd batch
    assert store_digests(store) == EXPECTED, repr(store_digests(store))


# Recorded on 3362330^ (the importer that built and wrote its batches on one thread), on both backends.
EXPECTED = {
    "entries": 24300,
    "seal": "085a4e64d41ad7dc",
    "status_changes": "88131749a4ee2c94",
    "tickets": "4a65e6c1f31d4afd",
    "log_entry": "29e2ca0029b5fd6d",
    "tags": "e3b0c44298fc1c14",  # the digest of no rows: these sheets have no Tags column
    "fingerprints": "ef17461a751fa3c6",
    "sequences": "fd497a9ce46ceb6c",
}


def _records(path):
    sheet = read_sheet(path)
    return records_from_sheet(sheet, map_columns(sheet.headers), ReadOptions(source=path.name))


def _helper_files(store) -> list:
    """What a helper process of an import left beside the store (store/staging.py): nothing, once it ended."""
    return sorted(p.name for p in store.path.parent.glob(f".{store.path.name}.load-*"))


@pytest.mark.sqlite_only  # the helper process is SQLite's
def test_the_helper_process_builds_the_store_one_process_builds(store, cli, tmp_path):
    """2,401 rows through the command: the helper reads and checks the last half (from row 1,202), and builds the
    last 57 % of the new tickets: 169 of them from rows the command's process read and sent it. Each identity
    twice, in both parts, and one three times, whose second copy the check refuses (in the helper's part): its
    fingerprints count on across the split as in one pass. The store equals the one the import gives in this
    process, without a helper, row for row and digest for digest."""
    first = write_csv(tmp_path / "first.csv", [["Case Number", *SEED_000], *seed_rows(500, 0, case_numbers=True)])
    base = [[*row, "High"] for row in seed_rows(1200, 20000, case_numbers=False)]
    rows = [*base, *(list(row) for row in base), list(base[600])]
    rows[1800][-1] = "whenever"  # the same identity as rows 600 and 2400, a priority the check refuses
    wide = write_csv(tmp_path / "wide.csv", [[*SEED_000, "Priority"], *rows])
    one = Store(tmp_path / "one.db", clock=FixedClock(NOW), agent="ana")
    import_file(one, first)
    alone = import_tickets(one, _records(wide), skip_bad=True)
    cli.ok("import", str(first))
    helped = cli.json("import", str(wide), "--skip-bad", "--report", str(tmp_path / "bad.csv"))
    # Line 3,602: two lines a row (the log cell holds a line break).
    assert [bad.line for bad in alone.bad] == [row["line"] for row in helped["bad_rows"]] == [3602]
    assert helped["created"] == len(alone.created) == 2400
    assert store_digests(store) == store_digests(one)
    assert (
        cli.json("import", str(wide), "--skip-bad", "--report", str(tmp_path / "bad2.csv"))["already_imported"] == 2400
    )
    assert _helper_files(store) == []
    report = verify_path(store.path)
    assert report.ok, [p.line() for p in report.problems]
    one.close()


@pytest.mark.sqlite_only
def test_ctrl_c_while_the_helper_works_undoes_the_import_and_leaves_nothing(store, cli, tmp_path):
    import_file(
        store, write_csv(tmp_path / "first.csv", [["Case Number", *SEED_000], *seed_rows(100, 0, case_numbers=True)])
    )
    before = store_digests(store)
    path = write_csv(tmp_path / "big.csv", [SEED_000, *seed_rows(30000, 20000, case_numbers=False)])
    proc = subprocess.Popen(
        [TUI_DESK, "--db", str(store.path), "import", str(path)],
        env=cli.env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while not _helper_files(store) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert _helper_files(store), "the helper process never started"
    time.sleep(1.0)  # both processes at work: reading, checking or building
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode != 0, "the import ended before Ctrl+C: make the sheet longer"
    assert "Traceback" not in err, err
    assert store_digests(store) == before
    assert _helper_files(store) == []


@pytest.mark.sqlite_only
def test_an_error_copying_the_helpers_rows_in_leaves_the_store_as_it_was(store, cli, tmp_path):
    import_file(
        store, write_csv(tmp_path / "first.csv", [["Case Number", *SEED_000], *seed_rows(100, 0, case_numbers=True)])
    )
    before = store_digests(store)
    con = sqlite3.connect(store.path)
    con.execute(  # a row the helper builds (it reads the last half of 2,500): refused as it is copied in
        "CREATE TRIGGER review_refuse BEFORE INSERT ON ticket WHEN NEW.order_id = 'ORD-0022400' "
        "BEGIN SELECT RAISE(ABORT, 'refused by the review'); END"
    )
    con.commit()
    con.close()
    path = write_csv(tmp_path / "wide.csv", [SEED_000, *seed_rows(2500, 20000, case_numbers=False)])
    assert "refused by the review" in cli.fails("import", str(path))
    assert store_digests(store) == before
    assert _helper_files(store) == []


@pytest.mark.sqlite_only
def test_the_helper_checks_and_builds_the_last_part_of_an_interaction_log(store, cli, tmp_path):
    """A layout read whole (rows grouped by ticket: seed 003's interaction log) is checked and built in part
    by the helper all the same: 2,100 tickets, one in ten with a second contact at the end of the sheet."""
    header = ["Ticket/Interaction ID", "Customer Identifier", "Contact Timestamp (Start/End)", "Issue Summary"]
    header += ["Key Actions & Agent Notes", "Resolution Status"]
    rows = [
        [f"VB-T-{i}", f"user{i}", f"2023-11-{1 + i % 28:02d} 10:00 UTC", f"Parcel {i} lost", "Asked", "Pending"]
        for i in range(2100)
    ]
    rows += [
        [f"VB-T-{i}", f"user{i}", "2023-12-01 09:00 UTC", f"Parcel {i} lost", "Refunded", "Resolved"]
        for i in range(0, 2100, 10)
    ]
    path = write_csv(tmp_path / "log.csv", [header, *rows])
    one = Store(tmp_path / "one.db", clock=FixedClock(NOW), agent="ana")
    import_tickets(one, _records(path))
    assert cli.json("import", str(path))["created"] == 2100
    assert store_digests(store) == store_digests(one)
    assert _helper_files(store) == []
    one.close()


def _search_triggers(store) -> int:
    con = sqlite3.connect(store.path)
    try:
        return con.execute("SELECT count(*) FROM sqlite_master WHERE type = 'trigger'").fetchone()[0]
    finally:
        con.close()


@pytest.mark.sqlite_only  # the trigger below is SQLite's
@pytest.mark.parametrize("rows", [4500, 2100])  # indexes deferred (UNIQUE checked at the end) / kept
def test_an_error_in_a_later_batch_leaves_the_store_as_it_was(store, tmp_path, rows):
    import_file(
        store, write_csv(tmp_path / "first.csv", [["Case Number", *SEED_000], *seed_rows(3000, 0, case_numbers=True)])
    )
    before, triggers = store_digests(store), _search_triggers(store)
    con = sqlite3.connect(store.path)
    con.execute(
        "CREATE TRIGGER review_refuse BEFORE INSERT ON ticket WHEN NEW.order_id = 'ORD-0022050' "
        "BEGIN SELECT RAISE(ABORT, 'refused by the review'); END"
    )
    con.commit()
    con.close()
    path = write_csv(tmp_path / "wide.csv", [SEED_000, *seed_rows(rows, 20000, case_numbers=False)])
    with pytest.raises(DeskError, match="refused by the review"):
        import_tickets(store, _records(path))  # row 2051 of the sheet: the second batch
    assert store_digests(store) == before
    assert _search_triggers(store) == triggers + 1
    new = store.create_ticket(customer="after", subject="the store writes on")
    assert store.count_tickets(TicketFilter(search="writes on")) == 1, new


@pytest.mark.sqlite_only
def test_a_ctrl_c_between_batches_undoes_the_load_and_stays_a_ctrl_c(store, tmp_path):
    import_file(
        store, write_csv(tmp_path / "first.csv", [["Case Number", *SEED_000], *seed_rows(100, 0, case_numbers=True)])
    )
    before = store_digests(store)
    calls = []

    def progress(n):
        calls.append(n)
        raise KeyboardInterrupt  # right after the first batch is written, while the second is built

    path = write_csv(tmp_path / "wide.csv", [SEED_000, *seed_rows(4500, 20000, case_numbers=False)])
    with pytest.raises(KeyboardInterrupt):
        import_tickets(store, _records(path), progress=progress)
    assert calls == [2000]
    assert store_digests(store) == before
    import_file(store, path)
    assert store.count_tickets(TicketFilter()) == 4600


@pytest.mark.sqlite_only
def test_a_dry_run_of_a_bulk_load_changes_nothing(store, tmp_path):
    import_file(
        store, write_csv(tmp_path / "first.csv", [["Case Number", *SEED_000], *seed_rows(100, 0, case_numbers=True)])
    )
    before = store_digests(store)
    path = write_csv(tmp_path / "wide.csv", [SEED_000, *seed_rows(4500, 20000, case_numbers=False)])
    outcome = import_tickets(store, _records(path), dry_run=True)
    assert len(outcome.created) == 4500
    assert store_digests(store) == before


def test_a_big_import_into_an_empty_store_makes_every_index_again(store, tmp_path):
    """The indexes a big load puts off (SQLite: the ticket table's; PostgreSQL: the search's GIN indexes)
    are all there again afterwards, and the search uses them."""

    def indexes() -> list:
        with store.reading():
            return sorted(
                (i.table, i.name, i.unique, tuple(i.columns))
                for table in ("ticket", "ticket_search", "log_entry")
                for i in store.db.get_indexes(table)
            )

    before = indexes()
    assert len(before) >= 10
    import_file(store, write_csv(tmp_path / "big.csv", [SEED_000, *seed_rows(2100, 0, case_numbers=False)]))
    assert indexes() == before
    assert store.count_tickets(TicketFilter(search="ORD-00020")) == 100  # fragments: ORD-0002000 … 0002099
    assert store.count_tickets(TicketFilter(search="buyer2077@example.com")) == 1
