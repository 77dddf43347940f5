"""Evidence against a careful attacker: what someone with sqlite3 and write access does, and what catches it.

Each attack here covers its tracks the way a real one would: it drops the guards it needs, edits the
rows *and* the counters that would give it away (log_count, log_head), and re-creates the guards with
their original SQL. The chains bound to their ticket catch moves and swapped case numbers; the seal
(`tui-desk seal`, kept outside the store) catches what no chain can: a tail cut off, a legacy log moved.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tui_desk.store import Store
from tui_desk.store.schema import SCHEMA_VERSION

A, B = "TD-REF-2026-00001", "TD-REF-2026-00002"
DATA = Path(__file__).parent.parent / "data" / "stores"


def _blocks(text: str, info: str) -> str:
    match = re.search(rf"^(`{{3,}}){info}\n(.*?)\n\1$", text, re.S | re.M)
    assert match, f"no {info} block"
    return match.group(2)


def run_check(folder: Path, text: str, name: str) -> subprocess.CompletedProcess:
    """What the reader does: save Appendix B as check_chain.py and run it on the case file, with Python alone."""
    (folder / "check_chain.py").write_text(_blocks(text, "python"), encoding="utf-8")
    (folder / name).write_text(text, encoding="utf-8")
    return subprocess.run([sys.executable, "-I", "check_chain.py", name], cwd=folder, capture_output=True, text=True)


def attack(db: Path, *statements: str, recreate: bool = True) -> None:
    """Drop every guard, run ``statements``, put the guards back exactly as they were (unless told not to)."""
    con = sqlite3.connect(db)
    con.execute("PRAGMA foreign_keys = OFF")
    kept = con.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND name LIKE '%_no_%'").fetchall()
    for name, _sql in kept:
        con.execute(f"DROP TRIGGER {name}")
    for sql in statements:
        con.execute(sql)
    if recreate:
        for _name, sql in kept:
            con.execute(sql)
    con.commit()
    con.close()


def raw(db: Path, *statements: str) -> None:
    con = sqlite3.connect(db)
    for sql in statements:
        con.execute(sql)
    con.commit()
    con.close()


def one(db: Path, sql: str, params: tuple = ()):
    con = sqlite3.connect(db)
    try:
        return con.execute(sql, params).fetchone()
    finally:
        con.close()


def ticket_id(db: Path, case: str) -> int:
    return one(db, "SELECT id FROM ticket WHERE case_number = ?", (case,))[0]


def verify(cli, *args: str, db: Path | None = None) -> tuple[int, list[str]]:
    result = cli.run("verify", *args, **({"db": db} if db else {}))
    assert "Traceback" not in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) <= 1, result.stderr
    return result.returncode, result.stdout.splitlines()


def seal(cli, tmp_path: Path, name: str = "seal.json", db: Path | None = None) -> Path:
    out = tmp_path / name
    cli.ok("seal", "--out", str(out), **({"db": db} if db else {}))
    return out


@pytest.fixture
def two(cli, built_stores):
    """Two cases: A with six entries (a status change among them), B with three."""
    return built_stores.copy(cli, "evidence-two", make_two)


def make_two(cli, _folder):
    cli.ok("new", "--customer", "Jane Roe", "--subject", "Kettle arrived broken")
    cli.ok("new", "--customer", "Bob Poe", "--subject", "Parcel never came")
    for summary in ("Asked for a photo", "Photo received"):
        cli.ok("log", A, "--channel", "email", "--summary", summary)
    cli.ok("status", A, "l1")
    cli.ok("log", A, "--channel", "phone", "--summary", "Promised a refund")
    cli.ok("log", A, "--channel", "note", "--summary", "Refund approved")
    cli.ok("log", B, "--channel", "email", "--summary", "Where is it?")
    cli.ok("log", B, "--channel", "email", "--from", "agent", "--summary", "Checking with the courier")
    return A, B


def cut_tail(db: Path, case: str, keep: int) -> None:
    """Delete a case's last entries (and what points at them) and set its counters to match."""
    tid = ticket_id(db, case)
    attack(
        db,
        "DELETE FROM status_change WHERE entry_id IN "
        f"(SELECT id FROM log_entry WHERE ticket_id = {tid} AND seq > {keep})",
        f"DELETE FROM log_entry WHERE ticket_id = {tid} AND seq > {keep}",
        f"UPDATE ticket SET log_count = {keep}, log_head = (SELECT digest FROM log_entry WHERE ticket_id = {tid} "
        f"AND seq = {keep}) WHERE id = {tid}",
    )


