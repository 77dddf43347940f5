"""Evidence: `tui-desk verify` catches edits made to the SQLite file behind the program's back; `export-case`."""

from __future__ import annotations

import json
import re
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import raw_connect

from tui_desk.store import Store
from tui_desk.store.backend import PostgresUrl
from tui_desk.store.verify import verify_store

CASE = "TD-REF-2026-00001"


def tamper(db: Path, *statements: str, params: tuple = ()) -> None:
    """Edit the store the way someone with write access could: drop the guards, change rows, commit."""
    con = raw_connect(db)
    if isinstance(db, PostgresUrl):  # the owner of a PostgreSQL store can drop its triggers too
        triggers = con.execute(
            "SELECT t.tgname, c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "WHERE NOT t.tgisinternal AND t.tgname LIKE '%\\_no\\_%'"
        ).fetchall()
        for name, table in triggers:
            con.execute(f"DROP TRIGGER {name} ON {table}")
    else:
        triggers = con.execute("SELECT name FROM sqlite_master WHERE type='trigger' AND name LIKE '%_no_%'")
        for (name,) in triggers.fetchall():
            con.execute(f"DROP TRIGGER {name}")
    for sql in statements:
        con.execute(sql, params if "?" in sql else ())
    con.commit()
    con.close()


def entry_id(db: Path, seq: int, case: str = CASE) -> int:
    con = raw_connect(db)
    row = con.execute(
        "SELECT e.id FROM log_entry e JOIN ticket t ON t.id = e.ticket_id WHERE t.case_number = ? AND e.seq = ?",
        (case, seq),
    ).fetchone()
    con.close()
    return row[0]


@pytest.fixture
def case(cli, built_stores):
    """A case with six entries: acknowledgement, messages with an attachment, a correction, a status change."""
    return built_stores.copy(cli, "evidence-case", make_case)


def make_case(cli, folder):
    cli.ok(
        "new",
        "--customer",
        "Jane Roe",
        "--subject",
        "Kettle arrived broken",
        "--email",
        "jane@example.com",
        "--opened",
        "2026-11-15 09:00",
    )
    photo = folder / "photo.jpg"
    photo.write_bytes(b"\xff\xd8 not really a jpeg")
    cli.ok("log", CASE, "--channel", "email", "--summary", "Photo of the damage", "--attach", str(photo))
    cli.ok("log", CASE, "--channel", "email", "--from", "agent", "--summary", "Asked for the order number")
    cli.ok("log", CASE, "--channel", "note", "--summary", "Order number was wrong", "--corrects", "3")
    cli.ok("status", CASE, "l1")
    cli.ok("log", CASE, "--channel", "phone", "--summary", "Customer called", "--at", "2026-11-15 10:00")
    assert len(cli.json("show", CASE)["log"]) == 6
    return CASE


def verify_fails(cli, *args: str) -> list[str]:
    result = cli.run("verify", *args)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    return result.stdout.splitlines()


@pytest.mark.backends
def test_an_untouched_store_verifies(cli, case):
    out = cli.ok("verify").stdout
    assert out.startswith("ok: 1 case(s), 6 entries, 1 attachment(s)")
    data = cli.json("verify", case)
    assert data["ok"] and data["entries_checked"] == 6
    assert data["cases"][0]["head"] == cli.json("show", case)["log_head"]


@pytest.mark.backends
def test_changed_summary_is_named(cli, case, db_path):
    tamper(db_path, f"UPDATE log_entry SET summary = 'Customer never called' WHERE id = {entry_id(db_path, 6)}")
    lines = verify_fails(cli)
    assert f"{case} #6: entry 6 was changed: its content no longer matches its digest" in lines
    assert any("append-only guards were removed" in line for line in lines)
    # Only the edited entry is blamed: the chain after it still links to its stored digest.
    assert [line for line in lines if line.startswith(case)] == [
        f"{case} #6: entry 6 was changed: its content no longer matches its digest"
    ]


def test_changed_body_in_the_middle_names_only_that_entry(cli, case, db_path):
    tamper(db_path, f"UPDATE log_entry SET body = 'edited' WHERE id = {entry_id(db_path, 3)}")
    data = json.loads(cli.run("verify", case, "--json").stdout)
    assert not data["ok"]
    assert [(p["seq"], p["what"]) for p in data["problems"]] == [(3, "changed")]


