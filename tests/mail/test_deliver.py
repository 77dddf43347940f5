"""Delivery against a real SMTP server: recipients, subject tag, headers, retries, failures, two deliverers."""

from __future__ import annotations

import subprocess
from datetime import timedelta

import pytest

from tests.conftest import TUI_DESK


def _new(cli, *extra: str) -> str:
    return cli.json(
        "new", "--customer", "Bea Buyer", "--email", "bea@example.com", "--subject", "Blender broken", *extra
    )["case_number"]


@pytest.mark.backends  # the claim: the write lock on SQLite, FOR UPDATE SKIP LOCKED on PostgreSQL
def test_the_acknowledgement_reaches_the_customer_with_tag_and_headers(cli, smtp_server, mail_config):
    case = _new(cli, "--description", "It smokes.")
    result = cli.json("deliver")
    assert [m["case_number"] for m in result["sent"]] == [case]
    ((mail_from, rcpts, message),) = smtp_server.received
    assert mail_from == "support@example.com"
    assert rcpts == ["bea@example.com"]
    assert message["Subject"] == f"[{case}] Blender broken"
    assert message["To"] == "Bea Buyer <bea@example.com>"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["Message-ID"].startswith("<td.") and message["Message-ID"].endswith("@example.com>")
    assert "It smokes." in message.get_content()
    # Sent once: a second run has nothing to do, and the timeline says where it went.
    assert cli.json("deliver") == {"sent": [], "retrying": [], "failed": []}
    assert len(smtp_server.received) == 1
    log = cli.json("show", case)["log"]
    assert log[-1]["kind"] == "delivery"
    assert log[-1]["summary"].startswith("Acknowledgement — sent 2026-11-15 14:30 UTC to bea@example.com")
    (row,) = cli.json("outbox", "--all")
    assert row["state"] == "sent" and row["message_id"] == message["Message-ID"]


def test_a_reminder_goes_to_the_seller_address_on_the_ticket(cli, smtp_server, mail_config):
    case = _new(cli, "--seller-email", "shop@seller.example")
    cli.ok("status", case, "waiting-on-seller")
    cli.ok("deliver")
    later = cli.now + timedelta(days=3, minutes=1)
    cli.now = later
    cli.ok("sweep")
    result = cli.json("deliver")
    assert [m["what"] for m in result["sent"]] == ["Reminder 1"]
    _, rcpts, reminder = smtp_server.received[-1]
    assert rcpts == ["shop@seller.example"]
    assert reminder["Subject"] == f"[{case}] Reminder: Blender broken"
    ack = smtp_server.received[0][2]
    assert reminder["References"] == ack["Message-ID"]  # threads under the first message of the case
    assert cli.json("show", case)["log"][-1]["summary"].startswith("Reminder 1 — sent")


def test_a_4xx_is_retried_with_backoff_and_then_sent(cli, smtp_server, mail_config):
    smtp_server.answers["bea@example.com"] = ["451 4.3.0 mailbox busy, try later"]
    case = _new(cli)
    result = cli.json("deliver")
    assert result["retrying"][0]["error"] == "451 4.3.0 mailbox busy, try later"
    assert smtp_server.received == []
    (row,) = cli.json("outbox")
    assert row["state"] == "retrying" and row["attempts"] == 1
    assert cli.json("deliver")["retrying"] == []  # not due yet: the backoff holds it
    cli.now += timedelta(minutes=2)
    assert [m["case_number"] for m in cli.json("deliver")["sent"]] == [case]
    ((_, _, message),) = smtp_server.received
    assert message["Message-ID"] == row["message_id"]  # the same id on every attempt
    summaries = [e["summary"] for e in cli.json("show", case)["log"] if e["kind"] == "delivery"]
    assert summaries[0].startswith("Acknowledgement — not delivered yet (451 4.3.0 mailbox busy")
    assert summaries[1].startswith("Acknowledgement — sent")


