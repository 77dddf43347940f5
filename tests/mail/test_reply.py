"""Agents' replies and canned replies from the command line, delivered to a real SMTP server."""

from __future__ import annotations

from email import policy

from tests.mail.test_deliver import _new


def test_a_reply_is_logged_queued_and_delivered_with_its_attachment(cli, smtp_server, mail_config, tmp_path):
    case = _new(cli)
    cli.ok("deliver")  # the acknowledgement
    label = tmp_path / "rma-label.pdf"
    label.write_bytes(b"%PDF-1.4 label")
    result = cli.json(
        "reply",
        case,
        "--body",
        "Hello Bea,\nplease print the label.",
        "--attach",
        str(label),
        "--status",
        "waiting-on-buyer",
    )
    assert result["party"] == "buyer" and result["to"] == "bea@example.com"
    shown = cli.json("show", case)
    assert shown["status"] == "Waiting on Buyer"
    entry = next(e for e in shown["log"] if e["seq"] == result["entry"])
    assert (entry["channel"], entry["direction"], entry["summary"]) == ("email", "out", "Email: Hello Bea,")
    assert cli.json("deliver")["sent"][0]["what"] == "Reply"
    _, rcpts, message = smtp_server.received[-1]
    assert rcpts == ["bea@example.com"]
    assert message["Subject"] == f"[{case}] Blender broken"
    assert message["Auto-Submitted"] is None  # a person wrote it
    assert message["References"] == smtp_server.received[0][2]["Message-ID"]
    assert "please print the label." in message.get_body(("plain",)).get_content()
    (attachment,) = list(message.iter_attachments())
    assert attachment.get_filename() == "rma-label.pdf"
    assert attachment.get_content() == b"%PDF-1.4 label"
    assert message.as_bytes(policy=policy.SMTP)


def test_the_default_recipient_is_the_waited_on_party(cli, smtp_server, mail_config):
    case = _new(cli, "--seller-email", "shop@seller.example")
    cli.ok("status", case, "waiting-on-seller")
    assert cli.json("reply", case, "--body", "Any news?")["to"] == "shop@seller.example"
    assert cli.json("reply", case, "--body", "We asked.", "--to", "buyer")["to"] == "bea@example.com"
    other = cli.json("reply", case, "--body", "FYI", "--to", "Carrier <claims@carrier.example>")
    assert (other["party"], other["to"]) == ("other", "claims@carrier.example")


def test_replies_are_refused_clearly(cli, mail_config):
    case = _new(cli)
    assert "no address for the partner" in cli.fails("reply", case, "--body", "x", "--to", "partner")
    assert "is not buyer, seller, partner or an email address" in cli.fails("reply", case, "--body", "x", "--to", "bob")
    assert "--body TEXT" in cli.fails("reply", case)
    assert "the message is blank" in cli.fails("reply", case, "--body", "  ")
    assert "no canned reply 'nope'" in cli.fails("reply", case, "--template", "nope")
    assert [m["kind"] for m in cli.json("outbox")] == ["acknowledgement"]  # nothing queued by the refusals


def test_a_canned_reply_fills_placeholders_and_sets_status_and_tags(cli, isolated_env, smtp_server, mail_config):
    folder = isolated_env / "replies"
    folder.mkdir()
    (folder / "need-photo.md").write_text(
        "---\nstatus: waiting-on-buyer\ntags: needs-photo\n---\n"
        "Hello {customer},\n\ncould you send a photo? Case {case_number} ({subject}).\n\n{agent}\n",
        encoding="utf-8",
    )
    (folder / "thanks.md").write_text("Thank you, {customer}!\n", encoding="utf-8")
    listed = cli.json("replies")
    assert [r["name"] for r in listed] == ["need-photo", "thanks"]
    assert listed[0]["status"] == "Waiting on Buyer" and listed[0]["tags"] == ["needs-photo"]
    case = _new(cli)
    result = cli.json("reply", case, "--template", "need-photo")
    assert result["tags_added"] == ["needs-photo"]
    shown = cli.json("show", case)
    assert shown["status"] == "Waiting on Buyer" and "needs-photo" in shown["tags"]
    (queued,) = [m for m in cli.json("outbox") if m["kind"] == "reply"]
    assert queued["body"] == f"Hello Bea Buyer,\n\ncould you send a photo? Case {case} (Blender broken).\n\nana"


def test_a_broken_canned_reply_is_named(cli, isolated_env):
    folder = isolated_env / "replies"
    folder.mkdir()
    (folder / "bad.md").write_text("Hello {name}\n", encoding="utf-8")
    err = cli.fails("replies")
    assert "bad.md: {name} is not one of {customer}" in err
