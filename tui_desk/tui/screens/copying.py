"""Copying a case's identifiers to the clipboard: ``y`` the case number, ``Y`` a menu (email, order, digest).

``App.copy_to_clipboard`` sends OSC 52, which the terminal (and tmux, and an SSH session's terminal)
turns into a clipboard write: it works where the console runs remotely, unlike a local clipboard tool.
"""

from __future__ import annotations

from tui_desk.domain.text import printable


def copy_text(app, what: str, value: str) -> None:
    app.copy_to_clipboard(value)
    app.notify(f"Copied {what}: {printable(value, one_line=True)}", markup=False, timeout=3)


def copy_menu(app, case_number: str) -> None:
    """Read the ticket off the UI thread, then offer what of it can be copied."""
    from tui_desk.tui.screens.dialogs import ChoiceDialog

    def offer(ticket) -> None:
        values = {
            "case number": ticket.case_number,
            "email": ticket.email or "",
            "order": ticket.order_id or "",
            "final digest": ticket.log_head or "",  # the case file's final digest: the chain's last link
        }
        choices = [(what, f"{what:<13} {value}") for what, value in values.items() if value]

        def chosen(what: str | None) -> None:
            if what is not None:
                copy_text(app, what, values[what])

        app.push_screen(ChoiceDialog(f"Copy from {ticket.case_number}", [], choices), chosen)

    app.run_db(app.store.get, case_number, on_done=offer, group="copy")