def test_a_5xx_marks_the_message_failed_with_the_servers_reply(cli, smtp_server, mail_config):
    smtp_server.answers["bea@example.com"] = ["550 no such user"]
    case = _new(cli)
    result = cli.run("deliver", "--json")
    assert result.returncode == 1  # a script can tell a run with failures
    (row,) = cli.json("outbox", "--all")
    assert row["state"] == "failed" and row["last_error"] == "550 no such user"
    assert cli.json("show", case)["log"][-1]["summary"] == "Acknowledgement — failed: 550 no such user"
    cli.now += timedelta(days=1)
    cli.ok("deliver")  # never tried again
    assert smtp_server.received == []
    assert "failed: 550 no such user" in cli.ok("outbox", "--all").stdout


def test_no_server_is_a_temporary_failure(cli, isolated_env):
    from tests.mail.servers import free_port, write_mail_config

    write_mail_config(isolated_env, free_port())  # nobody listens there
    _new(cli)
    result = cli.json("deliver")
    assert result["retrying"] and "no connection to 127.0.0.1" in result["retrying"][0]["error"]
    assert cli.json("outbox")[0]["state"] == "retrying"


def test_a_message_without_an_address_fails_with_that_reason(cli, smtp_server, mail_config):
    case = cli.json("new", "--customer", "Nobody", "--subject", "No mail")["case_number"]
    cli.run("deliver")
    assert (
        cli.json("show", case)["log"][-1]["summary"]
        == "Acknowledgement — failed: no address for the buyer on the ticket"
    )


@pytest.mark.backends  # the claim: the write lock on SQLite, FOR UPDATE SKIP LOCKED on PostgreSQL
def test_two_deliverers_in_parallel_send_each_message_once(cli, smtp_server, mail_config):
    from tui_desk.domain.clock import FixedClock
    from tui_desk.store import Store

    # The 30 tickets are opened in this process (30 commands took 20 s); the deliverers are real commands.
    store = Store(cli.db, clock=FixedClock(cli.now), agent="ana")
    cases = [
        store.create_ticket(customer="Bea Buyer", email="bea@example.com", subject="Blender broken").case_number
        for _ in range(30)
    ]
    store.close()
    runs = [
        subprocess.Popen([TUI_DESK, "--db", str(cli.db), "deliver", "--json"], env=cli.env(), stdout=subprocess.PIPE)
        for _ in range(2)
    ]
    for run in runs:
        run.communicate(timeout=120)
        assert run.returncode == 0
    ids = [m["Message-ID"] for m in smtp_server.messages()]
    assert len(ids) == len(set(ids)) == len(cases)
    assert {m["Subject"].split("]")[0][1:] for m in smtp_server.messages()} == set(cases)


def test_without_a_mail_section_deliver_says_so(cli):
    _new(cli)
    err = cli.fails("deliver")
    assert "no [mail] section" in err
    assert cli.json("outbox")[0]["state"] == "waiting"


@pytest.mark.backends  # the claim: the write lock on SQLite, FOR UPDATE SKIP LOCKED on PostgreSQL
def test_a_claim_left_by_a_dead_deliverer_runs_out_and_the_message_goes_with_the_same_id(cli, smtp_server, mail_config):
    from tui_desk.domain.clock import FixedClock
    from tui_desk.store import Store
    from tui_desk.store.outbox import claim_due

    case = _new(cli)
    store = Store(cli.db, clock=FixedClock(cli.now), agent="ana")
    (held,) = claim_due(store, worker="dead:1:x", domain="example.com")  # then the deliverer "crashes"
    store.close()
    assert cli.json("deliver")["sent"] == []  # the claim still holds: nobody else sends it
    assert cli.json("outbox")[0]["state"] == "sending"
    cli.now += timedelta(minutes=6)
    assert [m["case_number"] for m in cli.json("deliver")["sent"]] == [case]
    ((_, _, message),) = smtp_server.received
    assert message["Message-ID"] == held.message_id
