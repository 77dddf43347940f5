"""The real ``tui-desk`` command, end to end, for every command and each kind of bad input."""

import hashlib
import json
import os
import re
import shutil

import pytest


@pytest.fixture
def case(cli, built_stores):
    return built_stores.copy(cli, "cli-case", make_case)


def make_case(cli, _folder):
    return cli.json(
        "new",
        "--customer",
        "Maria Garcia",
        "--subject",
        "Blender broken",
        "--email",
        "maria@example.com",
        "--order",
        "ORD-77",
        "--reason",
        "defective item",
        "--priority",
        "high",
        "--tag",
        "vip",
        "--description",
        "Stopped after two days.",
    )["case_number"]


@pytest.mark.backends
def test_new_show_json_has_the_record(cli, case):
    data = cli.json("show", case)
    assert case == "TD-REF-2026-00001"
    for key in ("case_number", "status", "kind", "customer", "subject", "assignee", "tags", "opened_at", "log"):
        assert key in data
    assert data["status"] == "New" and data["kind"] == "refund" and data["tags"] == ["vip"]
    assert data["opened_at"] == "2026-11-15T14:30:00Z"
    [ack] = data["log"]
    assert set(ack) >= {"at", "kind", "channel", "direction", "sender", "agent", "summary", "body", "attachments"}
    assert ack["kind"] == "acknowledgement" and case in ack["body"] and "two days" in ack["body"]


def test_description_from_stdin_and_support_kind(cli):
    data = cli.json(
        "new",
        "--customer",
        "Zoe",
        "--subject",
        "Login",
        "--kind",
        "support",
        "--description",
        "-",
        input="line one\nline two\n",
    )
    assert data["case_number"] == "TD-SUP-2026-00001" and data["description"] == "line one\nline two\n"


@pytest.mark.backends
def test_log_with_attachment_times_and_follow_up(cli, tmp_path):
    # The call came at 14:00; the ticket for it was typed in at 14:30.
    case = cli.json("new", "--customer", "Maria Garcia", "--subject", "Blender broken", "--opened", "13:55")[
        "case_number"
    ]
    proof = tmp_path / "video-proof.mp4"
    proof.write_bytes(b"\x00\x01video" * 100)
    out = cli.json(
        "log",
        case,
        "--channel",
        "phone",
        "--summary",
        "Customer called",
        "--from",
        "buyer",
        "--name",
        "Maria",
        "--body",
        "-",
        "--attach",
        str(proof),
        "--at",
        "14:00",
        "--until",
        "14:20",
        "--follow-up",
        "tomorrow 9:00",
        input="She sent the video.\n",
    )
    entry = out["entry"]
    assert entry["at"] == "2026-11-15T14:00:00Z" and entry["until"] == "2026-11-15T14:20:00Z"
    assert entry["follow_up_at"] == "2026-11-16T09:00:00Z" and entry["direction"] == "in"
    assert entry["attachments"] == [
        {"name": "video-proof.mp4", "size": 700, "sha256": hashlib.sha256(proof.read_bytes()).hexdigest()}
    ]
    proof.unlink()
    shown = cli.json("show", case)
    assert shown["log"][1]["body"] == "She sent the video.\n" and shown["follow_up_at"] == "2026-11-16T09:00:00Z"
    text = cli.ok("show", case).stdout
    assert "video-proof.mp4 (700 bytes" in text and "2026-11-15 14:00 UTC - 2026-11-15 14:20 UTC" in text


@pytest.mark.backends
def test_status_assign_tag_refund_and_list(cli, case):
    assert "is now Waiting on Buyer" in cli.ok("status", case, "Waiting on Buyer").stdout
    assert cli.json("status", case, "waiting-us")["status"] == "Waiting on Us"
    assert cli.json("assign", case, "ben")["assignee"] == "ben"
    assert cli.json("tag", case, "billing-dispute", "refund-delayed")["tags"] == [
        "billing-dispute",
        "refund-delayed",
        "vip",
    ]
    assert cli.json("tag", case, "vip", "--remove")["tags"] == ["billing-dispute", "refund-delayed"]
    refund = cli.json(
        "refund", case, "--amount", "49.90", "--currency", "eur", "--approved", "-1d", "--initiated", "now"
    )
    assert refund["amount"] == "49.90" and refund["currency"] == "EUR"
    assert refund["approved_at"] == "2026-11-14T14:30:00Z"
    assert cli.json("status", case, "resolved", "--note", "Refund sent")["status"] == "Resolved"
    other = cli.json("new", "--customer", "Omar", "--subject", "Late parcel", "--kind", "support")["case_number"]
    listed = cli.json("list", "--status", "resolved")
    assert [r["case_number"] for r in listed] == [case]
    assert [r["case_number"] for r in cli.json("list", "--assignee", "-")] == [other]
    assert [r["case_number"] for r in cli.json("list", "--search", "blender")] == [case]
    assert [r["case_number"] for r in cli.json("list", "--tag", "billing-dispute")] == [case]
    table = cli.ok("list").stdout
    assert case in table and other in table and "(2 tickets)" in table
    agents = {e["agent"] for e in cli.json("show", case)["log"] if e["kind"] == "status"}
    assert agents == {"ana"}


