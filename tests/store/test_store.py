"""The store on real SQLite files: tickets, the append-only log, attachments, schema versions."""

import hashlib
import json
import os
import sqlite3
import stat
from datetime import timedelta

import pytest
from conftest import raw_connect

from tui_desk.domain.errors import DeskError
from tui_desk.domain.statuses import Status
from tui_desk.store import Store, TicketChanged, TicketFilter, TicketSnapshot
from tui_desk.store import schema as schema_module
from tui_desk.store.models import CaseSequence, Meta, Ticket
from tui_desk.store.schema import SCHEMA_VERSION

pytestmark = pytest.mark.backends  # store, CLI, timer, concurrency and evidence tests: both backends


def new(store, **kw):
    fields = dict(customer="Maria Garcia", subject="Blender broken", email="maria@example.com", order_id="ORD-1")
    fields.update(kw)
    return store.create_ticket(**fields)


def test_create_logs_acknowledgement_with_case_subject_and_description(store, clock):
    t = new(store, description="It stopped after two days.")
    assert t.case_number == "TD-REF-2026-00001"
    [ack] = store.entries(store.get(t.case_number))
    assert ack.kind == "acknowledgement" and ack.sender == "system"
    assert t.case_number in ack.body and "Blender broken" in ack.body and "two days" in ack.body
    assert ack.at == clock.now()
    data = store.describe(store.get(t.case_number))
    assert data["status"] == "New" and data["opened_at"] == "2026-11-15T14:30:00Z"


def test_case_numbers_per_kind_and_year_never_reused(store, clock):
    numbers = [new(store).case_number for _ in range(3)]
    numbers.append(new(store, kind="support").case_number)
    clock.advance(timedelta(days=60))  # into 2027
    numbers.append(new(store).case_number)
    assert numbers == [
        "TD-REF-2026-00001",
        "TD-REF-2026-00002",
        "TD-REF-2026-00003",
        "TD-SUP-2026-00001",
        "TD-REF-2027-00001",
    ]


def test_reserved_numbers_are_skipped(store):
    with store.writing():
        store.reserve_case_number("TD-REF-2026-00041")
    assert new(store).case_number == "TD-REF-2026-00042"


def test_numbers_tickets_already_hold_are_skipped_in_one_allocation(store):
    """A sequence row behind the tickets' numbers (a damaged row, a number kept from elsewhere): a run of
    numbers, taken at once as an import takes them, steps over every held one, past its first chunk too."""
    held = [new(store) for _ in range(3)]
    with store.writing():
        Ticket.update(case_number="TD-REF-2026-00502").where(Ticket.id == held[2].id).execute()
        CaseSequence.update(last=1).execute()
        numbers = store.allocate_case_numbers("REF", 2026, 600)
    seqs = [int(n.rsplit("-", 1)[1]) for n in numbers]
    assert len(set(numbers)) == 600 and seqs == sorted(seqs)
    assert 2 not in seqs and 502 not in seqs and seqs[:2] == [3, 4]  # 00003 is free again: its ticket moved
    assert seqs[-1] == 603 and CaseSequence.get().last == 603
    assert new(store).case_number == "TD-REF-2026-00604"


def test_unknown_kind_and_blank_fields_write_nothing(store):
    for kw, message in (
        (dict(kind="warranty"), "unknown kind"),
        (dict(subject="   "), "subject is blank"),
        (dict(customer=""), "customer is blank"),
        (dict(priority="asap"), "unknown priority"),
        (dict(email="not-an-email"), "no @"),
        (dict(tags=["two words"]), "tag"),
    ):
        with pytest.raises(DeskError, match=message):
            new(store, **kw)
    assert store.count_tickets() == 0


def test_log_is_append_only_in_the_database_itself(store, db_path):
    t = new(store)
    store.add_entry(t.case_number, channel="email", summary="Customer sent photos")
    raw = raw_connect(db_path)
    for sql in (
        "UPDATE log_entry SET summary = 'rewritten' WHERE seq = 2",
        "DELETE FROM log_entry WHERE seq = 2",
        "UPDATE status_change SET to_status = 'closed'",
        "DELETE FROM ticket",
    ):
        with pytest.raises(sqlite3.DatabaseError, match="append-only|never deleted"):
            raw.execute(sql)
    raw.close()
    summaries = [e.summary for e in store.entries(store.get(t.case_number))]
    assert summaries[1] == "Customer sent photos"