def test_a_clean_store_verifies_against_its_seal_and_later_writes_only_extend_it(cli, two, tmp_path):
    sealed = seal(cli, tmp_path)
    assert stat.S_IMODE(sealed.stat().st_mode) == 0o600
    data = json.loads(sealed.read_text())
    assert data["entries"] == 9 and data["last_entry_id"] == 9 and data["store_id"]
    cli.ok("log", B, "--channel", "note", "--summary", "Written after the seal")
    cli.ok("status", B, "l1")
    code, lines = verify(cli, "--against", str(sealed))
    assert code == 0, lines
    assert any("the seal of" in line and "holds" in line for line in lines)
    # The seal changes with every write.
    assert json.loads(seal(cli, tmp_path, "later.json").read_text())["digest"] != data["digest"]


def test_cutting_a_logs_tail_with_counters_to_match_is_caught_by_the_seal(cli, two, db_path, tmp_path):
    sealed = seal(cli, tmp_path)
    cut_tail(db_path, A, keep=3)
    # Every chain that is left is intact: only the seal can tell that entries 4-6 of A existed.
    assert verify(cli)[0] == 0
    code, lines = verify(cli, "--against", str(sealed))
    assert code == 1
    assert any("3 of the 9 log_entry rows the seal covers are gone" in line for line in lines), lines
    assert any("status_change" in line and "gone" in line for line in lines), lines


def test_cut_tail_then_new_writes_over_it_is_still_caught(cli, two, db_path, tmp_path):
    sealed = seal(cli, tmp_path)
    cut_tail(db_path, B, keep=1)
    for n in range(3):  # the program reuses the freed ids: the sealed rows are now different rows
        cli.ok("log", A, "--channel", "note", "--summary", f"filler {n}")
    code, lines = verify(cli, "--against", str(sealed))
    assert code == 1 and any("against the seal" in line for line in lines), lines


def test_swapping_two_case_numbers_is_caught_with_and_without_a_seal(cli, two, db_path, tmp_path):
    sealed = seal(cli, tmp_path)
    ia, ib = ticket_id(db_path, A), ticket_id(db_path, B)
    attack(
        db_path,
        f"UPDATE ticket SET case_number = 'X' WHERE id = {ia}",
        f"UPDATE ticket SET case_number = '{A}' WHERE id = {ib}",
        f"UPDATE ticket SET case_number = '{B}' WHERE id = {ia}",
    )
    code, lines = verify(cli)
    assert code == 1
    for case in (A, B):
        assert (
            f"{case} #1: entry 1 was changed, or the log belongs to another case: it does not chain from this "
            "case's ticket id and case number" in lines
        ), lines
    code, lines = verify(cli, "--against", str(sealed))
    assert code == 1 and any("changed, moved or renumbered" in line for line in lines), lines


def test_moving_a_whole_log_to_another_ticket_with_its_counters_is_caught(cli, two, db_path, tmp_path):
    sealed = seal(cli, tmp_path)
    ia, ib = ticket_id(db_path, A), ticket_id(db_path, B)
    count, head = one(db_path, f"SELECT log_count, log_head FROM ticket WHERE id = {ia}")
    # B's own log goes out of the way (to A), A's whole log becomes B's, counters and all.
    attack(
        db_path,
        f"UPDATE log_entry SET ticket_id = -1 WHERE ticket_id = {ib}",
        f"UPDATE log_entry SET ticket_id = {ib} WHERE ticket_id = {ia}",
        f"UPDATE log_entry SET ticket_id = {ia} WHERE ticket_id = -1",
        f"UPDATE status_change SET ticket_id = -1 WHERE ticket_id = {ib}",
        f"UPDATE status_change SET ticket_id = {ib} WHERE ticket_id = {ia}",
        f"UPDATE status_change SET ticket_id = {ia} WHERE ticket_id = -1",
        f"UPDATE ticket SET log_count = (SELECT log_count FROM ticket WHERE id = {ib}), "
        f"log_head = (SELECT log_head FROM ticket WHERE id = {ib}) WHERE id = {ia}",
        f"UPDATE ticket SET log_count = {count}, log_head = '{head}' WHERE id = {ib}",
    )
    code, lines = verify(cli)
    assert code == 1
    assert any(line.startswith(f"{B} #1: entry 1 was changed, or the log belongs to another case") for line in lines)
    code, lines = verify(cli, "--against", str(sealed))
    assert code == 1 and any("against the seal" in line for line in lines), lines


