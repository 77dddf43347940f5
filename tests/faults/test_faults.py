"""Kill -9 at random points during writes, sweeps and imports (real processes): nothing acknowledged is lost,
nothing is half-applied, the file stays sound, and every chain verifies.

Rounds are few in the normal suite and many with ``--run-slow``; each round kills real ``tui-desk``
processes or writer processes at a random moment, then the next round reopens the same store.
"""

from __future__ import annotations

import csv
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import TUI_DESK, workers_done

from tui_desk.domain.clock import FixedClock
from tui_desk.domain.statuses import Status
from tui_desk.store import Store
from tui_desk.store.verify import verify_store

# A writer acknowledges each operation on stdout only after the store call returned (committed).
WRITER = r"""
import os, random, sys
from pathlib import Path
from tui_desk.domain.errors import DeskError
from tui_desk.domain.statuses import Status
from tui_desk.store import Store

db, tag, seed, folder = sys.argv[1:5]
rng = random.Random(int(seed))
store = Store(db, agent="w" + tag)
cases = [t.case_number for t in store.list_tickets(limit=50)]
i = 0
while True:
    i += 1
    token = f"{tag}-{i}"
    roll = rng.random()
    if roll < 0.25 or not cases:
        t = store.create_ticket(customer="C " + token, subject="S " + token, description="d" * rng.randint(0, 4000))
        cases.append(t.case_number)
        print("new", t.case_number, 1, token, flush=True)
    elif roll < 0.75:
        files = []
        for n in range(rng.randint(0, 2)):
            f = Path(folder) / f"{token}-{n}.bin"
            f.write_bytes(os.urandom(rng.randint(1, 300_000)))
            files.append(f)
        case = rng.choice(cases)
        e = store.add_entry(case, channel="email", summary="E " + token, body="b" * rng.randint(0, 8000),
                            attachments=files)
        print("entry", case, e.seq, token, flush=True)
    else:
        case = rng.choice(cases)
        current = store.get(case).status
        target = Status.WAITING_BUYER if current == Status.L1.slug else Status.L1
        try:
            t = store.change_status(case, target)
        except DeskError:  # the other writer moved it first: refused under the lock, nothing written
            continue
        print("status", case, t.log_count, token, flush=True)
"""


def _rounds(request, normal: int, slow: int) -> int:
    return slow if request.config.getoption("--run-slow") else normal


def _integrity(db: Path) -> None:
    con = sqlite3.connect(db)
    try:
        assert con.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert con.execute("PRAGMA foreign_key_check").fetchall() == []
    finally:
        con.close()


def _kill(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)


def _no_half_applied(db: Path) -> None:
    """Every entry with its consequences: counts match, timer actions have their entry and outbox message."""
    from conftest import raw_connect

    con = raw_connect(db)
    try:
        q = con.execute
        # The ticket's count and head move in the same transaction as the entry.
        assert q(
            "SELECT COUNT(*) FROM ticket t "
            "WHERE log_count != (SELECT COUNT(*) FROM log_entry e WHERE e.ticket_id = t.id)"
        ).fetchone() == (0,)
        # Every ticket has its acknowledgement, its first status change and its message to the customer.
        assert q(
            "SELECT COUNT(*) FROM ticket t WHERE NOT EXISTS (SELECT 1 FROM log_entry e WHERE e.ticket_id = t.id "
            "AND e.seq = 1)"
        ).fetchone() == (0,)
        assert q(
            "SELECT COUNT(*) FROM ticket t WHERE NOT EXISTS (SELECT 1 FROM status_change s WHERE s.ticket_id = t.id)"
        ).fetchone() == (0,)
        # Every status entry has its status change, and the reverse.
        assert q(
            "SELECT COUNT(*) FROM log_entry e WHERE e.kind = 'status' AND NOT EXISTS "
            "(SELECT 1 FROM status_change s WHERE s.entry_id = e.id)"
        ).fetchone() == (0,)
        # Timer actions: the event, its log entry and (for messages) its outbox message, together.
        assert q("SELECT COUNT(*) FROM timer_event WHERE outcome != 'skipped' AND entry_id IS NULL").fetchone() == (0,)
        assert q(
            "SELECT COUNT(*) FROM log_entry e WHERE e.kind IN ('reminder', 'auto_close', 'resolved_close') "
            "AND NOT EXISTS (SELECT 1 FROM timer_event v WHERE v.entry_id = e.id)"
        ).fetchone() == (0,)
        assert q(
            "SELECT COUNT(*) FROM timer_event v WHERE v.action IN ('reminder', 'auto_close') "
            "AND v.outcome != 'skipped' AND NOT EXISTS "
            "(SELECT 1 FROM outbox_message m WHERE m.timer_event_id = v.id)"
        ).fetchone() == (0,)
        # The same action twice for the same period is impossible.
        assert q(
            "SELECT COUNT(*) FROM (SELECT 1 FROM timer_event GROUP BY ticket_id, action, period_started_at, slot "
            "HAVING COUNT(*) > 1) AS twice"
        ).fetchone() == (0,)
        assert q(
            "SELECT COUNT(*) FROM (SELECT 1 FROM ticket GROUP BY case_number HAVING COUNT(*) > 1) AS x"
        ).fetchone() == (0,)
    finally:
        con.close()