def test_correction_is_a_new_entry_referencing_the_old(store):
    t = new(store)
    store.add_entry(t.case_number, channel="phone", summary="Customer wants a voucher")
    store.add_entry(t.case_number, channel="note", summary="Correction: she wants a refund", corrects=2)
    entries = store.entries(store.get(t.case_number))
    assert [e.kind for e in entries] == ["acknowledgement", "message", "correction"]
    assert entries[2].corrects.seq == 2 and entries[1].summary == "Customer wants a voucher"
    with pytest.raises(DeskError, match="no entry 9"):
        store.add_entry(t.case_number, channel="note", summary="x", corrects=9)


def test_entries_chain_their_digests(store):
    t = new(store)
    store.add_entry(t.case_number, channel="email", summary="one")
    store.add_entry(t.case_number, channel="email", summary="two", direction="out")
    ticket = store.get(t.case_number)
    entries = store.entries(ticket)
    assert len({e.digest for e in entries}) == 3
    assert ticket.log_head == entries[-1].digest and ticket.log_count == 3


def test_inbound_from_waited_party_moves_to_waiting_on_us(store):
    t = new(store)
    store.change_status(t.case_number, Status.WAITING_BUYER)
    assert store.get(t.case_number).timer_due_at is not None
    store.add_entry(t.case_number, channel="note", summary="buyer called? no")  # a note does not count
    store.add_entry(t.case_number, channel="email", summary="Seller comment", sender="seller")
    assert store.get(t.case_number).status == Status.WAITING_BUYER.slug
    store.add_entry(t.case_number, channel="email", summary="Here are the photos", sender="buyer")
    ticket = store.get(t.case_number)
    assert ticket.status == Status.WAITING_US.slug and ticket.timer_due_at is None
    last = store.entries(ticket)[-1]
    assert last.kind == "status" and last.agent == "system"


def test_customer_answer_reopens_resolved(store):
    t = new(store)
    with pytest.raises(DeskError, match="resolution note"):
        store.change_status(t.case_number, Status.RESOLVED)
    store.change_status(t.case_number, Status.RESOLVED, "Refund sent")
    assert store.get(t.case_number).resolved_at is not None
    store.add_entry(t.case_number, channel="email", summary="I did not get the money")
    ticket = store.get(t.case_number)
    assert ticket.status == Status.WAITING_US.slug and ticket.resolved_at is None


def test_closed_is_read_only(store):
    t = new(store)
    store.change_status(t.case_number, Status.CLOSED, "Duplicate of another case")
    before = store.describe(store.get(t.case_number))
    for action in (
        lambda: store.add_entry(t.case_number, channel="email", summary="hello?"),
        lambda: store.change_status(t.case_number, Status.WAITING_US),
        lambda: store.assign(t.case_number, "ben"),
        lambda: store.tag(t.case_number, add=["vip"]),
    ):
        with pytest.raises(DeskError, match="Closed"):
            action()
    assert store.describe(store.get(t.case_number)) == before
    follow = new(store, references=t.case_number.lower())
    assert store.get(follow.case_number).references == t.case_number


def test_status_with_entry_is_checked_before_anything_is_written(store):
    t = new(store)
    with pytest.raises(DeskError, match="resolution note"):
        store.add_entry(t.case_number, channel="email", summary="Sent refund", direction="out", status=Status.RESOLVED)
    assert store.get(t.case_number).log_count == 1
    store.add_entry(
        t.case_number, channel="email", summary="Asked for photos", direction="out", status=Status.WAITING_BUYER
    )
    ticket = store.get(t.case_number)
    assert ticket.status == Status.WAITING_BUYER.slug and ticket.first_response_at is not None


def test_follow_up_promise_is_kept_by_the_next_reply(store, clock):
    t = new(store)
    store.add_entry(t.case_number, channel="phone", summary="Will call back", follow_up=clock.now() + timedelta(days=1))
    assert store.get(t.case_number).follow_up_at == clock.now() + timedelta(days=1)
    store.add_entry(t.case_number, channel="email", summary="Called back", direction="out")
    assert store.get(t.case_number).follow_up_at is None


