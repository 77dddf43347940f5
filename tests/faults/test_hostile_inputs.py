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
from pathlib import Path

import pytest
from conftest import CLI, SHEETS_DATA

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
