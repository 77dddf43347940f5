"""Completion of case numbers in a text box (the new-ticket form's "Follows"): the newest case that starts
with what is typed, read off the UI thread."""

from __future__ import annotations

import asyncio

from textual.suggester import Suggester
from textual.widgets import Input

from tui_desk.store import Store

MIN_TYPED = 2  # one character matches every case of the prefix: not worth a query per key


class CaseSuggester(Suggester):
    """Suggests the newest case number starting with the typed text (any letter case); → accepts it."""

    def __init__(self, store: Store) -> None:
        super().__init__(use_cache=False, case_sensitive=False)  # new tickets appear while the form is reused
        self.store = store

    async def get_suggestion(self, value: str) -> str | None:
        if len(value.strip()) < MIN_TYPED:
            return None
        try:
            found = await asyncio.to_thread(self.store.cases_starting_with, value.strip(), 1)
        except Exception:  # noqa: BLE001 - a busy store just gives no completion this keystroke
            return None
        return found[0] if found else None


def follows_input(store: Store) -> Input:
    """The "Follows" box of the new-ticket form: the case a ticket follows up, completed as it is typed."""
    example = f"{store.config.prefix}-{next(iter(store.config.kinds.values()))}-2026-00042"
    return Input(
        placeholder=f"the case it follows up, e.g. {example} (→ completes)",
        compact=True,
        id="references",
        suggester=CaseSuggester(store),
    )
