"""The lossless archive: a store with attachments, corrections, status changes and timer actions goes into
one zip and comes back into a new store with the same rows, digests, attachment bytes and seal."""

from __future__ import annotations

import json
import sqlite3
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from conftest import NOW

from tui_desk.domain.clock import FixedClock
from tui_desk.domain.errors import DeskError
from tui_desk.domain.statuses import Status
from tui_desk.store import Store, TicketFilter, TicketSnapshot
from tui_desk.store.archive import MANIFEST, restore_archive, write_archive
from tui_desk.store.outbox import mark_sent
from tui_desk.store.sweep import sweep_timers
from tui_desk.store.verify import verify_path

CARRIED = (
    "ticket",
    "ticket_tag",
    "blob",
    "log_entry",
    "attachment",
    "status_change",
    "field_change",
    "refund_milestone",
    "timer_event",
    "outbox_message",
    "case_sequence",
)


def build(path: Path, tmp_path: Path) -> Store:
    """A store with what an archive must carry: attachments, a correction, status moves, timer actions,
    field edits, tags, an SLA clock, a sent message and a draft (which must stay behind)."""
    clock = FixedClock(NOW)
    store = Store(path, clock=clock, agent="ana")
    proof = tmp_path / "proof.jpg"
    proof.write_bytes(bytes(range(256)) * 40)
    label = tmp_path / "label.pdf"
    label.write_bytes(b"%PDF-1.4 return label\n" * 30)
    a = store.create_ticket(customer="Kim Lee", subject="Box crushed", email="kim@example.org", tags=["damaged"])
    store.add_entry(a.case_number, channel="email", summary="Photos of the box", sender="buyer", attachments=[proof])
    store.add_entry(a.case_number, channel="note", summary="RMA label sent", attachments=[label, proof])
    store.add_entry(a.case_number, channel="phone", summary="Called: box fine", corrects=2, body="wrong case")
    store.assign(a.case_number, "bo")
    store.change_status(a.case_number, Status.WAITING_BUYER, "asked for the receipt")
    b = store.create_ticket(customer="Ola", subject="Late refund", kind="support", order_id="VB-1")
    store.change_status(b.case_number, Status.L1)
    store.change_status(b.case_number, Status.RESOLVED, "refund sent")
    store.edit_ticket(b.case_number, priority="high")
    store.set_refund(b.case_number, amount="49.90", currency="EUR", approved_at=NOW, initiated_at=NOW)
    clock.advance(timedelta(days=8))  # the Resolved ticket closes, the waiting one gets reminders
    sweep_timers(store)
    with store.reading():
        from tui_desk.store.models import OutboxMessage

        first = OutboxMessage.select().order_by(OutboxMessage.id).first()
    mark_sent(store, first.id)
    store.save_draft(a.case_number, {"summary": "half typed"}, TicketSnapshot.of(store.get(a.case_number)))
    return store


def table_rows(path: Path, table: str) -> list[tuple]:
    con = sqlite3.connect(path)
    try:
        return con.execute(f"SELECT * FROM {table} ORDER BY 1, 2").fetchall()
    finally:
        con.close()


def seal_of(path: Path) -> dict:
    from tui_desk.store import seal
    from tui_desk.store.verify import connect

    con = connect(path)
    try:
        return {name: state.to_json() for name, state in seal.compute(con).items()}
    finally:
        con.close()


