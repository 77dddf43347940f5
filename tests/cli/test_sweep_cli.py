"""``tui-desk sweep`` and ``tui-desk outbox`` end to end: the real command, a real store, a frozen clock."""

from datetime import timedelta

import pytest
from conftest import NOW


def later(days: float) -> str:
    return (NOW + timedelta(days=days)).isoformat()


def waiting_case(cli, customer="Maria Garcia", email="maria@example.com", status="Waiting on Buyer"):
    number = cli.json("new", "--customer", customer, "--subject", "Parcel never arrived", "--email", email)[
        "case_number"
    ]
    cli.ok("status", number, status)
    return number


@pytest.mark.backends
def test_sweep_json_reports_each_action(cli):
    number = waiting_case(cli)
    assert cli.json("sweep", TUI_DESK_NOW=later(2))["summary"] == ""
    data = cli.json("sweep", TUI_DESK_NOW=later(7))
    assert (data["reminders"], data["skipped"], data["auto_closed"], data["resolved_closed"]) == (1, 1, 0, 0)
    assert data["touched"] == [number] and data["summary"] == "1 reminder sent"
    assert data["at"] == "2026-11-22T14:30:00Z"
    assert [(a["action"], a["slot"], a["due_at"]) for a in data["actions"]] == [
        ("reminder_skipped", 1, "2026-11-18T14:30:00Z"),
        ("reminder", 2, "2026-11-21T14:30:00Z"),
    ]
    log = cli.json("show", number)["log"]
    reminder = log[-1]
    assert reminder["kind"] == "reminder" and reminder["agent"] == "system"
    assert reminder["due_at"] == "2026-11-21T14:30:00Z" and reminder["logged_at"] == "2026-11-22T14:30:00Z"


def test_sweep_text_says_what_it_did(cli):
    number = waiting_case(cli)
    assert cli.ok("sweep").stdout.strip() == "nothing due"
    out = cli.ok("sweep", TUI_DESK_NOW=later(45)).stdout
    assert out.splitlines()[0] == "1 ticket closed"
    assert f"{number}  auto close (due 2026-12-15 14:30 UTC)" in out
    assert "reminder skipped 1" in out
    assert cli.json("show", number)["status"] == "Closed"


@pytest.mark.backends
def test_outbox_lists_pending_and_marks_one_sent(cli):
    number = waiting_case(cli)
    acknowledgement = cli.json("outbox")
    assert [m["case_number"] for m in acknowledgement] == [number]  # the acknowledgement on creation
    cli.ok("sweep", TUI_DESK_NOW=later(3))
    pending = cli.json("outbox")
    reminder = pending[-1]
    assert reminder["recipient"] == "buyer" and reminder["address"] == "maria@example.com"
    assert reminder["subject"] == f"[{number}] Reminder: Parcel never arrived"
    assert "closed in 27 days" in reminder["body"] and reminder["sent_at"] is None
    assert reminder["timer_event"] is not None

    marked = cli.json("outbox", "--mark-sent", str(reminder["id"]), TUI_DESK_NOW=later(3.01))
    assert marked["sent_at"] is not None and marked["id"] == reminder["id"]
    assert [m["id"] for m in cli.json("outbox")] == [acknowledgement[0]["id"]]
    assert len(cli.json("outbox", "--all")) == 2
    text = cli.ok("outbox", "--all").stdout
    assert "sent 2026-11-18" in text and "Reminder: Parcel never arrived" in text


@pytest.mark.backends
def test_marking_twice_or_an_unknown_message_is_a_one_line_error(cli):
    waiting_case(cli)
    [message] = cli.json("outbox")
    cli.ok("outbox", "--mark-sent", str(message["id"]))
    assert "already marked sent" in cli.fails("outbox", "--mark-sent", str(message["id"]))
    assert "no outbox message 999" in cli.fails("outbox", "--mark-sent", "999")
    assert cli.ok("outbox").stdout.strip() == "no messages waiting"


def test_outbox_text_shows_customer_text_escaped(cli):
    waiting_case(cli, customer="Evil", email="x\x1b[31m@example.com")
    out = cli.ok("outbox").stdout
    assert "\x1b" not in out and "\\x1b[31m@example.com" in out


def test_sweep_on_a_read_only_store_is_refused_and_changes_nothing(cli):
    number = waiting_case(cli)
    err = cli.fails("--read-only", "sweep", TUI_DESK_NOW=later(4))
    assert "read-only" in err
    assert cli.json("show", number)["log"][-1]["kind"] == "status"


def test_sweep_with_an_invalid_config_changes_nothing(cli, isolated_env):
    number = waiting_case(cli)
    (isolated_env / "config.toml").write_text("[timers]\nreminder_days = -3\n")
    err = cli.fails("sweep", TUI_DESK_NOW=later(4))
    assert "timers.reminder_days" in err
    (isolated_env / "config.toml").unlink()
    assert cli.json("show", number)["log"][-1]["kind"] == "status"


def test_sweep_and_outbox_refuse_a_store_that_does_not_exist(cli, tmp_path):
    missing = tmp_path / "typo.db"
    assert "no store at" in cli.fails("sweep", db=missing)
    assert "no store at" in cli.fails("outbox", db=missing)
    assert not missing.exists()