@pytest.mark.parametrize(
    "column, value",
    [
        ("at", "2026-11-14 10:00:00.000000"),
        ("agent", "mallory"),
        ("direction", "out"),
        ("sender_name", "Someone"),
        ("kind", "note"),
    ],
)
def test_any_chained_column_change_is_caught(cli, case, db_path, column, value):
    tamper(db_path, f"UPDATE log_entry SET {column} = ? WHERE id = {entry_id(db_path, 2)}", params=(value,))
    assert f"{case} #2: entry 2 was changed: its content no longer matches its digest" in verify_fails(cli, case)


def test_a_correction_pointing_elsewhere_is_caught(cli, case, db_path):
    tamper(db_path, f"UPDATE log_entry SET corrects_id = {entry_id(db_path, 2)} WHERE id = {entry_id(db_path, 4)}")
    assert f"{case} #4: entry 4 was changed: its content no longer matches its digest" in verify_fails(cli, case)


def test_removed_entry_is_named(cli, case, db_path):
    tamper(db_path, f"DELETE FROM log_entry WHERE id = {entry_id(db_path, 5)}")
    lines = verify_fails(cli, case)
    assert f"{case} #5: entry 5 is missing (removed)" in lines
    assert f"{case} #6: entry 6 cannot be checked: the entry before it is missing" in lines


def test_removed_last_entry_is_named(cli, case, db_path):
    tamper(db_path, f"DELETE FROM log_entry WHERE id = {entry_id(db_path, 6)}")
    lines = verify_fails(cli, case)
    assert f"{case} #6: entry 6 is missing (removed)" in lines


def test_removed_entry_with_renumbering_and_fixed_head_is_still_caught(cli, case, db_path):
    """Delete entry 2, renumber the rest and fix the ticket's count: the renumbered entries do not fit."""
    six = entry_id(db_path, 6)
    tamper(
        db_path,
        f"DELETE FROM attachment WHERE entry_id = {entry_id(db_path, 2)}",
        f"DELETE FROM log_entry WHERE id = {entry_id(db_path, 2)}",
        "UPDATE log_entry SET seq = -seq WHERE seq > 2",
        "UPDATE log_entry SET seq = -seq - 1 WHERE seq < 0",
        f"UPDATE ticket SET log_count = 5, log_head = (SELECT digest FROM log_entry WHERE id = {six})",
    )
    lines = verify_fails(cli, case)
    assert f"{case} #2: entry 2 was changed: its content no longer matches its digest" in lines


@pytest.mark.backends
def test_swapped_entries_are_named_as_reordered(cli, case, db_path):
    a, b = entry_id(db_path, 3), entry_id(db_path, 5)
    tamper(
        db_path,
        f"UPDATE log_entry SET seq = -1 WHERE id = {a}",
        f"UPDATE log_entry SET seq = 3 WHERE id = {b}",
        f"UPDATE log_entry SET seq = 5 WHERE id = {a}",
    )
    lines = verify_fails(cli, case)
    assert f"{case} #3: entry 3 was moved: it is now stored as number 5" in lines
    assert f"{case} #5: entry 5 was moved: it is now stored as number 3" in lines
    assert not any("changed" in line for line in lines)


def test_recorded_head_changed_is_caught(cli, case, db_path):
    tamper(db_path, "UPDATE ticket SET log_head = 'abc'")
    assert any("recorded chain head" in line for line in verify_fails(cli, case))


@pytest.mark.backends
def test_entry_added_behind_the_back_is_caught(cli, case, db_path):
    tamper(
        db_path,
        "INSERT INTO log_entry (ticket_id, seq, kind, at, logged_at, channel, direction, sender, sender_name, agent, "
        "summary, body, digest) SELECT ticket_id, 7, kind, at, logged_at, channel, direction, sender, sender_name, "
        f"agent, 'Refund refused', body, 'x' FROM log_entry WHERE id = {entry_id(db_path, 6)}",
    )
    lines = verify_fails(cli, case)
    assert f"{case} #7: entry 7 was changed: its content no longer matches its digest" in lines
    assert any("records 6 entries but entries 7 also exist" in line for line in lines)


