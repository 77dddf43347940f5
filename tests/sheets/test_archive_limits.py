"""An archive that is not what it says is refused in one line with nothing stored: a zip bomb, too much in
all, a member path that leads outside, too many members, a member the manifest does not name or that is
not the size or rows the archive records, a member altered after the directory was written.

Each archive is made from a real one (``export --archive`` of a real store) and rewritten member by member.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import struct
import zipfile
from pathlib import Path

import pytest
from conftest import NOW

from tui_desk.domain import limits
from tui_desk.domain.clock import FixedClock
from tui_desk.domain.errors import DeskError
from tui_desk.store import Store
from tui_desk.store.archive import MANIFEST, restore_archive, write_archive


@pytest.fixture
def archive(tmp_path) -> Path:
    """A real archive: two tickets, one with an attachment."""
    store = Store(tmp_path / "source.db", clock=FixedClock(NOW), agent="ana")
    proof = tmp_path / "proof.jpg"
    proof.write_bytes(bytes(range(256)) * 40)
    a = store.create_ticket(customer="Kim Lee", subject="Box crushed", email="kim@example.org")
    store.add_entry(a.case_number, channel="email", summary="Photos", sender="buyer", attachments=[proof])
    store.create_ticket(customer="Ola", subject="Late refund")
    path = tmp_path / "desk.zip"
    write_archive(store, path)
    store.close()
    return path


def rewrite(source: Path, target: Path, *, drop=(), replace=None, add=()) -> Path:
    """A copy of the zip ``source`` with members dropped, replaced (name -> bytes) or added ((name, bytes))."""
    replace = replace or {}
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as new:
        for info in old.infolist():
            if info.filename in drop:
                continue
            new.writestr(info.filename, replace.get(info.filename, old.read(info.filename)))
        for name, data in add:
            new.writestr(name, data)
    return target


def manifest_of(path: Path) -> dict:
    with zipfile.ZipFile(path) as zf:
        return json.loads(zf.read(MANIFEST))


def blob_member(path: Path) -> str:
    with zipfile.ZipFile(path) as zf:
        return next(n for n in zf.namelist() if n.startswith("blobs/"))


def assert_nothing_stored(db: Path) -> None:
    if db.exists():
        con = sqlite3.connect(db)
        try:
            assert con.execute("SELECT count(*) FROM ticket").fetchone()[0] == 0
            assert con.execute("SELECT count(*) FROM log_entry").fetchone()[0] == 0
            assert con.execute("SELECT count(*) FROM blob").fetchone()[0] == 0
        finally:
            con.close()
    files = db.with_name(db.name + ".files")
    assert not files.exists() or not [p for p in files.rglob("*") if p.is_file()]


def refused(cli, path: Path, tmp_path: Path) -> str:
    """The real command refuses ``path`` in one line (exit 1), and the store it was imported into stays empty."""
    fresh = tmp_path / "fresh.db"
    result = cli.run("import", str(path), db=fresh)
    err = result.stderr.strip()
    assert result.returncode == 1, (result.returncode, err)
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    assert_nothing_stored(fresh)
    return err


def test_an_untouched_archive_still_restores(cli, archive, tmp_path):
    out = cli.ok("import", str(archive), db=tmp_path / "fresh.db").stdout
    assert "restored 2 tickets" in out and "verify: ok" in out


def test_a_zip_bomb_is_refused_from_the_directory(cli, archive, tmp_path):
    member = blob_member(archive)
    bomb = rewrite(archive, tmp_path / "bomb.zip", replace={member: b"\0" * (40 << 20)})  # packs to ~40 KB
    err = refused(cli, bomb, tmp_path)
    assert f"bomb.zip: {member} unpacks to 42 MB from 0.0 MB (over 100:1)" in err


def test_an_archive_over_the_total_limit_is_refused(archive, tmp_path, monkeypatch):
    monkeypatch.setattr(limits, "MAX_ARCHIVE_UNPACKED", 4000)
    store = Store(tmp_path / "fresh.db", clock=FixedClock(NOW), agent="ana")
    with pytest.raises(DeskError, match=r"desk.zip unpacks to 0 MB, over the limit of 0 MB for one archive"):
        restore_archive(store, archive)
    store.close()
    assert_nothing_stored(tmp_path / "fresh.db")


@pytest.mark.parametrize("name", ["../../escaped.txt", "/etc/cron.d/x", "blobs\\..\\..\\x", "tables/../../x.jsonl"])
def test_a_member_path_that_leads_outside_is_refused(cli, archive, tmp_path, name):
    crafted = rewrite(archive, tmp_path / "crafted.zip", add=[(name, b"hello")])
    err = refused(cli, crafted, tmp_path)
    assert "points outside the archive; nothing was imported" in err
    assert not (tmp_path / "escaped.txt").exists()


def test_too_many_members_are_refused_before_the_directory_is_read(cli, archive, tmp_path, monkeypatch):
    # Over the limit by the end record (read before zipfile reads the directory): an honest count...
    many = rewrite(archive, tmp_path / "many.zip", add=[(f"blobs/{i:064x}", b"") for i in range(40)])
    monkeypatch.setattr(limits, "MAX_ARCHIVE_MEMBERS", 30)
    store = Store(tmp_path / "fresh.db", clock=FixedClock(NOW), agent="ana")
    with pytest.raises(DeskError, match=r"many.zip has 5\d members, over the limit of 30 members for one archive"):
        restore_archive(store, many)
    store.close()
    assert_nothing_stored(tmp_path / "fresh.db")
    # ... and, through the real command with the limit as shipped, an end record (zip64) that claims two
    # million members: refused from that record, before a directory that size would be read.
    monkeypatch.undo()
    err = refused(cli, claiming(archive, tmp_path / "claims.zip", 2_000_000), tmp_path)
    assert "claims.zip has 2,000,000 members, over the limit of 1,000,000 members for one archive" in err


def claiming(source: Path, target: Path, members: int) -> Path:
    """``source`` with a zip64 end record (and its locator) before the end record, claiming ``members``."""
    data = source.read_bytes()
    end = data.rfind(b"PK\x05\x06")
    directory_size, directory_at = struct.unpack("<II", data[end + 12 : end + 20])
    record = b"PK\x06\x06" + struct.pack("<QHHIIQQQQ", 44, 45, 45, 0, 0, members, members, directory_size, directory_at)
    locator = b"PK\x06\x07" + struct.pack("<IQI", 0, end, 1)
    tail = bytearray(data[end:])
    tail[8:12] = struct.pack("<HH", 0xFFFF, 0xFFFF)
    target.write_bytes(data[:end] + record + locator + bytes(tail))
    return target


def test_a_member_the_manifest_does_not_name_is_refused(cli, archive, tmp_path):
    err = refused(cli, rewrite(archive, tmp_path / "extra.zip", add=[("notes.txt", b"hi")]), tmp_path)
    assert "extra.zip: the member 'notes.txt' is not part of a tui-desk archive; nothing was imported" in err
    content = b"an attachment the manifest does not count"
    extra_blob = (f"blobs/{hashlib.sha256(content).hexdigest()}", content)
    err = refused(cli, rewrite(archive, tmp_path / "blob.zip", add=[extra_blob]), tmp_path)
    assert "blob.zip holds 2 attachment content(s), but its manifest says 1; nothing was imported" in err


def test_a_member_twice_is_refused(cli, archive, tmp_path):
    with pytest.warns(UserWarning, match="Duplicate name"):
        twice = rewrite(archive, tmp_path / "twice.zip", add=[("tables/ticket.jsonl", b"")])
    err = refused(cli, twice, tmp_path)
    assert "twice.zip holds the member 'tables/ticket.jsonl' twice; nothing was imported" in err


def test_an_attachment_of_another_size_than_its_row_is_refused(cli, archive, tmp_path):
    member = blob_member(archive)
    crafted = rewrite(archive, tmp_path / "size.zip", replace={member: b"short"})
    err = refused(cli, crafted, tmp_path)
    assert f"size.zip: attachment content {member[6:22]}… unpacks to 5 bytes, but its row says 10240" in err


def test_a_table_with_other_rows_than_the_manifest_counts_is_refused(cli, archive, tmp_path):
    with zipfile.ZipFile(archive) as zf:
        lines = zf.read("tables/status_change.jsonl").splitlines(keepends=True)
    crafted = rewrite(archive, tmp_path / "rows.zip", replace={"tables/status_change.jsonl": b"".join(lines[:-1])})
    err = refused(cli, crafted, tmp_path)
    assert "rows.zip: tables/status_change.jsonl holds 1 rows, but the manifest says 2; nothing was imported" in err
    missing = rewrite(archive, tmp_path / "gone.zip", drop=["tables/attachment.jsonl"])
    assert "tables/attachment.jsonl is missing" in refused(cli, missing, tmp_path)


def test_a_member_altered_after_its_directory_entry_is_refused(cli, archive, tmp_path):
    """The directory's CRC no longer matches what the member unpacks to: damaged, nothing stored."""
    data = bytearray(archive.read_bytes())
    name = b"tables/log_entry.jsonl"
    at = data.find(b"PK\x01\x02", data.rfind(b"PK\x05\x06") - 4096)  # the central directory
    while data[at + 46 : at + 46 + len(name)] != name:
        at = data.find(b"PK\x01\x02", at + 4)
    data[at + 16 : at + 20] = struct.pack("<I", struct.unpack("<I", data[at + 16 : at + 20])[0] ^ 1)
    crafted = tmp_path / "crc.zip"
    crafted.write_bytes(bytes(data))
    err = refused(cli, crafted, tmp_path)
    assert "crc.zip: tables/log_entry.jsonl is damaged (Bad CRC-32 for file 'tables/log_entry.jsonl')" in err


def test_a_row_over_the_row_limit_is_refused(archive, tmp_path, monkeypatch):
    monkeypatch.setattr(limits, "MAX_ARCHIVE_ROW", 200)
    store = Store(tmp_path / "fresh.db", clock=FixedClock(NOW), agent="ana")
    with pytest.raises(DeskError, match=r"desk.zip: tables/\w+.jsonl line 1 is over 0 MB, the limit for one row"):
        restore_archive(store, archive)
    store.close()
    assert_nothing_stored(tmp_path / "fresh.db")


def test_a_manifest_that_counts_differently_is_refused(cli, archive, tmp_path):
    manifest = manifest_of(archive)
    manifest["tables"]["ticket"]["rows"] = 3
    crafted = rewrite(archive, tmp_path / "count.zip", replace={MANIFEST: json.dumps(manifest).encode()})
    err = refused(cli, crafted, tmp_path)
    assert "count.zip: tables/ticket.jsonl holds 2 rows, but the manifest says 3; nothing was imported" in err
