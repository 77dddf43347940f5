"""Hostile input, table by table: each refused input gives one line and exit 1 (2 for a malformed
command line), and leaves the store, its -wal and its attachment folder byte for byte as they were.

One store with a few tickets is built once per module and copied for each case, so a hundred cases
stay fast; every case runs the real ``tui-desk`` in a subprocess.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import stat
import subprocess
from pathlib import Path

import pytest
from conftest import CLI, SHEETS_DATA, TUI_DESK

OPEN = "TD-REF-2026-00001"
CLOSED = "TD-REF-2026-00002"
UNKNOWN = "TD-REF-2026-09999"


def fingerprint(db: Path) -> dict[str, str]:
    """SHA-256 of the store, its -wal and every file (and folder) in its attachment folder.

    An empty -wal is the same as none (a read-only reader leaves one behind; it holds nothing).
    """
    out: dict[str, str] = {}
    for path in (db, Path(f"{db}-wal")):
        if path.exists() and path.stat().st_size:
            out[path.name] = hashlib.sha256(path.read_bytes()).hexdigest()
    files = Path(f"{db}.files")
    if files.exists():
        for p in sorted(files.rglob("*")):
            out[str(p.relative_to(db.parent))] = "dir" if p.is_dir() else hashlib.sha256(p.read_bytes()).hexdigest()
    return out


@pytest.fixture(scope="module")
def seeded(tmp_path_factory) -> Path:
    """A store with an open ticket (with one attachment) and a Closed one."""
    folder = tmp_path_factory.mktemp("seed")
    cli = CLI(folder / "desk.db")
    cli.ok("new", "--customer", "Jane Roe", "--subject", "Kettle broken", "--email", "jane@example.com")
    proof = folder / "proof.txt"
    proof.write_text("posted on Monday")
    cli.ok("log", OPEN, "--channel", "email", "--summary", "Proof of postage", "--attach", str(proof))
    cli.ok("new", "--customer", "Tom Poe", "--subject", "Late parcel")
    cli.ok("status", CLOSED, "closed", "--note", "sorted by phone")
    return folder / "desk.db"


@pytest.fixture
def desk(seeded, tmp_path) -> CLI:
    db = tmp_path / "desk.db"
    for name in ("desk.db", "desk.db-wal"):
        if (seeded.parent / name).exists():
            shutil.copy2(seeded.parent / name, tmp_path / name)
    if Path(f"{seeded}.files").exists():
        shutil.copytree(f"{seeded}.files", f"{db}.files")
    (tmp_path / "note.txt").write_text("a note")
    return CLI(db)


def refused(desk: CLI, argv: list[str], pattern: str, *, status: int = 1, stdin: str | None = None, **env: str):
    """Run a command that must be refused, and check the store did not move by a byte."""
    before = fingerprint(desk.db)
    result = desk.run(*argv, input=stdin, **env)
    err = result.stderr.strip()
    assert result.returncode == status, (result.returncode, err, result.stdout)
    assert "Traceback" not in err, err
    assert len(err.splitlines()) == 1, err
    assert err.startswith("tui-desk: error: "), err
    assert re.search(pattern, err), err
    assert fingerprint(desk.db) == before, "a refused input changed the store"
    return err


def _fill(argv: list[str], tmp: Path) -> list[str]:
    return [a.format(tmp=tmp) for a in argv]


NOTE = "{tmp}/note.txt"
ATTACH = ["--channel", "email", "--summary", "x", "--attach", NOTE]

# -- a refused write writes nothing, attachments included ---------------------------------------------
WRITES_NOTHING = [
    ("read-only log with attachment", ["--read-only", "log", OPEN, *ATTACH], "read-only", {}),
    ("read-only by environment", ["log", OPEN, *ATTACH], "read-only", {"TUI_DESK_READ_ONLY": "1"}),
    ("log on a Closed ticket", ["log", CLOSED, *ATTACH], "Closed is final", {}),
    ("log on an unknown case", ["log", UNKNOWN, *ATTACH], "no ticket", {}),
    ("log with a bad status", ["log", OPEN, *ATTACH, "--status", "nonsense"], "status", {}),
    ("log with a refused move", ["log", OPEN, *ATTACH, "--status", "closed"], "summary|note", {}),
    ("log correcting a missing entry", ["log", OPEN, *ATTACH, "--corrects", "99"], "no entry 99", {}),
]


@pytest.mark.parametrize(
    ("argv", "pattern", "env"), [c[1:] for c in WRITES_NOTHING], ids=[c[0] for c in WRITES_NOTHING]
)
def test_refused_write_stores_no_attachment(desk, argv, pattern, env):
    refused(desk, _fill(argv, desk.db.parent), pattern, **env)


# -- files holding customer data are owner-only, whatever the umask ----------------------------------
@pytest.fixture
def open_umask():
    old = os.umask(0)
    yield
    os.umask(old)


@pytest.mark.parametrize(
    "argv",
    [
        ["export", "--out", "{tmp}/out.csv"],
        ["export", "--format", "json", "--out", "{tmp}/out.csv"],
        ["import", str(SHEETS_DATA / "bad_date.csv"), "--skip-bad", "--report", "{tmp}/out.csv"],
    ],
    ids=["export csv", "export json", "skip-bad report"],
)
def test_customer_files_are_owner_only(desk, open_umask, argv):
    out = desk.db.parent / "out.csv"
    out.write_text("older")
    out.chmod(0o666)
    desk.ok(*_fill(argv, desk.db.parent))
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert out.read_text() != "older"


def test_console_state_file_is_owner_only(tmp_path, open_umask):
    from tui_desk.tui.state import keep_new_ticket_draft

    path = tmp_path / "state.json"
    keep_new_ticket_draft(tmp_path / "desk.db", {"customer": "Jane Roe"}, path=path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_report_that_cannot_be_written_stops_the_import_first(desk):
    sheet = SHEETS_DATA / "bad_date.csv"
    refused(desk, ["import", str(sheet), "--skip-bad", "--report", "/nonexistent/r.csv"], "cannot write the report")


@pytest.mark.parametrize(
    "argv",
    [["--read-only", "demo", "--no-open", "--tickets", "5"], ["demo", "--no-open", "--tickets", "5", "--fresh"]],
    ids=["--read-only", "--fresh with TUI_DESK_READ_ONLY"],
)
def test_read_only_demo_builds_nothing(tmp_path, argv):
    cli = CLI(tmp_path / "demo.db")
    result = cli.run(*argv, TUI_DESK_READ_ONLY="1")
    assert result.returncode == 1 and "read-only" in result.stderr, result.stderr
    assert sorted(os.listdir(tmp_path)) == []


# -- limits: one line, the store untouched ---------------------------------------------------------
BIG = "9223372036854775808"  # 2**63: one past SQLite's INTEGER
LIMITS = [
    # (id, argv, pattern, exit status, environment)
    (
        "attach /dev/zero",
        ["log", OPEN, "--channel", "email", "--summary", "x", "--attach", "/dev/zero"],
        "not a regular file",
        1,
        {},
    ),
    (
        "attach /dev/null",
        ["log", OPEN, "--channel", "email", "--summary", "x", "--attach", "/dev/null"],
        "not a regular file",
        1,
        {},
    ),
    (
        "attach a FIFO",
        ["log", OPEN, "--channel", "email", "--summary", "x", "--attach", "{tmp}/fifo"],
        "not a regular file",
        1,
        {},
    ),
    (
        "attach over the cap",
        ["log", OPEN, "--channel", "email", "--summary", "x", "--attach", "{tmp}/big.bin"],
        "over the limit of 1 MB",
        1,
        {"CONFIG": "[attachments]\nmax_mb = 1\n"},
    ),
    (
        "attach a folder",
        ["log", OPEN, "--channel", "email", "--summary", "x", "--attach", "{tmp}"],
        "is a folder",
        1,
        {},
    ),
    (
        "attach a missing file",
        ["log", OPEN, "--channel", "email", "--summary", "x", "--attach", "{tmp}/gone"],
        "no such file",
        1,
        {},
    ),
    (
        "--corrects 2**63",
        ["log", OPEN, "--channel", "email", "--summary", "x", "--corrects", BIG],
        "out of range",
        2,
        {},
    ),
    (
        "--corrects negative",
        ["log", OPEN, "--channel", "email", "--summary", "x", "--corrects=-1"],
        "out of range",
        2,
        {},
    ),
    ("--limit 2**63", ["list", "--limit", BIG], "out of range", 2, {}),
    ("--limit 10**30", ["list", "--limit", "1" + "0" * 30], "out of range", 2, {}),
    ("--limit negative", ["list", "--limit", "-1"], "out of range", 2, {}),
    ("--limit words", ["list", "--limit", "ten"], "not a whole number", 2, {}),
    ("--mark-sent 2**63", ["outbox", "--mark-sent", BIG], "out of range", 2, {}),
    ("--if-version 2**63", ["status", OPEN, "l1", "--if-version", BIG], "out of range", 2, {}),
    ("--if-version negative", ["status", OPEN, "l1", "--if-version=-5"], "out of range", 2, {}),
    ("demo --tickets 2**63", ["demo", "--no-open", "--tickets", BIG], "out of range", 2, {}),
    (
        "TUI_DESK_NOW year 9999",
        ["log", OPEN, "--channel", "email", "--summary", "x"],
        "out of range",
        1,
        {"TUI_DESK_NOW": "9999-12-31T23:59:59+00:00"},
    ),
    ("TUI_DESK_NOW 9999 behind UTC", ["list"], "TUI_DESK_NOW", 1, {"TUI_DESK_NOW": "9999-12-31T23:59:59-05:00"}),
    ("TUI_DESK_NOW year 1", ["list"], "out of range", 1, {"TUI_DESK_NOW": "0001-01-01T00:00:00+00:00"}),
    (
        "TUI_DESK_NOW 1969",
        ["new", "--customer", "c", "--subject", "s"],
        "out of range",
        1,
        {"TUI_DESK_NOW": "1969-12-31T23:59:59+00:00"},
    ),
    ("TUI_DESK_NOW garbage", ["list"], "not an ISO 8601", 1, {"TUI_DESK_NOW": "yesterday-ish"}),
    ("--at year 1", ["log", OPEN, "--channel", "email", "--summary", "x", "--at", "0001-01-01"], "out of range", 1, {}),
    (
        "--follow-up year 3000",
        ["log", OPEN, "--channel", "email", "--summary", "x", "--follow-up", "3000-01-01"],
        "out of range",
        1,
        {},
    ),
]
CONFIGS = [
    ("reminder every 9 seconds", "[timers]\nreminder_days = 0.0001\n", "at least an hour"),
    ("reminder_days NaN", "[timers]\nreminder_days = nan\n", "positive number"),
    ("reminder_days infinite", "[timers]\nreminder_days = inf\n", "positive number|at most"),
    ("close_after_days NaN", "[timers]\nclose_after_days = nan\n", "positive number"),
    ("sweep interval NaN", "[timers]\nsweep_interval_seconds = nan\n", "positive number"),
    ("21 reminders", "[timers]\nmax_reminders = 21\n", "from 0 to 20"),
    ("a million reminders", "[timers]\nmax_reminders = 1000000\n", "from 0 to 20"),
    ("negative reminders", "[timers]\nmax_reminders = -1\n", "from 0 to 20"),
    ("a typo'd timer key", "[timers]\nreminder_day = 3\n", 'did you mean "reminder_days"'),
    ("a typo'd table", "[timer]\nreminder_days = 3\n", 'did you mean "timers"'),
    ("a typo'd top key", 'timezon = "UTC"\n', 'did you mean "timezone"'),
    ("an unknown table", "[plugins]\nx = 1\n", "plugins is not a setting"),
    ("attachments max_mb zero", "[attachments]\nmax_mb = 0\n", "max_mb"),
    ("attachments max_mb NaN", "[attachments]\nmax_mb = nan\n", "max_mb"),
    ("attachments typo", "[attachments]\nmax_mbs = 3\n", 'did you mean "max_mb"'),
    ("undo minutes huge", "undo_minutes = 9223372036854775807\n", "undo_minutes"),
    ("sla at_risk NaN", "[sla]\nat_risk = nan\n", "at_risk"),
    ("not TOML", "[timers\n", "not valid TOML"),
]


def _config(desk: CLI, text: str) -> dict[str, str]:
    path = desk.db.parent / "config.toml"
    path.write_text(text)
    return {"TUI_DESK_CONFIG": str(path)}


@pytest.mark.parametrize(("argv", "pattern", "status", "env"), [c[1:] for c in LIMITS], ids=[c[0] for c in LIMITS])
def test_limits(desk, argv, pattern, status, env):
    tmp = desk.db.parent
    os.mkfifo(tmp / "fifo")
    (tmp / "big.bin").write_bytes(b"\x00" * (1024 * 1024 + 1))
    env = dict(env)
    if "CONFIG" in env:
        env.update(_config(desk, env.pop("CONFIG")))
    refused(desk, _fill(argv, tmp), pattern, status=status, **env)


@pytest.mark.parametrize(("text", "pattern"), [c[1:] for c in CONFIGS], ids=[c[0] for c in CONFIGS])
def test_config_limits(desk, text, pattern):
    env = _config(desk, text)
    refused(desk, ["log", OPEN, "--channel", "note", "--summary", "x"], pattern, **env)


def test_attachment_under_the_cap_is_kept(desk):
    small = desk.db.parent / "small.bin"
    small.write_bytes(b"x" * 1000)
    env = _config(desk, "[attachments]\nmax_mb = 0.001\n")
    desk.ok("log", OPEN, "--channel", "email", "--summary", "x", "--attach", str(small), **env)


# -- import: limits, types, numbers, dates, known cases, read-only ------------------------------------
def _json_ticket(**fields) -> dict:
    ticket = {
        "case_number": "X-1",
        "customer": "Ann Lee",
        "subject": "Broken lid",
        "opened_at": "2026-01-05T10:00:00Z",
        "status": "new",
        "log": [{"seq": 1, "at": "2026-01-05T10:00:00Z", "kind": "note", "channel": "note", "summary": "x"}],
    }
    ticket.update(fields)
    return ticket


def _csv(*rows: str) -> str:
    return "\n".join(["case_number,customer,subject,opened_at,resolved_at,refund_amount", *rows]) + "\n"


# (id, file name, content or a maker, pattern, extra argv)
IMPORTS = [
    ("JSON nested 100,000 deep", "deep.json", "[" * 100_000 + "]" * 100_000, "nested more than 16", []),
    ("JSON nested 17 deep", "deep17.json", "[" * 17 + "]" * 17, "nested more than 16", []),
    ("JSON over 512 MB (sparse)", "huge.json", "SPARSE", "over the limit of 512 MB", []),
    ("CSV over 512 MB (sparse)", "huge.csv", "SPARSE", "huge.csv is 513 MB, over the limit of 512 MB for a sheet", []),
    ("JSON that is a folder", "folder.json", "DIR", "is a folder", []),
    ("JSON that is a FIFO", "fifo.json", "FIFO", "not a regular file", []),
    ("JSON that cannot be read", "loop.json", "LOOP", "cannot read", []),
    ("CSV that is a FIFO (would hang)", "fifo.csv", "FIFO", "no file", []),
    ("XLSX that is a FIFO (would hang)", "fifo.xlsx", "FIFO", "no file", []),
    ("JSON not UTF-8", "latin.json", b'[{"customer": "Jos\xe9"}]', "not UTF-8", []),
    ("JSON not JSON", "broken.json", '[{"customer": ', "not valid JSON", []),
    ("JSON a number", "number.json", "42", "must hold a list of tickets", []),
    ("JSON customer an object", "t1.json", [_json_ticket(customer={"a": 1})], "customer must be text", []),
    ("JSON log a number", "t2.json", [_json_ticket(log=5)], "log must be a list", []),
    ("JSON entry a number", "t3.json", [_json_ticket(log=[5])], "log entry 1 must be an object", []),
    ("JSON refund a list", "t4.json", [_json_ticket(refund=[1, 2])], "refund must be an object", []),
    ("JSON tags nested", "t5.json", [_json_ticket(tags=[["a"]])], "tags must be text", []),
    ("JSON refund 1e30", "t6.json", [_json_ticket(refund_amount=1e30)], "too large", []),
    ("JSON refund NaN", "t7.json", '[{"case_number": "X-1", "refund_amount": NaN, "log": [{}]}]', "NaN", []),
    ("CSV refund Infinity", "r1.csv", _csv("X-2,Ann,s,2026-01-05,,Infinity"), "not a number", []),
    ("CSV refund negative", "r2.csv", _csv("X-2,Ann,s,2026-01-05,,-5"), "zero or more", []),
    ("CSV case sequence 2**63-1", "s1.csv", _csv("TD-REF-2026-9223372036854775807,Ann,s,2026-01-05,,"), "above", []),
    ("CSV case sequence 10**30", "s2.csv", _csv("TD-REF-2026-" + "9" * 30 + ",Ann,s,2026-01-05,,"), "above", []),
    ("CSV open date year 1", "d1.csv", _csv("X-3,Ann,s,0001-01-01,,"), "line 2: open date 0001-01-01 is out", []),
    ("CSV open date 1969", "d2.csv", _csv("X-3,Ann,s,1969-12-31,,"), "line 2: open date 1969-12-31 is out", []),
    (
        "CSV resolved year 3001",
        "d3.csv",
        _csv("X-3,Ann,s,2026-01-05,3001-01-01,"),
        r"line 2: \w[\w ]* date 3001-01-01 is out of range",
        [],
    ),
    ("CSV known case, other customer", "k1.csv", _csv(f"{OPEN},Mallory,s,2026-11-15,,"), "exists for another", []),
    ("CSV known case, other open date", "k2.csv", _csv(f"{OPEN},Jane Roe,s,2020-01-01,,"), "another open date", []),
    ("import read-only", "ok.csv", _csv("X-9,Ann,s,2026-01-05,,"), "read-only: import", ["--read-only"]),
    ("import --dry-run read-only", "ok.csv", _csv("X-9,Ann,s,2026-01-05,,"), "read-only", ["--read-only", "--dry-run"]),
    (
        "import report into the store folder, read-only",
        "ok.csv",
        _csv("X-9,Ann,s,2026-01-05,,"),
        "read-only",
        ["--read-only", "--skip-bad", "--report", "{tmp}/skipped.csv"],
    ),
]


def _make(path: Path, content) -> None:
    if content == "SPARSE":
        with open(path, "wb") as f:
            f.truncate(513 * 1024 * 1024)
    elif content == "DIR":
        path.mkdir()
    elif content == "FIFO":
        os.mkfifo(path)
    elif content == "LOOP":
        path.symlink_to(path.name)  # a link to itself: ELOOP, whoever runs the test (root reads any mode)
    elif isinstance(content, bytes):
        path.write_bytes(content)
    elif isinstance(content, list):
        import json

        path.write_text(json.dumps(content))
    else:
        path.write_text(content)


@pytest.mark.parametrize(("name", "content", "pattern", "extra"), [c[1:] for c in IMPORTS], ids=[c[0] for c in IMPORTS])
def test_hostile_imports(desk, name, content, pattern, extra):
    tmp = desk.db.parent
    _make(tmp / name, content)
    argv = ["--read-only"] if "--read-only" in extra else []
    argv += ["import", str(tmp / name), *(_fill([a for a in extra if a != "--read-only"], tmp))]
    refused(desk, argv, pattern)
    assert not (tmp / "skipped.csv").exists()


def test_known_case_with_the_same_customer_and_date_stays_already_imported(desk):
    """The other side of 'exists for another customer': the store's own export, imported again."""
    out = desk.db.parent / "again.json"
    desk.ok("export", "--format", "json", "--log", "--out", str(out))
    before = fingerprint(desk.db)
    result = desk.json("import", str(out))
    assert (result["created"], result["already_imported"], result["skipped_bad"]) == (0, 2, 0)
    assert fingerprint(desk.db) == before


