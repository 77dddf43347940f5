"""The spreadsheet bridge's parts: dates, the status rule, column recognition, log-cell splitting, the reader."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from conftest import SHEETS_DATA as DATA

from tui_desk.domain.errors import DeskError
from tui_desk.domain.statuses import Status
from tui_desk.sheets.cells import escape_cell, unescape_cell
from tui_desk.sheets.columns import map_columns, parse_map_option
from tui_desk.sheets.dates import DateOrder, UnreadableDate, read_date
from tui_desk.sheets.logcells import split_log_cell
from tui_desk.sheets.reader import read_sheet
from tui_desk.sheets.statuses import sheet_status


def day(y, m, d, hh=0, mi=0):
    return datetime(y, m, d, hh, mi, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2023-10-26", day(2023, 10, 26)),
        ("2023/10/26", day(2023, 10, 26)),
        ("26.10.2023", day(2023, 10, 26)),
        ("10/26/2023", day(2023, 10, 26)),  # unambiguous: 26 cannot be a month
        ("26/10/2023", day(2023, 10, 26)),
        ("26-10-2023", day(2023, 10, 26)),
        ("04/04/2023", day(2023, 4, 4)),  # the same either way
        ("2023-10-26 14:30", day(2023, 10, 26, 14, 30)),
        ("2023-10-26T14:30:00Z", day(2023, 10, 26, 14, 30)),
        ("2023-10-26 16:30:00+02:00", day(2023, 10, 26, 14, 30)),
        ("2023-10-26 14:30:00.250000", datetime(2023, 10, 26, 14, 30, 0, 250000, tzinfo=UTC)),
        ("26 Oct 2023", day(2023, 10, 26)),
        ("Oct 26, 2023", day(2023, 10, 26)),
        ("26 October 2023 09:05", day(2023, 10, 26, 9, 5)),
        ("  2023-10-26  ", day(2023, 10, 26)),
        ("", None),
        (None, None),
    ],
)
def test_sheet_dates_are_read(text, expected):
    assert read_date(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "03/04/2023",
        "2023-13-45",
        "2023-02-30",
        "31.02.2023",
        "yesterday",
        "26/10/23",
        "2023-10-26 25:00",
        "Smarch 3, 2023",
        "soon",
    ],
)
def test_unreadable_dates_are_refused_not_guessed(text):
    with pytest.raises(UnreadableDate):
        read_date(text)


def test_ambiguous_date_needs_an_order_and_says_so():
    with pytest.raises(UnreadableDate, match="--dayfirst or --monthfirst"):
        read_date("03/04/2023")
    assert read_date("03/04/2023", order=DateOrder.DAY_FIRST) == day(2023, 4, 3)
    assert read_date("03/04/2023", order=DateOrder.MONTH_FIRST) == day(2023, 3, 4)
    # An explicit order still refuses what it cannot be.
    with pytest.raises(UnreadableDate):
        read_date("10/26/2023", order=DateOrder.DAY_FIRST)


def test_wall_times_are_read_in_the_given_zone_and_workbook_dates_pass_through():
    berlin = ZoneInfo("Europe/Berlin")
    assert read_date("2023-10-26 14:30", tz=berlin) == day(2023, 10, 26, 12, 30)
    assert read_date("2023-10-26 14:30 UTC", tz=berlin) == day(2023, 10, 26, 14, 30)
    assert read_date(datetime(2023, 10, 26, 14, 30)) == day(2023, 10, 26, 14, 30)


@pytest.mark.parametrize(
    ("word", "status"),
    [
        ("Pending", Status.TODO),
        ("Open", Status.TODO),
        ("New", Status.NEW),
        ("Escalated", Status.L2),
        ("Chargeback dispute", Status.L2),
        ("Refund Initiated", Status.L1),
        ("In progress", Status.L1),
        ("in-progress", Status.L1),
        ("Awaiting customer", Status.WAITING_BUYER),
        ("Pending customer reply", Status.WAITING_BUYER),
        ("Waiting for seller", Status.WAITING_SELLER),
        ("Awaiting vendor", Status.WAITING_SELLER),
        ("Customer replied", Status.WAITING_US),
        ("Waiting on TGX", Status.WAITING_US),
        ("Resolved", Status.RESOLVED),
        ("Refunded", Status.RESOLVED),
        ("Completed", Status.RESOLVED),
        ("Closed", Status.CLOSED),
        ("Cancelled", Status.CLOSED),
        ("Rejected", Status.CLOSED),
        ("RESOLVED", Status.RESOLVED),
        ("waiting-buyer", Status.WAITING_BUYER),
        ("L2 in progress", Status.L2),
        ("", Status.NEW),
    ],
)
def test_status_rule(word, status):
    assert sheet_status(word) is status


def test_status_rule_resolution_date_wins_over_an_open_word_but_not_over_closed():
    assert sheet_status("Refund Initiated", has_resolution_date=True) is Status.RESOLVED
    assert sheet_status("", has_resolution_date=True) is Status.RESOLVED
    assert sheet_status("Closed", has_resolution_date=True) is Status.CLOSED


def test_status_rule_does_not_guess_unknown_words_but_takes_a_mapping():
    with pytest.raises(DeskError, match="unknown status 'Parked'"):
        sheet_status("Parked")
    assert sheet_status("Parked", extra={"parked": Status.WAITING_US}) is Status.WAITING_US


def test_gtb_log_cell_from_seed_000_becomes_two_dated_lines_kept_verbatim():
    lead, lines = split_log_cell("2023-10-28: Customer provided video proof. 2023-10-29: Support approved RMA.")
    assert lead == ""
    assert [(ln.at, ln.text, ln.original) for ln in lines] == [
        (day(2023, 10, 28), "Customer provided video proof.", "2023-10-28: Customer provided video proof."),
        (day(2023, 10, 29), "Support approved RMA.", "2023-10-29: Support approved RMA."),
    ]


def test_multi_line_log_cell_with_continuations_times_and_undated_lead():
    cell = "Phoned the customer.\r\n2023-10-28 14:30: Photos received\nthey show a crack\n29.10.2023 - RMA sent"
    lead, lines = split_log_cell(cell)
    assert lead == "Phoned the customer."
    assert [ln.at for ln in lines] == [day(2023, 10, 28, 14, 30), day(2023, 10, 29)]
    assert lines[0].original == "2023-10-28 14:30: Photos received\nthey show a crack"
    assert lines[1].text == "RMA sent"


def test_dates_inside_a_sentence_do_not_split_it():
    lead, lines = split_log_cell("2024/03/06: Tracking stuck since 2024/02/20, no news")
    assert len(lines) == 1 and lines[0].text == "Tracking stuck since 2024/02/20, no news"


def test_a_log_line_with_an_impossible_date_is_refused():
    with pytest.raises(UnreadableDate):
        split_log_cell("2023-10-28: fine\n2023-10-32: not a day")


def test_seed_column_names_and_variants_are_recognised_case_insensitively():
    seed000 = [
        "Case Number",
        "Customer",
        "Open Date",
        "Issue Summary",
        "Communication Log (Latest)",
        "Status",
        "Resolution Date",
    ]
    assert list(map_columns(seed000).fields.values()) == [
        "case_number",
        "customer",
        "opened_at",
        "subject",
        "log",
        "status",
        "resolved_at",
    ]
    seed002 = [
        "Case ID",
        "Customer Name & Order ID",
        "Date Request Received",
        "Reason for Refund",
        "Status",
        "Notes & Communications",
        "Date of Last Action",
        "Resolution Date",
    ]
    assert list(map_columns(seed002).fields.values()) == [
        "case_number",
        "customer_and_order",
        "opened_at",
        "reason",
        "status",
        "log",
        "last_action_at",
        "resolved_at",
    ]
    variants = [
        "CASE_NUMBER",
        "  customer  name ",
        "OPEN DATE (UTC)",
        "subject",
        "Follow-up",
        "Order #",
        "Notes",
        "Some Extra Column",
    ]
    mapping = map_columns(variants)
    assert list(mapping.fields.values()) == [
        "case_number",
        "customer",
        "opened_at",
        "subject",
        "follow_up_at",
        "order_id",
        "log",
    ]
    assert mapping.extra == ["Some Extra Column"]
    assert mapping.utc_columns == {2}


def test_missing_required_columns_are_named_in_one_line():
    with pytest.raises(DeskError) as err:
        map_columns(["Ref", "Comments", "Colour"])
    message = str(err.value)
    assert "\n" not in message
    assert "no column for customer, opened_at, subject" in message
    assert "--map" in message


def test_map_option_names_columns_and_can_ignore_one():
    headers = ["Ticket Ref", "Buyer Mail", "Logged", "What", "Customer", "Name"]
    mapping = map_columns(headers, parse_map_option(["Logged=opened_at", "what=subject", "Name=-"]))
    assert mapping.fields == {0: "case_number", 2: "opened_at", 3: "subject", 4: "customer"}
    with pytest.raises(DeskError, match="unknown field 'colour'"):
        parse_map_option(["Logged=colour"])
    with pytest.raises(DeskError, match="names no column"):
        map_columns(headers, parse_map_option(["Nope=subject"]))


def test_two_columns_for_one_field_are_refused():
    with pytest.raises(DeskError, match="both look like customer"):
        map_columns(["Customer", "Buyer", "Open Date", "Subject"])


def test_formula_escape_round_trips():
    for text in ['=HYPERLINK("http://x")', "+1", "-rf", "@SUM(A1)", "'=x", "''=x", "'plain", "plain", "", "12"]:
        assert unescape_cell(escape_cell(text)) == text
    assert escape_cell("=1+1") == "'=1+1"


def test_messy_csv_is_read(tmp_path):
    sheet = read_sheet(DATA / "messy.csv")
    assert sheet.headers[0] == "case_number"  # BOM gone, title row skipped
    assert sheet.header_line == 3
    assert [line for line, _ in sheet.rows] == [4, 8]  # file line numbers, blank lines skipped
    first = sheet.rows[0][1]
    assert first[5] == '26.10.2023: Customer wrote in.\r\n27.10.2023 09:15: Asked for a photo; customer said "today".'


def test_reader_refuses_what_is_not_a_sheet(tmp_path):
    with pytest.raises(DeskError, match="no file"):
        read_sheet(tmp_path / "missing.csv")
    latin = tmp_path / "latin.csv"
    latin.write_bytes("Customer,Open Date,Subject\nJos\xe9,2023-10-26,x\n".encode("latin-1"))
    with pytest.raises(DeskError, match="line 2 is not UTF-8"):
        read_sheet(latin)
    empty = tmp_path / "empty.csv"
    empty.write_text("\n\n")
    with pytest.raises(DeskError, match="has no rows"):
        read_sheet(empty)


@pytest.mark.parametrize(
    ("cell", "split"),
    [
        ("Maria Garcia / VB-778812", ("Maria Garcia", "VB-778812")),
        ("John Smith (Order #12345)", ("John Smith", "12345")),
        ("Aiko Tanaka, 778812", ("Aiko Tanaka", "778812")),
        ("Priya Patel", ("Priya Patel", None)),
        ("Jean-Luc Picard", ("Jean-Luc Picard", None)),
        ("Anna / Berlin", ("Anna / Berlin", None)),  # no digit: not an order id, kept whole
    ],
)
def test_seed_002_customer_and_order_cell_is_split_only_when_it_splits_cleanly(cell, split):
    from tui_desk.sheets.rows import split_customer_and_order

    assert split_customer_and_order(cell) == split
