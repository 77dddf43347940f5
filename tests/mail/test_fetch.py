"""``tui-desk fetch``: a real Dovecot IMAP server (started by the test) and a Maildir feed intake; handled
messages are flagged (or moved), never deleted, and not taken twice."""

from __future__ import annotations

import mailbox
import os

from tests.mail.servers import write_mail_config
from tests.mail.test_receive import eml


def test_fetch_reads_a_maildir_and_marks_what_it_took(cli, tmp_path):
    cli.ok("list")
    box = mailbox.Maildir(tmp_path / "Maildir", create=True)
    box.add(eml(subject="First", message_id="<f1@x>"))
    box.add(eml(subject="Second", message_id="<f2@x>", sender="Carl <carl@example.com>"))
    results = cli.json("fetch", "--maildir", str(tmp_path / "Maildir"))
    assert [r["outcome"] for r in results] == ["opened", "opened"]
    assert sorted(t["subject"] for t in cli.json("list")) == ["First", "Second"]
    assert os.listdir(tmp_path / "Maildir" / "new") == []
    assert all(name.endswith(":2,S") for name in os.listdir(tmp_path / "Maildir" / "cur"))
    assert cli.json("fetch", "--maildir", str(tmp_path / "Maildir")) == []  # nothing new
    assert "is not a Maildir" in cli.fails("fetch", "--maildir", str(tmp_path))


def _imap_config(isolated_env, dovecot, extra: str = "") -> None:
    secret = isolated_env / "imap.pw"
    secret.write_text(dovecot.password + "\n", encoding="utf-8")
    secret.chmod(0o600)
    write_mail_config(
        isolated_env,
        2525,
        "\n[mail.imap]\n"
        f'host = "127.0.0.1"\nport = {dovecot.port}\nsecurity = "none"\nuser = "{dovecot.user}"\n'
        f'password_file = "{secret}"\n' + extra,
    )


def test_fetch_reads_imap_flags_what_it_took_and_deletes_nothing(cli, isolated_env, dovecot):
    cli.ok("list")
    _imap_config(isolated_env, dovecot)
    imap = dovecot.session()
    for n in range(3):
        imap.append("INBOX", None, None, eml(subject=f"Parcel {n}", message_id=f"<p{n}@x>").replace(b"\n", b"\r\n"))
    imap.append("INBOX", None, None, eml(subject="Parcel 0", message_id="<p0@x>").replace(b"\n", b"\r\n"))  # a copy
    results = cli.json("fetch")
    assert [r["outcome"] for r in results] == ["opened", "opened", "opened", "duplicate"]
    assert sorted(t["subject"] for t in cli.json("list")) == ["Parcel 0", "Parcel 1", "Parcel 2"]
    imap.select("INBOX")
    status, data = imap.uid("SEARCH", None, "KEYWORD", "$TuiDesk")
    assert len(data[0].split()) == 4  # every one handled is flagged…
    status, data = imap.uid("SEARCH", None, "ALL")
    assert len(data[0].split()) == 4  # …and none deleted
    assert cli.json("fetch") == []  # not taken twice
    imap.append("INBOX", None, None, eml(subject="Later", message_id="<later@x>").replace(b"\n", b"\r\n"))
    assert [r["outcome"] for r in cli.json("fetch")] == ["opened"]
    imap.logout()


def test_fetch_can_move_what_it_took(cli, isolated_env, dovecot):
    cli.ok("list")
    _imap_config(isolated_env, dovecot, 'move_to = "Handled"\n')
    imap = dovecot.session()
    imap.create("Handled")
    imap.append("INBOX", None, None, eml(message_id="<mv@x>").replace(b"\n", b"\r\n"))
    assert [r["outcome"] for r in cli.json("fetch")] == ["opened"]
    imap.select("INBOX")
    assert imap.uid("SEARCH", None, "ALL")[1][0].split() == []
    imap.select("Handled")
    assert len(imap.uid("SEARCH", None, "ALL")[1][0].split()) == 1
    imap.logout()


def test_a_wrong_imap_password_is_one_clear_line(cli, isolated_env, dovecot, monkeypatch):
    cli.ok("list")
    _imap_config(isolated_env, dovecot)
    err = cli.fails("fetch", TUI_DESK_IMAP_PASSWORD="wrong")
    assert f"IMAP 127.0.0.1:{dovecot.port}" in err