def test_skip_bad_lists_the_known_case_of_another_customer(desk):
    sheet = desk.db.parent / "k.csv"
    sheet.write_text(_csv(f"{OPEN},Mallory,s,2026-11-15,,", "X-5,Ann,s,2026-01-05,,"))
    report = Path(f"{desk.db}.report.csv").with_name("report.csv")
    result = desk.json("import", str(sheet), "--skip-bad", "--report", str(report))
    assert result["cases"] == ["X-5"]
    assert result["bad_rows"] == [{"line": 2, "reason": f"case {OPEN} exists for another customer"}]


def test_an_overflowed_sequence_left_by_an_older_version_does_not_break_new(desk):
    """An older version reserved an imported ...-9223372036854775807: `new` counts on from the tickets."""
    import sqlite3

    con = sqlite3.connect(desk.db)
    con.execute("UPDATE case_sequence SET last = 9223372036854775807")
    con.commit()
    con.close()
    assert desk.ok("new", "--customer", "c", "--subject", "s").stdout.strip() == "TD-REF-2026-00003"
    assert desk.ok("new", "--customer", "c", "--subject", "s").stdout.strip() == "TD-REF-2026-00004"


# -- the store path and a full disk -----------------------------------------------------------------
def test_db_memory_is_refused_and_leaves_no_file(desk, tmp_path):
    work = tmp_path / "cwd"
    work.mkdir()
    result = subprocess.run(
        [TUI_DESK, "--db", ":memory:", "new", "--customer", "c", "--subject", "s"],
        cwd=work,
        capture_output=True,
        text=True,
        env=desk.env(),
    )
    assert result.returncode == 1 and result.stderr.count("\n") == 1, result.stderr
    assert "':memory:' is not a store file" in result.stderr
    assert os.listdir(work) == []


