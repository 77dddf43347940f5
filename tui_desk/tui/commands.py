"""Command-palette providers: "go to case" by (part of) a case number."""

from __future__ import annotations

import asyncio
from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.content import Content

from tui_desk.domain.text import printable
from tui_desk.store import TicketFilter


class GoToCase(Provider):
    """Type a case number (or its last digits) to open that ticket; on a ticket, the cases it follows and
    that follow it up are offered by name."""

    def _related(self) -> list[tuple[str, str]]:
        related = getattr(self.screen, "related_cases", None)
        return related() if related is not None else []

    @staticmethod
    def _related_label(how: str, case: str) -> str:
        return f"Go to case {case} ({'the case this one follows' if how == 'follows' else 'a follow-up of this one'})"

    async def discover(self) -> Hits:
        for how, case in self._related():
            label = self._related_label(how, case)
            yield DiscoveryHit(Content(label), partial(self.app.open_ticket, case), text=label)
        yield DiscoveryHit("Go to case…", self._hint, help="Type a case number, e.g. 00042")

    def _hint(self) -> None:
        """Chosen by name ("go to…", "case"): ask for the number, as ``:`` does."""
        from tui_desk.tui.screens.jump import ask_and_jump

        ask_and_jump(self.app)

    async def search(self, query: str) -> Hits:
        text = query.strip().upper()
        matcher = self.matcher(query)
        for how, case in self._related():
            label = self._related_label(how, case)
            score = matcher.match(label)
            if score > 0:
                yield Hit(score, Content(label), partial(self.app.open_ticket, case), text=label)
        if not any(ch.isdigit() for ch in text):
            matcher = self.matcher(query)
            score = matcher.match("Go to case…")
            if score > 0:
                yield Hit(score, matcher.highlight("Go to case…"), self._hint, help="Type a case number, e.g. 00042")
            return
        if len(text) < 2:
            return
        store = self.app.store
        flt = TicketFilter(case_contains=text)
        try:
            tickets = await asyncio.to_thread(store.list_tickets, flt, sort="case", descending=True, limit=8)
        except Exception:  # noqa: BLE001 - a busy store just gives no hits this keystroke
            return
        matcher = self.matcher(query)
        for ticket in tickets:
            label = f"Go to case {ticket.case_number}"
            subject = printable(ticket.subject, one_line=True)
            # Customer text goes in as Content (never markup); the hit's help line would parse markup.
            yield Hit(
                max(matcher.match(label), 0.5),
                Content(f"{label}  {subject}"),
                partial(self.app.open_ticket, ticket.case_number),
                text=label,
            )
