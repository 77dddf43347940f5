"""Backup while another process writes, and restore: every write acknowledged before the backup is in it."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

from conftest import NOW

from tui_desk.domain.clock import FixedClock
from tui_desk.store import Store

# A second process that keeps writing: a ticket, an entry with an attachment, and says so after each commit.
WRITER = r"""
import sys
from pathlib import Path
from tui_desk.store import Store
store = Store(Path(sys.argv[1]), agent="writer")
note = Path(sys.argv[2])
for i in range(int(sys.argv[3])):
    ticket = store.create_ticket(customer=f"Buyer {i}", subject=f"Case {i}")
    note.write_bytes(f"attachment {i}\n".encode() * 50)
    store.add_entry(ticket.case_number, channel="email", summary=f"Proof {i}", sender="buyer", attachments=[note])
    print(ticket.case_number, flush=True)
"""


def case_numbers(path: Path) -> set[str]:
    con = sqlite3.connect(path)
    try:
        return {r[0] for r in con.execute("SELECT case_number FROM ticket")}
    finally:
        con.close()


def test_a_backup_taken_while_another_process_writes_restores_every_acknowledged_write(cli, tmp_path):
    Store(cli.db, clock=FixedClock(NOW), agent="ana").close()
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(cli.db), str(tmp_path / "note.txt"), "400"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    acknowledged: list[str] = []
    reader = threading.Thread(target=lambda: acknowledged.extend(line.strip() for line in writer.stdout))
    reader.start()
    try:
        deadline = time.monotonic() + 120
        while len(acknowledged) < 30 and writer.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        before = list(acknowledged)  # acknowledged before the backup began
        assert len(before) >= 30, writer.stderr.read() if writer.poll() is not None else "writer too slow"
        out = cli.ok("backup", str(tmp_path / "backup.db")).stdout
        assert "verify: ok" in out
        still_writing = writer.poll() is None
    finally:
        writer.wait(timeout=300)
        reader.join()
    assert writer.returncode == 0, writer.stderr.read()
    restored = tmp_path / "restored.db"
    out = cli.ok("restore", str(tmp_path / "backup.db"), "--db", str(restored)).stdout
    assert f"into {restored}" in out and "verify: ok" in out
    found = case_numbers(restored)
    assert set(before) <= found
    assert len(found) < 400 or not still_writing  # a snapshot: what came after the backup began is not in it
    assert cli.ok("verify", db=restored).returncode == 0  # the attachment files came along, byte for byte
    assert (restored.with_name("restored.db.files")).is_dir()


def test_restore_refuses_to_replace_a_store_or_to_restore_a_backup_that_does_not_verify(cli, tmp_path):
    store = Store(cli.db, clock=FixedClock(NOW), agent="ana")
    note = tmp_path / "proof.txt"
    note.write_text("proof")
    ticket = store.create_ticket(customer="Kim", subject="Box crushed")
    store.add_entry(ticket.case_number, channel="email", summary="Photo", sender="buyer", attachments=[note])
    store.close()
    backup = tmp_path / "b.db"
    cli.ok("backup", str(backup))
    assert "already exists" in cli.fails("backup", str(backup))
    assert (backup.stat().st_mode & 0o777) == 0o600
    other = tmp_path / "other.db"
    Store(other, clock=FixedClock(NOW), agent="ana").create_ticket(customer="Ola", subject="Theirs")
    err = cli.fails("restore", str(backup), "--db", str(other))
    assert "exists (1 tickets)" in err and "--force" in err
    assert case_numbers(other) == {"TD-REF-2026-00001"}
    out = cli.ok("restore", str(backup), "--db", str(other), "--force").stdout
    assert "1 tickets" in out and "1 attachment file(s)" in out
    # The store --force replaced is kept beside it, checked, with its own ticket: a restore deletes no case log.
    kept = tmp_path / "other.db.replaced-20261115T143000Z"
    assert f"the store it replaced (1 tickets) is kept as {kept}" in out
    assert cli.json("list", db=kept)[0]["subject"] == "Theirs" and cli.ok("verify", db=kept).returncode == 0
    assert cli.json("list", db=other)[0]["subject"] == "Box crushed"
    again = cli.json("restore", str(backup), "--db", str(other), "--force")  # the same second: a new name
    assert again["replaced_store_kept_as"] == f"{kept}-2" and again["replaced_tickets"] == 1
    # An attachment of the backup altered: the backup no longer verifies, and nothing is restored.
    (blob,) = [p for p in (tmp_path / "b.db.files").rglob("*") if p.is_file()]
    blob.chmod(0o600)
    blob.write_text("forged")
    err = cli.fails("restore", str(backup), "--db", str(tmp_path / "new.db"))
    assert "does not verify" in err and "nothing was restored" in err
    assert not (tmp_path / "new.db").exists()
    shutil.rmtree(tmp_path / "b.db.files")
    assert "does not verify" in cli.fails("restore", str(backup), "--db", str(tmp_path / "new.db"))
