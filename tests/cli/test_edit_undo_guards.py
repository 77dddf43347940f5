"""Fixing a ticket, undoing one's own last change, and writes that refuse to act on a ticket that moved on."""

from __future__ import annotations

import json

import pytest
from conftest import raw_connect

from tui_desk.domain.errors import DeskError
from tui_desk.domain.statuses import Status
from tui_desk.store import TicketChanged, TicketSnapshot

CASE = "TD-REF-2026-00001"


@pytest.fixture
def ticket(cli):
    cli.ok("new", "--customer", "Maria Garcia", "--subject", "Parcel lost", "--email", "maria@example.com")
    return cli.json("show", CASE)


@pytest.mark.backends
def test_every_write_takes_if_version_and_refuses_with_exit_3_when_the_ticket_moved_on(cli, ticket):
    version = ticket["version"]
    cli.ok("tag", CASE, "vip", "--if-version", str(version))  # still at that version: written
    writes = [
        ("log", CASE, "--channel", "note", "--summary", "Checked"),
        ("status", CASE, "todo"),
        ("assign", CASE, "ben"),
        ("tag", CASE, "fraud-check"),
        ("refund", CASE, "--amount", "12.50"),
        ("edit", CASE, "--priority", "high"),
        ("undo", CASE),
    ]
    before = raw_connect(cli.db).execute("SELECT count(*) FROM log_entry").fetchone()
    for args in writes:
        result = cli.run(*args, "--if-version", str(version))
        assert result.returncode == 3, (args, result.stderr)
        err = result.stderr.strip()
        assert len(err.splitlines()) == 1 and f"changed since version {version}" in err and "nothing" in err
    assert raw_connect(cli.db).execute("SELECT count(*) FROM log_entry").fetchone() == before
    now = cli.json("show", CASE)["version"]
    cli.ok("assign", CASE, "ben", "--if-version", str(now))  # without the flag or at the current version: as today


def test_edit_logs_each_change_old_to_new_and_a_priority_change_moves_the_sla(cli, ticket):
    data = cli.json("edit", CASE, "--priority", "urgent", "--subject", "Parcel lost in transit", "--order", "ORD-7")
    assert (data["priority"], data["subject"], data["order_id"]) == ("urgent", "Parcel lost in transit", "ORD-7")
    assert data["sla_resolution_due_at"] < ticket["sla_resolution_due_at"]  # urgent: due sooner
    last = cli.json("show", CASE)["log"][-1]
    assert last["kind"] == "edit" and last["agent"] == "ana"
    assert last["summary"] == (
        "Edited: priority “normal” → “urgent”; subject “Parcel lost” → “Parcel lost in transit”; order id — → “ORD-7”"
    )
    assert "nothing to edit" in cli.fails("edit", CASE)
    assert "has no @" in cli.fails("edit", CASE, "--email", "not-an-address")
    cli.ok("status", CASE, "closed", "--note", "Done")
    assert "Closed is final" in cli.fails("edit", CASE, "--subject", "Changed after closing")


def test_undo_reverses_the_agents_own_last_change_as_a_new_entry(cli, ticket):
    cli.ok("assign", CASE, "ben")
    cli.ok("tag", CASE, "vip", "fraud-check")
    cli.ok("status", CASE, "waiting-buyer")
    assert cli.json("undo", CASE)["entry"]["summary"] == "Status: Waiting on Buyer → New"
    assert cli.json("show", CASE)["status"] == "New"
    undone = cli.json("undo", CASE)["entry"]  # the undo was the last change: undoing it again redoes it
    assert (undone["summary"], undone["corrects"]) == ("Status: New → Waiting on Buyer", 5)
    cli.ok("undo", CASE)
    cli.ok("status", CASE, "l1")
    cli.ok("undo", CASE)
    data = cli.json("show", CASE)
    assert data["status"] == "New" and data["assignee"] == "ben"
    kinds = [(e["kind"], e["corrects"]) for e in data["log"]]
    assert kinds[-2:] == [("status", None), ("status", 8)]  # both stay in the log
    cli.agent = "ben"  # someone else's change is not yours to undo
    assert "made by ana" in cli.fails("undo", CASE)


@pytest.mark.backends
def test_undo_has_a_time_window_and_never_leaves_closed(store, clock):
    from datetime import timedelta

    number = store.create_ticket(customer="Ann", subject="Broken").case_number
    store.tag(number, ["vip"])
    clock.advance(timedelta(minutes=11))
    with pytest.raises(DeskError, match="more than 10 minutes ago"):
        store.undo(number)
    assert store.tags([store.get(number).id])[store.get(number).id] == ["vip"]
    store.change_status(number, Status.CLOSED, "Done")
    with pytest.raises(DeskError, match="Closed is final"):
        store.undo(number)


@pytest.mark.backends
def test_undo_of_a_tag_change_puts_back_exactly_what_was_there(store):
    number = store.create_ticket(customer="Ann", subject="Broken", tags=["vip"]).case_number
    store.tag(number, add=["fraud-check"], remove=["vip"])
    store.undo(number)
    ticket = store.get(number)
    assert store.tags([ticket.id])[ticket.id] == ["vip"]


@pytest.mark.backends
def test_a_stale_snapshot_is_refused_by_every_guarded_store_write(store):
    number = store.create_ticket(customer="Ann", subject="Broken").case_number
    seen = TicketSnapshot.of(store.get(number))
    store.add_entry(number, channel="chat", summary="Buyer pinged", direction="in", sender="buyer")
    for write in (
        lambda: store.change_status(number, Status.L2, expected=seen),
        lambda: store.assign(number, "ben", expected=seen),
        lambda: store.tag(number, ["vip"], expected=seen),
        lambda: store.set_refund(number, amount="5", expected=seen),
        lambda: store.edit_ticket(number, subject="New", expected=seen),
        lambda: store.undo(number, expected=seen),
    ):
        with pytest.raises(TicketChanged, match="Buyer pinged"):
            write()
    assert json.dumps(store.describe(store.get(number))["log"][-1]["summary"]) == '"Buyer pinged"'


def test_show_and_the_timeline_list_entries_in_the_order_they_happened(cli, store):
    cli.ok("new", "--customer", "Maria Garcia", "--subject", "Parcel lost", "--opened", "04:00")
    cli.ok("log", CASE, "--channel", "phone", "--summary", "Call at 13:30", "--at", "13:30")
    cli.ok("log", CASE, "--channel", "phone", "--summary", "Earlier call at 05:00", "--at", "05:00")
    text = cli.ok("show", CASE).stdout
    assert text.index("Earlier call at 05:00") < text.index("Call at 13:30") < text.index("Automatic acknowledgement")
    assert "#3 " in text.split("Earlier call at 05:00")[0].splitlines()[-2]  # its entry number is shown
    by_time = [e.summary for e in store.entries(store.get(CASE), by_time=True)]
    assert by_time[:2] == ["Earlier call at 05:00", "Call at 13:30"]
    assert [e.seq for e in store.entries(store.get(CASE))] == [1, 2, 3]  # the chain keeps entry order
    assert "in the future" in cli.fails("log", CASE, "--channel", "note", "--summary", "x", "--at", "+1h")
