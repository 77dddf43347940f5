"""A contact happens in the ticket's life: not before it opened, not in the future; `new --opened` dates an
opening that came before the ticket was typed in. The clock is frozen at 2026-11-15 14:30 UTC."""

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
        "from now; a ticket opened after its first contact takes `new --opened`"
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
