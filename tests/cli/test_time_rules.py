"""A contact happens in the ticket's life: not before it opened, not in the future; `new --opened` dates an
opening that came before the ticket was typed in, `edit --opened` corrects it afterwards. The clock is
frozen at 2026-11-15 14:30 UTC."""

from __future__ import annotations

from tests.conftest import NOW
from tui_desk.domain.clock import FixedClock
from tui_desk.domain.dates import parse_when
from tui_desk.store import Store

CASE = "TD-REF-2026-00001"


def test_a_contact_before_the_ticket_opened_is_refused_naming_the_allowed_range(cli):
    cli.ok("new", "--customer", "Maria Garcia", "--subject", "Parcel lost")
    assert cli.fails("log", CASE, "--channel", "phone", "--summary", "Call", "--at", "13:50") == (
        "tui-desk: error: the contact time 13:50 is before the ticket opened (14:30); allowed: 14:30 to 5 minutes "
        "from now; an opening dated too late is corrected with `edit --opened`"
    )
    assert "before the ticket opened" in cli.fails(
        "log", CASE, "--channel", "phone", "--summary", "Call", "--at", "2026-11-14 10:00"
    )
    assert "allowed: 14:30 to 5 minutes from now (14:35)" in cli.fails(
        "log", CASE, "--channel", "note", "--summary", "x", "--until", "+10m"
    )
    assert [e["summary"] for e in cli.json("show", CASE)["log"]] == ["Automatic acknowledgement sent to Maria Garcia"]
    cli.ok("log", CASE, "--channel", "note", "--summary", "Right at the opening", "--at", "14:30")
    cli.ok("log", CASE, "--channel", "note", "--summary", "Clock skew", "--at", "+5m")


def test_new_opened_dates_the_opening_and_lets_earlier_contacts_in(cli):
    made = cli.json("new", "--customer", "Maria Garcia", "--subject", "Parcel lost", "--opened", "-2h")
    assert made["opened_at"] == "2026-11-15T12:30:00Z"
    cli.ok("log", CASE, "--channel", "phone", "--from", "buyer", "--summary", "First call", "--at", "12:30")
    shown = cli.json("show", CASE)
    # The acknowledgement goes out now, and is logged when it went; the SLA counts from the opening.
    assert [(e["summary"], e["at"]) for e in shown["log"]] == [
        ("Automatic acknowledgement sent to Maria Garcia", "2026-11-15T14:30:00Z"),
        ("First call", "2026-11-15T12:30:00Z"),
    ]
    text = cli.ok("show", CASE).stdout
    assert text.index("First call") < text.index("Automatic acknowledgement")
    assert "before the ticket opened (12:30)" in cli.fails(
        "log", CASE, "--channel", "phone", "--summary", "x", "--at", "12:29"
    )
    assert cli.ok("verify").returncode == 0


def test_new_opened_is_not_in_the_future_nor_before_1970(cli):
    assert "is in the future" in cli.fails("new", "--customer", "A", "--subject", "B", "--opened", "+1h")
    assert "out of range" in cli.fails("new", "--customer", "A", "--subject", "B", "--opened", "1969-12-31")
    assert "cannot read the date" in cli.fails("new", "--customer", "A", "--subject", "B", "--opened", "soon")
    assert cli.json("list") == []


def test_the_sla_of_a_ticket_opened_earlier_counts_from_its_opening(tmp_path):
    store = Store(tmp_path / "desk.db", clock=FixedClock(NOW), agent="ana")
    try:
        now = store.create_ticket(customer="A", subject="B", priority="urgent")
        earlier = store.create_ticket(customer="A", subject="B", priority="urgent", opened=parse_when("-3h", NOW))
        assert now.sla_resolution_due_at - earlier.sla_resolution_due_at >= parse_when("+3h", NOW) - NOW
        assert earlier.case_number.endswith("-00002")
    finally:
        store.close()


SLA_KEYS = ("response_due_at", "response_risk_at", "resolution_due_at", "resolution_risk_at")


def test_edit_opened_corrects_the_opening_logged_old_to_new_and_moves_the_sla(cli):
    cli.ok("new", "--customer", "Maria Garcia", "--subject", "Parcel lost", "--priority", "urgent")
    cli.ok("new", "--customer", "Maria Garcia", "--subject", "Parcel lost", "--priority", "urgent", "--opened", "12:00")
    before = cli.json("show", CASE)
    edited = cli.json("edit", CASE, "--opened", "12:00")
    assert edited["opened_at"] == "2026-11-15T12:00:00Z" and edited["version"] == before["version"] + 1
    # The SLA as if it had been opened at 12:00 in the first place.
    twin = cli.json("show", "TD-REF-2026-00002")
    assert [edited["sla"][k] for k in SLA_KEYS] == [twin["sla"][k] for k in SLA_KEYS]
    assert edited["sla"]["resolution_due_at"] < before["sla"]["resolution_due_at"]
    assert edited["status_changed_at"] == "2026-11-15T12:00:00Z"  # still New, since the opening
    last = cli.json("show", CASE)["log"][-1]
    assert last["kind"] == "edit"
    assert last["summary"] == "Edited: opened at “2026-11-15 14:30 UTC” → “2026-11-15 12:00 UTC”"
    # Now a call at 12:30 is in the ticket's life.
    cli.ok("log", CASE, "--channel", "phone", "--from", "buyer", "--summary", "First call", "--at", "12:30")
    assert cli.ok("verify").returncode == 0


def test_edit_opened_after_the_first_entry_or_in_the_future_is_refused_in_one_line(cli):
    cli.ok("new", "--customer", "Maria Garcia", "--subject", "Parcel lost", "--opened", "12:00")
    cli.ok("log", CASE, "--channel", "phone", "--from", "buyer", "--summary", "First call", "--at", "12:30")
    before = cli.json("show", CASE)
    assert cli.fails("edit", CASE, "--opened", "13:00") == (
        "tui-desk: error: the opening 13:00 is after the ticket's first entry (#2, 12:30); allowed: up to 12:30"
    )
    assert "is in the future" in cli.fails("edit", CASE, "--opened", "+1h")
    assert "cannot read the date" in cli.fails("edit", CASE, "--opened", "soon")
    assert cli.json("show", CASE) == before  # nothing stored changed
    cli.ok("edit", CASE, "--opened", "12:30")  # right at the first contact is allowed
    assert cli.json("show", CASE)["opened_at"] == "2026-11-15T12:30:00Z"


def test_undo_puts_the_opening_back_unless_an_entry_now_comes_before_it(cli):
    cli.ok("new", "--customer", "Maria Garcia", "--subject", "Parcel lost")
    before = cli.json("show", CASE)
    cli.ok("edit", CASE, "--opened", "11:00", "--subject", "Parcel lost in transit")
    undone = cli.json("undo", CASE)
    assert undone["entry"]["summary"] == (
        "Undo of #2: Edited: subject “Parcel lost in transit” → “Parcel lost”; "
        "opened at “2026-11-15 11:00 UTC” → “2026-11-15 14:30 UTC”"
    )
    after = cli.json("show", CASE)
    assert after["opened_at"] == before["opened_at"] and after["sla"] == before["sla"]
    assert after["subject"] == "Parcel lost"
    cli.ok("undo", CASE)  # the undo undone: 11:00 again
    cli.ok("log", CASE, "--channel", "phone", "--from", "buyer", "--summary", "Early call", "--at", "11:30")
    assert "after the ticket's first entry (#5, 11:30)" in cli.fails("undo", CASE)
    assert cli.json("show", CASE)["opened_at"] == "2026-11-15T11:00:00Z"
