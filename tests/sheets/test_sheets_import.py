"""Importing sheets into a real store, through the store operation and through the real ``tui-desk`` command."""

from __future__ import annotations

import csv
import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from conftest import SHEETS_DATA as DATA
from seed_sheet import STATUSES

from tui_desk.domain.errors import DeskError
from tui_desk.domain.evidence import CHAINED_FIELDS, entry_digest, genesis
from tui_desk.sheets.columns import map_columns
from tui_desk.sheets.reader import read_sheet
from tui_desk.sheets.rows import ReadOptions, records_from_sheet
from tui_desk.store.imports import import_tickets
from tui_desk.store.models import LogEntry, Meta, StatusChange, Ticket

KIM = "kim" + chr(64) + "example.org"


def records(path: Path, **options):
    sheet = read_sheet(path)
    return records_from_sheet(sheet, map_columns(sheet.headers), ReadOptions(source=path.name, **options))


def chain_is_intact(store, case_number: str) -> bool:
    """Recompute every digest of the ticket's log from the stored rows."""
    with store.reading():
        ticket = Ticket.get(Ticket.case_number == case_number)
        head = genesis(ticket.id, ticket.case_number)  # imported tickets are bound to their id and number
        for e in LogEntry.select().where(LogEntry.ticket == ticket.id).order_by(LogEntry.seq):
            fields = {name: getattr(e, name) for name in CHAINED_FIELDS if name != "corrects_seq"}
            fields["corrects_seq"] = e.corrects.seq if e.corrects_id else None
            head = entry_digest(head, fields, [])
            if head != e.digest:
                return False
        return head == ticket.log_head


