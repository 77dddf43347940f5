"""A read-only console answers a write key with one line, instead of silently doing nothing.

Textual runs no action its screen's ``check_action`` turns down, and says nothing. So on a read-only
store the write actions stay runnable, each wrapped by ``refuse_if_read_only`` (which says why and
writes nothing), and the key bar leaves them out (``hidden_in_key_bar``): nothing offers what would be refused.
"""

from __future__ import annotations

import functools

READ_ONLY_MESSAGE = "read-only: this console may look but not change anything ({what} refused)"


def refuse_if_read_only(action):
    """A write action that, on a read-only store, says so instead of silently doing nothing."""

    @functools.wraps(action)
    def guarded(self, *args):
        if self.app.store.read_only:
            what = action.__name__.removeprefix("action_").replace("_", " ")
            self.app.notify(READ_ONLY_MESSAGE.format(what=what), severity="warning", markup=False)
            return None
        return action(self, *args)

    guarded.writes = True
    return guarded


def writes(screen, action: str) -> bool:
    """True for an action of ``screen`` wrapped by ``refuse_if_read_only``."""
    return getattr(getattr(type(screen), f"action_{action}", None), "writes", False)


def hidden_in_key_bar(screen, action: str) -> bool:
    """A write action on a read-only store: runnable (to say it is refused) but not offered."""
    store = getattr(screen.app, "store", None)
    return bool(store is not None and store.read_only and writes(screen, action))
