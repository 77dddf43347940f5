"""What a screen may ask of the console app; screens, widgets and commands import this, never ``tui/app.py``.

The app (``DeskApp``) builds the screens, so a screen that imported the app would close a circle. A screen
reaches the app as Textual's ``self.app``; besides Textual's own ``App`` methods (``notify``,
``push_screen``, …) it uses only what ``DeskContext`` names.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from datetime import datetime, tzinfo
from typing import Any, Protocol

from textual.message import Message
from textual.worker import Worker

from tui_desk.store import Store


class StoreChanged(Message):
    """Someone (this console, another one, the CLI, the timer sweep) committed to the store."""


class DeskContext(Protocol):
    """The console app as its screens see it."""

    store: Store
    # The queue's first page, read while Textual starts up; the queue takes it (sets None) on its first load.
    first_queue_page: Future | None

    @property
    def agent(self) -> str: ...

    @property
    def tz(self) -> tzinfo: ...

    def now(self) -> datetime: ...

    def run_db(
        self,
        fn: Callable[..., Any],
        *args: Any,
        on_done: Callable[[Any], Any] | None = None,
        on_error: Callable[[Exception], Any] | None = None,
        group: str = "db",
        exclusive: bool = False,
        quiet: bool = False,
    ) -> Worker:
        """Run ``fn(*args)`` in a thread worker; ``on_done(result)`` or ``on_error(err)`` on the UI thread."""
        ...

    def call_from_worker(self, callback: Callable, *args: Any) -> None:
        """From inside a ``run_db`` function: show a partial result now, unless a newer run superseded it."""
        ...

    def warn(self, err: Exception | str) -> None:
        """A warning notification (a ``DeskError`` as its message, anything else with its type)."""
        ...

    def announce_change(self) -> None:
        """After a write: every screen in the stack receives ``StoreChanged``."""
        ...

    def open_ticket(self, case_number: str) -> None: ...

    def open_log_entry(self, case_number: str) -> None: ...

    def open_reply(self, case_number: str) -> None: ...

    def open_new_ticket(self) -> None: ...

    def form(self, kind: type) -> Any:
        """The one built screen of this kind (a form, a dialog), to empty and show; built at idle time."""
        ...
