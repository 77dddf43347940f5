"""``:`` jump to a case by any unique fragment of its number (``1212``, ``REF-2026-012``, ``sup-7``).

A fragment that several case numbers contain lists them to choose from; an exact number always wins.
The palette's "Go to case…" asks the same way.
"""

from __future__ import annotations

from tui_desk.domain.errors import DeskError
from tui_desk.domain.text import printable
from tui_desk.store import TicketFilter

CANDIDATES = 12  # listed when a fragment is ambiguous


def ask_and_jump(app) -> None:
    from tui_desk.tui.screens.dialogs import PromptDialog

    def chosen(text: str | None) -> None:
        if text and text.strip():
            jump(app, text)

    app.push_screen(PromptDialog("Jump to case", "any part of the case number, e.g. 1212 or SUP-2026-0004"), chosen)


def find_cases(store, fragment: str) -> list[tuple[str, str]]:
    """(case number, subject) of the cases whose number contains ``fragment`` (case-insensitive), newest
    first; only the exact one if a case has exactly that number (looked up first: ``VB-INT-7`` is in
    ``VB-INT-70`` … ``VB-INT-799``, which may all be newer)."""
    text = fragment.strip().upper()
    try:
        exact = store.get(text)
    except DeskError:
        pass
    else:
        return [(exact.case_number, exact.subject)]
    found = store.list_tickets(TicketFilter(case_contains=text), sort="case", descending=True, limit=CANDIDATES + 1)
    return [(t.case_number, t.subject) for t in found]


def jump(app, fragment: str) -> None:
    text = fragment.strip()

    def go(cases: list[tuple[str, str]]) -> None:
        shown = printable(text, one_line=True)
        if len(cases) == 1:
            app.open_ticket(cases[0][0])
        elif not cases:
            app.notify(f"No case number contains {shown}", severity="warning", markup=False)
        else:
            from tui_desk.tui.screens.dialogs import ChoiceDialog

            more = len(cases) > CANDIDATES
            choices = [(case, f"{case}  {printable(subject, one_line=True)}") for case, subject in cases[:CANDIDATES]]
            title = f"{'More than ' + str(CANDIDATES) if more else len(cases)} cases contain {shown}"
            lines = ["type more of the number to narrow it"] if more else []
            app.push_screen(ChoiceDialog(title, lines, choices), lambda case: app.open_ticket(case) if case else None)

    app.run_db(find_cases, app.store, text, on_done=go, group="jump")