def test_agent_option_is_recorded(cli, case):
    cli.ok("--agent", "chloe", "log", case, "--channel", "note", "--summary", "Checked tracking")
    assert cli.json("show", case)["log"][-1]["agent"] == "chloe"


def test_db_from_environment(cli, tmp_path):
    other = tmp_path / "elsewhere.db"
    result = cli.run("new", "--customer", "A", "--subject", "B", db=other)
    assert result.returncode == 0
    import subprocess

    from tests.conftest import TUI_DESK

    listed = subprocess.run(
        [TUI_DESK, "list", "--json"], capture_output=True, text=True, env=cli.env(TUI_DESK_DB=str(other))
    )
    assert [r["customer"] for r in json.loads(listed.stdout)] == ["A"]


def test_demo_builds_a_store_with_every_status(cli, tmp_path):
    demo = tmp_path / "demo.db"
    out = cli.ok("demo", "--tickets", "400", "--seed", "3", "--no-open", db=demo).stdout
    assert "400 tickets" in out
    rows = cli.json("list", db=demo)
    assert len(rows) == 400
    statuses = {r["status"] for r in rows}
    assert statuses == {
        "New",
        "To do next",
        "L1 in progress",
        "L2 in progress",
        "Waiting on Seller",
        "Waiting on Buyer",
        "Waiting on Us",
        "Resolved",
        "Closed",
    }
    kinds = {r["kind"] for r in rows}
    assert kinds == {"refund", "support"}
    shown = cli.json("show", rows[0]["case_number"], db=demo)
    assert shown["log"][0]["kind"] == "acknowledgement"


def store_fingerprint(cli, case):
    return cli.ok("show", case, "--json").stdout


BAD = [
    (["log", "TD-REF-2026-00999", "--channel", "email", "--summary", "x"], "no ticket"),
    (["new", "--customer", "A", "--subject", "   "], "subject is blank"),
    (["new", "--customer", " ", "--subject", "x"], "customer is blank"),
    (["log", "{case}", "--channel", "email", "--summary", "  "], "summary is blank"),
    (["log", "{case}", "--channel", "fax", "--summary", "x"], "unknown channel 'fax'"),
    (["status", "{case}", "Pending"], "unknown status 'Pending'"),
    (["status", "{case}", "New"], "cannot move a ticket from New to New|already New"),
    (["status", "{case}", "resolved"], "resolution note"),
    (["status", "{case}", "closed"], "final summary"),
    (["log", "{case}", "--channel", "email", "--summary", "x", "--at", "next blue moon"], "cannot read the date"),
    (["log", "{case}", "--channel", "email", "--summary", "x", "--follow-up", "25:99"], "cannot read"),
    (["log", "{case}", "--channel", "email", "--summary", "x", "--attach", "/no/such/file.png"], "no such file"),
    (["log", "{case}", "--channel", "email", "--summary", "x", "--attach", "/tmp"], "folder"),
    (["log", "{case}", "--channel", "note", "--summary", "x", "--direction", "in"], "note is internal"),
    (["new", "--customer", "A", "--subject", "B", "--priority", "asap"], "unknown priority"),
    (["new", "--customer", "A", "--subject", "B", "--kind", "warranty"], "unknown kind"),
    (["refund", "{case}", "--amount", "ten"], "not a number"),
    (["list", "--sort", "colour"], "cannot sort"),
]


@pytest.mark.parametrize("args,message", BAD, ids=[" ".join(a[:3]) + "…" + m[:12] for a, m in BAD])
def test_bad_input_is_refused_with_one_line_and_writes_nothing(cli, case, db_path, args, message):
    before = store_fingerprint(cli, case)
    count = len(cli.json("list"))
    err = cli.fails(*[a.format(case=case) for a in args])
    assert err.startswith("tui-desk: error: ")
    import re

    assert re.search(message, err), err
    assert store_fingerprint(cli, case) == before
    assert len(cli.json("list")) == count


@pytest.mark.backends
def test_transition_forbidden_after_close(cli, case):
    cli.ok("status", case, "closed", "--note", "Customer withdrew")
    before = store_fingerprint(cli, case)
    assert "final" in cli.fails("status", case, "l1")
    assert "Closed" in cli.fails("log", case, "--channel", "email", "--summary", "hello")
    assert store_fingerprint(cli, case) == before


