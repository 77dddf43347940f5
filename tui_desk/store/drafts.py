"""Drafts: half-typed log entries, kept per agent and ticket as they are typed. Not evidence: they change and go."""

from __future__ import annotations

import json

import peewee as pw

from tui_desk.store.commands import TicketSnapshot
from tui_desk.store.models import Draft

ENTRY_FORM = "entry"  # the log-entry form's drafts; other forms (the reply form) keep theirs beside it


class DraftKeeping:
    """The store's drafts (a part of ``Store``): one per agent, ticket and form."""

    def _draft_owner(self, form: str) -> str:
        # A form's drafts are kept under the agent's name with the form's after a separator no name has.
        return self.agent if form == ENTRY_FORM else f"{self.agent}\x1f{form}"

    def save_draft(self, case_number: str, data: dict, base: TicketSnapshot, *, form: str = ENTRY_FORM) -> None:
        """Keep a half-typed entry for this agent and ticket (replacing the previous draft)."""
        ticket = self.get(case_number)
        with self.writing():
            Draft.insert(
                ticket=ticket.id,
                agent=self._draft_owner(form),
                data=json.dumps(data, ensure_ascii=False),
                base_version=base.version,
                updated_at=self.now(),
            ).on_conflict(
                conflict_target=[Draft.ticket, Draft.agent],
                update={Draft.data: pw.EXCLUDED.data, Draft.updated_at: pw.EXCLUDED.updated_at},
            ).execute()

    def load_draft(self, case_number: str, *, form: str = ENTRY_FORM) -> tuple[dict, int] | None:
        """This agent's draft for the ticket and the ticket version it was started on, if any."""
        ticket = self.get(case_number)
        with self.reading():
            row = Draft.get_or_none((Draft.ticket == ticket.id) & (Draft.agent == self._draft_owner(form)))
        return (json.loads(row.data), row.base_version) if row else None

    def discard_draft(self, case_number: str, *, form: str = ENTRY_FORM) -> None:
        ticket = self.get(case_number)
        with self.writing():
            self.forget_draft_of(ticket, form=form)

    def forget_draft_of(self, ticket, *, form: str = ENTRY_FORM) -> None:
        """Delete this agent's draft for ``ticket``. Call inside ``writing`` (``add_entry`` does, on save)."""
        Draft.delete().where((Draft.ticket == ticket.id) & (Draft.agent == self._draft_owner(form))).execute()