def test_a_guard_replaced_by_one_with_the_same_name_that_does_nothing_is_named(cli, two, db_path):
    from tui_desk.store.sqlite import guard_sql

    neutered = guard_sql()["log_entry_no_update"].replace("ON log_entry ", "ON log_entry WHEN 0 ")
    raw(db_path, "DROP TRIGGER log_entry_no_update", neutered)
    # The neutered guard lets an UPDATE through, which is why it matters.
    raw(db_path, "UPDATE log_entry SET kind = kind WHERE id = 1")
    code, lines = verify(cli)
    assert code == 1
    assert "store: the append-only guards were replaced (their SQL differs): log_entry_no_update" in lines, lines


def test_dropping_the_ticket_delete_guard_is_named(cli, two, db_path):
    raw(db_path, "DROP TRIGGER ticket_no_delete")
    code, lines = verify(cli)
    assert code == 1 and "store: the append-only guards were removed: ticket_no_delete" in lines, lines


def test_a_whole_case_deleted_is_caught_by_the_seal(cli, two, db_path, tmp_path):
    sealed = seal(cli, tmp_path)
    ib = ticket_id(db_path, B)
    attack(
        db_path,
        *(f"DELETE FROM {t} WHERE ticket_id = {ib}" for t in ("status_change", "outbox_message", "log_entry")),
        f"DELETE FROM ticket WHERE id = {ib}",
    )
    assert verify(cli)[0] == 0  # nothing left to check: the seal is what remembers B
    code, lines = verify(cli, "--against", str(sealed))
    assert code == 1 and any("3 of the 9 log_entry rows the seal covers are gone" in line for line in lines)


def test_entries_left_behind_by_a_deleted_ticket_are_named(cli, two, db_path):
    attack(db_path, f"DELETE FROM ticket WHERE id = {ticket_id(db_path, B)}")
    code, lines = verify(cli)
    assert code == 1 and any("which no longer exists (deleted)" in line for line in lines), lines


@pytest.mark.parametrize(
    "edit",
    [
        "UPDATE status_change SET to_status = 'resolved' WHERE from_status = 'new'",
        "UPDATE status_change SET agent = 'mallory' WHERE from_status = 'new'",
        "UPDATE status_change SET at = '2026-01-01 00:00:00.000000' WHERE from_status = 'new'",
        "DELETE FROM status_change WHERE from_status IS NULL AND ticket_id = 1",
    ],
)
def test_editing_status_change_rows_is_caught(cli, two, db_path, edit):
    attack(db_path, edit)
    code, lines = verify(cli)
    assert code == 1
    assert any(line.startswith(f"{A}") and "status change" in line for line in lines), lines


def test_editing_the_readable_timeline_of_a_case_file_fails_its_check(cli, two, tmp_path):
    text = cli.ok("export-case", A).stdout
    assert run_check(tmp_path, text, "case.md").returncode == 0
    readable, appendix = text.split("## Appendix A", 1)
    assert readable.count("`Promised a refund`") == 1
    forged = readable.replace("`Promised a refund`", "`Refused a refund`") + "## Appendix A" + appendix
    result = run_check(tmp_path, forged, "forged.md")
    assert result.returncode == 1
    assert "what the case file shows does not match the chain data" in result.stdout
    # The chain itself is untouched: the check names the readable part, not an entry.
    assert "does not match its digest" not in result.stdout
    # A status history row edited in the readable part fails the same way.
    forged = text.replace("`Status: New → L1 in progress`", "`Status: New → Resolved`", 1)
    assert run_check(tmp_path, forged, "forged2.md").returncode == 1
    page = cli.ok("export-case", A, "--format", "html").stdout
    script = _blocks(text, "python")
    (tmp_path / "check_chain.py").write_text(script, encoding="utf-8")
    forged_page = page.replace("<td>Promised a refund</td>", "<td>Refused a refund</td>", 1)
    assert forged_page != page
    (tmp_path / "forged.html").write_text(forged_page, encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-I", "check_chain.py", "forged.html"], cwd=tmp_path, capture_output=True, text=True
    )
    assert result.returncode == 1 and "does not match the chain data" in result.stdout


# -- damaged stores and attachment folders ----------------------------------------------------------