@pytest.mark.parametrize("command", [["list"], ["new", "--customer", "c", "--subject", "s"], ["verify"]])
def test_db_directory_is_named_as_a_folder(desk, command):
    refused(desk, ["--db", str(desk.db.parent), *command], "is a folder; --db names the store file")


# -- read-only: nothing written in the store's folder -----------------------------------------------
READ_ONLY_OUTPUTS = [
    ("export --out", ["export", "--out", "{tmp}/out.csv"]),
    ("export json --out", ["export", "--format", "json", "--out", "{tmp}/out.json"]),
    ("seal --out", ["seal", "--out", "{tmp}/seal.json"]),
    ("export-case --out", ["export-case", OPEN, "--out", "{tmp}/case.md"]),
    ("export --archive", ["export", "--archive", "{tmp}/all.zip"]),
]


@pytest.mark.parametrize("argv", [c[1] for c in READ_ONLY_OUTPUTS], ids=[c[0] for c in READ_ONLY_OUTPUTS])
def test_read_only_writes_nothing_in_the_store_folder(desk, argv):
    tmp = desk.db.parent
    files = _listing(tmp)
    refused(desk, ["--read-only", *_fill(argv, tmp)], "read-only: .* is in the store's folder")
    refused(desk, _fill(argv, tmp), "read-only", TUI_DESK_READ_ONLY="1")
    assert _listing(tmp) == files


