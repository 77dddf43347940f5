"""Seed 003's interaction log (one row per contact, rows sharing an ID make one ticket), field by field."""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tui_desk.domain.statuses import Status
from tui_desk.sheets.columns import map_columns
from tui_desk.sheets.interactions import channel_of, contact_span, order_id_in
from tui_desk.sheets.reader import read_sheet
from tui_desk.sheets.rows import ReadOptions, records_from_sheet
from tui_desk.store.imports import BadRow, import_tickets

SEED_003 = [
    "Ticket/Interaction ID",
    "Customer Identifier",
    "Contact Timestamp (Start/End)",
    "Communication Channel",
    "Issue Summary",
    "Key Actions & Agent Notes",
    "Resolution Status",
    "Follow-up Date/Notes",
]


def at(y, m, d, hh=0, mi=0):
    return datetime(y, m, d, hh, mi, tzinfo=UTC)


def write(path: Path, rows: list[list[str]], header: list[str] = SEED_003) -> Path:
    with path.open("w", encoding="utf-8", newline="") as out:
        csv.writer(out).writerows([header, *rows])
    return path


def records(path: Path, **options):
    sheet = read_sheet(path)
    return records_from_sheet(sheet, map_columns(sheet.headers), ReadOptions(source=path.name, **options))


LOG = [
    # Out of time order on purpose: the entries come in time order, not sheet order.
    [
        "VB-T-9003",
        "anna.k",
        "2023-11-17 10:00 UTC / 2023-11-17 10:12 UTC",
        "Phone",
        "Parcel not delivered",
        "Called back; carrier confirms loss; escalated to claims",
        "Escalated",
        "waiting for the carrier's answer",
    ],
    [
        "VB-T-9003",
        "anna.k",
        "2023-11-15 14:30 UTC / 2023-11-15 14:45 UTC",
        "Live Chat",
        "Parcel not delivered",
        "Checked tracking; opened a carrier query",
        "Pending",
        "2023-11-17 callback promised",
    ],
    [
        "VB-T-9010",
        "VB-778812",
        "2023-11-20 09:00 +02:00 - 09:20",
        "Email",
        "Wrong size delivered",
        "Sent the return label",
        "Resolved",
        "",
    ],
    [
        "vb-t-9011",
        "Order #12345",
        "2023-11-21 16:00",
        "E-mail",
        "Refund not received",
        "Asked the bank reference",
        "Awaiting customer",
        "Call back on 2023-11-24, after the bank replies",
    ],
]


def test_seed_003_columns_and_their_variants_are_recognised():
    mapping = map_columns(SEED_003)
    assert mapping.is_interaction_log
    assert [mapping.fields[i] for i in range(8)] == [
        "case_number",
        "customer_id",
        "contact",
        "entry_channel",
        "subject",
        "notes",
        "status",
        "follow_up_notes",
    ]
    variants = [
        "ticket / interaction_id",
        "Customer ID",
        "contact timestamp",
        "Channel",
        "issue summary",
        "Key Actions and Agent Notes",
        "resolution status",
        "Follow-up Date / Notes",
    ]
    assert [map_columns(variants).fields[i] for i in range(8)] == [mapping.fields[i] for i in range(8)]
    assert map_columns(["Interaction ID", "Customer Identifier", "Contact Time (Start/End)", "Summary"]).fields


