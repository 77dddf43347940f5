"""Bad input over the real CLI: a clear one-line message, nothing stored changes, stored text kept byte for byte.

Every refused row is checked against a logical dump of the whole store (every table, every row) and the
attachment folder, taken before and after; every accepted row reads back exactly through `show --json` and
shows no control character on the terminal.
"""

from __future__ import annotations

import hashlib
import os
import re
import sqlite3
import subprocess
from pathlib import Path

import pytest
from conftest import TUI_DESK

CASE = "TD-REF-2026-00001"
UNKNOWN = "TD-REF-2026-09999"


def store_state(db: Path) -> tuple[str, list[str]]:
    """Every row of every table, and the attachment files: what must not change when input is refused."""
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    dump = "\n".join(con.iterdump())
    con.close()
    files = Path(str(db) + ".files")
    listing = sorted(str(p.relative_to(files)) for p in files.rglob("*")) if files.exists() else []
    return dump, listing


@pytest.fixture
def case(cli, built_stores):
    return built_stores.copy(cli, "bad-input-case", make_case)


def make_case(cli, folder):
    # Opened in the morning (typed in now): contacts since then can be logged.
    cli.ok(
        "new",
        "--customer",
        "Jane Roe",
        "--subject",
        "Kettle broken",
        "--email",
        "jane@example.com",
        "--opened",
        "2026-11-15 00:00",
    )
    proof = folder / "proof.txt"
    proof.write_text("posted on Monday")
    cli.ok("log", CASE, "--channel", "email", "--summary", "Proof of postage", "--attach", str(proof))
    return CASE


def run_bytes(cli, *args: str, input: bytes | None = None) -> subprocess.CompletedProcess:
    """The real command with raw bytes on stdin and undecodable bytes allowed in arguments."""
    argv = [os.fsencode(a) for a in (TUI_DESK, "--db", str(cli.db), *args)]
    return subprocess.run(argv, input=input or b"", capture_output=True, env=cli.env(), timeout=120)


def _files(tmp_path: Path) -> dict[str, str]:
    folder = tmp_path / "a-folder"
    folder.mkdir(exist_ok=True)
    dangling = tmp_path / "dangling"
    if not dangling.is_symlink():
        dangling.symlink_to(tmp_path / "gone")
    return {"tmp": str(tmp_path), "folder": str(folder), "dangling": str(dangling)}


LOG = ["log", "{case}", "--channel", "email", "--summary", "x"]