def test_an_archive_restores_into_an_empty_store_with_the_same_digests_bytes_and_seal(tmp_path):
    source = build(tmp_path / "desk.db", tmp_path)
    archive = tmp_path / "desk.zip"
    summary = write_archive(source, archive)
    assert summary.blobs == 2
    assert summary.rows["timer_event"] >= 2 and summary.rows["field_change"] >= 1
    assert summary.rows["refund_milestone"] == 2
    assert (archive.stat().st_mode & 0o777) == 0o600
    target = Store(tmp_path / "new.db", clock=FixedClock(NOW), agent="someone-else")
    outcome = restore_archive(target, archive)
    assert not outcome.merged
    assert (outcome.tickets, outcome.blobs) == (2, 2)
    for table in CARRIED:
        assert table_rows(tmp_path / "new.db", table) == table_rows(tmp_path / "desk.db", table), table
    # The store keeps its identity and its record of bound chains; the draft stays behind.
    meta = dict(table_rows(tmp_path / "new.db", "meta"))
    assert meta == dict(table_rows(tmp_path / "desk.db", "meta"))
    assert table_rows(tmp_path / "new.db", "draft") == []
    for blob in (tmp_path / "desk.db.files").rglob("*"):
        if blob.is_file():
            copy = tmp_path / "new.db.files" / blob.relative_to(tmp_path / "desk.db.files")
            assert copy.read_bytes() == blob.read_bytes()
    report = verify_path(tmp_path / "new.db")
    assert report.ok, [p.line() for p in report.problems]
    assert report.attachments == 3
    assert seal_of(tmp_path / "new.db") == seal_of(tmp_path / "desk.db") == summary.seal
    # Search finds what people wrote, in the restored store too.
    assert [t.case_number for t in target.list_tickets(TicketFilter(search="RMA label"))] == ["TD-REF-2026-00001"]
    # The restored store works on: a new entry chains on from the restored head, numbers go on past its own.
    target.add_entry("TD-REF-2026-00001", channel="note", summary="after the move")
    assert target.create_ticket(customer="New", subject="Next").case_number == "TD-REF-2026-00002"
    assert verify_path(tmp_path / "new.db").ok


def test_the_real_commands_round_trip_a_store_and_its_seal(cli, tmp_path):
    build(cli.db, tmp_path).close()
    archive = tmp_path / "out.zip"
    cli.ok("export", "--archive", str(archive))
    before = json.loads(cli.ok("seal").stdout)
    fresh = tmp_path / "fresh.db"
    out = cli.ok("import", str(archive), db=fresh).stdout
    assert "restored 2 tickets" in out and "seal matches" in out and "verify: ok" in out
    after = json.loads(cli.ok("seal", db=fresh).stdout)
    before.pop("made_at"), after.pop("made_at")
    assert after == before  # the same seal, store id and bound chains included
    assert cli.ok("verify", "--against", str(_write(tmp_path / "s.json", before)), db=fresh).returncode == 0
    # Into a store that has these case numbers: refused, nothing changed.
    err = cli.fails("import", str(archive), db=fresh)
    assert "already in the store" in err and "TD-REF-2026-00001" in err
    assert json.loads(cli.ok("seal", db=fresh).stdout)["digest"] == before["digest"]