@pytest.mark.parametrize(
    "value, said",
    [("X'00ff10'", "its summary holds binary data (a BLOB), not text"), ("CAST(X'41ff42' AS TEXT)", "not valid UTF-8")],
)
def test_a_damaged_value_names_its_entry_and_the_rest_is_still_checked(cli, two, db_path, value, said):
    attack(db_path, f"UPDATE log_entry SET summary = {value} WHERE ticket_id = 1 AND seq = 3")
    code, lines = verify(cli)
    assert code == 1
    assert any(line.startswith(f"{A} #3: entry 3 is damaged:") and said in line for line in lines), lines
    assert [line for line in lines if line.startswith(B)] == []  # B was checked, and is fine
    assert "ok" not in " ".join(lines)


def test_a_flipped_byte_in_the_schema_ends_verify_with_a_message(cli, two, db_path, tmp_path):
    sqlite3.connect(db_path).execute("PRAGMA wal_checkpoint(TRUNCATE)").connection.close()
    data = bytearray(db_path.read_bytes())
    at = data.find(b"append-only evidence")
    assert at > 0
    data[at + 3] = 0xFF  # inside a guard's text in sqlite_master: invalid UTF-8
    broken = tmp_path / "broken.db"
    broken.write_bytes(bytes(data))
    result = cli.run("verify", db=broken)
    assert result.returncode != 0 and "Traceback" not in result.stderr, result
    assert len(result.stderr.strip().splitlines()) == 1
    assert "guard" in result.stdout or "damaged" in result.stderr, result


@pytest.mark.parametrize("kind", ["fifo", "link to /dev/zero", "link to a good copy"])
def test_verify_never_follows_links_nor_reads_special_files(cli, db_path, tmp_path, kind):
    cli.ok("new", "--customer", "c", "--subject", "s")
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(b"a photo")
    cli.ok("log", A, "--channel", "email", "--summary", "photo", "--attach", str(photo))
    [blob] = [p for p in Path(str(db_path) + ".files").rglob("*") if p.is_file()]
    blob.unlink()
    if kind == "fifo":
        os.mkfifo(blob)
    elif kind == "link to /dev/zero":
        blob.symlink_to("/dev/zero")
    else:
        blob.symlink_to(photo)
    result = cli.run("verify")  # a read of the FIFO or /dev/zero would hang here until the run's timeout
    assert result.returncode == 1, result
    said = "is not a regular file" if kind == "fifo" else "is a symbolic link"
    assert any(said in line for line in result.stdout.splitlines()), result.stdout


def test_a_bad_seal_file_is_one_line(cli, two, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{}")
    assert "not a tui-desk seal" in cli.fails("verify", "--against", str(bad))
    assert "cannot read the seal" in cli.fails("verify", "--against", str(tmp_path / "none.json"))
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    assert "not a regular file" in cli.fails("verify", "--against", str(fifo))


def test_a_seal_of_another_store_is_refused(cli, two, tmp_path):
    other = tmp_path / "other.db"
    cli.ok("new", "--customer", "c", "--subject", "s", db=other)
    sealed = seal(cli, tmp_path, db=other)
    code, lines = verify(cli, "--against", str(sealed))
    assert code == 1 and "store: the seal is of another store (its store id differs)" in lines


@pytest.mark.skipif(not shutil.which("ssh-keygen"), reason="needs ssh-keygen")
def test_a_seal_signed_with_ssh_keygen_checks_out(cli, two, tmp_path):
    """The README's recipe: sign the seal with an SSH key, check it with the allowed signers file."""
    key = tmp_path / "desk_seal"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "desk", "-f", str(key)], check=True)
    sealed = seal(cli, tmp_path)
    subprocess.run(["ssh-keygen", "-q", "-Y", "sign", "-f", str(key), "-n", "tui-desk-seal", str(sealed)], check=True)
    allowed = tmp_path / "allowed_signers"
    allowed.write_text("desk@example.com " + (tmp_path / "desk_seal.pub").read_text())
    check = ["ssh-keygen", "-Y", "verify", "-f", str(allowed), "-I", "desk@example.com", "-n", "tui-desk-seal"]
    ok = subprocess.run([*check, "-s", f"{sealed}.sig"], input=sealed.read_bytes(), capture_output=True)
    assert ok.returncode == 0, ok.stderr
    forged = sealed.read_bytes().replace(b'"entries": 9', b'"entries": 8')
    bad = subprocess.run([*check, "-s", f"{sealed}.sig"], input=forged, capture_output=True)
    assert bad.returncode != 0


