"""``tui-desk receive``: real .eml bytes piped in, as an MTA does; threading, parties, duplicates, automatic
mail, bounces, and hostile messages that are stored as far as they can be read."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import timedelta
from pathlib import Path

import pytest

from tests.mail.test_deliver import _new


@pytest.fixture(autouse=True)
def _store_exists(cli):
    cli.ok("list")  # receive, like sweep, never makes a new store (a mistyped --db in an MTA's alias)


def eml(
    subject="Blender broken",
    sender="Bea Buyer <bea@example.com>",
    body="It smokes when I switch it on.",
    message_id="<m1@mail.example.com>",
    date="Sun, 15 Nov 2026 15:02:00 +0100",
    extra="",
) -> bytes:
    head = f"From: {sender}\nTo: support@example.com\nSubject: {subject}\nDate: {date}\nMessage-ID: {message_id}\n"
    return (head + extra + "MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\n" + body + "\n").encode()


def receive(cli, raw: bytes, *extra: str) -> dict:
    result = cli.run("receive", "--json", *extra, input=raw.decode("utf-8", "surrogateescape"))
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_a_new_message_opens_a_ticket_with_the_mail_kept_as_evidence(cli):
    raw = eml()
    result = receive(cli, raw)
    assert result["outcome"] == "opened"
    case = result["case_number"]
    shown = cli.json("show", case)
    assert (shown["customer"], shown["email"], shown["subject"]) == ("Bea Buyer", "bea@example.com", "Blender broken")
    assert shown["description"] == "It smokes when I switch it on."
    entry = shown["log"][-1]
    assert (entry["channel"], entry["direction"], entry["sender"]) == ("email", "in", "buyer")
    assert entry["sender_name"] == "Bea Buyer <bea@example.com>"
    assert entry["at"] == "2026-11-15T14:02:00Z"  # the Date header, in UTC
    assert "Date: Sun, 15 Nov 2026 15:02:00 +0100" in entry["body"]  # as sent, zone and all
    (kept,) = entry["attachments"]
    assert kept["name"] == "message.eml" and kept["sha256"] == hashlib.sha256(raw).hexdigest()
    (ack,) = cli.json("outbox")
    assert (ack["kind"], ack["address"]) == ("acknowledgement", "bea@example.com")


def test_the_same_message_id_twice_creates_nothing(cli):
    first = receive(cli, eml())
    again = receive(cli, eml())
    assert again["outcome"] == "duplicate"
    assert len(cli.json("list")) == 1
    assert len(cli.json("show", first["case_number"])["log"]) == 2  # acknowledgement, the message


def test_the_waited_on_partys_answer_by_subject_tag_moves_the_ticket(cli):
    case = _new(cli, "--seller-email", "shop@seller.example")
    cli.ok("status", case, "waiting-on-seller")
    result = receive(cli, eml(subject=f"Re: [{case}] Blender broken", sender="Shop <SHOP@seller.example>"))
    assert (result["outcome"], result["party"], result["counted"]) == ("threaded", "seller", True)
    assert cli.json("show", case)["status"] == "Waiting on Us"


def test_a_reply_to_our_message_id_threads_without_a_tag(cli, smtp_server, mail_config):
    case = _new(cli)
    cli.ok("deliver")
    ours = smtp_server.received[0][2]["Message-ID"]
    cli.ok("status", case, "waiting-on-buyer")
    result = receive(cli, eml(subject="Re: your message", extra=f"In-Reply-To: {ours}\nReferences: {ours}\n"))
    assert (result["outcome"], result["case_number"]) == ("threaded", case)
    assert cli.json("show", case)["status"] == "Waiting on Us"
    cli.ok("reply", case, "--body", "Thanks, we look into it.")
    cli.ok("deliver")
    reply = smtp_server.received[-1][2]
    assert reply["In-Reply-To"] == "<m1@mail.example.com>"  # the customer's last message on the case


def test_resolved_reopens_within_7_days_and_closed_opens_a_follow_up(cli):
    case = _new(cli)
    cli.ok("status", case, "resolved", "--note", "Refund sent")
    receive(cli, eml(subject=f"[{case}] not ok", message_id="<a@x>"))
    assert cli.json("show", case)["status"] == "Waiting on Us"
    cli.ok("status", case, "resolved", "--note", "Refund sent again")
    cli.now += timedelta(days=8)
    result = receive(cli, eml(subject=f"Re: [{case}] still broken", message_id="<b@x>"))
    assert result["outcome"] == "follow_up" and result["case_number"] != case
    follow = cli.json("show", result["case_number"])
    assert follow["references"] == case and follow["subject"] == "still broken"
    assert cli.json("show", case)["status"] == "Closed"


def test_auto_replies_are_logged_but_never_answer_and_never_get_an_acknowledgement(cli):
    case = _new(cli)
    cli.ok("status", case, "waiting-on-buyer")
    ooo = eml(
        subject=f"Out of office: [{case}] Blender broken", message_id="<ooo@x>", extra="Auto-Submitted: auto-replied\n"
    )
    result = receive(cli, ooo)
    assert (result["outcome"], result["counted"]) == ("threaded", False)
    shown = cli.json("show", case)
    assert shown["status"] == "Waiting on Buyer"  # not the buyer's answer
    assert "automatic mail (Auto-Submitted: auto-replied)" in shown["log"][-1]["body"]
    lists = eml(subject="Our newsletter", message_id="<news@x>", extra="List-Id: <news.shop.example>\n")
    assert receive(cli, lists)["outcome"] == "auto"
    daemon = eml(subject="Hello", sender="MAILER-DAEMON@mx.example", message_id="<d@x>")
    assert receive(cli, daemon)["outcome"] == "auto"
    assert len(cli.json("list")) == 1
    assert [m["case_number"] for m in cli.json("outbox")] == [case]  # no acknowledgement for any of them


def test_acknowledgements_to_one_address_are_limited_per_hour(cli):
    for n in range(7):
        receive(cli, eml(subject=f"Question {n}", message_id=f"<q{n}@x>"))
    assert len(cli.json("list")) == 7
    assert len(cli.json("outbox")) == 5
    last = next(t for t in cli.json("list") if t["subject"] == "Question 6")
    held = cli.json("show", last["case_number"])["log"][0]["summary"]
    assert held.startswith("Automatic acknowledgement not sent: 5 were sent to bea@example.com in the last hour")


def test_a_bounce_naming_our_message_marks_it_bounced(cli, smtp_server, mail_config):
    case = _new(cli)
    cli.ok("deliver")
    ours = smtp_server.received[0][2]["Message-ID"]
    dsn = (
        "From: Mail Delivery System <MAILER-DAEMON@mx.example.com>\nTo: support@example.com\n"
        "Subject: Undelivered Mail Returned to Sender\nMessage-ID: <dsn1@mx.example.com>\nMIME-Version: 1.0\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\n\n'
        "--B\nContent-Type: text/plain\n\nYour message could not be delivered.\n"
        "--B\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example.com\n\n"
        "Final-Recipient: rfc822; bea@example.com\nAction: failed\nStatus: 5.1.1\n"
        "Diagnostic-Code: smtp; 550 5.1.1 no such user\n"
        f"--B\nContent-Type: text/rfc822-headers\n\nMessage-ID: {ours}\nSubject: [{case}] Blender broken\n--B--\n"
    ).encode()
    result = receive(cli, dsn)
    assert (result["outcome"], result["case_number"]) == ("bounce", case)
    (row,) = cli.json("outbox", "--all")
    assert row["state"] == "bounced" and "550 5.1.1 no such user" in row["last_error"]
    last = cli.json("show", case)["log"][-1]
    assert last["kind"] == "delivery" and last["summary"].startswith("Acknowledgement — bounced: ")
    assert len(cli.json("list")) == 1  # a bounce opens no ticket


HOSTILE = Path(__file__).parent.parent / "data" / "mail"


def _huge(path: Path) -> None:
    """A 30 MB attachment with a name that climbs out of its folder."""
    attachment = base64.encodebytes(b"A" * (30 * 1024 * 1024))
    path.write_bytes(
        b"From: z@example.com\nSubject: huge\nMessage-ID: <h5@x>\nMIME-Version: 1.0\n"
        b'Content-Type: multipart/mixed; boundary="Y"\n\n--Y\nContent-Type: text/plain\n\nsee attached\n'
        b"--Y\nContent-Type: application/octet-stream\n"
        b'Content-Disposition: attachment; filename="../../etc/passwd"\nContent-Transfer-Encoding: base64\n\n'
        + attachment
        + b"--Y--\n"
    )


def test_hostile_messages_are_stored_as_far_as_readable_and_never_stop_the_next(cli, tmp_path):
    _huge(tmp_path / "huge.eml")
    paths = [*sorted(HOSTILE.glob("*.eml")), tmp_path / "huge.eml"]
    results = {path.name: cli.json("receive", "--file", str(path)) for path in paths}
    assert all(r["outcome"] == "opened" for r in results.values()), results

    def entry(name):
        return cli.json("show", results[name]["case_number"])["log"][-1]

    assert "first part, never closed" in entry("broken-mime.eml")["body"]
    assert "broken MIME" in entry("broken-mime.eml")["body"]
    charset = entry("unknown-charset.eml")["body"]
    assert "unknown charset 'x-unknown-9'" in charset and "caf\ufffd" in charset
    injected = cli.json("show", results["header-injection.eml"]["case_number"])
    assert "\n" not in injected["subject"] and "\r" not in injected["subject"]
    assert "\n" not in injected["customer"] and injected["email"] == "eve@example.com"
    assert "\x00" not in injected["log"][-1]["body"]
    html = entry("html-only.eml")["body"]
    assert "[bold]" in html and "Line two" in html
    assert "alert(1)" not in html and "<p>" not in html
    huge = entry("huge.eml")
    assert "passwd (30.0 MB) not kept: over the 25 MB limit" in huge["body"]
    assert "message.eml" not in [a["name"] for a in huge["attachments"]]  # the raw one is over the limit too
    garbage = entry("not-a-mail.eml")
    assert "[tui-desk:" in garbage["body"]
    assert [a["name"] for a in garbage["attachments"]] == ["message.eml"]
    assert receive(cli, eml(message_id="<after@x>"))["outcome"] == "opened"  # the next one still comes in


def test_receive_reads_standard_input_and_refuses_nothing_to_read(cli):
    assert "the input is empty" in cli.fails("receive", input="")