def _listing(folder: Path) -> list[str]:
    """The folder's files, but SQLite's own -shm and -wal: a WAL reader makes them (the -wal stays empty,
    which ``fingerprint`` checks)."""
    return sorted(n for n in os.listdir(folder) if not n.endswith(("-shm", "-wal")))


def test_read_only_export_elsewhere_is_allowed(desk, tmp_path_factory):
    out = tmp_path_factory.mktemp("elsewhere") / "out.csv"
    desk.ok("--read-only", "export", "--out", str(out))
    assert out.exists()


# -- a damaged store: one line from every command, the file left as it was --------------------------
def _checkpointed(db: Path) -> None:
    import sqlite3

    con = sqlite3.connect(db)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()


def _damage(db: Path, how: str) -> None:
    import sqlite3

    _checkpointed(db)
    if how == "schema_version":  # a value SQLite reads fine, but no number
        con = sqlite3.connect(db)
        con.execute("UPDATE meta SET value = 'three' WHERE key = 'schema_version'")
        con.commit()
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        con.close()
        return
    data = bytearray(db.read_bytes())
    if how == "flipped byte in sqlite_master":
        at = data.find(b'CREATE TABLE "ticket"')
        data[at + 3] = 0xFF  # no longer UTF-8: Python's sqlite3 cannot even list the tables
    elif how == "scribbled pages":
        page = int.from_bytes(data[16:18], "big")
        data[page * 3 : page * 3 + 512] = b"\x55" * 512
    elif how == "garbage header":
        data[:16] = b"garbage garbage!"
    db.write_bytes(bytes(data))