def test_attachment_renamed_or_swapped_is_caught(cli, case, db_path):
    tamper(db_path, "UPDATE attachment SET name = 'other.jpg'")
    assert f"{case} #2: entry 2 was changed: its content no longer matches its digest" in verify_fails(cli, case)


def test_attachment_file_altered_or_missing_is_caught(cli, case, db_path):
    files = [p for p in Path(str(db_path) + ".files").rglob("*") if p.is_file()]
    assert len(files) == 1
    files[0].write_bytes(b"something else")
    assert any("was altered" in line for line in verify_fails(cli))
    files[0].unlink()
    assert any("is missing from" in line for line in verify_fails(cli))


def test_blob_row_removed_is_caught(cli, case, db_path):
    con = sqlite3.connect(db_path)
    con.execute("PRAGMA foreign_keys = OFF")
    for (name,) in con.execute("SELECT name FROM sqlite_master WHERE type='trigger' AND name LIKE 'blob_%'").fetchall():
        con.execute(f"DROP TRIGGER {name}")
    con.execute("DELETE FROM blob")
    con.commit()
    con.close()
    assert any("has no stored content" in line for line in verify_fails(cli, case))


def test_verify_unknown_case_is_one_line(cli, case):
    assert "no ticket 'TD-REF-2026-09999'" in cli.fails("verify", "TD-REF-2026-09999")


def test_verify_does_not_write(cli, case, db_path):
    before = db_path.read_bytes()
    cli.ok("verify")
    cli.ok("export-case", case)
    assert db_path.read_bytes() == before


def test_demo_store_chains_verify(tmp_path, clock):
    """The bulk demo builder chains its entries the same way the store does."""
    from tui_desk.store.demo import build_demo

    path = tmp_path / "demo.db"
    build_demo(path, tickets=300, seed=3, clock=clock, config=None, fresh=True)
    store = Store(path, clock=clock, agent="ana", read_only=True)
    report = verify_store(store)
    assert report.ok, report.problems[:5]
    assert report.entries > 300


@pytest.mark.backends
def test_verify_in_process_names_entries(store, db_path):
    ticket = store.create_ticket(customer="A", subject="B")
    for i in range(4):
        store.add_entry(ticket.case_number, channel="note", summary=f"note {i}")
    store.close()
    tamper(db_path, "UPDATE log_entry SET summary = 'x' WHERE seq = 3")
    report = verify_store(Store(db_path, agent="ana", read_only=True))
    assert [(p.seq, p.what) for p in report.problems if p.case_number] == [(3, "changed")]


# -- export-case ---------------------------------------------------------------------------------


def _blocks(text: str, info: str) -> str:
    match = re.search(rf"^(`{{3,}}){info}\n(.*?)\n\1$", text, re.S | re.M)
    assert match, f"no {info} block"
    return match.group(2)


def run_check(folder: Path, text: str, name: str) -> subprocess.CompletedProcess:
    """What the reader does: save Appendix B as check_chain.py and run it on the case file, with Python alone."""
    (folder / "check_chain.py").write_text(_blocks(text, "python"), encoding="utf-8")
    (folder / name).write_text(text, encoding="utf-8")
    return subprocess.run([sys.executable, "-I", "check_chain.py", name], cwd=folder, capture_output=True, text=True)


def test_export_case_markdown_is_checkable_by_a_third_party(cli, case, tmp_path):
    out = tmp_path / "case.md"
    cli.ok("export-case", case, "--out", str(out))
    text = out.read_text(encoding="utf-8")
    shown = cli.json("show", case)
    assert shown["log_head"] in text
    for needle in (
        "Jane Roe",
        "jane@example.com",
        "Kettle arrived broken",
        "## Key dates",
        "## Timeline (6 entries)",
        "2026-11-15 10:00:00 UTC",
        "photo.jpg",
        "**Corrects entry:** #3",
        "Final digest",
    ):
        assert needle in text, needle
    att = shown["log"][1]["attachments"][0]
    assert att["sha256"] in text
    # The third party's check: save the script block and run it on the case file, with nothing of tui-desk.
    result = run_check(tmp_path, text, "case.md")
    assert result.returncode == 0, result.stdout
    assert f"final digest: {shown['log_head']}" in result.stdout
    assert "everything the case file shows matches the chain data" in result.stdout
    assert "matches the case file" in result.stdout


