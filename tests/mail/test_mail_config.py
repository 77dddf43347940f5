"""``[mail]`` in config.toml: checked on load, a typo named with the nearest key, the password kept private."""

from __future__ import annotations

import os

import pytest

from tui_desk.config import load_config
from tui_desk.domain.errors import DeskError

BASE = '[mail]\nfrom = "Support <support@example.com>"\nsmtp_host = "mail.example.com"\n'


def _load(tmp_path, text: str):
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return load_config(path)


def test_no_mail_section_means_no_mail(tmp_path):
    assert _load(tmp_path, 'prefix = "TD"\n').mail is None


def test_defaults(tmp_path):
    mail = _load(tmp_path, BASE).mail
    assert (mail.smtp_port, mail.smtp_security, mail.from_domain) == (587, "starttls", "example.com")
    assert _load(tmp_path, BASE + 'smtp_security = "ssl"\n').mail.smtp_port == 465


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("smtp_prot = 25\n", 'mail.smtp_prot is not a setting; did you mean "smtp_port"?'),
        ("smtp_port = 70000\n", "mail.smtp_port must be a port number from 1 to 65535"),
        ('smtp_security = "tls"\n', "mail.smtp_security must be one of starttls, ssl, none"),
        ("max_attempts = 0\n", "mail.max_attempts must be a whole number from 1 to 100"),
        ("timeout_seconds = -1\n", "mail.timeout_seconds must be a positive number"),
        ("deliver_interval_seconds = 99999\n", "mail.deliver_interval_seconds must be at most 3600"),
    ],
)
def test_bad_values_are_named(tmp_path, extra, message):
    with pytest.raises(DeskError, match=message.replace("?", r"\?")):
        _load(tmp_path, BASE + extra)


def test_from_must_be_an_address(tmp_path):
    with pytest.raises(DeskError, match="mail.from must be an address"):
        _load(tmp_path, '[mail]\nfrom = "Support"\nsmtp_host = "h"\n')


def test_password_from_the_environment_first(tmp_path, monkeypatch):
    monkeypatch.setenv("TUI_DESK_SMTP_PASSWORD", "s3cret")
    assert _load(tmp_path, BASE + 'smtp_user = "support"\n').mail.smtp_password() == "s3cret"


def test_a_password_file_others_can_read_is_refused(tmp_path, monkeypatch):
    monkeypatch.delenv("TUI_DESK_SMTP_PASSWORD", raising=False)
    secret = tmp_path / "smtp.pw"
    secret.write_text("hunter2\n", encoding="utf-8")
    os.chmod(secret, 0o644)
    mail = _load(tmp_path, BASE + f'smtp_user = "support"\nsmtp_password_file = "{secret}"\n').mail
    with pytest.raises(DeskError, match="chmod 600"):
        mail.smtp_password()
    os.chmod(secret, 0o600)
    assert mail.smtp_password() == "hunter2"


def test_the_acknowledgement_is_a_template(tmp_path, db_path, clock):
    from tui_desk.store import Store
    from tui_desk.store.outbox import pending_outbox

    config = _load(tmp_path, '[templates]\nacknowledgement = "Dear {customer}, we opened {case_number}."\n')
    store = Store(db_path, config=config, clock=clock, agent="ana")
    ticket = store.create_ticket(customer="Bea", subject="Blender", email="bea@example.com")
    (message,) = pending_outbox(store)
    assert message.body == f"Dear Bea, we opened {ticket.case_number}."
    with pytest.raises(DeskError, match="templates.acknowledgement uses {nope}"):
        _load(tmp_path, '[templates]\nacknowledgement = "{nope}"\n')


def test_tui_desk_config_shows_the_mail_section_without_a_password(cli, isolated_env, monkeypatch):
    import tomllib

    (isolated_env / "config.toml").write_text(BASE + 'smtp_user = "support"\n', encoding="utf-8")
    shown = tomllib.loads(cli.ok("config", TUI_DESK_SMTP_PASSWORD="s3cret").stdout)
    assert shown["mail"]["from"] == "Support <support@example.com>"
    assert shown["mail"]["smtp_port"] == 587 and shown["mail"]["smtp_user"] == "support"
    assert "s3cret" not in cli.ok("config", TUI_DESK_SMTP_PASSWORD="s3cret").stdout