# -- stores made before chains were bound ---------------------------------------------------------------


@pytest.fixture
def legacy(tmp_path) -> Path:
    """A store made by main's code before this change (schema 2): its chains start from ""."""
    db = tmp_path / "legacy.db"
    shutil.copy(DATA / "main-schema2.db", db)
    shutil.copytree(DATA / "main-schema2.db.files", tmp_path / "legacy.db.files")
    return db


def _digests(db: Path) -> list:
    con = sqlite3.connect(db)
    rows = con.execute(
        "SELECT t.case_number, e.seq, e.digest FROM log_entry e JOIN ticket t ON t.id = e.ticket_id ORDER BY e.id"
    ).fetchall()
    con.close()
    return [list(r) for r in rows]


def test_a_store_made_by_mains_code_verifies_and_keeps_its_digests(cli, legacy, tmp_path):
    expected = json.loads((DATA / "main-schema2.json").read_text())
    assert verify(cli, db=legacy)[0] == 0  # read-only, as it is (schema 2)
    cli.ok("log", "TD-REF-2026-00001", "--channel", "note", "--summary", "after the upgrade", db=legacy)
    cli.ok("new", "--customer", "New", "--subject", "bound from the start", db=legacy)
    assert _digests(legacy)[: len(expected["entries"])] == expected["entries"]
    assert one(legacy, "SELECT value FROM meta WHERE key = 'schema_version'") == (str(SCHEMA_VERSION),)
    assert one(legacy, "SELECT value FROM meta WHERE key = 'chain_bound_from'") == ("3",)
    code, lines = verify(cli, db=legacy)
    assert code == 0, lines
    assert cli.json("verify", "TD-REF-2026-00002", db=legacy)["ok"]
    sealed = seal(cli, tmp_path, db=legacy)
    assert verify(cli, "--against", str(sealed), db=legacy)[0] == 0


def test_in_a_legacy_store_a_swap_or_move_is_caught_by_the_seal(cli, legacy, tmp_path):
    sealed = seal(cli, tmp_path, db=legacy)  # sealing upgrades the store: its tickets stay legacy
    attack(
        legacy,
        "UPDATE ticket SET case_number = 'X' WHERE id = 1",
        "UPDATE ticket SET case_number = 'TD-REF-2026-00001' WHERE id = 2",
        "UPDATE ticket SET case_number = 'TD-SUP-2026-00001' WHERE id = 1",
    )
    assert verify(cli, db=legacy)[0] == 0  # legacy chains are not bound: the limit the seal closes
    code, lines = verify(cli, "--against", str(sealed), db=legacy)
    assert code == 1 and any("changed, moved or renumbered" in line for line in lines), lines


def test_a_bound_chain_cannot_be_downgraded_to_a_legacy_one(cli, legacy):
    cli.ok("new", "--customer", "New", "--subject", "bound", db=legacy)  # ticket 3, bound
    attack(legacy, "UPDATE meta SET value = '99' WHERE key = 'chain_bound_from'")
    code, lines = verify(cli, db=legacy)
    assert code == 1 and any(line.startswith("TD-REF-2026-00002 #1") for line in lines), lines
    attack(legacy, "DELETE FROM meta WHERE key = 'chain_bound_from'")
    code, lines = verify(cli, db=legacy)
    assert code == 1 and "store: the store's record of which chains are bound was removed" in lines


def test_new_tickets_from_every_path_start_from_their_genesis(store, db_path, tmp_path, clock):
    from tui_desk.domain.evidence import genesis
    from tui_desk.store.demo import build_demo
    from tui_desk.store.verify import verify_path

    ticket = store.create_ticket(customer="A", subject="B")
    store.close()
    first = one(db_path, "SELECT digest FROM log_entry WHERE ticket_id = ? AND seq = 1", (ticket.id,))[0]
    assert first != ""  # the genesis itself is what the first entry chains from; verify recomputes it
    assert genesis(ticket.id, ticket.case_number) != genesis(ticket.id + 1, ticket.case_number)
    demo = tmp_path / "demo.db"
    build_demo(demo, tickets=40, seed=1, clock=clock, config=None, fresh=True)
    assert verify_path(demo).ok
    attack(demo, "UPDATE ticket SET case_number = case_number || 'X' WHERE id = 7")
    report = verify_path(demo)
    assert [(p.seq, p.what) for p in report.problems] == [(1, "changed")]
    Store(demo, clock=clock, agent="x", read_only=True).close()