# (id, argv, stdin bytes, message pattern)
REFUSED = [
    ("empty customer", ["new", "--customer", "", "--subject", "s"], None, "customer is blank"),
    ("tab-newline subject", ["new", "--customer", "c", "--subject", "\t\n "], None, "subject is blank"),
    ("empty summary", ["log", "{case}", "--channel", "email", "--summary", ""], None, "summary is blank"),
    ("NUL in description", ["new", "--customer", "c", "--subject", "s", "--description", "-"], b"a\x00b", "NUL"),
    ("NUL in body", [*LOG, "--body", "-"], b"before\x00after", "NUL"),
    ("invalid UTF-8 body", [*LOG, "--body", "-"], b"caf\xe9 au lait", "not UTF-8 text.*0xe9 at offset 3"),
    (
        "invalid UTF-8 description",
        ["new", "--customer", "c", "--subject", "s", "--description", "-"],
        b"\xff\xfe\x00",
        "not UTF-8",
    ),
    ("overlong UTF-8", [*LOG, "--body", "-"], b"\xc0\xaf", "not UTF-8"),
    ("surrogate encoded in UTF-8", [*LOG, "--body", "-"], b"\xed\xa0\x80", "not UTF-8"),
    ("non-UTF-8 argument", [*LOG[:-1], "bad\udcffbyte"], None, "summary given is not UTF-8"),
    ("year 1", [*LOG, "--at", "0001-01-01"], None, "out of range"),
    ("year 9999 behind UTC", [*LOG, "--at", "9999-12-31T23:59-05:00"], None, "out of range"),
    ("follow-up before 1970", [*LOG, "--follow-up", "1969-12-31 23:59"], None, "out of range"),
    ("relative overflow", [*LOG, "--at", "+999999999d"], None, "out of range"),
    ("absurd digits", [*LOG, "--at", "+" + "9" * 5000 + "d"], None, "out of range"),
    ("impossible date", [*LOG, "--at", "2026-02-30"], None, "cannot read the date"),
    ("impossible time", [*LOG, "--at", "2026-11-15 24:00"], None, "cannot read"),
    (
        "ends before it starts",
        [*LOG, "--at", "2026-11-15 10:00", "--until", "2026-11-15 09:00"],
        None,
        "ends .* before it starts",
    ),
    ("unknown case log", ["log", UNKNOWN, "--channel", "email", "--summary", "x"], None, "no ticket"),
    ("unknown case show", ["show", UNKNOWN], None, "no ticket"),
    ("unknown case status", ["status", UNKNOWN, "l1"], None, "no ticket"),
    ("unknown case export", ["export-case", UNKNOWN], None, "no ticket"),
    ("injection as case", ["show", "'; DROP TABLE ticket; --"], None, "no ticket"),
    ("markup as case", ["show", "[bold]x[/bold]"], None, "no ticket"),
    ("unknown correction", [*LOG, "--corrects", "99"], None, "no entry 99"),
    ("references unknown", ["new", "--customer", "c", "--subject", "s", "--references", UNKNOWN], None, "no ticket"),
    ("attachment missing", [*LOG, "--attach", "{tmp}/nope.pdf"], None, "no such file"),
    ("attachment dangling link", [*LOG, "--attach", "{dangling}"], None, "no such file"),
    ("attachment is a folder", [*LOG, "--attach", "{folder}"], None, "is a folder"),
    # chmod 000 does not stop root; /proc/self/mem opens but every read fails (EIO), for root too.
    ("attachment unreadable", [*LOG, "--attach", "/proc/self/mem"], None, "cannot read it"),
    (
        "one bad attachment of two",
        [*LOG, "--attach", "{tmp}/proof.txt", "--attach", "{tmp}/nope"],
        None,
        "no such file",
    ),
    ("NaN refund", ["refund", "{case}", "--amount", "NaN"], None, "not a number"),
    ("infinite refund", ["refund", "{case}", "--amount=-Infinity"], None, "not a number"),
    ("huge refund", ["refund", "{case}", "--amount", "1e400"], None, "too large"),
    ("refund in fractions of a cent", ["refund", "{case}", "--amount", "12.345"], None, "more than two decimals"),
    ("negative refund", ["refund", "{case}", "--amount=-0.01"], None, "zero or more"),
    ("bad currency", ["refund", "{case}", "--currency", "€€€"], None, "three-letter"),
    ("email without @", ["new", "--customer", "c", "--subject", "s", "--email", "jane"], None, "no @"),
    ("tag with spaces", ["tag", "{case}", "two words"], None, "tag"),
    ("tag with escape", ["tag", "{case}", "\x1b[31m"], None, "tag"),
    ("resolved without note", ["status", "{case}", "resolved"], None, "resolution note"),
    ("status with markup", ["status", "{case}", "[b]Closed[/b]"], None, "unknown status"),
]


@pytest.mark.parametrize("argv, stdin, message", [r[1:] for r in REFUSED], ids=[r[0] for r in REFUSED])
def test_refused_with_one_line_and_nothing_changes(cli, case, db_path, tmp_path, argv, stdin, message):
    names = {"case": case, **_files(tmp_path)}
    (tmp_path / "proof.txt").write_text("posted on Monday")
    before = store_state(db_path)
    shown = cli.ok("show", case, "--json").stdout
    result = run_bytes(cli, *[a.format(**names) for a in argv], input=stdin)
    err = result.stderr.decode("utf-8")
    assert result.returncode == 1, (result.stdout, err)
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert err.startswith("tui-desk: error: "), err
    assert re.search(message, err), err
    assert "\x1b" not in err  # the message quotes the input, but never as a terminal command
    assert store_state(db_path) == before
    assert cli.ok("show", case, "--json").stdout == shown


NASTY = {
    "escape sequences": "\x1b[2J\x1b[H\x1b]0;owned\x07\x1b[31mred\x1b[0m \x9b31m",
    "control characters": "bell\x07 back\x08 vt\x0b ff\x0c del\x7f esc\x1b",
    "rich markup": "[bold red]alarm[/] [@click=app.quit]quit[/] [link=https://x.example]x[/link] \\[b]",
    "textual content markup": "$name {x} [$accent]accent[/] [on red] [/]",
    "right-to-left": "مرحبا بالعالم שלום \u202eevil\u202c \u2067isolate\u2069",
    "combining": "e\u0301 a\u0308 Z\u0336\u0335\u0334a\u0337l\u0338g\u0321o\u0322",
    "emoji": "👍🏽 👨‍👩‍👧‍👦 🇪🇺 \ufe0f✔️",
    "CRLF and tabs": "line one\r\nline two\r\n\ttabbed\r\n",
    "whitespace around": "   padded   \n\n",
    "lone CR": "over\rwrite",
    "zero width": "a\u200bb\u200dc\ufeffd",
    "markdown and html": "# heading\n```\n<script>alert(1)</script>\n| a | b |",
}