def test_attachments_stored_once_by_digest_and_survive_the_original(store, tmp_path, db_path, backend_name):
    t = new(store)
    label = tmp_path / "rma-label.pdf"
    label.write_bytes(b"%PDF fake label\x00\x01")
    copy = tmp_path / "again.pdf"
    copy.write_bytes(label.read_bytes())
    store.add_entry(t.case_number, channel="email", summary="RMA label", direction="out", attachments=[label])
    store.add_entry(t.case_number, channel="email", summary="Label again", direction="out", attachments=[copy])
    label.unlink()
    copy.unlink()
    entries = store.entries(store.get(t.case_number))
    a1, a2 = entries[1].attachment_list[0], entries[2].attachment_list[0]
    assert a1.sha256 == a2.sha256 and a1.name == "rma-label.pdf" and a1.size == 17
    if backend_name == "postgresql":  # in the database (bytea), by its SHA-256: no folder to share
        assert store.blobs.content(a1.sha256) == b"%PDF fake label\x00\x01"
        with store.reading():
            assert store.backend.run(store.db, "SELECT count(*) FROM blob_content").fetchone()[0] == 1
        return
    blobs = [p for p in store.blobs.root.rglob("*") if p.is_file()]
    assert len(blobs) == 1 and blobs[0].read_bytes() == b"%PDF fake label\x00\x01"
    assert stat.S_IMODE(os.stat(store.blobs.root).st_mode) == 0o700


def test_missing_attachment_writes_nothing(store, tmp_path):
    t = new(store)
    with pytest.raises(DeskError, match="no such file"):
        store.add_entry(t.case_number, channel="email", summary="x", attachments=[tmp_path / "gone.png"])
    with pytest.raises(DeskError, match="folder"):
        store.add_entry(t.case_number, channel="email", summary="x", attachments=[tmp_path])
    assert store.get(t.case_number).log_count == 1


def test_changed_underneath_is_reported(store):
    t = new(store)
    seen = TicketSnapshot.of(store.get(t.case_number))
    store.add_entry(t.case_number, channel="chat", summary="Buyer pinged on chat")
    store.assign(t.case_number, "ben")
    with pytest.raises(TicketChanged) as info:
        store.add_entry(t.case_number, channel="email", summary="My reply", direction="out", expected=seen)
    text = str(info.value)
    assert "Buyer pinged on chat" in text and "assigned to ben" in text
    store.add_entry(t.case_number, channel="email", summary="My reply", direction="out", expected=info.value.current)


def test_drafts_round_trip_per_agent(store, db_path, clock):
    t = new(store)
    snap = TicketSnapshot.of(store.get(t.case_number))
    store.save_draft(t.case_number, {"summary": "half typed", "body": "line 1\n"}, snap)
    other = Store(db_path, clock=clock, agent="ben")
    assert other.load_draft(t.case_number) is None
    assert store.load_draft(t.case_number) == ({"summary": "half typed", "body": "line 1\n"}, snap.version)
    store.discard_draft(t.case_number)
    assert store.load_draft(t.case_number) is None


def test_a_saved_entry_forgets_its_draft_in_the_same_transaction_and_a_refused_one_keeps_it(store):
    t = new(store)
    snap = TicketSnapshot.of(store.get(t.case_number))
    store.save_draft(t.case_number, {"summary": "Customer called"}, snap)
    store.tag(t.case_number, ["vip"])  # the ticket moves on: a save based on ``snap`` is refused inside the write
    with pytest.raises(TicketChanged):
        store.add_entry(t.case_number, channel="phone", summary="Customer called", expected=snap, forget_draft=True)
    assert store.load_draft(t.case_number) is not None
    store.add_entry(t.case_number, channel="phone", summary="Customer called", forget_draft=True)
    assert store.load_draft(t.case_number) is None
    assert [e.summary for e in store.entries(store.get(t.case_number))].count("Customer called") == 1