DAMAGE = [
    ("flipped byte in sqlite_master", ["list"], "damaged .*run tui-desk verify; restore from a backup"),
    ("flipped byte in sqlite_master", ["new", "--customer", "c", "--subject", "s"], "damaged .*restore from a backup"),
    ("flipped byte in sqlite_master", ["show", OPEN], "damaged .*run tui-desk verify"),
    ("scribbled pages", ["log", OPEN, "--channel", "note", "--summary", "x"], "damaged .*run tui-desk verify"),
    ("schema_version", ["list"], "schema_version 'three' is not a whole number.*restore from a backup"),
    ("schema_version", ["new", "--customer", "c", "--subject", "s"], "schema_version 'three'"),
    ("garbage header", ["list"], "not a tui-desk store"),
    ("garbage header", ["verify"], "not a tui-desk store"),
]


@pytest.mark.parametrize(("how", "argv", "pattern"), DAMAGE, ids=[f"{h}: {a[0]}" for h, a, _ in DAMAGE])
def test_a_damaged_store_is_one_line_and_left_as_it_was(desk, how, argv, pattern):
    _damage(desk.db, how)
    refused(desk, argv, pattern)


@pytest.mark.parametrize("how", ["flipped byte in sqlite_master", "schema_version"])
def test_verify_finishes_on_a_damaged_store(desk, how):
    _damage(desk.db, how)
    before = fingerprint(desk.db)
    result = desk.run("verify")
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "damaged" in result.stdout + result.stderr or "schema_version" in result.stdout
    assert fingerprint(desk.db) == before


