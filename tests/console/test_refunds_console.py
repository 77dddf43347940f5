"""Refunds and follow-ups from the console (Pilot, a real store, the store's clock): the refund form, the
ticket's refund timeline, stuck refunds in the overdue panel and the queue, follow-ups both ways."""

from __future__ import annotations

import asyncio
import functools
from datetime import timedelta
from decimal import Decimal

from textual.widgets import Input, Static

from tests.conftest import NOW, workers_done
from tui_desk.domain.statuses import Status
from tui_desk.store import Store
from tui_desk.tui.app import DeskApp
from tui_desk.tui.screens.forms.refund import RefundDialog

DAY = timedelta(days=1)


def sync(test):
    @functools.wraps(test)
    def run(*args, **kwargs):
        return asyncio.run(test(*args, **kwargs))

    return run


async def settle(pilot) -> None:
    for _ in range(3):
        await workers_done(pilot.app)
        await pilot.pause()


def console(store: Store, clock, screen: str = "queue") -> DeskApp:
    return DeskApp(store, clock=clock, start_screen=screen, timers=False, live=False)


async def open_form(pilot, case: str) -> RefundDialog:
    """The ticket screen, then R: the form, with the case's refunds read."""
    pilot.app.open_ticket(case)
    await settle(pilot)
    await pilot.press("R")
    await settle(pilot)
    form = pilot.app.screen
    assert isinstance(form, RefundDialog), type(form).__name__
    return form


async def fill(pilot, form: RefundDialog, **values: str) -> None:
    for name, text in values.items():
        field = form.query_one(f"#{name}", Input)
        assert not field.disabled, name
        field.value = ""
        field.focus()
        await pilot.pause()
        await pilot.press(*text)  # typed, as an agent would


def error_of(form: RefundDialog) -> str:
    return str(form.query_one("#error", Static).render())


def invalid_rows(form: RefundDialog) -> list[str]:
    return [row.id.removeprefix("row-") for row in form.query(".row.invalid")]


def refund_lines(app: DeskApp) -> str:
    return str(app.screen.query_one("#refunds", Static).render())


def refund_entries(store: Store, case: str) -> list[str]:
    return [e.summary for e in store.entries(store.get(case)) if e.kind == "refund"]


@sync
async def test_every_milestone_is_recorded_from_the_console(store, clock):
    case = store.create_ticket(customer="Maria Garcia", subject="Blender broken").case_number
    clock.set(NOW - 7 * DAY)
    app = console(store, clock)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        form = await open_form(pilot, case)
        assert form.focused.id == "amount"  # a new refund starts with its amount
        await pilot.press(*"100", "tab", *"eur", "tab", *"yesterday 10:00", "ctrl+s")
        await settle(pilot)
        assert not isinstance(app.screen, RefundDialog), error_of(app.screen)
        clock.advance(2 * DAY)
        form = await open_form(pilot, case)
        assert form.focused.id == "initiated"  # the next milestone: R, now, Enter
        assert form.query_one("#approved", Input).disabled  # recorded: shown, not typed over
        await pilot.press(*"now", "enter")
        await settle(pilot)
        clock.advance(5 * DAY)
        form = await open_form(pilot, case)
        assert form.focused.id == "refunded"
        await pilot.press(*"now", "enter")
        await settle(pilot)
        assert not isinstance(app.screen, RefundDialog)
        shown = refund_lines(app)
        assert "approved 7 Nov → initiated 10 Nov (3 d 4 h) → refunded 15 Nov (5 d)" in shown, shown
        assert "100.00 EUR" in shown
    ticket = store.get(case)
    assert (ticket.refund_amount, ticket.currency) == (Decimal("100.00"), "EUR")
    assert ticket.refunded_at == NOW
    assert refund_entries(store, case) == [
        "Refund 1: approved — → 2026-11-07 10:00 UTC, 100.00 EUR",
        "Refund 1: initiated — → 2026-11-10 14:30 UTC, 100.00 EUR",
        "Refund 1: refunded — → 2026-11-15 14:30 UTC, 100.00 EUR",
    ]
    assert {e.agent for e in store.entries(ticket) if e.kind == "refund"} == {"ana"}  # who


