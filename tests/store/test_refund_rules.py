"""The refund rules (domain/refunds.py), and their SQL form agreeing with them on a real store."""

from __future__ import annotations

import itertools
import json
import sqlite3
from datetime import timedelta
from decimal import Decimal

import pytest

from tests.conftest import NOW
from tui_desk.config import load_config
from tui_desk.domain import refunds
from tui_desk.domain.errors import DeskError
from tui_desk.domain.refunds import Refund, RefundError, RefundPolicy, check_amount, check_currency, plan_change
from tui_desk.domain.statuses import Status
from tui_desk.store import Store, TicketFilter
from tui_desk.store.models import Ticket

DAY = timedelta(days=1)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("€€€", "must be a three-letter ISO 4217 code"),
        ("EURO", "must be a three-letter ISO 4217 code"),
        ("EUX", "did you mean EUR?"),
        ("XAU", "not an ISO 4217 currency code"),  # gold: no minor unit, no money to refund
    ],
)
def test_a_currency_is_an_iso_4217_code(text, message):
    with pytest.raises(RefundError) as err:
        check_currency(text)
    assert err.value.field == "currency" and message in str(err.value)


def test_amounts_follow_the_currency_s_minor_unit():
    assert check_currency(" eur ") == "EUR"
    assert check_amount("49.9", "EUR") == Decimal("49.90")
    assert check_amount("1200", "JPY") == Decimal("1200")
    with pytest.raises(RefundError, match="JPY has no minor unit"):
        check_amount("12.5", "JPY")
    with pytest.raises(RefundError, match="more than two decimals"):
        check_amount("1.234", "KWD")  # three in the standard; the store keeps cents


def plan(current: Refund, **kw):
    return plan_change(current, now=NOW, **kw)


def test_milestones_move_forward_only_with_dates_in_order():
    none = Refund(0)
    approved = plan(none, amount="100", currency="EUR", dates={"approved": NOW - 3 * DAY}).refund
    assert approved.number == 1 and approved.latest.name == "approved"
    cases = [
        ({"refunded": NOW}, "refunded", "cannot be refunded before it was initiated"),
        ({"approved": NOW}, "approved", "was already approved"),
        ({"initiated": NOW - 4 * DAY}, "initiated", "before it was approved"),
        ({"initiated": NOW + DAY}, "initiated", "in the future"),
    ]
    for dates, field, message in cases:
        with pytest.raises(RefundError) as err:
            plan(approved, dates=dates)
        assert (err.value.field, message in str(err.value)) == (field, True), str(err.value)
    with pytest.raises(RefundError, match="a refund in USD is a new refund"):
        plan(approved, currency="USD")
    with pytest.raises(RefundError, match="not refunded yet"):
        plan(approved, new=True)


def test_a_partial_refund_and_the_next_one():
    r = plan(Refund(0), amount="100", currency="EUR", dates={"approved": NOW - 3 * DAY}).refund
    with pytest.raises(RefundError, match="more than the 100.00 EUR approved"):
        plan(r, amount="120", dates={"initiated": NOW - 2 * DAY})
    change = plan(r, amount="60", dates={"initiated": NOW - 2 * DAY, "refunded": NOW - DAY})
    done = change.refund
    assert done.partial and done.done and done.amount == Decimal("60.00")
    assert change.changes[-1] == ("refunded", None, "2026-11-14 14:30 UTC, 60.00 EUR of 100.00 EUR approved (partial)")
    with pytest.raises(RefundError, match="refund 2 starts with its approval date"):
        plan(done, new=True, amount="40")
    second = plan(done, new=True, amount="40", dates={"approved": NOW})
    assert second.started and second.refund.number == 2 and second.refund.currency == "EUR"
    assert second.carried_over == done


def test_stuck_waits_at_a_milestone_past_its_allowance():
    policy = RefundPolicy(initiate_within=2 * DAY, refund_within=5 * DAY)

    class T:
        status = Status.L1.slug
        refund_approved_at = NOW - 2 * DAY
        refund_initiated_at = None
        refunded_at = None

    assert refunds.stuck(T, NOW, policy) is None  # exactly due: not yet
    found = refunds.stuck(T, NOW + timedelta(seconds=1), policy)
    assert found.step.what == "initiate" and found.due_at == NOW
    T.refund_initiated_at = NOW
    assert refunds.stuck(T, NOW + 5 * DAY + timedelta(seconds=1), policy).step.what == "refund"
    T.status = Status.CLOSED.slug
    assert refunds.stuck(T, NOW + 9 * DAY, policy) is None


