"""Read-only mode: a WAL store read as it is, every write refused with a clear message (store, CLI, console)."""

from __future__ import annotations

import hashlib
import sqlite3

import pytest
from test_supervisor import build_desk, make_app, settle, sync

from tui_desk.domain.errors import DeskError
from tui_desk.domain.statuses import Status
from tui_desk.store import Store


def digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_read_only_reads_a_live_wal_store(db_path, clock):
    writer = Store(db_path, clock=clock, agent="ana")
    # Another connection stays open, so the writer's commits stay in the WAL (nothing checkpoints them).
    other = sqlite3.connect(db_path)
    other.execute("SELECT count(*) FROM ticket").fetchone()
    case = writer.create_ticket(customer="Ana", subject="In the WAL").case_number
    wal = db_path.with_name(db_path.name + "-wal")
    assert wal.stat().st_size > 0
    assert other.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    before = digest(db_path)

    ro = Store(db_path, clock=clock, agent="sam", read_only=True)
    assert ro.get(case).subject == "In the WAL"
    with pytest.raises(DeskError, match="read-only"):
        ro.create_ticket(customer="Bo", subject="Nope")
    with pytest.raises(DeskError, match="read-only"):
        ro.change_status(case, Status.L1)
    # Even a raw write through the read-only connection is refused by SQLite itself.
    with pytest.raises(DeskError, match="read-only"), ro.reading():
        ro.db.execute_sql("UPDATE ticket SET customer = 'x'")
    ro.close()
    assert digest(db_path) == before
    assert writer.get(case).customer == "Ana"
    # The writer is not disturbed by the reader.
    writer.change_status(case, Status.L1)
    other.close()
    writer.close()


def test_read_only_cli_refuses_every_write(store, clock, cli):
    case = store.create_ticket(customer="Ana", subject="Lamp").case_number
    store.close()
    before = cli.json("show", case)
    writes = [
        ("new", "--customer", "Bo", "--subject", "x"),
        ("log", case, "--channel", "note", "--summary", "x"),
        ("status", case, "l1"),
        ("assign", case, "bo"),
        ("tag", case, "vip"),
        ("refund", case, "--amount", "3"),
    ]
    for args in writes:
        assert "read-only" in cli.fails("--read-only", *args)
        assert "read-only" in cli.fails(*args, TUI_DESK_READ_ONLY="1")
    assert cli.json("show", case) == before
    # Reading works.
    assert cli.json("--read-only", "show", case)["case_number"] == case
    assert cli.ok("--read-only", "report").returncode == 0
    assert cli.ok("overdue", TUI_DESK_READ_ONLY="1").returncode == 0


def test_read_only_needs_an_existing_store(cli, tmp_path):
    assert "no store" in cli.fails("--read-only", "supervise", db=tmp_path / "none.db")
    assert not (tmp_path / "none.db").exists()


@sync
async def test_read_only_console_refuses_with_a_message(db_path, store, clock):
    cases = build_desk(store, clock)
    ro = Store(db_path, clock=clock, agent="sam", read_only=True)
    app = make_app(ro, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert app.screen.current_case() == cases["T1"]
        for key in ("a", "A"):
            await pilot.press(key)
            await settle(pilot)
            messages = [n.message for n in app._notifications]
            assert any("read-only" in m for m in messages), messages
            assert type(app.screen).__name__ == "OverdueScreen"  # no assign dialog opened
        title = str(app.screen.query_one("#title").render())
        assert "read-only" in title
    assert store.get(cases["T1"]).assignee == "ben"
    ro.close()