def test_read_only_store_is_refused_for_writes(cli, case, db_path):
    before = db_path.read_bytes()
    assert "read-only" in cli.fails("--read-only", "new", "--customer", "A", "--subject", "B")
    assert "read-only" in cli.fails("log", case, "--channel", "note", "--summary", "x", TUI_DESK_READ_ONLY="1")
    assert cli.json("--read-only", "show", case)["case_number"] == case
    assert db_path.read_bytes() == before


def test_newer_store_refused_untouched(cli, case, db_path):
    import sqlite3

    raw = sqlite3.connect(db_path)
    raw.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    raw.commit()
    raw.close()
    before = db_path.read_bytes()
    assert "newer tui-desk" in cli.fails("list")
    assert "newer tui-desk" in cli.fails("new", "--customer", "A", "--subject", "B")
    assert db_path.read_bytes() == before


def test_store_path_problems(cli, tmp_path):
    assert "does not exist" in cli.fails("list", db=tmp_path / "missing-folder" / "desk.db")
    junk = tmp_path / "junk.db"
    junk.write_bytes(os.urandom(4096))
    assert "not a tui-desk store" in cli.fails("list", db=junk)


@pytest.mark.backends
def test_customer_text_is_kept_byte_for_byte_and_shown_inert(cli, case):
    nasty = "[bold red]x[/] [@click=app.quit]click[/] \x1b[2J\x1b]0;pwned\x07 مرحبا e\u0301 🎉"
    cli.ok("log", case, "--channel", "chat", "--summary", "weird", "--body", "-", input=nasty)
    assert cli.json("show", case)["log"][-1]["body"] == nasty
    text = cli.ok("show", case).stdout
    assert "\x1b" not in text and "\\x1b[2J" in text and "[@click=app.quit]" in text


def test_demo_never_overwrites_a_real_store(cli, case, db_path):
    before = store_fingerprint(cli, case)
    assert "not a demo store" in cli.fails("demo", "--no-open", "--tickets", "5")
    assert store_fingerprint(cli, case) == before
    # TUI_DESK_DB names the team's store: demo builds its own store elsewhere, untouched by it.
    import subprocess

    from tests.conftest import TUI_DESK

    result = subprocess.run(
        [TUI_DESK, "demo", "--no-open", "--tickets", "5"],
        capture_output=True,
        text=True,
        env=cli.env(TUI_DESK_DB=str(db_path)),
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert str(db_path) not in result.stdout
    assert store_fingerprint(cli, case) == before


def test_times_that_contradict_each_other_are_refused(cli, case):
    before = store_fingerprint(cli, case)
    assert "before it starts" in cli.fails("log", case, "--channel", "phone", "--summary", "x", "--until", "-1d")
    assert "before the contact" in cli.fails(
        "log", case, "--channel", "phone", "--summary", "x", "--at", "14:00", "--follow-up", "13:00"
    )
    assert "before it was approved" in cli.fails("refund", case, "--approved", "yesterday", "--initiated", "-2d")
    assert "before it was initiated" in cli.fails("refund", case, "--approved", "yesterday", "--refunded", "now")
    assert "in the future" in cli.fails("refund", case, "--approved", "tomorrow")
    assert store_fingerprint(cli, case) == before


def test_malformed_command_lines_get_one_line(cli):
    for args in (["bogus"], ["new"], ["list", "--limit", "abc"]):
        result = cli.run(*args)
        assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert result.stderr.startswith("tui-desk: error: ")
    assert "TUI_DESK_NOW" in cli.fails("list", TUI_DESK_NOW="garbage")


@pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux (apt-get install tmux)")
def test_demo_opens_the_console_as_one_of_its_agents(cli, tmp_path):
    """In a real terminal (a tmux pane): the demo console's agent has tickets in "My tickets"."""
    import subprocess
    import time

    from tests.conftest import TUI_DESK

    env = cli.env()
    del env["TUI_DESK_AGENT"]
    socket, demo = tmp_path / "tmux.sock", tmp_path / "demo.db"
    tmux = ["tmux", "-S", str(socket)]
    command = f"{TUI_DESK} --db {demo} demo --tickets 60 --seed 2"
    subprocess.run([*tmux, "new-session", "-d", "-s", "demo", "-x", "100", "-y", "30", command], env=env, check=True)
    subprocess.run([*tmux, "set-option", "-t", "demo", "remain-on-exit", "on"], capture_output=True)
    try:
        screen = ""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            screen = subprocess.run([*tmux, "capture-pane", "-p", "-t", "demo"], capture_output=True, text=True).stdout
            mine = re.search(r"(?:My tickets|Mine) ([\d,]+)", screen)  # the short title when narrow
            if mine:
                break
            time.sleep(0.2)
        assert "agent ana" in screen and mine, screen
        assert int(mine.group(1).replace(",", "")) > 0, screen
    finally:
        subprocess.run([*tmux, "kill-server"], capture_output=True)
