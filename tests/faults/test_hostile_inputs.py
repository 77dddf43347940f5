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
