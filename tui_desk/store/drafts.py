"""Drafts: half-typed log entries, kept per agent and ticket as they are typed. Not evidence: they change and go."""

from __future__ import annotations

import json

import peewee as pw

from tui_desk.store.commands import TicketSnapshot
from tui_desk.store.models import Draft


class DraftKeeping:
    """The store's drafts (a part of ``Store``)."""

    def save_draft(self, case_number: str, data: dict, base: TicketSnapshot) -> None:
        """Keep a half-typed entry for this agent and ticket (replacing the previous draft)."""
        ticket = self.get(case_number)
        with self.writing():
            Draft.insert(
                ticket=ticket.id,
                agent=self.agent,
                data=json.dumps(data, ensure_ascii=False),
                base_version=base.version,
                updated_at=self.now(),
            ).on_conflict(
                conflict_target=[Draft.ticket, Draft.agent],
                update={Draft.data: pw.EXCLUDED.data, Draft.updated_at: pw.EXCLUDED.updated_at},
            ).execute()

    def load_draft(self, case_number: str) -> tuple[dict, int] | None:
        """This agent's draft for the ticket and the ticket version it was started on, if any."""
        ticket = self.get(case_number)
        with self.reading():
            row = Draft.get_or_none((Draft.ticket == ticket.id) & (Draft.agent == self.agent))
        return (json.loads(row.data), row.base_version) if row else None

    def discard_draft(self, case_number: str) -> None:
        ticket = self.get(case_number)
        with self.writing():
            self.forget_draft_of(ticket)

    def forget_draft_of(self, ticket) -> None:
        """Delete this agent's draft for ``ticket``. Call inside ``writing`` (``add_entry`` does, on save)."""
        Draft.delete().where((Draft.ticket == ticket.id) & (Draft.agent == self.agent)).execute()