def write_csv(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as out:
        csv.writer(out).writerows(rows)
    return path


# -- the store operation ---------------------------------------------------------------------


@pytest.mark.backends  # the import on PostgreSQL too
def test_gtb_row_from_seed_000_is_imported_with_its_number_dates_log_and_status(store):
    outcome = import_tickets(store, records(DATA / "gtb_seed000.csv"))
    assert outcome.created == [(2, "GTB-REF-1101")]
    data = store.describe(store.get("GTB-REF-1101"))
    assert data["customer"] == "[email protected]"
    assert data["subject"] == "Defective item return"
    assert data["opened_at"] == "2023-10-26T00:00:00Z"
    # "Refund Initiated" with a Resolution Date is Resolved (the date is the stronger fact).
    assert data["status"] == "Resolved"
    assert data["resolved_at"] == "2023-11-02T00:00:00Z"
    assert data["last_action_at"] == "2023-11-02T00:00:00Z"
    # Its 7 days to disagree count from the import, not from 2023: no stale close message goes out.
    assert data["timer_due_at"] == "2026-11-22T14:30:00Z"
    log = data["log"]
    assert [(e["kind"], e["at"], e["summary"]) for e in log] == [
        ("import", "2023-10-26T00:00:00Z", "Imported from gtb_seed000.csv line 2 (sheet status “Refund Initiated”)"),
        ("import", "2023-10-28T00:00:00Z", "Customer provided video proof."),
        ("import", "2023-10-29T00:00:00Z", "Support approved RMA."),
    ]
    assert log[1]["body"] == "2023-10-28: Customer provided video proof."
    assert "Status: Refund Initiated" in log[0]["body"]
    assert all(e["logged_at"] == "2026-11-15T14:30:00Z" and e["agent"] == "ana" for e in log)
    assert chain_is_intact(store, "GTB-REF-1101")
    with store.reading():
        changes = list(StatusChange.select().where(StatusChange.ticket == store.get("GTB-REF-1101").id))
    assert [(c.from_status, c.to_status) for c in changes] == [(None, "resolved")]
    # The imported ticket is a normal ticket afterwards: it can be logged on and moved.
    store.add_entry("GTB-REF-1101", channel="email", summary="Customer thanks us", sender="buyer")
    assert store.get("GTB-REF-1101").status == "waiting-us"  # the customer answered a Resolved ticket
    assert chain_is_intact(store, "GTB-REF-1101")


def test_kept_case_numbers_push_new_numbers_past_them(store, tmp_path):
    sheet = write_csv(
        tmp_path / "ours.csv",
        [
            ["Case Number", "Customer", "Open Date", "Subject"],
            ["TD-REF-2026-00041", "Maria", "2026-11-01", "Old one"],
            ["td-ref-2026-00007", "John", "2026-11-02", "Older one"],
        ],
    )
    import_tickets(store, records(sheet))
    assert store.get("TD-REF-2026-00007").customer == "John"
    ticket = store.create_ticket(customer="Aiko", subject="New one")
    assert ticket.case_number == "TD-REF-2026-00042"


def test_a_bad_row_stops_everything_with_its_line_and_nothing_is_written(store):
    with pytest.raises(DeskError, match=r"^line 4: open date: '2023-13-45' is not a real date"):
        import_tickets(store, records(DATA / "bad_date.csv"))
    assert store.count_tickets() == 0


def test_skip_bad_imports_the_rest_and_lists_the_bad(store):
    outcome = import_tickets(store, records(DATA / "bad_date.csv"), skip_bad=True)
    assert [n for _, n in outcome.created] == ["GTB-REF-2001", "GTB-REF-2002", "GTB-REF-2004"]
    assert [(b.line, b.reason) for b in outcome.bad] == [(4, "open date: '2023-13-45' is not a real date")]
    assert store.count_tickets() == 3


def test_a_failure_while_writing_rolls_back_the_rows_before_it(store, tmp_path):
    sheet = write_csv(
        tmp_path / "dup.csv",
        [
            ["Case Number", "Customer", "Open Date", "Subject"],
            ["GTB-1", "Maria", "2023-10-26", "First"],
            ["GTB-2", "John", "2023-10-26", "Second"],
            ["GTB-1", "Aiko", "2023-10-27", "Same number again"],
        ],
    )
    with pytest.raises(DeskError, match="line 4: case number GTB-1 appears again \\(first on line 2\\)"):
        import_tickets(store, records(sheet))
    assert store.count_tickets() == 0


def test_dry_run_writes_nothing(store):
    outcome = import_tickets(store, records(DATA / "vigorbuy_seed002.csv"), dry_run=True)
    assert len(outcome.created) == 5 and outcome.dry_run
    assert store.count_tickets() == 0
    with store.reading():
        assert LogEntry.select().count() == 0


def test_rows_without_case_numbers_get_new_ones_and_a_fingerprint_against_duplicates(store):
    first = import_tickets(store, records(DATA / "no_case_numbers.csv"))
    # Two identical rows are two cases (the second occurrence has its own fingerprint).
    assert [n for _, n in first.created] == ["TD-REF-2023-00001", "TD-REF-2023-00002", "TD-REF-2023-00003"]
    again = import_tickets(store, records(DATA / "no_case_numbers.csv"))
    assert again.created == [] and len(again.existing) == 3
    assert store.count_tickets() == 3
    with store.reading():
        assert Meta.select().where(Meta.key.startswith("import:row:")).count() == 3


def test_workbook_cells_typed_as_dates_are_read(store, tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Refund log"])
    sheet.append(
        [
            "Case Number",
            "Customer",
            "Order ID",
            "Open Date",
            "Issue Summary",
            "Communication Log",
            "Status",
            "Date of Last Action",
            "Amount",
        ]
    )
    sheet.append(
        [
            "GTB-REF-5001",
            "Maria Garcia",
            778812,
            datetime(2023, 10, 26, 9, 30),
            "Blender stopped working",
            "2023-10-27: Asked for a video.\n2023-10-28: Video received.",
            "Awaiting customer",
            date(2023, 10, 28),
            49.9,
        ]
    )
    path = tmp_path / "log.xlsx"
    book.save(path)
    outcome = import_tickets(store, records(path))
    assert outcome.created == [(3, "GTB-REF-5001")]
    data = store.describe(store.get("GTB-REF-5001"))
    assert data["opened_at"] == "2023-10-26T09:30:00Z"
    assert data["order_id"] == "778812"
    assert data["status"] == "Waiting on Buyer"
    assert data["refund"]["amount"] == "49.90"
    assert len(data["log"]) == 3


# -- the real command ------------------------------------------------------------------------


def test_cli_imports_the_gtb_sheet_and_a_rerun_creates_no_duplicates(cli):
    first = cli.json("import", str(DATA / "gtb_seed000.csv"))
    assert (first["created"], first["entries"], first["cases"]) == (1, 3, ["GTB-REF-1101"])
    again = cli.json("import", str(DATA / "gtb_seed000.csv"))
    assert (again["created"], again["already_imported"]) == (0, 1)
    told = cli.ok("import", str(DATA / "gtb_seed000.csv")).stdout  # what a person reads: nothing was changed
    assert "1 already imported" in told and "an import never changes a ticket" in told
    assert "never changes" not in cli.ok("import", str(DATA / "gtb_seed000.csv"), db=cli.db.with_name("b.db")).stdout
    shown = cli.json("show", "GTB-REF-1101")
    assert shown["status"] == "Resolved" and len(shown["log"]) == 3
    assert len(cli.json("list")) == 1


def test_cli_imports_the_seed_002_layout(cli):
    result = cli.ok("import", str(DATA / "vigorbuy_seed002.csv"))
    assert "created 5 tickets with 15 log entries" in result.stdout
    rows = {t["case_number"]: t for t in cli.json("list")}
    assert {n: t["status"] for n, t in rows.items()} == {
        "VB-REF-2024-00017": "To do next",
        "VB-REF-2024-00018": "L2 in progress",
        "VB-REF-2024-00019": "Resolved",
        "VB-REF-2024-00020": "Closed",
        "VB-REF-2024-00021": "Waiting on Buyer",
    }
    shown = cli.json("show", "VB-REF-2024-00018")
    assert (shown["customer"], shown["order_id"]) == ("John Smith", "VB-778901")
    assert shown["subject"] == "Parcel never arrived"  # the reason stands in for the missing summary
    assert shown["reason"] == "Parcel never arrived"
    assert [e["summary"] for e in shown["log"][1:]] == [
        "Tracking stuck since 2024/02/20.",
        "Escalated to logistics partner.",
        "Partner opened a trace, reference TR-5521.",
    ]
    assert cli.json("show", "VB-REF-2024-00020")["closed_at"] == "2024-03-09T00:00:00Z"
    assert "every chain intact" in cli.ok("verify").stdout  # the evidence check accepts imported logs


def test_cli_imports_a_messy_sheet(cli):
    # BOM, semicolons, CRLF, a title row, blank lines, extra columns, odd-cased headers, dotted dates.
    result = cli.json("import", str(DATA / "messy.csv"))
    assert result["cases"] == ["GTB-REF-4001", "GTB-REF-4002"]
    shown = cli.json("show", "GTB-REF-4001")
    assert shown["status"] == "Waiting on Buyer"
    assert shown["opened_at"] == "2023-10-26T00:00:00Z"
    assert [(e["at"], e["summary"]) for e in shown["log"][1:]] == [
        ("2023-10-26T00:00:00Z", "Customer wrote in."),
        ("2023-10-27T09:15:00Z", 'Asked for a photo; customer said "today".'),
    ]
    assert "Internal Colour: red" in shown["log"][0]["body"]  # extra columns kept verbatim in the import entry
    assert cli.json("show", "GTB-REF-4002")["status"] == "L1 in progress"


def test_cli_bad_date_is_one_line_with_the_line_number_and_nothing_is_written(cli, tmp_path):
    err = cli.fails("import", str(DATA / "bad_date.csv"))
    assert err == "tui-desk: error: line 4: open date: '2023-13-45' is not a real date"
    assert cli.json("list") == []
    report = tmp_path / "skipped.csv"
    result = cli.json("import", str(DATA / "bad_date.csv"), "--skip-bad", "--report", str(report))
    assert (result["created"], result["skipped_bad"]) == (3, 1)
    assert report.read_text().splitlines() == ["line,reason", "4,open date: '2023-13-45' is not a real date"]
    assert "needs --report" in cli.fails("import", str(DATA / "bad_date.csv"), "--skip-bad")


def test_cli_ambiguous_dates_need_dayfirst_or_monthfirst(cli):
    err = cli.fails("import", str(DATA / "ambiguous_dates.csv"))
    assert "line 2" in err and "--dayfirst or --monthfirst" in err
    assert cli.json("list") == []
    # Day first cannot be right for this sheet: 10/26/2023 on line 3 says so, and nothing is written.
    assert "line 3: open date: '10/26/2023' is not a real date" in cli.fails(
        "import", str(DATA / "ambiguous_dates.csv"), "--dayfirst"
    )
    assert cli.json("list") == []
    cli.ok("import", str(DATA / "ambiguous_dates.csv"), "--monthfirst")
    shown = cli.json("show", "GTB-REF-3001")
    assert shown["opened_at"] == "2023-03-04T00:00:00Z"
    assert shown["log"][1]["at"] == "2023-03-05T00:00:00Z"
    assert cli.json("show", "GTB-REF-3002")["opened_at"] == "2023-10-26T00:00:00Z"


def test_cli_missing_columns_are_named_and_map_fixes_them(cli, tmp_path):
    sheet = write_csv(
        tmp_path / "odd.csv",
        [
            ["Ref No", "Buyer Mail", "Logged", "What happened", "Where"],
            ["ACME-77", KIM, "2023-10-26", "Lid cracked", "Oslo"],
        ],
    )
    err = cli.fails("import", str(sheet))
    assert "no column for customer, opened_at, subject" in err and "--map" in err
    result = cli.json(
        "import", str(sheet), "--map", "Buyer Mail=email", "--map", "Logged=opened_at", "--map", "What happened=subject"
    )
    assert result["cases"] == ["ACME-77"]
    shown = cli.json("show", "ACME-77")
    assert (shown["customer"], shown["email"]) == (KIM, KIM)  # an email alone stands for the customer
    assert "unknown field" in cli.fails("import", str(sheet), "--map", "Where=planet")


def test_cli_unknown_status_word_is_reported_and_status_map_names_it(cli, tmp_path):
    sheet = write_csv(
        tmp_path / "parked.csv",
        [
            ["Case Number", "Customer", "Open Date", "Subject", "Status"],
            ["P-1", "Maria", "2023-10-26", "Lid cracked", "Parked"],
        ],
    )
    assert cli.fails("import", str(sheet)) == (
        "tui-desk: error: line 2: unknown status 'Parked' (add --status-map \"Parked=STATUS\")"
    )
    cli.ok("import", str(sheet), "--status-map", "Parked=Waiting on Seller")
    assert cli.json("show", "P-1")["status"] == "Waiting on Seller"


def test_cli_dry_run_shows_and_writes_nothing(cli):
    result = cli.ok("import", str(DATA / "vigorbuy_seed002.csv"), "--dry-run")
    assert "would create 5 tickets" in result.stdout
    assert "VB-REF-2024-00019" in result.stdout and "Resolved" in result.stdout
    assert cli.json("list") == []


def test_cli_refuses_files_that_are_not_sheets(cli, tmp_path):
    assert "no file" in cli.fails("import", str(tmp_path / "nope.csv"))
    fake = tmp_path / "book.csv"
    fake.write_bytes(b"PK\x03\x04garbage")
    assert "looks like an XLSX workbook" in cli.fails("import", str(fake))
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"not a zip")
    assert "cannot read broken.xlsx as a workbook" in cli.fails("import", str(broken))
    bad_json = tmp_path / "x.json"
    bad_json.write_text("{")
    assert "not valid JSON" in cli.fails("import", str(bad_json))
    assert cli.json("list") == []


def test_cli_refuses_a_sheet_whose_quote_is_never_closed_and_keeps_the_lenient_cases(cli, tmp_path):
    """A quote left open takes every later row into one cell: the file is refused, even with --skip-bad,
    rather than importing the rows before it and losing those after. A lone quote in a cell, a quoted cell
    over lines and a closed quote with text after it are read as before."""
    header = "Customer,Issue Summary,Open Date\n"
    rows = "".join(f"Buyer {i},Parcel {i},2023-10-{1 + i % 28:02d}\n" for i in range(3000))
    sheet = tmp_path / "open.csv"
    sheet.write_text(header + "Ana,\"Unclosed 5'' TV,2023-10-26\n" + rows, encoding="utf-8")
    report = tmp_path / "bad.csv"
    told = cli.fails("import", str(sheet), "--skip-bad", "--report", str(report))
    assert "open.csv line 2: a quoted cell is never closed" in told and "line 3,002" in told, told
    sheet.write_text(header + "Ana,\"Unclosed 5'' TV,2023-10-26\n" + rows, encoding="utf-8", newline="\r\n")
    assert "open.csv line 2: a quoted cell is never closed" in cli.fails("import", str(sheet))  # CRLF line ends
    assert cli.json("list") == []
    closed = tmp_path / "closed.csv"  # a last row over two lines, its quote closed: read, in both line ends
    for ends in ("\n", "\r\n"):
        closed.write_text(header + rows + 'Cy,"Two\nlines",2023-10-27\n', encoding="utf-8", newline=ends)
        assert cli.json("import", str(closed), "--dry-run", db=tmp_path / "dry.db")["created"] == 3001
    lenient = tmp_path / "lenient.csv"
    lenient.write_text(
        header + 'Ana,5" TV,2023-10-26\nBo,"Two\nlines",2023-10-26\nCy,"Kettle" broken,2023-10-27\n', encoding="utf-8"
    )
    assert cli.json("import", str(lenient))["created"] == 3
    assert sorted(t["subject"] for t in cli.json("list")) == ['5" TV', "Kettle broken", "Two\nlines"]


def test_cli_refuses_rows_opened_or_contacted_in_the_future_as_new_and_log_do(cli, tmp_path):
    """An open date or a dated log line later than now (beyond the five minutes of clock skew `new --opened`
    allows) is a bad row, in this process's part of the sheet and in the helper's (3,000 rows)."""
    sheet = tmp_path / "future.csv"
    generate_sheet(sheet, 3000)
    rows = list(csv.reader(sheet.open(encoding="utf-8", newline="")))
    rows[10][2] = "2099-01-01"  # Open Date, in the first half
    rows[2900][2] = "26-Oct-99"  # 2099-10-26, in the helper's half
    rows[2950][4] = "2023-11-02: Sent.\n2027-01-05: Promised to call."  # a contact in the future
    with sheet.open("w", encoding="utf-8", newline="") as out:
        csv.writer(out).writerows(rows)
    report = tmp_path / "bad.csv"
    done = cli.json("import", str(sheet), "--skip-bad", "--report", str(report))
    assert done["created"] == 2997
    reasons = {row["line"]: row["reason"] for row in done["bad_rows"]}
    assert len(reasons) == 3, reasons
    opened = [r for r in reasons.values() if "the time the ticket opened" in r and "is in the future" in r]
    assert len(opened) == 2 and any("2099-01-01" in r for r in opened) and any("2099-10-26" in r for r in opened)
    assert any("entry 3 is dated 2027-01-05" in r and "in the future" in r for r in reasons.values()), reasons
    assert "is in the future" in cli.fails("import", str(sheet), db=tmp_path / "other.db")


def generate_sheet(path: Path, rows: int) -> None:
    with path.open("w", encoding="utf-8", newline="") as out:
        w = csv.writer(out)
        w.writerow(
            [
                "Case Number",
                "Customer",
                "Open Date",
                "Issue Summary",
                "Communication Log",
                "Status",
                "Date of Last Action",
            ]
        )
        for i in range(rows):
            d = 1 + i % 28
            w.writerow(
                [
                    f"GTB-REF-2023-{i + 1:06d}",
                    f"buyer{i}@example.com",
                    f"2023-10-{d:02d}",
                    f"Item {i} broken",
                    f"2023-11-{d:02d}: Customer sent proof.\n2023-11-{d:02d} 15:00: RMA approved.",
                    STATUSES[i % len(STATUSES)],
                    f"2023-11-{d:02d}",
                ]
            )


def _import_generated(cli, tmp_path, rows: int) -> None:
    sheet = tmp_path / "big.csv"
    generate_sheet(sheet, rows)
    result = cli.json("import", str(sheet))
    assert (result["created"], result["entries"]) == (rows, 3 * rows)
    assert cli.json("import", str(sheet))["already_imported"] == rows
    last = f"GTB-REF-2023-{rows:06d}"
    shown = cli.json("show", last)
    assert len(shown["log"]) == 3
    found = cli.json("list", "--search", f"buyer{rows - 1}@example.com")
    assert [t["case_number"] for t in found] == [last]  # indexed for search


def test_cli_imports_10000_generated_rows(cli, tmp_path):
    _import_generated(cli, tmp_path, 10_000)


@pytest.mark.slow
def test_cli_imports_100000_generated_rows(cli, tmp_path):
    # The time target (under a minute) is measured by benchmarks/import_sheet.py, not asserted here.
    _import_generated(cli, tmp_path, 100_000)


def test_json_output_is_json(cli):
    out = cli.ok("import", str(DATA / "gtb_seed000.csv"), "--json").stdout
    assert json.loads(out)["file"].endswith("gtb_seed000.csv")


@pytest.mark.backends  # the import on PostgreSQL too
def test_import_into_a_store_with_tickets_keeps_them_and_indexes_new_rows(store, tmp_path):
    store.create_ticket(customer="Existing", subject="Already here")
    import_tickets(store, records(DATA / "vigorbuy_seed002.csv"))
    assert store.count_tickets() == 6
    from tui_desk.store import TicketFilter

    assert [t.case_number for t in store.list_tickets(TicketFilter(search="TR-5521"))] == ["VB-REF-2024-00018"]
    assert [t.customer for t in store.list_tickets(TicketFilter(search="Existing"))] == ["Existing"]
    assert datetime.now(UTC)  # keep UTC import used


def test_big_import_shows_a_progress_bar_on_a_terminal_and_none_when_piped(cli, tmp_path):
    import os
    import pty
    import subprocess

    sheet = tmp_path / "big.csv"
    generate_sheet(sheet, 3000)
    leader, follower = pty.openpty()
    try:
        result = subprocess.run(
            [*cli_command(cli), "import", str(sheet)],
            stderr=follower,
            stdout=subprocess.PIPE,
            env=cli.env(COLUMNS="100"),
            timeout=120,
        )
        os.close(follower)
        follower = None
        seen = b""
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
    finally:
        if follower is not None:
            os.close(follower)
        os.close(leader)
    assert result.returncode == 0
    assert b"importing" in seen
    piped = cli.ok("import", str(sheet))  # stderr is a pipe here: no bar
    assert piped.stderr == ""


def cli_command(cli) -> list[str]:
    from conftest import TUI_DESK

    return [TUI_DESK, "--db", str(cli.db)]


def test_one_ticket_from_show_json_can_be_imported(cli, tmp_path):
    cli.ok("import", str(DATA / "gtb_seed000.csv"))
    one = tmp_path / "one.json"
    one.write_text(cli.ok("show", "GTB-REF-1101", "--json").stdout)
    fresh = tmp_path / "fresh.db"
    assert cli.json("import", str(one), db=fresh)["cases"] == ["GTB-REF-1101"]
    assert len(cli.json("show", "GTB-REF-1101", db=fresh)["log"]) == 3


def test_rows_that_break_the_ticket_rules_are_bad_rows_with_their_line(store, tmp_path):
    sheet = write_csv(
        tmp_path / "rules.csv",
        [
            ["Case Number", "Customer", "Open Date", "Subject", "Priority", "Tags", "Kind"],
            ["GTB 1", "Maria", "2023-10-26", "Space in the number", "", "", ""],
            ["GTB-2", "John", "2023-10-26", "Odd priority", "someday", "", ""],
            ["GTB-3", "Aiko", "2023-10-26", "Odd tag", "", "two words!", ""],
            ["GTB-4", "Lucas", "2023-10-26", "Odd kind", "", "", "warranty"],
            ["GTB-5", "Priya", "2023-10-26", "Fine", "Medium", "vip, repeat-customer", "support"],
            ["GTB-6", "", "2023-10-26", "No customer", "", "", ""],
            ["GTB-7", "Omar", "", "No open date", "", "", ""],
        ],
    )
    outcome = import_tickets(store, records(sheet), skip_bad=True)
    assert [n for _, n in outcome.created] == ["GTB-5"]
    assert [(b.line, b.reason.split(" (")[0]) for b in outcome.bad] == [
        (2, "case number 'GTB 1' must be one printable word of at most 64 characters"),
        (3, "unknown priority 'someday'"),
        (4, "tag 'words!' must be one word of letters, digits or - _ . : / +"),
        (5, "unknown kind 'warranty'"),
        (7, "no customer"),
        (8, "no open date"),
    ]
    five = store.describe(store.get("GTB-5"))
    assert (five["priority"], five["tags"], five["kind"]) == ("normal", ["repeat-customer", "vip"], "support")


@pytest.mark.backends  # the import on PostgreSQL too
def test_a_bulk_import_into_a_store_with_tickets_indexes_the_new_rows_for_search(store, tmp_path):
    from tui_desk.store import TicketFilter
    from tui_desk.store.imports import BULK_INDEX_MIN

    store.create_ticket(customer="Existing Customer", subject="Already here")
    sheet = tmp_path / "bulk.csv"
    generate_sheet(sheet, BULK_INDEX_MIN + 5)
    import_tickets(store, records(sheet))
    found = store.list_tickets(TicketFilter(search=f"buyer{BULK_INDEX_MIN + 4}"))
    assert [t.case_number for t in found] == [f"GTB-REF-2023-{BULK_INDEX_MIN + 5:06d}"]
    assert len(store.list_tickets(TicketFilter(search="RMA approved"))) == BULK_INDEX_MIN + 5  # log lines too
    assert [t.customer for t in store.list_tickets(TicketFilter(search="Existing"))] == ["Existing Customer"]
    # Later writes are indexed by the triggers again.
    later = store.create_ticket(customer="Zebedee Later", subject="After the import")
    assert [t.case_number for t in store.list_tickets(TicketFilter(search="Zebedee"))] == [later.case_number]
