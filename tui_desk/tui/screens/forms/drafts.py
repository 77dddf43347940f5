"""What the two forms (log entry, new ticket) share: keeping a draft a moment after each change."""

from __future__ import annotations

DRAFT_DELAY_S = 0.4  # keep the draft this long after the last keystroke


class KeepsDraft:
    """Mixed into a form ``Screen``. The screen sets ``ready``, ``finished``, ``dirty`` and ``_draft_timer``
    in ``__init__`` and says in ``_keep_draft`` where the draft goes (the store, or the state file)."""

    ready: bool
    finished: bool
    dirty: bool

    def _keep_draft(self) -> None:
        raise NotImplementedError

    def _changed(self) -> None:
        """Something was typed: the form is dirty, and its draft is kept once typing pauses."""
        if not self.ready or self.finished:
            return
        self.dirty = True
        if self._draft_timer is not None:
            self._draft_timer.stop()
        self._draft_timer = self.set_timer(DRAFT_DELAY_S, self._keep_draft)
