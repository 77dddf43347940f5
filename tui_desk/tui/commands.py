"""Command-palette providers: "go to case" by (part of) a case number."""

from __future__ import annotations

import asyncio
from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.content import Content

from tui_desk.domain.text import printable
from tui_desk.store.models import Ticket
from tui_desk.store.operations import TicketFilter


class GoToCase(Provider):
    """Type a case number (or its last digits) to open that ticket."""

    async def discover(self) -> Hits:
        yield DiscoveryHit("Go to case…", self._hint, help="Type a case number, e.g. 00042")

    def _hint(self) -> None:
        self.app.notify("Open the palette and type a case number, e.g. 00042", markup=False)

    async def search(self, query: str) -> Hits:
        text = query.strip().upper()
        if len(text) < 2 or not any(ch.isdigit() for ch in text):
            return
        store = self.app.store
        flt = TicketFilter(extra=[Ticket.case_number.contains(text)])
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