def test_list_filters_sort_and_search(store):
    a = new(store, customer="Aiko Tanaka", subject="Parcel never arrived", tags=["refund-delayed"])
    b = new(store, customer="Omar Haddad", subject="Screen has dead pixels", priority="urgent")
    c = new(store, customer="Zoe", subject="Login", kind="support")
    store.assign(b.case_number, "ben")
    store.add_entry(c.case_number, channel="chat", summary="Password reset mail never comes", body="spam folder?")
    numbers = lambda flt, **kw: [t.case_number for t in store.list_tickets(flt, **kw)]  # noqa: E731
    assert numbers(TicketFilter(search="tanaka")) == [a.case_number]
    assert numbers(TicketFilter(search="spam fold")) == [c.case_number]  # log text, prefix match
    assert numbers(TicketFilter(search=b.case_number)) == [b.case_number]
    assert numbers(TicketFilter(search='"; DROP TABLE ticket; --')) == []
    assert numbers(TicketFilter(assignee="ben")) == [b.case_number]
    assert numbers(TicketFilter(unassigned=True)) == [a.case_number, c.case_number]
    assert numbers(TicketFilter(tag="refund-delayed")) == [a.case_number]
    assert numbers(TicketFilter(kind="support")) == [c.case_number]
    assert numbers(TicketFilter(), sort="priority", descending=True)[0] == b.case_number
    assert store.count_tickets(TicketFilter(statuses=[Status.NEW])) == 3


@pytest.mark.sqlite_only  # a file's mode
def test_store_file_is_private(store, db_path):
    assert stat.S_IMODE(os.stat(db_path).st_mode) == 0o600


def test_newer_store_is_refused_untouched(db_path, clock, backend_name):
    s = Store(db_path, clock=clock, agent="ana")
    new(s)
    with s.writing():
        schema_module.set_meta("schema_version", "99")
    s.close()
    raw = raw_connect(db_path)
    before = raw.execute("SELECT count(*) FROM log_entry").fetchall()
    raw.close()
    bytes_before = db_path.read_bytes() if backend_name == "sqlite" else None
    with pytest.raises(DeskError, match="newer tui-desk"):
        Store(db_path, clock=clock, agent="ana")
    raw = raw_connect(db_path)
    assert raw.execute("SELECT count(*) FROM log_entry").fetchall() == before
    assert raw.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchall() == [("99",)]
    raw.close()
    if bytes_before is not None:
        assert db_path.read_bytes() == bytes_before


@pytest.mark.sqlite_only  # older layouts exist only as SQLite files (PostgreSQL stores start at schema 4)
def test_older_store_is_migrated_on_open(db_path, clock, monkeypatch):
    s = Store(db_path, clock=clock, agent="ana")
    t = new(s)
    s.close()

    # Pretend this tui-desk knows one schema more, whose migration adds a column.
    def add_priority_note(db):
        db.execute_sql("ALTER TABLE ticket ADD COLUMN priority_note TEXT")

    current = schema_module.SCHEMA_VERSION
    monkeypatch.setattr(schema_module, "SCHEMA_VERSION", current + 1)
    monkeypatch.setitem(schema_module.MIGRATIONS, current, add_priority_note)
    s = Store(db_path, clock=clock, agent="ana")
    with s.reading():
        version = Meta.get(Meta.key == "schema_version").value
    assert version == str(current + 1)
    raw = sqlite3.connect(db_path)
    assert "priority_note" in [row[1] for row in raw.execute("PRAGMA table_info(ticket)")]
    assert raw.execute("SELECT case_number FROM ticket").fetchall() == [(t.case_number,)]
    raw.close()


def test_not_a_store_is_refused(tmp_path, clock):
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(DeskError, match="not a tui-desk store"):
        Store(junk, clock=clock)
    assert junk.read_bytes() == b"this is not sqlite" * 100
    other = tmp_path / "other.db"
    raw = sqlite3.connect(other)
    raw.execute("CREATE TABLE x(y)")
    raw.commit()
    raw.close()
    with pytest.raises(DeskError, match="not a tui-desk store"):
        Store(other, clock=clock)