def _verified(db: Path) -> None:
    store = Store(db, agent="checker", read_only=True)
    report = verify_store(store)
    store.close()
    assert report.ok, [p.line() for p in report.problems[:10]]


def test_kill_9_during_writes_loses_nothing_acknowledged(request, tmp_path):
    db = tmp_path / "desk.db"
    Store(db, agent="setup").close()
    folder = tmp_path / "incoming"
    folder.mkdir()
    rng = random.Random(1)
    acked: list[tuple[str, str, int, str]] = []
    rounds = _rounds(request, 6, 40)
    deadline = time.monotonic() + (60 if rounds > 6 else 25)
    kills_during_write = 0
    for r in range(rounds):
        if time.monotonic() > deadline:
            break
        writers = [
            subprocess.Popen(
                [sys.executable, "-c", WRITER, str(db), f"r{r}w{w}", str(rng.randrange(10**6)), str(folder)],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for w in range(2)
        ]
        time.sleep(rng.uniform(0.8, 2.5))
        for proc in writers:
            _kill(proc)
            out, err = proc.communicate()
            assert "Traceback" not in err, err
            lines = [line.split() for line in out.splitlines()]
            acked += [(kind, case, int(seq), token) for kind, case, seq, token in lines]
            kills_during_write += bool(lines)
        _integrity(db)
    assert kills_during_write >= 2, "the writers never got to write before the kill: raise the sleep"
    assert len(acked) > 10
    store = Store(db, agent="checker", read_only=True)
    for kind, case, seq, token in acked:
        ticket = store.get(case)
        entries = {e.seq: e for e in store.entries(ticket)}
        assert seq in entries, (kind, case, seq)
        if kind == "new":
            assert ticket.subject == "S " + token
        elif kind == "entry":
            assert entries[seq].summary == "E " + token
        else:
            assert entries[seq].kind == "status"
    store.close()
    _no_half_applied(db)
    _verified(db)
    # Left-over temporary files of killed copies never count as attachments.
    files = Path(str(db) + ".files")
    leftovers = list(files.glob(".incoming-*"))
    assert all(p.stat().st_size >= 0 for p in leftovers)


def _events(db: Path) -> int:
    con = sqlite3.connect(db)
    try:
        return con.execute("SELECT COUNT(*) FROM timer_event").fetchone()[0]
    finally:
        con.close()


def _waiting_store(db: Path, count: int, start: datetime) -> None:
    store = Store(db, clock=FixedClock(start), agent="setup")
    for i in range(count):
        t = store.create_ticket(customer=f"Buyer {i}", subject=f"Waiting {i}", email=f"b{i}@example.com")
        store.change_status(t.case_number, Status.WAITING_BUYER if i % 3 else Status.WAITING_SELLER)
    store.close()


def test_kill_9_during_sweeps_applies_each_action_once_and_whole(request, tmp_path):
    db = tmp_path / "desk.db"
    start = datetime(2026, 10, 1, 9, 0, tzinfo=UTC)
    count = _rounds(request, 400, 1500)
    _waiting_store(db, count, start)
    env = dict(os.environ, TUI_DESK_AGENT="sweeper")
    rng = random.Random(2)
    killed = 0
    # Three moments: reminders due (day 4), more reminders (day 10), auto-close (day 31).
    for day in (4, 10, 31):
        env["TUI_DESK_NOW"] = (start + timedelta(days=day)).isoformat()
        for n in range(_rounds(request, 2, 10)):
            proc = subprocess.Popen(
                [TUI_DESK, "--db", str(db), "sweep", "--json"],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env=env,
            )
            before = _events(db)
            if n == 0:
                # Aim inside the work: wait for the first committed batch, then kill a moment later.
                end = time.monotonic() + 20
                while _events(db) == before and proc.poll() is None and time.monotonic() < end:
                    time.sleep(0.01)
                time.sleep(rng.uniform(0, 0.2))
            else:
                time.sleep(rng.uniform(0.4, 2.0))
            alive = proc.poll() is None
            _kill(proc)
            killed += alive and _events(db) > before  # it had applied some of its work when it died
            assert "Traceback" not in proc.stderr.read()
            _integrity(db)
            _no_half_applied(db)
        finished = subprocess.run(
            [TUI_DESK, "--db", str(db), "sweep", "--json"], capture_output=True, text=True, env=env, timeout=300
        )
        assert finished.returncode == 0, finished.stderr
        _no_half_applied(db)
    assert killed >= 1, "no sweep was killed in the middle of its work: raise the ticket count"
    con = sqlite3.connect(db)
    statuses = dict(con.execute("SELECT status, COUNT(*) FROM ticket GROUP BY status").fetchall())
    closes = con.execute("SELECT COUNT(*) FROM timer_event WHERE action = 'auto_close'").fetchone()[0]
    con.close()
    assert statuses == {Status.CLOSED.slug: count}
    assert closes == count
    _verified(db)


def test_kill_9_during_import_is_all_or_nothing(request, tmp_path):
    db = tmp_path / "desk.db"
    Store(db, agent="setup").close()
    rows = 20_000  # long enough that the kill lands inside the import, not after it
    env = dict(os.environ, TUI_DESK_AGENT="importer", TUI_DESK_NOW="2026-11-15T14:30:00+00:00")
    rng = random.Random(3)
    killed = 0
    for r in range(_rounds(request, 2, 10)):
        sheet = tmp_path / f"sheet{r}.csv"
        with sheet.open("w", newline="") as f:
            out = csv.writer(f)
            out.writerow(
                [
                    "Case Number",
                    "Customer",
                    "Open Date",
                    "Issue Summary",
                    "Communication Log (Latest)",
                    "Status",
                    "Resolution Date",
                ]
            )
            for i in range(rows):
                out.writerow(
                    [
                        f"GTB-REF-{(r + 1) * 100_000 + i}",
                        f"c{i}@example.com",
                        "2023-10-26",
                        f"Item {i}",
                        "2023-10-28: Customer sent a video. 2023-10-29: RMA approved.",
                        "Refund Initiated",
                        "2023-11-02",
                    ]
                )
        proc = subprocess.Popen(
            [TUI_DESK, "--db", str(db), "import", str(sheet)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        time.sleep(rng.uniform(0.4, 1.6))  # a 20,000-row import takes ~2.5 s here (its helper process from ~0.4 s)
        killed += proc.poll() is None
        _kill(proc)
        _integrity(db)
        con = sqlite3.connect(db)
        got = con.execute(
            "SELECT COUNT(*) FROM ticket WHERE case_number LIKE ?", (f"GTB-REF-{r + 1}_____",)
        ).fetchone()[0]
        con.close()
        assert got in (0, rows), f"import half-applied: {got} of {rows}"
        _no_half_applied(db)
        again = subprocess.run(
            [TUI_DESK, "--db", str(db), "import", str(sheet)], capture_output=True, text=True, env=env, timeout=300
        )
        assert again.returncode == 0, again.stderr
        con = sqlite3.connect(db)
        assert (
            con.execute("SELECT COUNT(*) FROM ticket WHERE case_number LIKE ?", (f"GTB-REF-{r + 1}_____",)).fetchone()[
                0
            ]
            == rows
        )
        con.close()
    assert killed >= 1, "every import finished before the kill: make the sheet longer"
    _no_half_applied(db)
    _verified(db)
    # The helper process of a killed import (store/staging.py) ends by itself and takes its file with it.
    deadline = time.monotonic() + 30
    while (left := sorted(tmp_path.glob(".desk.db.load-*"))) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert left == [], left


@pytest.mark.parametrize("mode", ["max_page_count", "tmpfs"])
def test_disk_full_gives_a_clear_message_and_keeps_everything(cli, tmp_path, mode):
    """A full disk: the write is refused in one line and the store keeps what it had."""
    if mode == "tmpfs":
        mount = tmp_path / "small"
        mount.mkdir()
        made = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)], capture_output=True)
        if made.returncode:
            pytest.skip(f"cannot mount a tiny tmpfs here: {made.stderr.decode().strip()}")
        db = mount / "desk.db"
    else:
        mount = None
        db = tmp_path / "desk.db"
    try:
        cli.ok("new", "--customer", "Jane", "--subject", "first", db=db)
        if mode == "max_page_count":
            con = sqlite3.connect(db)
            con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            pages = con.execute("PRAGMA page_count").fetchone()[0]
            con.close()
            # max_page_count lasts one connection: a ~one-line wrapper sets it before the real command runs.
            runner = [sys.executable, "-c", _FULL_AT.format(pages=pages + 2)]
        else:
            runner = [TUI_DESK]
        before = cli.json("show", "TD-REF-2026-00001", db=db)
        big = "x" * 400_000
        failed = None
        for i in range(20):
            result = subprocess.run(
                [
                    *runner,
                    "--db",
                    str(db),
                    "log",
                    "TD-REF-2026-00001",
                    "--channel",
                    "note",
                    "--summary",
                    f"n{i}",
                    "--body",
                    "-",
                ],
                input=big,
                capture_output=True,
                text=True,
                env=cli.env(),
                timeout=60,
            )
            if result.returncode:
                failed = result
                break
        assert failed is not None, "the disk never filled"
        err = failed.stderr.strip()
        assert "Traceback" not in err and len(err.splitlines()) == 1, err
        assert "full" in err, err
        after = cli.json("show", "TD-REF-2026-00001", db=db)
        assert after["log"][: len(before["log"])] == before["log"]
        assert len(after["log"]) == len(before["log"]) + i  # the refused entry is not there, the others are
        _integrity(db)
    finally:
        if mount is not None:
            subprocess.run(["umount", str(mount)], capture_output=True)


