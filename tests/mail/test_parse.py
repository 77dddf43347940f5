"""Reading incoming mail: automatic mail, HTML as text, and quoted replies folded on screen only."""

from __future__ import annotations

from tui_desk.domain.text import fold_quoted
from tui_desk.mail.parse import html_to_text, parse
from tui_desk.tui.widgets.timeline import TimelineEntry, lay_out


def _mail(extra: str = "", sender: str = "bea@example.com") -> bytes:
    return f"From: {sender}\nSubject: Re: [TD-REF-2026-00042] hi\nMessage-ID: <a@b>\n{extra}\nbody\n".encode()


def test_automatic_mail_is_recognised_by_its_headers_and_sender():
    assert parse(_mail()).auto is None
    assert parse(_mail("Auto-Submitted: no\n")).auto is None  # RFC 3834: "no" is a person
    assert parse(_mail("Auto-Submitted: auto-replied\n")).auto == "Auto-Submitted: auto-replied"
    assert parse(_mail("Precedence: bulk\n")).auto == "Precedence: bulk"
    assert parse(_mail("X-Autoreply: yes\n")).auto == "X-Autoreply header"
    assert parse(_mail("List-Id: <x.example>\n")).auto == "List-Id header"
    assert parse(_mail(sender="MAILER-DAEMON@mx.example")).auto.startswith("sent by mailer-daemon@")


def test_the_case_tag_and_the_bare_subject():
    mail = parse(_mail())
    assert mail.case_tag == "TD-REF-2026-00042"
    assert mail.bare_subject == "hi"


def test_html_becomes_text_without_scripts_or_markup():
    text = html_to_text("<style>x{}</style><p>Dear <b>support</b>,</p><script>evil()</script><p>[link]</p>")
    assert "evil" not in text and "<" not in text
    assert "support" in text and "[link]" in text


def test_quoted_replies_are_folded_for_the_screen_only():
    body = "Still broken.\n\nOn Sun, 15 Nov 2026 Support wrote:\n> Did you try\n> the reset?\n\nBea"
    assert fold_quoted(body) == ["Still broken.", "", "… 4 quoted lines folded (kept in the entry)", "Bea"]
    entry = TimelineEntry(
        seq=2,
        kind="message",
        at="2026-11-15 14:30 UTC",
        until="",
        channel="email",
        direction="in",
        sender="buyer",
        agent="system",
        summary="Email: hi",
        body=body,
        attachments=(),
        corrects=None,
        corrected_by=(),
        follow_up="",
    )
    shown = ["".join(text for text, _ in line) for line in lay_out([entry], 80)]
    assert any("quoted lines folded" in line for line in shown)
    assert not any("the reset?" in line for line in shown)
    note = TimelineEntry(**{**entry.__dict__, "channel": "note", "direction": "internal"})
    assert any("the reset?" in "".join(t for t, _ in line) for line in lay_out([note], 80))
