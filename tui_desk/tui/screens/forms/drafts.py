"""What the two forms (log entry, new ticket) share: keeping a draft within a moment of each change,
ordered with the save, and saying so when it cannot be kept."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from textual.binding import Binding
from textual.messages import Prune

_log = logging.getLogger("tui_desk.console")  # for --log (cli/errorlog.py)

# Tab and Shift+Tab move between a form's fields at the app's door, as they arrive: bound as they are by
# default, a Tab first travels up from the field to the app, and letters typed right after it reach the
# field before focus has moved ("Zoe Fastzoe@" on a busy machine). Held like any key while a form opens
# (tui/typeahead.py).
FIELD_KEYS = [
    Binding("tab", "app.focus_next", "Next field", show=False, priority=True),
    Binding("shift+tab", "app.focus_previous", "Previous field", show=False, priority=True),
]
DRAFT_DELAY_S = 0.1  # a change is kept at most this long after it was typed (plus the write itself)


class DraftWriter:
    """Draft writes and the form's save (or discard), one at a time and in order.

    Draft writes run in worker threads; so does the save. Without an order a draft scheduled before the
    save could land after it and come back as "You have an unsaved draft". Every write and the save
    take one lock; once the form is saved (``finish``) no draft write does anything, and a draft older
    than the one already written is skipped.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._written = 0
        self._issued = 0
        self.finished = False

    def ticket(self) -> int:
        """A number for a draft taken now (on the UI thread): later drafts win."""
        self._issued += 1
        return self._issued

    def write(self, number: int, keep: Callable[..., Any], *args: Any) -> bool:
        """Keep draft ``number`` with ``keep(*args)``, unless the form was saved or a newer one was kept."""
        with self._lock:
            if self.finished or number <= self._written:
                return False
            keep(*args)
            self._written = number
            return True

    def finish(self, save: Callable[..., Any], *args: Any) -> Any:
        """The save (or discard): after it, no draft write lands. A failed save lets drafts go on."""
        with self._lock:
            self.finished = True
            try:
                return save(*args)
            except BaseException:
                self.finished = False
                raise


class KeepsDraft:
    """Mixed into a form ``Screen``. The screen sets ``ready``, ``finished``, ``dirty``, ``_draft_timer``
    and ``drafts`` (a ``DraftWriter``) when it opens, calls ``_ready_now`` once it takes typing, and says
    in ``values`` what is typed, in ``_keep_draft`` where the draft goes (in a worker) and in
    ``flush_draft`` how it is kept at once (on the UI thread, when the console goes)."""

    ready: bool
    finished: bool
    dirty: bool
    drafts: DraftWriter
    _clean: dict | None = None  # the fields when the form became ready: nothing typed yet

    def values(self) -> dict:
        raise NotImplementedError

    def _keep_draft(self) -> None:
        raise NotImplementedError

    def flush_draft(self) -> None:
        raise NotImplementedError

    def _read_ticket(self, case: str, on_done: Callable[[Any], Any], *, form: str, group: str) -> None:
        """Read the ticket and this agent's draft of ``form`` for it in a worker, then ``on_done((ticket,
        draft))``; if the ticket cannot be read, the form says why and closes."""
        store = self.app.store

        def fetch():
            ticket = store.get(case)
            return ticket, (store.load_draft(case, form=form) if not store.read_only else None)

        self.app.run_db(fetch, on_done=on_done, on_error=self._load_failed, group=group)

    def _load_failed(self, err: Exception) -> None:
        self.app.warn(err)
        self.finished = True
        self.dismiss()

    def _ready_now(self) -> None:
        """The form takes typing from now on; what its fields hold now (a restored draft, the default
        recipient) is not the agent's typing."""
        self.ready = True
        self._clean = self.values()

    def _unsaved(self) -> bool:
        """Typed since the form became ready. Not only ``dirty``: that is set by a field's Changed
        message, which climbs to the screen one widget at a time and may be behind the quit."""
        return self.dirty or (self.ready and self._clean is not None and self.values() != self._clean)

    def on_prune(self, _: Prune) -> None:
        """The screen is taken down with the form still open (the console quits): keep what is typed,
        up to the last key, now. Not on Unmount: a screen is unmounted after its widgets, so the fields
        are gone by then (and their values reset), and the last keys since the timed draft were lost.
        The draft timer dies with the screen, so this is the last chance."""
        if self.finished:
            return
        self._stop_draft_timer()
        try:
            self.flush_draft()
        except Exception as err:  # noqa: BLE001 - the console is going; the timed draft is in the store
            _log.error("the draft could not be kept as the form closed: %s", err, exc_info=err)

    def _changed(self) -> None:
        """Something was typed: the form is dirty, and its draft is kept within ``DRAFT_DELAY_S``.

        The timer is not restarted by the next key (typing without a pause would never be kept): the
        first change arms it, and when it fires it keeps whatever is typed by then.
        """
        if not self.ready or self.finished:
            return
        self.dirty = True
        if self._draft_timer is None:
            self._draft_timer = self.set_timer(DRAFT_DELAY_S, self._draft_due)

    def _draft_due(self) -> None:
        self._draft_timer = None
        if not self.finished:
            self._keep_draft()

    def _stop_draft_timer(self) -> None:
        if self._draft_timer is not None:
            self._draft_timer.stop()
            self._draft_timer = None

    def _draft_failed(self, err: Exception | str) -> None:
        """The draft could not be kept: say so on the form at once (and once in a notification)."""
        from textual.content import Content
        from textual.widgets import Static

        message = f"Draft NOT kept: {err}. What you type is only on this screen until you save."
        for line in self.query("#draft-state").results(Static):
            line.update(Content(message))
            line.add_class("shown")
        if not getattr(self, "_draft_warned", False):
            self._draft_warned = True
            self.app.warn(f"draft not kept: {err}")

    def _draft_kept(self, kept: bool = True) -> None:
        from textual.widgets import Static

        if kept:
            self._draft_warned = False
            for line in self.query("#draft-state").results(Static):
                line.update("")
                line.remove_class("shown")