_FULL_AT = r"""
import sys
import peewee
from tui_desk.store import sqlite
sqlite.PRAGMAS["max_page_count"] = {pages}
from tui_desk.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_read_only_store_file_gives_a_clear_message(cli, tmp_path):
    """A store the user may not write (a read-only mount, a file of another account): refused in one line."""
    mount = tmp_path / "ro"
    mount.mkdir()
    db = mount / "desk.db"
    cli.ok("new", "--customer", "Jane", "--subject", "first", db=db)
    before = db.read_bytes()
    made = subprocess.run(["mount", "--bind", "-o", "ro", str(mount), str(mount)], capture_output=True)
    if made.returncode:
        pytest.skip(f"cannot bind-mount read-only here: {made.stderr.decode().strip()}")
    try:
        subprocess.run(["mount", "-o", "remount,bind,ro", str(mount)], capture_output=True)
        err = cli.fails("log", "TD-REF-2026-00001", "--channel", "note", "--summary", "x", db=db)
        assert "read-only" in err or "cannot open" in err, err
        # The console (no command) is refused the same way before it takes the screen.
        assert "read-only" in cli.fails(db=db)
        assert db.read_bytes() == before
    finally:
        subprocess.run(["umount", str(mount)], capture_output=True)


# -- the console on a full disk and a read-only store ---------------------------------------------


def _fill(folder: Path) -> Path:
    """Fill the filesystem holding ``folder`` to the last byte."""
    filler = folder / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        for block in (1 << 16, 1 << 10, 1):
            try:
                while True:
                    os.write(fd, b"\0" * block)
            except OSError:
                pass
    finally:
        os.close(fd)
    return filler


def test_console_on_a_full_disk_keeps_running_and_keeps_the_typed_entry(tmp_path):
    """The save fails with a clear message on the form; the form keeps what was typed; after the fault
    clears, the same form saves it."""
    import asyncio

    from textual.widgets import Input, TextArea

    from tui_desk.tui.app import DeskApp
    from tui_desk.tui.screens.forms.log_entry import LogEntryScreen

    mount = tmp_path / "m"
    mount.mkdir()
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)], capture_output=True)
    if made.returncode:
        pytest.skip(f"cannot mount a tmpfs here: {made.stderr.decode().strip()}")
    try:
        store = Store(mount / "desk.db", clock=FixedClock(datetime(2026, 11, 15, 14, 30, tzinfo=UTC)), agent="ana")
        case = store.create_ticket(customer="Jane", subject="Kettle", email="j@example.com").case_number
        body = "A long call. " * 20_000  # 260 kB: more than the space left once the disk is full

        async def run() -> None:
            app = DeskApp(store, timers=False)
            async with app.run_test(size=(120, 40)) as pilot:
                for _ in range(3):
                    await workers_done(app)
                    await pilot.pause()
                app.open_ticket(case)
                await workers_done(app)
                await pilot.pause()
                await pilot.press("l")
                await workers_done(app)
                await pilot.pause()
                form = app.screen
                assert isinstance(form, LogEntryScreen)
                form.query_one("#summary", Input).value = "Customer called about the refund"
                form.query_one("#body", TextArea).text = body
                await pilot.pause(0.6)  # the draft timer fires before the fault
                await workers_done(app)
                filler = _fill(mount)
                await pilot.press("ctrl+s")
                for _ in range(5):
                    await workers_done(app)
                    await pilot.pause()
                assert app.is_running and app.screen is form, "the form closed on a failed save"
                error = str(form.query_one("#form-error").render())
                assert "Not saved" in error and "full" in error, error
                assert form.query_one("#summary", Input).value == "Customer called about the refund"
                assert form.query_one("#body", TextArea).text == body
                filler.unlink()
                await pilot.press("ctrl+s")
                for _ in range(5):
                    await workers_done(app)
                    await pilot.pause()
                assert not isinstance(app.screen, LogEntryScreen)

        asyncio.run(run())
        entries = store.entries(store.get(case))
        assert entries[-1].summary == "Customer called about the refund" and entries[-1].body == body
        store.close()
        _integrity(mount / "desk.db")
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True)