@pytest.mark.parametrize("text", list(NASTY.values()), ids=list(NASTY))
def test_hostile_text_is_stored_byte_for_byte_and_shown_inert(cli, case, text):
    cli.ok(
        "log",
        case,
        "--channel",
        "chat",
        "--summary",
        text.strip() or "x",
        "--name",
        "Sender " + text.strip(),
        "--body",
        "-",
        input=text,
    )
    entry = cli.json("show", case)["log"][-1]
    assert entry["body"] == text
    assert entry["summary"] == (text.strip() or "x")
    assert entry["sender_name"] == ("Sender " + text.strip()).strip()
    shown = cli.ok("show", case).stdout
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]", shown), "a control character reached the terminal"
    if "\r\n" in text:  # a Windows line end is shown as a line end, a lone CR as an escape
        assert "line one\nline two" in shown and "\\x0d" not in shown
    if "over\rwrite" in text:
        assert "over\\x0dwrite" in shown
    assert cli.ok("verify", case).returncode == 0


def test_hostile_ticket_fields_round_trip(cli):
    fields = {
        "customer": NASTY["rich markup"],
        "subject": NASTY["escape sequences"],
        "order": NASTY["emoji"],
        "reason": NASTY["right-to-left"],
    }
    cli.ok(
        "new", *[x for k, v in fields.items() for x in (f"--{k}", v)], "--description", "-", input=NASTY["combining"]
    )
    data = cli.json("show", CASE)
    assert data["customer"] == fields["customer"].strip()
    assert data["subject"] == fields["subject"]
    assert data["order_id"] == fields["order"]
    assert data["reason"] == fields["reason"]
    assert data["description"] == NASTY["combining"]
    listing = cli.ok("list").stdout
    assert "\x1b" not in listing and "[bold red]alarm[/" in listing


def test_one_megabyte_body_round_trips(cli, case):
    body = ("Lorem ipsum dolor sit amet ünïcödé 😀\n" * 30000)[: 1 << 20]
    cli.ok("log", case, "--channel", "email", "--summary", "long mail", "--body", "-", input=body)
    assert cli.json("show", case)["log"][-1]["body"] == body
    assert cli.ok("verify").returncode == 0


def test_dates_in_other_zones_and_at_the_edges_are_stored_in_utc(cli, case):
    cli.ok(
        "log",
        case,
        "--channel",
        "phone",
        "--summary",
        "call",
        "--at",
        "2026-11-15T10:00:00+05:30",
        "--until",
        "2026-11-15T10:20:00+05:30",
    )
    entry = cli.json("show", case)["log"][-1]
    assert (entry["at"], entry["until"]) == ("2026-11-15T04:30:00Z", "2026-11-15T04:50:00Z")
    old = cli.json("new", "--customer", "Ada", "--subject", "Typed in late", "--opened", "1970-01-01 00:00")
    assert old["opened_at"] == "1970-01-01T00:00:00Z"
    cli.ok("log", old["case_number"], "--channel", "note", "--summary", "old", "--at", "1970-01-01 00:00")
    assert cli.json("show", old["case_number"])["log"][-1]["at"] == "1970-01-01T00:00:00Z"
    cli.ok("log", case, "--channel", "note", "--summary", "far", "--follow-up", "2999-12-31 23:59")
    assert cli.json("show", case)["log"][-1]["follow_up_at"] == "2999-12-31T23:59:00Z"
    assert cli.ok("verify").returncode == 0


def test_wall_times_read_in_the_configured_zone(cli, case, isolated_env):
    (isolated_env / "config.toml").write_text('timezone = "Asia/Kolkata"\n')
    cli.ok("log", case, "--channel", "phone", "--summary", "call", "--at", "2026-11-15 10:00")
    assert cli.json("show", case)["log"][-1]["at"] == "2026-11-15T04:30:00Z"
    assert "2026-11-15 10:00 IST" in cli.ok("show", case).stdout


