"""One corpus, the same queries, the same tickets on both backends (FTS5 on SQLite; tsvector + GIN on PostgreSQL)."""

import pytest

from tui_desk.store import TicketFilter

pytestmark = pytest.mark.backends

CORPUS = [
    # customer, email, order, subject, description, log entries people wrote
    ("Ana Smith", "ana.smith@example.com", "ORD-1001", "Kettle leaks", "Water everywhere", ["Sent photos of the café"]),
    ("Björn Åkesson", "bjorn@example.se", "ORD-1002", "Blender arrived broken", "", ["Courier lost the parcel"]),
    ("Chen Wei", None, "A-77", "Wrong size", "Ordered XL, got S", ["Tracking number QX-7781 attached"]),
    ("Dana O'Neil", "dana+shop@mail.example", None, "Refund delayed", "Approved on the 2nd", []),
    ("Émile Zola", "emile@example.fr", "ORD-2001", "Parcel not delivered", "Paris", ["Appel: colis perdu"]),
]

QUERIES = {
    "kettle": [0],
    "kett": [0],
    "cafe": [0],
    "café": [0],
    "akesson": [1],
    "Björn": [1],
    "courier parcel": [1],
    "parcel": [1, 4],
    "qx 7781": [2],
    "QX-7781": [2],
    "ana.smith@exa": [0],
    "example": [0, 1, 3, 4],
    "dana+shop": [3],
    "o'neil": [3],
    "ORD-10": [0, 1],
    "ord 2001": [4],
    "colis": [4],
    "nothing-like-this": [],
    "!!!": [],
    "emile zola paris": [4],
}


@pytest.fixture
def corpus(store):
    numbers = []
    for customer, email, order, subject, description, entries in CORPUS:
        t = store.create_ticket(
            customer=customer, email=email, order_id=order, subject=subject, description=description
        )
        for text in entries:
            store.add_entry(t.case_number, channel="email", direction="in", summary=text)
        numbers.append(t.case_number)
    return numbers


@pytest.mark.parametrize("query", sorted(QUERIES))
def test_the_same_queries_find_the_same_tickets(store, corpus, query):
    expected = [corpus[i] for i in QUERIES[query]]
    found = [t.case_number for t in store.list_tickets(TicketFilter(search=query))]
    assert found == expected
    assert store.count_tickets(TicketFilter(search=query)) == len(expected)
    assert (
        sorted(store.ticket_ids(TicketFilter(search=query), descending=True), reverse=True)
        == [store.get(n).id for n in expected][::-1]
        or not expected
    )


def test_case_numbers_and_their_fragments(store, corpus):
    for number in corpus:
        assert [t.case_number for t in store.list_tickets(TicketFilter(search=number))] == [number]
    # The palette's "go to case": any part of a case number (a trigram index serves it on PostgreSQL).
    assert [t.case_number for t in store.list_tickets(TicketFilter(case_contains="-00003"))] == [corpus[2]]
    assert len(store.list_tickets(TicketFilter(case_contains="REF-2026"))) == len(corpus)


def test_what_the_program_writes_is_not_searched(store, corpus):
    from tui_desk.domain.statuses import Status

    store.change_status(corpus[0], Status.WAITING_BUYER)
    assert store.list_tickets(TicketFilter(search="waiting")) == []
