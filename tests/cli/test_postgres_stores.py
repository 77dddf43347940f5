"""The PostgreSQL driver loaded only for a PostgreSQL store; a PostgreSQL store backed up (its archive, read
in one snapshot), restored into an empty store, and the demo built in an empty PostgreSQL database; the
snapshot itself on both backends."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys

import pytest
from conftest import NOW, raw_connect

from tui_desk.domain.clock import FixedClock
from tui_desk.store import Store
from tui_desk.store.backend import PostgresUrl
from tui_desk.store.models import Meta

postgres_only = pytest.mark.postgres_only


@pytest.mark.backends
def test_a_snapshot_sees_one_state_while_another_connection_commits(store, db_path):
    store.create_ticket(customer="Ana", subject="Kettle")
    raw = raw_connect(db_path)
    try:
        with store.reading(), store.backend.snapshot(store.db):
            before = Meta.select().count()
            raw.execute("INSERT INTO meta (key, value) VALUES ('probe', 'committed meanwhile')")
            raw.commit()
            during = Meta.select().count()
        after = Meta.select().count()
    finally:
        raw.close()
    assert during == before and after == before + 1


@pytest.mark.backends
def test_the_postgresql_driver_is_loaded_only_for_a_postgresql_store(cli, db_path):
    """Peewee imports psycopg as it loads, a tenth of a second of every command's start: store/__init__.py keeps
    it out until a PostgreSQL store is opened, and such a store then works through it (the real command)."""
    cli.ok("new", "--customer", "Ana", "--subject", "Kettle")
    result, loaded = _loaded_modules(cli, "list", "--json")
    assert result.returncode == 0, result.stderr
    assert [t["customer"] for t in json.loads(result.stdout)] == ["Ana"]
    assert "peewee" in loaded
    # (Peewee's own try of `import psycopg`, refused at once, is listed too: the driver's modules are not.)
    assert any(name.startswith("psycopg.") for name in loaded) == isinstance(db_path, PostgresUrl)


def _loaded_modules(cli, *args: str) -> tuple[subprocess.CompletedProcess, set[str]]:
    """The real command run with ``-X importtime``, and the names of the modules it imported."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "tui_desk", "--db", str(cli.db), *args],
        capture_output=True,
        text=True,
        env=cli.env(),
        timeout=120,
    )
    names = {line.rsplit("|", 1)[1].strip() for line in result.stderr.splitlines() if line.startswith("import time:")}
    return result, names


@pytest.mark.sqlite_only
def test_a_damaged_sqlite_store_is_told_without_loading_the_postgresql_driver(cli, db_path):
    """The driver's errors are caught beside SQLite's only once it is loaded (store/backend.py driver_errors)."""
    number = cli.json("new", "--customer", "Ana", "--subject", "Kettle")["case_number"]
    con = sqlite3.connect(db_path)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    data = bytearray(db_path.read_bytes())
    page = int.from_bytes(data[16:18], "big")
    data[page * 3 : page * 3 + 512] = b"\x55" * 512  # the fourth page scribbled over: a write finds it
    db_path.write_bytes(bytes(data))
    result, loaded = _loaded_modules(cli, "log", number, "--channel", "note", "--summary", "Called back")
    told = [line for line in result.stderr.splitlines() if not line.startswith("import time:")]
    assert result.returncode == 1 and len(told) == 1 and "damaged" in told[0], result.stderr[-2000:]
    assert not any(name.startswith("psycopg.") for name in loaded)


def seed(db, tmp_path) -> list[str]:
    store = Store(db, clock=FixedClock(NOW), agent="ana")
    note = tmp_path / "proof.txt"
    note.write_bytes(b"a photo of the parcel\n" * 40)
    numbers = []
    for i in range(3):
        t = store.create_ticket(customer=f"Buyer {i}", subject=f"Case {i}", email=f"b{i}@example.com")
        store.add_entry(t.case_number, channel="email", summary=f"Proof {i}", sender="buyer", attachments=[note])
        numbers.append(t.case_number)
    store.close()
    return numbers


@postgres_only
def test_postgres_backup_is_a_checked_archive_that_restores_into_an_empty_store_only(cli, db_path, tmp_path, pg_server):
    numbers = seed(db_path, tmp_path)
    backup = tmp_path / "desk-backup.zip"
    made = cli.json("backup", str(backup))
    assert made["verify_ok"] and made["tickets"] == 3 and made["entries"] == 6 and made["attachment_files"] == 1
    assert (backup.stat().st_mode & 0o777) == 0o600 and not list(tmp_path.glob(".desk-backup.zip.tmp*"))
    assert "already exists" in cli.fails("backup", str(backup))

    # Into an empty PostgreSQL store: the same tickets, attachments and seal.
    empty = pg_server.new_store()
    try:
        restored = cli.json("restore", str(backup), "--db", empty)
        assert restored["verify_ok"] and restored["seal_digest"] == made["seal_digest"]
        assert sorted(r["case_number"] for r in cli.json("list", db=PostgresUrl(empty))) == numbers
        assert cli.ok("verify", db=PostgresUrl(empty)).returncode == 0
        # A store with tickets is never emptied to make room, --force or not.
        for extra in ((), ("--force",)):
            err = cli.fails("restore", str(backup), "--db", empty, *extra)
            assert "holds 3 tickets" in err and "empty store only" in err
    finally:
        pg_server.drop_database(empty)
    # Into a new SQLite file too: the archive is the same whichever store it goes to.
    into = tmp_path / "restored.db"
    assert cli.json("restore", str(backup), "--db", str(into))["seal_digest"] == made["seal_digest"]


@postgres_only
def test_postgres_demo_is_seeded_in_an_empty_database_and_never_rebuilt_there(cli, db_path):
    out = cli.ok("demo", "--no-open", "--tickets", "40", "--seed", "3").stdout
    assert f"demo store: {db_path} (40 tickets)" in out
    assert len(cli.json("list")) == 40
    assert "(40 tickets)" in cli.ok("demo", "--no-open", "--tickets", "40", "--seed", "3").stdout  # reused
    err = cli.fails("demo", "--no-open", "--tickets", "50", "--seed", "3")
    assert "holds a demo built with --tickets 40 --seed 3" in err and "new, empty database" in err
    assert "new, empty database" in cli.fails("demo", "--no-open", "--tickets", "40", "--seed", "3", "--fresh")
    assert len(cli.json("list")) == 40
    assert cli.ok("verify").returncode == 0