@sync
async def test_an_out_of_order_milestone_and_a_bad_currency_are_refused_at_their_field(store, clock):
    case = store.create_ticket(customer="Maria Garcia", subject="Blender broken").case_number
    app = console(store, clock)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        form = await open_form(pilot, case)
        await fill(pilot, form, amount="49.90", currency="EUX", approved="now")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is form  # still open, nothing typed lost
        assert "currency 'EUX' is not an ISO 4217 currency code; did you mean EUR?" in error_of(form)
        assert invalid_rows(form) == ["currency"]
        assert form.query_one("#amount", Input).value == "49.90"
        await fill(pilot, form, currency="EUR", approved="", refunded="now")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "refunded: refund 1 cannot be refunded before it was initiated" in error_of(form)
        assert invalid_rows(form) == ["refunded"]
        await fill(pilot, form, refunded="", approved="tomorrow")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "approved:" in error_of(form) and "in the future" in error_of(form)
        assert invalid_rows(form) == ["approved"]
        await fill(pilot, form, approved="25:99")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert error_of(form).startswith("approved: cannot read the date")
        assert invalid_rows(form) == ["approved"]
        assert refund_entries(store, case) == []  # nothing stored
        await fill(pilot, form, approved="now")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is not form
        form = await open_form(pilot, case)
        await fill(pilot, form, initiated="-1d")  # before the approval
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "initiated: the refund cannot be initiated" in error_of(form) and "before it was approved" in error_of(
            form
        )
        assert invalid_rows(form) == ["initiated"]
    assert refund_entries(store, case) == ["Refund 1: approved — → 2026-11-15 14:30 UTC, 49.90 EUR"]


@sync
async def test_a_partial_refund_then_a_second_refund_on_the_case(store, clock):
    case = store.create_ticket(customer="Maria Garcia", subject="Two items broken").case_number
    clock.set(NOW - 10 * DAY)
    app = console(store, clock)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        form = await open_form(pilot, case)
        await fill(pilot, form, amount="100", currency="EUR", approved="now")
        await pilot.press("ctrl+s")
        await settle(pilot)
        clock.advance(DAY)
        form = await open_form(pilot, case)
        await fill(pilot, form, amount="160", initiated="now")  # more than approved: refused
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "is more than the 100.00 EUR approved" in error_of(form) and invalid_rows(form) == ["amount"]
        await fill(pilot, form, amount="60")  # only one item's worth reaches the customer: partial
        await pilot.press("ctrl+s")
        await settle(pilot)
        clock.advance(DAY)
        form = await open_form(pilot, case)
        await fill(pilot, form, refunded="now")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert not isinstance(app.screen, RefundDialog), error_of(app.screen)
        clock.advance(DAY)
        form = await open_form(pilot, case)  # refund 1 is refunded: the form offers the next one
        assert form.query_one("#refund").value == "new"
        assert not form.query_one("#approved", Input).disabled
        await fill(pilot, form, amount="40", approved="now")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert not isinstance(app.screen, RefundDialog), error_of(app.screen)
        lines = refund_lines(app).splitlines()
        assert lines[0].startswith("Refund 1  approved 5 Nov → initiated 6 Nov (1 d) → refunded 7 Nov (1 d)")
        assert lines[0].endswith("60.00 EUR of 100.00 EUR (partial)")
        assert lines[1] == "Refund 2  approved 8 Nov → initiated … · 40.00 EUR"
    first, second = store.refunds(store.get(case))
    assert first.partial and first.milestones["approved"].amount == 100 and first.milestones["refunded"].amount == 60
    assert second.number == 2 and second.milestones["approved"].amount == 40 and not second.done
    assert refund_entries(store, case)[-1] == (
        "Refund 2 (a new refund on this case): approved — → 2026-11-08 14:30 UTC, 40.00 EUR"
    )
    assert store.get(case).refund_amount == 40  # the ticket row follows the current refund


@sync
async def test_the_stuck_section_fills_and_empties_as_the_clock_moves(store, clock):
    case = store.create_ticket(customer="Maria Garcia", subject="Refund please").case_number
    store.set_refund(case, amount="20", currency="EUR", approved_at=NOW)
    other = store.create_ticket(customer="Jonas Kim", subject="Refund too").case_number
    store.set_refund(other, amount="5", currency="EUR", approved_at=NOW)
    store.change_status(other, Status.CLOSED, "Refunded elsewhere")  # Closed: no longer followed here
    app = console(store, clock, screen="overdue")

    def stuck_rows() -> list[str]:
        return [k.value for k in app.screen.table.rows if k.value.startswith("stuck:")]

    async def at(when) -> None:
        clock.set(when)
        app.screen.reload()  # what the panel's minute timer does
        await settle(pilot)

    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert stuck_rows() == []
        await at(NOW + 2 * DAY)  # exactly due: not stuck yet
        assert stuck_rows() == []
        await at(NOW + 2 * DAY + timedelta(minutes=1))
        assert stuck_rows() == [f"stuck:{case}"]
        assert "6 Stuck 1" in str(app.screen.query_one("#counts", Static).render())
        await pilot.press("6")  # the section's key: the cursor on its first ticket
        assert app.screen.current_case() == case
        app.screen.action_open()
        await settle(pilot)
        assert app.screen.case_number == case
        await pilot.press("R")
        await settle(pilot)
        await pilot.press(*"now", "enter")  # initiated now
        await settle(pilot)
        assert not isinstance(app.screen, RefundDialog), error_of(app.screen)
        await pilot.press("escape")  # back to the panel
        await settle(pilot)
        assert type(app.screen).__name__ == "OverdueScreen", [type(s).__name__ for s in app.screen_stack]
        assert stuck_rows() == []
        await at(NOW + 7 * DAY + timedelta(minutes=2))  # 5 days after the initiation and a minute
        assert stuck_rows() == [f"stuck:{case}"]
        row = app.screen.table.get_row(f"stuck:{case}")
        assert str(row[-1]) == "refund"
        store.set_refund(case, refunded_at=clock.now())
        await at(clock.now())
        assert stuck_rows() == []


