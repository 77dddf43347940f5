"""The forms' drop-down: Textual's ``Select``, safe to be mounting while the console quits.

The forms are built ahead at idle time (``DeskApp._build_forms``) as installed screens not yet shown. If
the console quits while one is still mounting, Textual closes those screens' widgets in no set order, and a
``Select`` whose mount comes after its own label was closed fails looking for it (``NoMatches '#label' on
SelectCurrent``), turning a clean quit into a traceback and exit status 1.
"""

from __future__ import annotations

from textual import events
from textual.widgets import Select


class FormSelect(Select):
    def _on_mount(self, event: events.Mount) -> None:
        if not self.app.is_running:
            event.prevent_default()  # quitting: Select's own mount would look for children already closed
