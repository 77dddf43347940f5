"""The texts of system log entries (domain/log_texts.py), pinned byte for byte, and equal to what the store writes.

The store does not call domain/log_texts.py yet; the second half of this file is what makes that change safe:
the functions give exactly the strings a real store and sweep write today.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tui_desk.domain.log_texts import (
    acknowledgement,
    acknowledgement_mail_subject,
    auto_close,
    closed_mail_subject,
    days_text,
    reminder_mail_subject,
    reminder_summary,
    resolved_close,
    skipped_reminder,
    status_change_summary,
)
from tui_desk.domain.statuses import Status
from tui_desk.store.models import OutboxMessage, StatusChange
from tui_desk.store.sweep import sweep_timers

DAY = timedelta(days=1)
DUE = datetime(2026, 11, 18, 14, 30, tzinfo=UTC)


def test_status_change_summary():
    assert status_change_summary(Status.NEW, Status.WAITING_BUYER) == "Status: New → Waiting on Buyer"
    assert status_change_summary(Status.RESOLVED, Status.CLOSED) == "Status: Resolved \u2192 Closed"


def test_acknowledgement():
    assert acknowledgement("Maria Garcia", "TD-REF-2026-00001", "Parcel never arrived", "Ordered 2 Nov.\n") == (
        "Automatic acknowledgement sent to Maria Garcia",
        "Case number: TD-REF-2026-00001\nSubject: Parcel never arrived\n\nOrdered 2 Nov.",
    )
    # No description: the body ends at the subject, with no blank lines after it.
    assert acknowledgement("Ann", "TD-SUP-2026-00002", "Hi", "")[1] == "Case number: TD-SUP-2026-00002\nSubject: Hi"
    assert acknowledgement("Ann", "TD-SUP-2026-00002", "Hi", None)[1] == "Case number: TD-SUP-2026-00002\nSubject: Hi"
    assert acknowledgement_mail_subject("TD-REF-2026-00001", "Parcel never arrived") == (
        "[TD-REF-2026-00001] Parcel never arrived"
    )


def test_timer_texts():
    assert reminder_summary(2, 3, "seller") == "Reminder 2 of 3 sent to the seller"
    assert reminder_mail_subject("TD-REF-2026-00001", "Parcel") == "[TD-REF-2026-00001] Reminder: Parcel"
    assert skipped_reminder(1, 3, "buyer", DUE, closing=False) == (
        "Reminder 1 of 3 to the buyer skipped: a later reminder is sent instead",
        "Due 2026-11-18 14:30 UTC; no sweep ran until a later reminder was due.",
    )
    assert skipped_reminder(3, 3, "buyer", DUE, closing=True) == (
        "Reminder 3 of 3 to the buyer skipped: the ticket is closed instead",
        "Due 2026-11-18 14:30 UTC; no sweep ran until the close was due.",
    )
    assert auto_close(30 * DAY, "buyer") == (
        "Closed after 30 days without an answer from the buyer; buyer told",
        "No answer from the buyer in 30 days",
    )
    assert resolved_close(7 * DAY, "buyer") == (
        "Closed for good 7 days after it was resolved; buyer told",
        "Resolved 7 days ago without disagreement",
    )
    assert closed_mail_subject("TD-REF-2026-00001", "Parcel") == "[TD-REF-2026-00001] Closed: Parcel"


@pytest.mark.parametrize(("span", "text"), [(30 * DAY, "30"), (DAY * 1.5, "1.5"), (timedelta(hours=6), "0.25")])
def test_days_text(span, text):
    assert days_text(span) == text


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
    assert (ack.summary, ack.body) == acknowledgement("Maria Garcia", case, "Parcel never arrived", description)
    assert mail_subjects(store, case) == [acknowledgement_mail_subject(case, "Parcel never arrived")]
    store.change_status(case, Status.WAITING_BUYER)
    store.change_status(case, Status.RESOLVED, "Refunded")
    assert [e.summary for e in entries(store, case, "status")] == [
        status_change_summary(Status.NEW, Status.WAITING_BUYER),
        status_change_summary(Status.WAITING_BUYER, Status.RESOLVED),
    ]


def test_the_sweep_writes_the_reminder_and_skipped_texts(store, clock):
    start = clock.now()
    case = open_ticket(store)
    store.change_status(case, Status.WAITING_SELLER)
    clock.advance(7 * DAY)  # reminder 1 was due on day 3: skipped; reminder 2 (day 6) is sent
    sweep_timers(store)
    [skipped] = entries(store, case, "reminder_skipped")
    assert (skipped.summary, skipped.body) == skipped_reminder(1, 3, "seller", start + 3 * DAY, closing=False)
    [sent] = entries(store, case, "reminder")
    assert sent.summary == reminder_summary(2, 3, "seller")
    assert mail_subjects(store, case)[1:] == [reminder_mail_subject(case, "Parcel never arrived")]


def test_the_sweep_writes_the_auto_close_texts(store, clock):
    start = clock.now()
    case = open_ticket(store)
    store.change_status(case, Status.WAITING_BUYER)
    clock.advance(45 * DAY)
    sweep_timers(store)
    assert [(e.summary, e.body) for e in entries(store, case, "reminder_skipped")] == [
        skipped_reminder(n, 3, "buyer", start + 3 * n * DAY, closing=True) for n in (1, 2, 3)
    ]
    [closed] = entries(store, case, "auto_close")
    summary, note = auto_close(30 * DAY, "buyer")
    assert closed.summary == summary
    assert status_notes(store, case) == [note]
    assert entries(store, case, "status")[-1].summary == status_change_summary(Status.WAITING_BUYER, Status.CLOSED)
    assert mail_subjects(store, case)[1:] == [closed_mail_subject(case, "Parcel never arrived")]


def test_the_sweep_writes_the_resolved_close_texts(store, clock):
    case = open_ticket(store)
    store.change_status(case, Status.RESOLVED, "Refunded")
    clock.advance(8 * DAY)
    sweep_timers(store)
    [closed] = entries(store, case, "resolved_close")
    summary, note = resolved_close(7 * DAY, "buyer")
    assert closed.summary == summary
    assert status_notes(store, case) == [note]
    assert entries(store, case, "status")[-1].summary == status_change_summary(Status.RESOLVED, Status.CLOSED)
    assert mail_subjects(store, case)[1:] == [closed_mail_subject(case, "Parcel never arrived")]