# -- a full disk -------------------------------------------------------------------------------------
@pytest.fixture
def small_disk(tmp_path):
    """A 3 MB tmpfs (root only; skipped where mounting is not allowed)."""
    mount = tmp_path / "small"
    mount.mkdir()
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mount)], capture_output=True)
    if made.returncode != 0:
        pytest.skip("cannot mount a tmpfs here (needs root); the PRAGMA max_page_count test covers the message")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


@pytest.mark.parametrize("room_kb", [0, 60], ids=["no room at all", "60 KB left"])
def test_a_full_disk_says_so_and_saves_nothing(seeded, small_disk, room_kb):
    db = small_disk / "desk.db"
    for name in ("desk.db", "desk.db-wal"):
        if (seeded.parent / name).exists():
            shutil.copy2(seeded.parent / name, small_disk / name)
    shutil.copytree(f"{seeded}.files", f"{db}.files")
    _checkpointed(db)
    free = os.statvfs(small_disk)
    with open(small_disk / "filler", "wb") as f:
        f.write(b"\0" * max(0, free.f_bavail * free.f_frsize - room_kb * 1024))
    desk = CLI(db)
    body = "y" * 120_000
    err = refused(desk, ["log", OPEN, "--channel", "note", "--summary", "x", "--body", body], "disk")
    assert err == f"tui-desk: error: the disk holding {db} is full; nothing was saved"
    (small_disk / "filler").unlink()
    assert desk.ok("verify").returncode == 0


def test_sqlite_full_is_said_as_a_full_disk(tmp_path):
    """Where no tmpfs can be mounted: SQLite's own "database or disk is full" (SQLITE_FULL), by a page limit."""
    from conftest import NOW as FIXED_NOW

    from tui_desk.domain.clock import FixedClock
    from tui_desk.domain.errors import DeskError
    from tui_desk.store import Store

    store = Store(tmp_path / "desk.db", clock=FixedClock(FIXED_NOW), agent="ana")
    case = store.create_ticket(customer="Ann", subject="s").case_number
    with store.reading():
        pages = store.db.execute_sql("PRAGMA page_count").fetchone()[0]
        store.db.execute_sql(f"PRAGMA max_page_count = {pages + 2}")
    with pytest.raises(DeskError) as caught:
        store.add_entry(case, channel="note", summary="x", body="z" * 200_000)
    assert str(caught.value) == f"the disk holding {store.path} is full; nothing was saved"
    assert len(store.entries(store.get(case))) == 1
    store.close()