def test_rows_sharing_an_id_become_one_ticket_with_one_entry_per_row_in_time_order(tmp_path):
    found = records(write(tmp_path / "log.csv", LOG))
    assert not [r for r in found if isinstance(r, BadRow)]
    by_number = {r.case_number: r for r in found}
    assert sorted(by_number) == ["VB-T-9003", "VB-T-9010", "VB-T-9011"]

    t = by_number["VB-T-9003"]
    assert t.line == 2
    assert t.customer == "anna.k"
    assert t.order_id is None  # a username is not an order number
    assert t.email is None
    assert t.subject == "Parcel not delivered"
    assert t.opened_at == at(2023, 11, 15, 14, 30)  # the first contact, not the first row
    assert t.last_action_at == at(2023, 11, 17, 10, 12)  # the last contact's end
    assert t.status is Status.L2  # the latest Resolution Status, "Escalated", by the stated rule
    assert t.follow_up_at is None  # the promise (17 Nov) was kept by the call that day
    first, second = t.entries
    assert (first.kind, first.channel, first.direction, first.sender) == ("import", "chat", "internal", "agent")
    assert (first.at, first.until) == (at(2023, 11, 15, 14, 30), at(2023, 11, 15, 14, 45))
    assert first.summary == "Parcel not delivered"
    assert first.body.startswith("Checked tracking; opened a carrier query\n\nFrom log.csv line 3:\n")
    assert "Follow-up Date/Notes: 2023-11-17 callback promised" in first.body
    assert "Resolution Status: Pending" in first.body
    assert "Key Actions" not in first.body  # the notes are the content, not repeated
    assert first.follow_up_at == at(2023, 11, 17)
    assert (second.channel, second.at, second.until) == ("phone", at(2023, 11, 17, 10), at(2023, 11, 17, 10, 12))
    assert second.body.startswith("Called back; carrier confirms loss; escalated to claims\n\n")
    assert "Follow-up Date/Notes: waiting for the carrier's answer" in second.body  # no date: kept as text
    assert second.follow_up_at is None

    t = by_number["VB-T-9010"]
    assert (t.customer, t.order_id) == ("VB-778812", "VB-778812")  # an order number fills the order id
    assert t.status is Status.RESOLVED
    (entry,) = t.entries
    # "+02:00 - 09:20": the end is a time on the start's day, in the start's zone.
    assert (entry.at, entry.until) == (at(2023, 11, 20, 7), at(2023, 11, 20, 7, 20))
    assert entry.channel == "email"
    assert t.resolved_at == at(2023, 11, 20, 7, 20)

    t = by_number["VB-T-9011"]  # the id is upper-cased like every case number
    assert (t.customer, t.order_id) == ("Order #12345", "12345")
    assert t.status is Status.WAITING_BUYER
    (entry,) = t.entries
    assert (entry.at, entry.until) == (at(2023, 11, 21, 16), None)
    assert entry.follow_up_at == at(2023, 11, 24)
    assert t.follow_up_at == at(2023, 11, 24)  # promised after the last contact, still open


def test_the_interaction_log_imports_into_the_store_with_its_times_channels_and_status(store, tmp_path):
    outcome = import_tickets(store, records(write(tmp_path / "log.csv", LOG)))
    assert sorted(n for _, n in outcome.created) == ["VB-T-9003", "VB-T-9010", "VB-T-9011"]
    data = store.describe(store.get("VB-T-9003"))
    assert data["status"] == "L2 in progress"
    assert data["opened_at"] == "2023-11-15T14:30:00Z"
    assert [(e["seq"], e["channel"], e["at"], e["until"], e["follow_up_at"]) for e in data["log"]] == [
        (1, "chat", "2023-11-15T14:30:00Z", "2023-11-15T14:45:00Z", "2023-11-17T00:00:00Z"),
        (2, "phone", "2023-11-17T10:00:00Z", "2023-11-17T10:12:00Z", None),
    ]
    assert store.describe(store.get("VB-T-9011"))["follow_up_at"] == "2023-11-24T00:00:00Z"
    assert store.describe(store.get("VB-T-9010"))["order_id"] == "VB-778812"
    again = import_tickets(store, records(write(tmp_path / "log.csv", LOG)))
    assert (again.created, len(again.existing)) == ([], 3)  # a re-run creates nothing


def test_a_data_row_is_never_taken_for_the_header(tmp_path):
    # This row's cells read "Email" and "Resolved", two column names; the header names all eight of its own.
    row = ["VB-T-9020", "Resolved", "2023-11-15 14:30 UTC", "Email", "Late parcel", "Apologised", "Resolved", ""]
    path = write(tmp_path / "log.csv", [row, *LOG])
    sheet = read_sheet(path)
    assert (sheet.header_line, sheet.headers) == (1, SEED_003)
    assert len(sheet.rows) == 5
    titled = tmp_path / "titled.csv"
    titled.write_text("VigorBuy dispute log,,,,,,,\n" + path.read_text(encoding="utf-8"), encoding="utf-8")
    assert read_sheet(titled).header_line == 2


def test_header_named_by_map_options_is_found_among_rows_that_use_known_words(tmp_path):
    # Only --map tells what "Opened on" and "Who" are; the data row says "Email" and "Status".
    path = write(tmp_path / "odd.csv", [["Email", "Status", "2023-10-26"]], header=["Who", "What", "Opened on"])
    assert read_sheet(path).header_line == 2  # by names alone, the data row names more
    assert read_sheet(path, known=frozenset({"who", "what", "opened on"})).header_line == 1