def test_hundred_megabyte_sparse_attachment_is_stored_whole(cli, case, tmp_path, db_path, isolated_env):
    (isolated_env / "config.toml").write_text("[attachments]\nmax_mb = 200\n")  # over the 25 MB default
    big = tmp_path / "big.bin"
    with big.open("wb") as f:
        f.truncate(100 * 1024 * 1024)
        f.seek(50 * 1024 * 1024)
        f.write(b"middle")
    digest = hashlib.sha256()
    with big.open("rb") as f:
        while chunk := f.read(1 << 22):
            digest.update(chunk)
    cli.ok("log", case, "--channel", "email", "--summary", "video", "--attach", str(big))
    att = cli.json("show", case)["log"][-1]["attachments"][0]
    assert att == {"name": "big.bin", "size": 100 * 1024 * 1024, "sha256": digest.hexdigest()}
    kept = Path(str(db_path) + ".files") / att["sha256"][:2] / att["sha256"]
    assert kept.stat().st_size == 100 * 1024 * 1024
    assert not list(kept.parent.parent.glob(".incoming-*"))
    assert cli.ok("verify").returncode == 0


# -- the store itself --------------------------------------------------------------------------


def _same_bytes(path: Path):
    return path.read_bytes() if path.exists() else None


def test_store_folder_missing(cli, tmp_path):
    target = tmp_path / "no" / "such" / "folder" / "desk.db"
    for argv in (["list"], ["new", "--customer", "c", "--subject", "s"], ["verify"]):
        err = cli.fails(*argv, db=target)
        assert "does not exist" in err or "no store at" in err, err
    assert not (tmp_path / "no").exists()


def test_an_empty_file_read_only_is_named_as_such(cli, tmp_path):
    empty = tmp_path / "empty.db"
    empty.touch()
    for argv in (["--read-only", "list"], ["--read-only", "overdue"]):
        err = cli.fails(*argv, db=empty)
        assert "holds no tui-desk store (the file is empty)" in err and "no such table" not in err, err
    assert empty.read_bytes() == b""


def test_empty_store_path_does_not_fall_through_to_the_real_store(cli, isolated_env):
    result = subprocess.run(
        [TUI_DESK, "--db", "", "new", "--customer", "c", "--subject", "s"],
        capture_output=True,
        text=True,
        env=cli.env(),
        timeout=60,
    )
    assert result.returncode == 1 and "--db is empty" in result.stderr, result
    assert not list(isolated_env.rglob("desk.db"))


@pytest.mark.parametrize("damage", ["random", "truncated", "pages overwritten", "text file"])
def test_corrupted_store_is_refused_and_left_as_it_was(cli, case, db_path, tmp_path, damage):
    broken = tmp_path / "broken.db"
    data = db_path.read_bytes()
    sqlite3.connect(db_path).execute("PRAGMA wal_checkpoint(TRUNCATE)").connection.close()
    data = db_path.read_bytes()
    if damage == "random":
        data = os.urandom(len(data))
    elif damage == "truncated":
        data = data[: len(data) // 2]
    elif damage == "pages overwritten":
        data = data[: 4096 * 3] + b"\xde\xad" * 4096 + data[4096 * 3 + 8192 :]
    else:
        data = b"case,customer\n1,Jane\n" * 100
    broken.write_bytes(data)
    for argv in (
        ["list"],
        ["show", case],
        ["verify"],
        ["log", case, "--channel", "note", "--summary", "x"],
        ["new", "--customer", "c", "--subject", "s"],
    ):
        result = cli.run(*argv, db=broken)
        if damage == "pages overwritten":
            # SQLite only notices a damaged page when it reads it: a command may succeed, but must never
            # crash, and verify, which reads everything, must say so.
            assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) <= 1, result
            if argv == ["verify"]:
                assert result.returncode == 1 and "integrity check failed" in result.stdout, result
            elif result.returncode:
                assert re.search(r"damaged|malformed|not a tui-desk store", result.stderr), result
        else:
            err = cli.fails(*argv, db=broken)
            assert re.search(r"not a tui-desk store|damaged|malformed", err), err
        assert broken.read_bytes() == data


def test_an_sqlite_file_of_another_program_is_refused(cli, tmp_path):
    other = tmp_path / "other.db"
    con = sqlite3.connect(other)
    con.execute("CREATE TABLE invoices(id)")
    con.commit()
    con.close()
    before = other.read_bytes()
    assert "not a tui-desk store" in cli.fails("new", "--customer", "c", "--subject", "s", db=other)
    assert other.read_bytes() == before


def test_store_from_a_newer_version_is_refused_untouched(cli, case, db_path):
    con = sqlite3.connect(db_path)
    con.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    con.commit()
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    before = store_state(db_path), db_path.read_bytes()
    for argv in (
        ["list"],
        ["show", case],
        ["verify"],
        ["export-case", case],
        ["sweep"],
        ["log", case, "--channel", "note", "--summary", "x"],
    ):
        assert "newer tui-desk (schema 99" in cli.fails(*argv), argv
    assert (store_state(db_path), db_path.read_bytes()) == before