def test_describe_is_json_ready(store, tmp_path):
    t = new(store, tags=["vip"])
    f = tmp_path / "proof.txt"
    f.write_text("proof")
    store.add_entry(t.case_number, channel="email", summary="proof", attachments=[f])
    data = json.loads(json.dumps(store.describe(store.get(t.case_number))))
    assert data["log"][1]["attachments"] == [
        {"name": "proof.txt", "size": 5, "sha256": hashlib.sha256(b"proof").hexdigest()}
    ]
    assert data["tags"] == ["vip"] and data["log"][1]["summary"] == "proof"


def test_search_finds_log_text_written_before_and_after_a_bulk_load(store):
    from tui_desk.store import log

    t = new(store)
    store.add_entry(t.case_number, channel="chat", summary="Courier lost the parcel")
    with store.writing(), store.backend.bulk_load(store.db):
        ticket = store.get(t.case_number)
        entry = log.NewEntry(
            kind="message",
            channel="email",
            direction="in",
            sender="buyer",
            summary="Tracking number QX-7781 attached",
            agent=store.agent,
            at=store.now(),
        )
        log.append(store.db, ticket, entry)
        ticket.save()
    store.add_entry(t.case_number, channel="phone", summary="Promised a replacement")
    for words in ("courier", "qx 7781", "replacement", "courier replacement", "blender courier"):
        assert [x.case_number for x in store.list_tickets(TicketFilter(search=words))] == [t.case_number], words
    store.change_status(t.case_number, Status.WAITING_BUYER)  # program-written entries are not indexed
    assert store.list_tickets(TicketFilter(search="waiting")) == []


@pytest.mark.sqlite_only  # schema 1 was SQLite's FTS5 layout
def test_a_version_1_store_gets_the_one_document_search_index(db_path, clock):
    """Schema 1 indexed each log entry on its own (``entry_search``); opening it rebuilds the index."""
    s = Store(db_path, clock=clock, agent="ana")
    t = new(s, subject="Blender arrived broken")
    s.add_entry(t.case_number, channel="chat", summary="Courier lost the parcel", body="tracking QX-7781")
    s.close()
    raw = sqlite3.connect(db_path)
    for name in ("ticket_search_insert", "ticket_search_update", "log_entry_search_insert"):
        raw.execute(f"DROP TRIGGER {name}")
    raw.execute("DROP TABLE ticket_search")
    raw.execute("CREATE VIRTUAL TABLE entry_search USING fts5(summary, sender_name, body)")
    raw.execute(
        "CREATE VIRTUAL TABLE ticket_search USING fts5(case_number, customer, email, order_id, subject, "
        "content='ticket', content_rowid='id')"
    )
    raw.execute("DROP INDEX ticket_assignee_status")
    raw.execute('CREATE INDEX ticket_assignee ON ticket ("assignee")')
    raw.execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'")
    raw.commit()
    raw.close()
    s = Store(db_path, clock=clock, agent="ana")
    for words in ("blender", "courier", "qx 7781", "blender parcel"):
        assert [x.case_number for x in s.list_tickets(TicketFilter(search=words))] == [t.case_number], words
    s.add_entry(t.case_number, channel="phone", summary="Promised a replacement")
    assert len(s.list_tickets(TicketFilter(search="replacement courier"))) == 1
    s.close()
    raw = sqlite3.connect(db_path)
    tables = {row[0] for row in raw.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert "entry_search" not in tables and "log_search" not in tables
    indexes = {row[0] for row in raw.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert "ticket_assignee_status" in indexes and "ticket_assignee" not in indexes
    # "My tickets" is counted from that index alone.
    plan = " ".join(
        row[3]
        for row in raw.execute(
            "EXPLAIN QUERY PLAN SELECT count(*) FROM ticket WHERE assignee = 'ana' AND status IN ('new', 'l1')"
        )
    )
    assert "COVERING INDEX ticket_assignee_status" in plan, plan
    assert raw.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone() == (str(SCHEMA_VERSION),)
    raw.close()


def test_search_follows_edits_to_a_ticket_s_fields(store):
    t = new(store, subject="Blender arrived broken")
    store.add_entry(t.case_number, channel="chat", summary="Courier lost the parcel")
    with store.writing():
        Ticket.update(subject="Toaster arrived broken").where(Ticket.id == t.id).execute()
    assert store.list_tickets(TicketFilter(search="blender")) == []
    assert len(store.list_tickets(TicketFilter(search="toaster courier"))) == 1