def test_the_sql_form_of_stuck_agrees_with_the_rule(store):
    """Every combination of milestones, ages and statuses: the store's SQL and the domain say the same."""
    ages = [None, 1 * DAY, 2 * DAY, 2 * DAY + timedelta(minutes=1), 6 * DAY]
    combos = list(itertools.product(ages, ages, [None, DAY], [Status.L1, Status.RESOLVED, Status.CLOSED]))
    with store.writing():
        for i, (approved, initiated, refunded, status) in enumerate(combos):
            Ticket.create(
                case_number=f"TD-REF-2026-{i + 1:05d}",
                kind="refund",
                customer="c",
                subject="s",
                status=status.slug,
                created_by="ana",
                opened_at=NOW - 30 * DAY,
                last_action_at=NOW,
                status_changed_at=NOW,
                refund_approved_at=None if approved is None else NOW - approved,
                refund_initiated_at=None if initiated is None else NOW - initiated,
                refunded_at=None if refunded is None else NOW - refunded,
            )
    by_sql = {t.case_number for t in store.list_tickets(TicketFilter(stuck_refunds_at=NOW))}
    by_rule = {t.case_number for t in store.list_tickets() if refunds.stuck(t, NOW, store.config.refunds)}
    assert by_sql == by_rule and 0 < len(by_rule) < len(combos)


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        (
            "[refunds]\ninitiate_within_day = 2\n",
            'refunds.initiate_within_day is not a setting; did you mean "initiate_within_days"?',
        ),
        ("[refunds]\nrefund_within_days = 0\n", "refunds.refund_within_days must be a number of days above 0"),
        ("[refunds]\nrefund_within_days = 400\n", "at most 365"),
        ("[refunds]\nrefund_within_days = true\n", "must be a number of days"),
        ("refunds = 3\n", "refunds must be a table"),
    ],
)
def test_the_refunds_config_is_checked(tmp_path, toml, message):
    path = tmp_path / "config.toml"
    path.write_text(toml)
    with pytest.raises(DeskError) as err:
        load_config(path)
    assert message in str(err.value)


def test_the_refunds_config_is_read(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text("[refunds]\ninitiate_within_days = 1\nrefund_within_days = 3.5\n")
    assert load_config(path).refunds == RefundPolicy(initiate_within=DAY, refund_within=timedelta(days=3.5))


def test_refund_milestones_are_append_only_and_a_schema_3_store_gains_them(tmp_path, clock, cli, db_path):
    store = Store(db_path, clock=clock, agent="ana")
    case = store.create_ticket(customer="Maria", subject="Refund").case_number
    store.set_refund(case, amount="10", currency="EUR", approved_at=NOW)
    store.close()
    raw = sqlite3.connect(db_path)
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        raw.execute("UPDATE refund_milestone SET amount = '1'")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        raw.execute("DELETE FROM refund_milestone")
    # The same store as schema 3 had it: no refund_milestone, no index of follow-ups.
    for name in ("refund_milestone_no_update", "refund_milestone_no_delete"):
        raw.execute(f"DROP TRIGGER {name}")
    raw.execute("DROP TABLE refund_milestone")
    raw.execute("DROP INDEX ticket_references")
    raw.execute("UPDATE meta SET value = '3' WHERE key = 'schema_version'")
    raw.commit()
    raw.close()
    assert cli.json("verify")["ok"]  # read as it is: schema 3's guards
    cli.ok("refund", case, "--initiated", "now")  # upgrades: the row's approval counts
    data = cli.json("show", case)
    assert data["refunds"][0]["milestones"]["approved"]["amount"] == "10.00"
    assert data["refunds"][0]["milestones"]["initiated"]["at"] == "2026-11-15T14:30:00Z"
    assert cli.json("verify")["ok"]
    raw = sqlite3.connect(db_path)
    assert raw.execute("SELECT number, milestone FROM refund_milestone").fetchall() == [(1, "initiated")]
    raw.close()


def test_overdue_json_lists_stuck_refunds_and_the_command_line_records_a_second_refund(cli):
    case = cli.json("new", "--customer", "Maria", "--subject", "Refund")["case_number"]
    cli.ok("refund", case, "--amount", "30", "--currency", "usd", "--approved", "-3d")
    sections = {s["key"]: s for s in cli.json("overdue")}
    assert sections["stuck"]["count"] == 1
    row = sections["stuck"]["rows"][0]
    assert (row["case_number"], row["what"], row["how_late"]) == (case, "initiate", "1 d late")
    assert "Refunds stuck" in cli.ok("overdue").stdout
    cli.ok("refund", case, "--initiated", "-2d", "--refunded", "now")
    assert {s["key"]: s["count"] for s in cli.json("overdue")}["stuck"] == 0
    assert "not refunded yet" not in cli.ok("refund", case, "--new", "--amount", "5", "--approved", "now").stdout
    data = cli.json("show", case)
    assert [r["number"] for r in data["refunds"]] == [1, 2]
    assert data["refund"]["amount"] == "5.00" and data["refund"]["currency"] == "USD"
    assert "Refund 2:   5.00 USD  approved 2026-11-15 14:30 UTC" in cli.ok("show", case).stdout
    assert "milestones only move forward" in cli.fails("refund", case, "--approved", "now")
    assert "ISO 4217" in cli.ok("refund", "--help").stdout


def test_verify_finds_a_refund_milestone_moved_off_its_entry(cli, db_path):
    case = cli.json("new", "--customer", "Maria", "--subject", "Refund")["case_number"]
    cli.ok("refund", case, "--amount", "30", "--currency", "EUR", "--approved", "now")
    assert cli.json("verify")["ok"]
    raw = sqlite3.connect(db_path)
    raw.execute("DROP TRIGGER refund_milestone_no_update")
    raw.execute("UPDATE refund_milestone SET entry_id = (SELECT min(id) FROM log_entry)")  # the acknowledgement
    raw.commit()
    raw.close()
    result = cli.run("verify", "--json")
    assert result.returncode != 0
    problems = {p["what"]: p["message"] for p in json.loads(result.stdout)["problems"]}
    assert "refund 1 approved (row 1) is not beside a refund entry of its case" in problems["refund"]
    assert "refund_milestone_no_update" in problems["guard"]
