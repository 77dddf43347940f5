"""The nine statuses and every transition between them."""

import itertools

import pytest

from tui_desk.domain.errors import DeskError
from tui_desk.domain.statuses import (
    TRANSITIONS,
    Status,
    check_transition,
    parse_status,
    status_after_inbound,
    status_of,
)

LABELS = [
    "New",
    "To do next",
    "L1 in progress",
    "L2 in progress",
    "Waiting on Seller",
    "Waiting on Buyer",
    "Waiting on Us",
    "Resolved",
    "Closed",
]
WORKING = {Status.TODO, Status.L1, Status.L2, Status.WAITING_SELLER, Status.WAITING_BUYER, Status.WAITING_US}


def expected_allowed(current: Status, target: Status) -> bool:
    """The rule written out independently of the table: New only first, Closed final, Resolved reopens to work."""
    if current is Status.CLOSED or target is current or target is Status.NEW:
        return False
    if current is Status.RESOLVED:
        return target in {Status.WAITING_US, Status.L1, Status.L2, Status.CLOSED}
    return True


def test_labels_are_exactly_the_design_labels():
    assert [s.label for s in Status] == LABELS


@pytest.mark.parametrize("current,target", list(itertools.product(Status, Status)))
def test_every_transition(current, target):
    note = "a note"
    if expected_allowed(current, target):
        check_transition(current, target, note)
        assert target in TRANSITIONS[current]
    else:
        with pytest.raises(DeskError):
            check_transition(current, target, note)
        assert target not in TRANSITIONS[current]


@pytest.mark.parametrize("current", [s for s in Status if s not in (Status.RESOLVED, Status.CLOSED)])
def test_resolving_needs_a_resolution_note(current):
    for blank in (None, "", "   \n"):
        with pytest.raises(DeskError, match="resolution note"):
            check_transition(current, Status.RESOLVED, blank)
    check_transition(current, Status.RESOLVED, "Refund sent")


@pytest.mark.parametrize("current", [s for s in Status if s is not Status.CLOSED])
def test_closing_by_hand_needs_a_final_summary(current):
    with pytest.raises(DeskError, match="final summary"):
        check_transition(current, Status.CLOSED, " ")
    check_transition(current, Status.CLOSED, "All done")
    check_transition(current, Status.CLOSED, None, by_system=True)


def test_closed_is_final_even_for_the_system():
    for target in Status:
        with pytest.raises(DeskError, match="final"):
            check_transition(Status.CLOSED, target, "note", by_system=True)


@pytest.mark.parametrize("status", list(Status))
def test_parse_by_label_slug_and_case(status):
    assert parse_status(status.label) is status
    assert parse_status(status.slug) is status
    assert parse_status(status.label.upper()) is status
    assert status_of(status.slug) is status


def test_parse_unknown_status_names_it():
    with pytest.raises(DeskError, match="'Pending'"):
        parse_status("Pending")


@pytest.mark.parametrize(
    "current,sender,expected",
    [
        (Status.WAITING_BUYER, "buyer", Status.WAITING_US),
        (Status.WAITING_BUYER, "seller", None),
        (Status.WAITING_SELLER, "seller", Status.WAITING_US),
        (Status.WAITING_SELLER, "partner", Status.WAITING_US),
        (Status.WAITING_SELLER, "buyer", None),
        (Status.RESOLVED, "buyer", Status.WAITING_US),
        (Status.RESOLVED, "seller", None),
        (Status.L1, "buyer", None),
        (Status.CLOSED, "buyer", None),
    ],
)
def test_inbound_message_moves_waiting_and_resolved(current, sender, expected):
    assert status_after_inbound(current, sender) is expected