def test_a_dry_run_of_an_archive_checks_it_all_and_writes_nothing(cli, tmp_path):
    """`import ARCHIVE --dry-run`: the restore made and rolled back (its attachment files removed again), so
    an archive is checked before it is restored; a tampered one, or one whose numbers collide, is refused."""
    build(cli.db, tmp_path).close()
    archive = tmp_path / "out.zip"
    cli.ok("export", "--archive", str(archive))
    fresh = tmp_path / "fresh.db"
    checked = cli.json("import", str(archive), "--dry-run", db=fresh)
    assert checked["dry_run"] and (checked["tickets"], checked["attachments"]) == (2, 2) and not checked["merged"]
    assert "nothing was written (dry run)" in cli.ok("import", str(archive), "--dry-run", db=fresh).stdout
    assert cli.json("list", db=fresh) == []
    files = tmp_path / "fresh.db.files"
    assert not files.exists() or not any(p.is_file() for p in files.rglob("*"))  # the attachments removed again
    assert "already in the store" in cli.fails("import", str(archive), "--dry-run")  # its own numbers: collide
    tampered = tmp_path / "tampered.zip"
    with zipfile.ZipFile(archive) as src, zipfile.ZipFile(tampered, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            dst.writestr(item, data.replace(b"Called: box fine", b"Called: box torn", 1))
    assert "its digest does not match" in cli.fails("import", str(tampered), "--dry-run", db=fresh)
    assert "restored 2 tickets" in cli.ok("import", str(archive), db=fresh).stdout  # and then for real


def _write(path: Path, seal: dict) -> Path:
    path.write_text(json.dumps({**seal, "made_at": NOW.isoformat()}))
    return path


def test_an_archive_merges_into_a_store_with_other_cases_under_new_ids(tmp_path):
    from conftest import SHEETS_DATA

    from tui_desk.sheets.columns import map_columns
    from tui_desk.sheets.reader import read_sheet
    from tui_desk.sheets.rows import ReadOptions, records_from_sheet
    from tui_desk.store.imports import import_tickets

    source = build(tmp_path / "desk.db", tmp_path)
    write_archive(source, tmp_path / "desk.zip")
    other = Store(tmp_path / "other.db", clock=FixedClock(NOW), agent="ana")
    other.create_ticket(customer="Someone", subject="Their own")  # TD-REF-2026-00001, as in the archive
    with pytest.raises(DeskError, match=r"1 case number\(s\) of desk.zip are already in the store"):
        restore_archive(other, tmp_path / "desk.zip")
    assert len(table_rows(tmp_path / "other.db", "ticket")) == 1
    third = Store(tmp_path / "third.db", clock=FixedClock(NOW), agent="ana")
    sheet = read_sheet(SHEETS_DATA / "gtb_seed000.csv")
    import_tickets(third, records_from_sheet(sheet, map_columns(sheet.headers), ReadOptions()))  # GTB-REF-1101
    outcome = restore_archive(third, tmp_path / "desk.zip")
    assert outcome.merged and outcome.tickets == 2
    report = verify_path(tmp_path / "third.db")
    assert report.ok, [p.line() for p in report.problems]
    assert (len(report.cases), report.attachments) == (3, 3)
    moved = third.describe(third.get("TD-REF-2026-00001"))
    kept = source.describe(source.get("TD-REF-2026-00001"))
    same = ("seq", "kind", "at", "logged_at", "summary", "body", "agent", "attachments")
    assert [{k: e[k] for k in same} for e in moved["log"]] == [{k: e[k] for k in same} for e in kept["log"]]
    assert moved["log_head"] != kept["log_head"]  # bound to its new ticket id
    assert third.create_ticket(customer="New", subject="Next").case_number == "TD-REF-2026-00002"


def test_a_tampered_archive_is_refused_and_nothing_is_written(tmp_path):
    source = build(tmp_path / "desk.db", tmp_path)
    archive = tmp_path / "desk.zip"
    write_archive(source, archive)
    tampered = tmp_path / "tampered.zip"
    with zipfile.ZipFile(archive) as src, zipfile.ZipFile(tampered, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "tables/log_entry.jsonl":
                data = data.replace(b"Called: box fine", b"Called: box torn", 1)
            dst.writestr(item, data)
    target = Store(tmp_path / "new.db", clock=FixedClock(NOW), agent="ana")
    with pytest.raises(DeskError, match="entry 4: its digest does not match"):
        restore_archive(target, tampered)
    assert table_rows(tmp_path / "new.db", "ticket") == []
    assert not (tmp_path / "new.db.files").exists() or not any((tmp_path / "new.db.files").rglob("*"))
    # An attachment whose bytes were swapped is refused too.
    swapped = tmp_path / "swapped.zip"
    with zipfile.ZipFile(archive) as src, zipfile.ZipFile(swapped, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            dst.writestr(item, data[:-1] + b"!" if item.filename.startswith("blobs/") else data)
    with pytest.raises(DeskError, match="does not match its SHA-256"):
        restore_archive(target, swapped)
    assert table_rows(tmp_path / "new.db", "log_entry") == []
    with zipfile.ZipFile(archive) as zf:
        manifest = json.loads(zf.read(MANIFEST))
    assert manifest["format"] == "tui-desk-archive/1" and "draft" not in manifest["tables"]