@pytest.mark.parametrize(
    ("cells", "reason"),
    [
        (["VB-T-1", "anna.k", "", "Phone", "x", "y", "Pending", ""], "no contact timestamp"),
        (["VB-T-1", "anna.k", "2023-11-15 14:30", "Pigeon", "x", "y", "Pending", ""], "unknown communication channel"),
        (["VB-T-1", "anna.k", "2023-11-15 14:30 / 2023-11-15 14:00", "Phone", "x", "y", "", ""], "ends before"),
        (["VB-T-1", "anna.k", "2023-11-15 14:30", "Phone", "x", "y", "Pending", "03/04/2024 call"], "day/month"),
        (["", "anna.k", "2023-11-15 14:30", "Phone", "x", "y", "Pending", ""], "no Ticket/Interaction ID"),
        (["VB-T-1", "", "2023-11-15 14:30", "Phone", "x", "y", "Pending", ""], "no customer"),
    ],
)
def test_bad_interaction_rows_are_named(store, tmp_path, cells, reason):
    with pytest.raises(BadRow, match=reason):
        import_tickets(store, records(write(tmp_path / "bad.csv", [cells])))


def test_a_bad_row_names_the_rows_of_its_ticket_that_are_skipped_with_it(store, tmp_path):
    """With --skip-bad, a bad row stops its whole ticket: the reason names the ticket's other rows (lines 2
    and 4), which are not imported either; the other ticket is."""
    rows = [
        ["INT-9", "bob", "2023-11-15 14:30", "Phone", "Parcel late", "Called", "Pending", ""],
        ["INT-9", "bob", "2023-11-16 09:00", "Pigeon", "Parcel late", "Wrote", "Pending", ""],
        ["INT-9", "bob", "2023-11-17 10:00", "Email", "Parcel late", "Refunded", "Resolved", ""],
        ["INT-10", "ann", "2023-11-15 11:00", "Chat", "Wrong size", "Exchanged", "Resolved", ""],
    ]
    done = import_tickets(store, records(write(tmp_path / "p1.csv", rows)), skip_bad=True)
    assert [(bad.line, bad.reason) for bad in done.bad] == [
        (
            3,
            "unknown communication channel 'Pigeon' (one of: Chat, Email, Live Chat, Note, Phone, Social, …) "
            "(so ticket INT-9 is not imported: its rows on lines 2, 4 too)",
        )
    ]
    assert [number for _line, number in done.created] == ["INT-10"]


def test_contact_spans_channels_and_order_numbers():
    from tui_desk.sheets.dates import read_date

    assert contact_span("2023-11-15 14:30 UTC / 2023-11-15 14:45 UTC", read=read_date) == (
        at(2023, 11, 15, 14, 30),
        at(2023, 11, 15, 14, 45),
    )
    assert contact_span("2023/11/15 14:30 to 2023/11/15 15:00", read=read_date)[1] == at(2023, 11, 15, 15)
    assert contact_span("2023-11-15 14:30", read=read_date) == (at(2023, 11, 15, 14, 30), None)
    assert [channel_of(w) for w in ("Live Chat", "live-chat", "PHONE", "Phone call", "e-mail", "", "Twitter")] == [
        "chat",
        "chat",
        "phone",
        "phone",
        "email",
        "note",
        "social",
    ]
    assert [order_id_in(w) for w in ("VB-778812", "#12345", "ORD-0012345", "112-3456789-0123456")] == [
        "VB-778812",
        "12345",
        "ORD-0012345",
        "112-3456789-0123456",
    ]
    assert [order_id_in(w) for w in ("anna.k", "jdoe92", "Maria Garcia", "user2023x", "VB-12")] == [None] * 5


def test_the_real_command_imports_a_seed_003_sheet(cli, tmp_path):
    path = write(tmp_path / "log.csv", LOG)
    out = cli.ok("import", str(path)).stdout
    assert "created 3 tickets with 4 log entries" in out
    shown = cli.json("show", "VB-T-9003")
    assert [e["channel"] for e in shown["log"]] == ["chat", "phone"]
    assert cli.ok("verify").returncode == 0