def test_export_of_a_tampered_case_says_so_and_the_script_catches_it(cli, case, db_path, tmp_path):
    tamper(db_path, f"UPDATE log_entry SET summary = 'Customer never called' WHERE id = {entry_id(db_path, 6)}")
    text = cli.ok("export-case", case).stdout
    assert "At export tui-desk found these problems" in text
    result = run_check(tmp_path, text, "case.md")
    assert result.returncode == 1
    assert "entry 6 does not match its digest" in result.stdout
    assert "DOES NOT MATCH" in result.stdout


def test_export_keeps_hostile_text_inert(cli, tmp_path):
    hostile = "Eve <script>alert(1)</script> [b]x[/b] `code` |pipe| \x1b[31mred ```"
    cli.ok("new", "--customer", hostile, "--subject", "s", "--description", "```\n# not a heading\n" + hostile)
    md = cli.ok("export-case", CASE).stdout
    assert "\x1b" not in md and "\\x1b[31mred" in md
    assert "````text\n```\n# not a heading" in md  # a longer fence: the text cannot close the block
    html_out = tmp_path / "case.html"
    cli.ok("export-case", CASE, "--out", str(html_out))
    page = html_out.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "\x1b" not in page
    assert "http" not in page.replace("http-equiv", "")  # self-contained: nothing fetched


def test_export_in_another_time_zone_shows_both(cli, case, tmp_path, isolated_env):
    (isolated_env / "config.toml").write_text('timezone = "America/New_York"\n')
    text = cli.ok("export-case", case).stdout
    assert "2026-11-15 10:00:00 UTC (2026-11-15 05:00:00 EST, UTC-0500)" in text


def test_export_refuses_bad_targets(cli, case, tmp_path):
    assert "does not exist" in cli.fails("export-case", case, "--out", str(tmp_path / "nope" / "c.md"))
    assert "is a folder" in cli.fails("export-case", case, "--out", str(tmp_path))
    assert "no ticket" in cli.fails("export-case", "TD-REF-2026-00077")


# -- permissions ---------------------------------------------------------------------------------


def test_store_and_attachment_folder_are_owner_only(cli, case, db_path, tmp_path):
    assert stat.S_IMODE(db_path.stat().st_mode) == 0o600
    files = Path(str(db_path) + ".files")
    assert stat.S_IMODE(files.stat().st_mode) == 0o700
    for sub in files.iterdir():
        assert stat.S_IMODE(sub.stat().st_mode) == 0o700
    for suffix in ("-wal", "-shm"):
        side = Path(str(db_path) + suffix)
        if side.exists():
            assert stat.S_IMODE(side.stat().st_mode) & 0o077 == 0, suffix
    out = tmp_path / "c.md"
    cli.ok("export-case", case, "--out", str(out))
    assert stat.S_IMODE(out.stat().st_mode) == 0o600


def test_verify_on_empty_or_missing_store_is_one_line(cli, tmp_path):
    empty = tmp_path / "empty.db"
    empty.touch()
    assert "holds no tui-desk store" in cli.fails("verify", db=empty)
    assert "no store at" in cli.fails("verify", db=tmp_path / "missing.db")
    assert not (tmp_path / "missing.db").exists()
    assert empty.stat().st_size == 0


def test_export_case_html_appendices_check_out_too(cli, case, tmp_path):
    import html as html_lib

    page = cli.ok("export-case", case, "--format", "html").stdout
    blocks = [html_lib.unescape(b) for b in re.findall(r"<pre>(.*?)</pre>", page, re.S)]
    script = next(b for b in blocks if b.startswith("# check_chain.py"))
    (tmp_path / "check_chain.py").write_text(script, encoding="utf-8")
    (tmp_path / "case.html").write_text(page, encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-I", "check_chain.py", "case.html"], cwd=tmp_path, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout
    assert f"final digest: {cli.json('show', case)['log_head']}" in result.stdout
    assert "matches the case file" in result.stdout
