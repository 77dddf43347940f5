"""The texts of system log entries (domain/log_texts.py), pinned byte for byte, and what the store and sweep write.

Every writer takes its words from domain/log_texts.py; the pins below are the strings the store wrote
before they moved there, so a case file made before and after reads the same.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tui_desk.domain.dates import format_when
from tui_desk.domain.log_texts import acknowledgement, mail_subject, status_change, timer_action
from tui_desk.domain.statuses import Status
from tui_desk.domain.timers import TimerPolicy
from tui_desk.store.models import OutboxMessage, StatusChange
from tui_desk.store.sweep import sweep_timers

DAY = timedelta(days=1)
DUE = datetime(2026, 11, 18, 14, 30, tzinfo=UTC)


POLICY = TimerPolicy()
TEMPLATES = {"reminder": "{party}: {case_number} {days_left}/{days}", "auto_close": "closed", "resolved_close": "done"}


def texts(action, slot=0, party="buyer", now=DUE, period=DUE - 7 * DAY):
    return timer_action(
        action,
        slot=slot,
        party=party,
        case_number="TD-REF-2026-00001",
        subject="Parcel",
        period_started_at=period,
        due_at=DUE,
        now=now,
        policy=POLICY,
        templates=TEMPLATES,
    )


def test_status_change():
    assert status_change(Status.NEW, Status.WAITING_BUYER) == "Status: New → Waiting on Buyer"
    assert status_change(Status.RESOLVED, Status.CLOSED) == "Status: Resolved \u2192 Closed"


def test_acknowledgement():
    ack = acknowledgement("Maria Garcia", "TD-REF-2026-00001", "Parcel never arrived", "Ordered 2 Nov.\n")
    assert (ack.summary, ack.body) == (
        "Automatic acknowledgement sent to Maria Garcia",
        "Case number: TD-REF-2026-00001\nSubject: Parcel never arrived\n\nOrdered 2 Nov.",
    )
    assert ack.mail_subject == "[TD-REF-2026-00001] Parcel never arrived"
    # No description: the body ends at the subject, with no blank lines after it.
    assert acknowledgement("Ann", "TD-SUP-2026-00002", "Hi", "").body == "Case number: TD-SUP-2026-00002\nSubject: Hi"


def test_timer_texts():
    sent = texts("reminder", slot=2, party="seller")
    assert (sent.summary, sent.direction) == ("Reminder 2 of 3 sent to the seller", "out")
    assert sent.body == "seller: TD-REF-2026-00001 23/30"
    assert sent.mail_subject == "[TD-REF-2026-00001] Reminder: Parcel"
    skipped = texts("reminder_skipped", slot=1)
    assert (skipped.summary, skipped.body, skipped.direction, skipped.mail_subject) == (
        "Reminder 1 of 3 to the buyer skipped: a later reminder is sent instead",
        "Due 2026-11-18 14:30 UTC; no sweep ran until a later reminder was due.",
        "internal",
        None,
    )
    closing = texts("reminder_skipped", slot=3, now=DUE + 30 * DAY)
    assert closing.summary == "Reminder 3 of 3 to the buyer skipped: the ticket is closed instead"
    assert closing.body == "Due 2026-11-18 14:30 UTC; no sweep ran until the close was due."
    closed = texts("auto_close")
    assert (closed.summary, closed.note) == (
        "Closed after 30 days without an answer from the buyer; buyer told",
        "No answer from the buyer in 30 days",
    )
    resolved = texts("resolved_close")
    assert (resolved.summary, resolved.note) == (
        "Closed for good 7 days after it was resolved; buyer told",
        "Resolved 7 days ago without disagreement",
    )
    assert closed.mail_subject == resolved.mail_subject == "[TD-REF-2026-00001] Closed: Parcel"


@pytest.mark.parametrize(("span", "text"), [(30 * DAY, "30"), (DAY * 1.5, "1.5"), (timedelta(hours=6), "0.25")])
def test_days_in_close_texts(span, text):
    policy = TimerPolicy(waiting_close_after=span)
    closed = timer_action(
        "auto_close",
        slot=0,
        party="buyer",
        case_number="C",
        subject="S",
        period_started_at=DUE,
        due_at=DUE,
        now=DUE,
        policy=policy,
        templates=TEMPLATES,
    )
    assert closed.note == f"No answer from the buyer in {text} days"


def test_mail_subject():
    assert mail_subject("TD-REF-2026-00001", "Parcel", "Reminder") == "[TD-REF-2026-00001] Reminder: Parcel"


# -- the same strings as the store writes them today ----------------------------------------------


def entries(store, case, kind):
    return [e for e in store.entries(store.get(case)) if e.kind == kind]


def mail_subjects(store, case):
    with store.reading():
        query = OutboxMessage.select().where(OutboxMessage.case_number == case).order_by(OutboxMessage.id)
        return [m.subject for m in query]


def status_notes(store, case):
    with store.reading():
        closes = StatusChange.select().where(
            (StatusChange.ticket == store.get(case).id) & (StatusChange.to_status == Status.CLOSED.slug)
        )
        return [c.note for c in closes]


def open_ticket(store, description="Ordered on 2 Nov.\n\n"):
    return store.create_ticket(
        customer="Maria Garcia", subject="Parcel never arrived", email="maria@example.com", description=description
    ).case_number


@pytest.mark.parametrize("description", ["Ordered on 2 Nov.\n\n", ""])
def test_the_store_writes_the_acknowledgement_and_status_texts(store, description):
    case = open_ticket(store, description)
    [ack] = entries(store, case, "acknowledgement")
    expected = acknowledgement("Maria Garcia", case, "Parcel never arrived", description)
    assert (ack.summary, ack.body) == (expected.summary, expected.body)
    assert mail_subjects(store, case) == [expected.mail_subject]
    store.change_status(case, Status.WAITING_BUYER)
    store.change_status(case, Status.RESOLVED, "Refunded")
    assert [e.summary for e in entries(store, case, "status")] == [
        status_change(Status.NEW, Status.WAITING_BUYER),
        status_change(Status.WAITING_BUYER, Status.RESOLVED),
    ]


def test_the_sweep_writes_the_reminder_and_skipped_texts(store, clock):
    start = clock.now()
    case = open_ticket(store)
    store.change_status(case, Status.WAITING_SELLER)
    clock.advance(7 * DAY)  # reminder 1 was due on day 3: skipped; reminder 2 (day 6) is sent
    sweep_timers(store)
    [skipped] = entries(store, case, "reminder_skipped")
    assert skipped.summary == "Reminder 1 of 3 to the seller skipped: a later reminder is sent instead"
    assert skipped.body == f"Due {format_when(start + 3 * DAY)}; no sweep ran until a later reminder was due."
    [sent] = entries(store, case, "reminder")
    assert sent.summary == "Reminder 2 of 3 sent to the seller"
    assert mail_subjects(store, case)[1:] == [f"[{case}] Reminder: Parcel never arrived"]


def test_the_sweep_writes_the_auto_close_texts(store, clock):
    start = clock.now()
    case = open_ticket(store)
    store.change_status(case, Status.WAITING_BUYER)
    clock.advance(45 * DAY)
    sweep_timers(store)
    assert [(e.summary, e.body) for e in entries(store, case, "reminder_skipped")] == [
        (
            "Reminders 1 to 3 of 3 to the buyer skipped: the ticket is closed instead",
            f"Due {format_when(start + 3 * DAY)} to {format_when(start + 9 * DAY)}; "
            "no sweep ran until the close was due.",
        )
    ]
    [closed] = entries(store, case, "auto_close")
    assert closed.summary == "Closed after 30 days without an answer from the buyer; buyer told"
    assert status_notes(store, case) == ["No answer from the buyer in 30 days"]
    assert entries(store, case, "status")[-1].summary == status_change(Status.WAITING_BUYER, Status.CLOSED)
    assert mail_subjects(store, case)[1:] == [f"[{case}] Closed: Parcel never arrived"]


def test_the_sweep_writes_the_resolved_close_texts(store, clock):
    case = open_ticket(store)
    store.change_status(case, Status.RESOLVED, "Refunded")
    clock.advance(8 * DAY)
    sweep_timers(store)
    [closed] = entries(store, case, "resolved_close")
    assert closed.summary == "Closed for good 7 days after it was resolved; buyer told"
    assert status_notes(store, case) == ["Resolved 7 days ago without disagreement"]
    assert entries(store, case, "status")[-1].summary == status_change(Status.RESOLVED, Status.CLOSED)
    assert mail_subjects(store, case)[1:] == [f"[{case}] Closed: Parcel never arrived"]
