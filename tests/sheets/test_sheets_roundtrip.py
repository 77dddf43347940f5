"""Export, then import into a fresh store: the same tickets and the same log entries come back."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from pathlib import Path

import pytest
from conftest import CLI
from conftest import SHEETS_DATA as DATA

from tui_desk.store import Store

MAIL = "maria" + chr(64) + "example.com"
# Fields that say when and by which chain a row was written here, so they differ by design.
WRITTEN_HERE = ("logged_at", "digest")


def build_store(cli) -> list[str]:
    """A store with a bit of everything a log can hold, made through the real command."""
    t1 = cli.json(
        "new",
        "--customer",
        "Maria Garcia",
        "--email",
        MAIL,
        "--order",
        "ORD-778812",
        "--subject",
        '=HYPERLINK("http://evil.example","click")',
        "--reason",
        "defective item",
        "--priority",
        "high",
        "--tag",
        "billing-dispute",
        "--tag",
        "vip",
        "--description",
        'Blender stopped\nafter two days; "quotes", commas',
        "--opened",
        "2026-11-13 09:00",
    )["case_number"]
    cli.ok(
        "log",
        t1,
        "--channel",
        "email",
        "--summary",
        "Customer sent a video",
        "--from",
        "buyer",
        "--name",
        "Maria",
        "--body",
        "Here is the video.\r\nSecond line",
        "--at",
        "2026-11-13 09:15",
    )
    cli.ok(
        "log",
        t1,
        "--channel",
        "phone",
        "--direction",
        "out",
        "--summary",
        "Called back",
        "--at",
        "2026-11-14 10:00",
        "--until",
        "2026-11-14 10:12",
        "--follow-up",
        "2026-11-18 12:00",
    )
    cli.ok("log", t1, "--channel", "note", "--summary", "-2 is the wrong count", "--corrects", "2")
    cli.ok("status", t1, "l1")
    cli.ok("status", t1, "waiting-buyer")
    cli.ok("log", t1, "--channel", "chat", "--summary", "Customer answered", "--from", "buyer")
    cli.ok("assign", t1, "ben")
    cli.ok("refund", t1, "--amount", "49.90", "--currency", "EUR", "--approved", "2026-11-15 10:00")
    cli.ok("status", t1, "resolved", "--note", "Refund approved")
    t2 = cli.json(
        "new", "--customer", "John Smith", "--subject", "Password reset mail never comes", "--kind", "support"
    )["case_number"]
    cli.ok("status", t2, "closed", "--note", "Sent the reset link by hand")
    t3 = cli.json("new", "--customer", "Aiko Tanaka", "--subject", "Parcel never arrived")["case_number"]
    cli.ok("import", str(DATA / "gtb_seed000.csv"))
    cli.ok("import", str(DATA / "vigorbuy_seed002.csv"))
    return [t1, t2, t3]


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, list[str]]:
    """The store above, built once for the module; each test works on its own copy."""
    folder = tmp_path_factory.mktemp("built")
    db = folder / "desk.db"
    with pytest.MonkeyPatch.context() as env:  # the autouse isolation is per test; this runs before it
        for name in ("HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME"):
            env.setenv(name, str(folder / "home"))
        env.setenv("TUI_DESK_CONFIG", str(folder / "config.toml"))
        cases = build_store(CLI(db))
    return db, cases


@pytest.fixture
def store_copy(built, cli) -> list[str]:
    db, cases = built
    with sqlite3.connect(db) as source, sqlite3.connect(cli.db) as target:
        source.backup(target)
    return cases


def snapshot(db: Path, *, with_log: bool = True) -> dict:
    """Every ticket as `show --json` describes it, without the fields that depend on where it was written."""
    store = Store(db, agent="reader", read_only=True)
    try:
        out = {}
        for ticket in store.list_tickets():
            data = store.describe(ticket, with_log=with_log)
            data.pop("log_head")
            data.pop("version")  # counts the writes made here; an import is one write
            # A sheet carries the SLA due times only; the risk, breach and pause bookkeeping is not
            # part of the spreadsheet and is not carried over (a known gap, see the README).
            sla = data.pop("sla")
            data["sla_due"] = (sla["response_due_at"], sla["resolution_due_at"])
            if with_log:
                data["log"] = [{k: v for k, v in e.items() if k not in WRITTEN_HERE} for e in data["log"]]
            out[data["case_number"]] = data
        return out
    finally:
        store.close()


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_log_export_then_import_gives_the_same_tickets_and_entries(cli, tmp_path, fmt, store_copy):
    exported = tmp_path / f"all.{fmt}"
    cli.ok("export", "--log", "--format", fmt, "--out", str(exported))
    fresh = tmp_path / "fresh.db"
    result = cli.json("import", str(exported), db=fresh)
    before, after = snapshot(cli.db), snapshot(fresh)
    assert result["created"] == len(before) == 9
    assert after == before
    assert "every chain intact" in cli.ok("verify", db=fresh).stdout
    # And again: nothing is duplicated.
    assert cli.json("import", str(exported), db=fresh)["already_imported"] == 9


def test_per_ticket_export_imports_back_into_the_same_tickets(cli, tmp_path, store_copy):
    exported = tmp_path / "tickets.csv"
    cli.ok("export", "--out", str(exported))
    fresh = tmp_path / "fresh.db"
    cli.ok("import", str(exported), db=fresh)
    assert snapshot(fresh, with_log=False) == snapshot(cli.db, with_log=False)


def test_per_ticket_export_has_the_seed_columns_and_the_latest_entry(cli, store_copy):
    t1, t2, t3 = store_copy
    text = cli.ok("export").stdout
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0])[:12] == [
        "Case Number",
        "Customer",
        "Email",
        "Order ID",
        "Open Date (UTC)",
        "Issue Summary",
        "Reason",
        "Communication Log (Latest)",
        "Status",
        "Date of Last Action (UTC)",
        "Resolution Date (UTC)",
        "Follow-up (UTC)",
    ]
    by_case = {r["Case Number"]: r for r in rows}
    first = by_case[t1]
    assert first["Issue Summary"] == '\'=HYPERLINK("http://evil.example","click")'  # never a live formula
    assert first["Status"] == "Resolved"
    assert first["Communication Log (Latest)"].startswith("2026-11-15 14:30 UTC: Status: ")
    assert first["Tags"] == "billing-dispute vip"
    assert first["Refund Amount"] == "49.90"
    gtb = by_case["GTB-REF-1101"]
    assert (gtb["Open Date (UTC)"], gtb["Resolution Date (UTC)"]) == ("2023-10-26 00:00:00", "2023-11-02 00:00:00")
    assert gtb["Communication Log (Latest)"] == "2023-10-29 00:00 UTC: Support approved RMA."


def test_log_export_has_one_row_per_entry(cli, store_copy):
    t1, *_ = store_copy
    rows = list(csv.DictReader(io.StringIO(cli.ok("export", "--log").stdout)))
    mine = [r for r in rows if r["Case Number"] == t1]
    assert [r["Entry #"] for r in mine] == [str(i) for i in range(1, len(mine) + 1)]
    assert len(mine) == len(cli.json("show", t1)["log"])
    call = next(r for r in mine if r["Entry Summary"] == "Called back")
    assert (call["Entry At (UTC)"], call["Entry Until (UTC)"]) == ("2026-11-14 10:00:00", "2026-11-14 10:12:00")
    assert next(r for r in mine if r["Entry Summary"].endswith("wrong count"))["Corrects #"] == "2"


def test_export_filters_by_status_and_since(cli, tmp_path, store_copy):
    t1, t2, t3 = store_copy
    resolved = list(csv.DictReader(io.StringIO(cli.ok("export", "--status", "resolved").stdout)))
    assert {r["Case Number"] for r in resolved} == {t1, "GTB-REF-1101", "VB-REF-2024-00019"}
    out = tmp_path / "recent.json"
    cli.ok("export", "--format", "json", "--since", "2026-11-01", "--out", str(out))
    data = json.loads(out.read_text())
    assert {t["case_number"] for t in data} == {t1, t2, t3}
    assert all("latest_entry" in t and "log" not in t for t in data)
    assert "unknown status" in cli.fails("export", "--status", "nope")


def test_export_of_an_empty_store_is_a_header_or_an_empty_list(cli, tmp_path):
    header = cli.ok("export").stdout.splitlines()
    assert len(header) == 1 and header[0].startswith("Case Number,Customer,")
    assert json.loads(cli.ok("export", "--format", "json").stdout) == []
    assert "cannot write" in cli.fails("export", "--out", str(tmp_path / "no" / "such" / "folder.csv"))


def test_a_tampered_log_sheet_is_refused_with_its_line(cli, tmp_path, store_copy):
    rows = list(csv.reader(io.StringIO(cli.ok("export", "--log").stdout)))
    header = rows[0]
    rows[3][header.index("Channel")] = "pigeon"
    bad = tmp_path / "bad.csv"
    with bad.open("w", newline="", encoding="utf-8") as out:
        csv.writer(out).writerows(rows)
    with bad.open(newline="", encoding="utf-8") as f:  # multi-line cells: the row starts further down
        reader = csv.reader(f)
        starts = [1]
        for _ in reader:
            starts.append(reader.line_num + 1)
    err = cli.fails("import", str(bad), db=tmp_path / "fresh.db")
    assert err.startswith(f"tui-desk: error: line {starts[3]}: unknown channel 'pigeon'")  # the entry's own row
    assert starts[3] > 4
    rows[3][header.index("Channel")] = "email"
    rows[3][header.index("Entry Kind")] = "gossip"
    with bad.open("w", newline="", encoding="utf-8") as out:
        csv.writer(out).writerows(rows)
    assert "unknown entry kind 'gossip'" in cli.fails("import", str(bad), db=tmp_path / "fresh.db")
    assert not (tmp_path / "fresh.db").exists() or cli.json("list", db=tmp_path / "fresh.db") == []


@pytest.mark.postgres_only
def test_postgres_a_log_sheet_round_trips_through_a_postgresql_store(cli, tmp_path, built):
    db, _ = built
    exported = tmp_path / "all.csv"
    cli.ok("export", "--log", "--format", "csv", "--out", str(exported), db=db)  # from the SQLite store
    assert cli.json("import", str(exported))["created"] == 9  # into the PostgreSQL one (cli.db)
    assert snapshot(cli.db) == snapshot(db)
    again = tmp_path / "again.csv"
    cli.ok("export", "--log", "--format", "csv", "--out", str(again))  # and out of it, into a new SQLite file
    fresh = tmp_path / "fresh.db"
    cli.ok("import", str(again), db=fresh)
    assert snapshot(fresh) == snapshot(db)


def _on_a_terminal(cli, *args: str) -> bytes:
    """What the real command writes to standard output when that is a terminal (a pty)."""
    import os
    import pty
    import subprocess

    from conftest import TUI_DESK

    leader, follower = pty.openpty()
    proc = subprocess.Popen([TUI_DESK, "--db", str(cli.db), *args], stdout=follower, env=cli.env())
    os.close(follower)
    seen = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the command ended and closed its side
            break
        if not chunk:
            break
        seen += chunk
    os.close(leader)
    assert proc.wait(timeout=60) == 0
    return seen


def test_an_export_to_a_terminal_shows_control_characters_and_a_pipe_gets_them_as_stored(cli, tmp_path):
    """Customer text holding escape sequences (set the clipboard by OSC 52, recolour, an 8-bit CSI) cannot drive
    the terminal an export (or any --json output) is read on, and JSON stays JSON there; the file or pipe it is
    meant for keeps every character."""
    customer, subject = "Eve\x1b]52;c;aGk=\x07", "red \x1b[31mRED\x1b[0m \x9b2J"
    cli.ok("new", "--customer", customer, "--subject", subject)
    shown = _on_a_terminal(cli, "export").decode()
    assert "Eve\\x1b]52;c;aGk=\\x07" in shown and "red \\x1b[31mRED\\x1b[0m \\x9b2J" in shown
    shown_json = _on_a_terminal(cli, "export", "--format", "json").decode()
    assert json.loads(shown_json)[0]["subject"] == subject  # still JSON: C1 as \u009b, C0 as JSON has them
    shown_list = _on_a_terminal(cli, "list", "--json").decode()
    assert json.loads(shown_list)[0]["customer"] == customer
    for text in (shown, shown_json, shown_list):
        assert not {"\x1b", "\x07", "\x9b"} & set(text), repr(text)
    piped = list(csv.DictReader(io.StringIO(cli.ok("export").stdout)))
    assert (piped[0]["Customer"], piped[0]["Issue Summary"]) == (customer, subject)
    assert json.loads(cli.ok("export", "--format", "json").stdout)[0]["subject"] == subject