@sync
async def test_the_queue_view_of_stuck_refunds_and_its_column(store, clock):
    case = store.create_ticket(customer="Maria Garcia", subject="Refund please").case_number
    store.set_refund(case, amount="20", currency="EUR", approved_at=NOW - 3 * DAY)
    calm = store.create_ticket(customer="Jonas Kim", subject="Refund too").case_number
    store.set_refund(calm, amount="5", currency="EUR", approved_at=NOW - DAY)
    app = console(store, clock)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        await pilot.press("7")
        await settle(pilot)
        queue = app.screen
        assert queue.view.key == "stuck" and queue.counts["stuck"] == 1
        assert [queue.table.row_at(i).case_number for i in range(queue.table.total)] == [case]
        row = queue.table.row_at(0)
        assert (row.refund, row.refund_stuck) == ("appr 3d", True)
        await pilot.press("5")
        await settle(pilot)
        rows = {queue.table.row_at(i).case_number: queue.table.row_at(i) for i in range(queue.table.total)}
        assert (rows[calm].refund, rows[calm].refund_stuck) == ("appr 1d", False)


@sync
async def test_a_follow_up_from_the_new_ticket_form_is_linked_both_ways(store, clock, cli, db_path):
    first = store.create_ticket(customer="Maria Garcia", subject="Blender broken").case_number
    store.change_status(first, Status.CLOSED, "Replaced")
    store.create_ticket(customer="Someone", subject="Other", kind="support")
    app = console(store, clock)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        form = app.screen
        await pilot.press(*"Maria Garcia")
        form.query_one("#subject", Input).focus()
        await pilot.pause()
        await pilot.press(*"Blender broken again")
        follows = form.query_one("#references", Input)
        follows.focus()
        await pilot.pause()
        await pilot.press(*first[:-1].lower())  # all but the last digit, in small letters
        for _ in range(50):
            await pilot.pause(0.05)
            if follows._suggestion:
                break
        assert follows._suggestion == first
        await pilot.press("right")  # accepts the completion
        assert follows.value == first
        await pilot.press("ctrl+s")
        await settle(pilot)
        follow_up = app.screen.case_number
        assert follow_up != first
        assert f"Follows   {first}" in str(app.screen.query_one("#fields", Static).render())
        app.open_ticket(first)
        await settle(pilot)
        assert f"Follow-up {follow_up}" in str(app.screen.query_one("#fields", Static).render())
        assert app.screen.related_cases() == [("follow-up", follow_up)]
        await pilot.press("ctrl+p")
        await settle(pilot)
        await pilot.press(*"follow-up")
        await pilot.pause(0.3)
        await pilot.press("enter")  # the palette's first hit: the follow-up, by name
        await settle(pilot)
        assert app.screen.case_number == follow_up
    assert store.get(follow_up).references == first
    assert cli.json("show", first)["follow_ups"] == [follow_up]
    assert f"Follow-ups: {follow_up}" in cli.ok("show", first).stdout
    assert f"Follows:    {first}" in cli.ok("show", follow_up).stdout


@sync
async def test_a_case_that_does_not_exist_is_refused_at_the_follows_field(store, clock):
    app = console(store, clock)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        form = app.screen
        for name, text in (("customer", "Maria"), ("subject", "Again"), ("references", "TD-REF-2026-09999")):
            form.query_one(f"#{name}", Input).value = text
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is form
        assert "references: no ticket 'TD-REF-2026-09999'" in str(form.query_one("#form-error", Static).render())
        assert form.query_one("#row-references").has_class("invalid")
    assert store.count_tickets() == 0
