"""What ``--json`` prints and exports carry: a ticket and its log entries as JSON-ready data."""

from __future__ import annotations

from tui_desk.domain.dates import iso
from tui_desk.domain.statuses import status_of
from tui_desk.store.models import LogEntry, Ticket


class TicketDescriptions:
    """The store's descriptions (a part of ``Store``)."""

    def describe(self, ticket: Ticket, *, with_log: bool = True) -> dict:
        """Everything about a ticket as JSON-ready data (``show --json``, exports)."""
        tags = self.tags([ticket.id])[ticket.id]
        data = {
            "case_number": ticket.case_number,
            "kind": ticket.kind,
            "status": status_of(ticket.status).label,
            "status_slug": ticket.status,
            "priority": ticket.priority,
            "customer": ticket.customer,
            "email": ticket.email,
            "seller_email": ticket.seller_email,
            "partner_email": ticket.partner_email,
            "order_id": ticket.order_id,
            "subject": ticket.subject,
            "description": ticket.description,
            "reason": ticket.reason,
            "assignee": ticket.assignee,
            "tags": tags,
            "references": ticket.references,
            "created_by": ticket.created_by,
            "opened_at": iso(ticket.opened_at),
            "first_response_at": iso(ticket.first_response_at),
            "last_action_at": iso(ticket.last_action_at),
            "status_changed_at": iso(ticket.status_changed_at),
            "follow_up_at": iso(ticket.follow_up_at),
            "sla_response_due_at": iso(ticket.sla_response_due_at),
            "sla_resolution_due_at": iso(ticket.sla_resolution_due_at),
            "resolved_at": iso(ticket.resolved_at),
            "closed_at": iso(ticket.closed_at),
            "timer_due_at": iso(ticket.timer_due_at),
            # The current (latest) refund as the ticket row keeps it; every refund with its milestones below.
            "refund": {
                "amount": None if ticket.refund_amount is None else f"{ticket.refund_amount:.2f}",
                "currency": ticket.currency,
                "approved_at": iso(ticket.refund_approved_at),
                "initiated_at": iso(ticket.refund_initiated_at),
                "refunded_at": iso(ticket.refunded_at),
            },
            "refunds": [r.describe() for r in self.refunds(ticket)],
            "follow_ups": self.follow_ups(ticket),
            "sla": {
                "response_due_at": iso(ticket.sla_response_due_at),
                "response_risk_at": iso(ticket.sla_response_risk_at),
                "response_breached_at": iso(ticket.sla_response_breached_at),
                "resolution_due_at": iso(ticket.sla_resolution_due_at),
                "resolution_risk_at": iso(ticket.sla_resolution_risk_at),
                "resolution_breached_at": iso(ticket.sla_resolution_breached_at),
                "paused_seconds": ticket.sla_paused_seconds,
                "paused_since": iso(ticket.sla_paused_since),
            },
            "log_head": ticket.log_head,
            "version": ticket.version,  # what --if-version compares
        }
        if with_log:
            data["log"] = [describe_entry(e) for e in self.entries(ticket)]
        return data


def describe_entry(entry: LogEntry) -> dict:
    corrects = entry.corrects.seq if entry.corrects_id else None
    return {
        "seq": entry.seq,
        "at": iso(entry.at),
        "until": iso(entry.until),
        "logged_at": iso(entry.logged_at),
        "kind": entry.kind,
        "channel": entry.channel,
        "direction": entry.direction,
        "sender": entry.sender,
        "sender_name": entry.sender_name,
        "agent": entry.agent,
        "summary": entry.summary,
        "body": entry.body,
        "follow_up_at": iso(entry.follow_up_at),
        "corrects": corrects,
        "due_at": iso(entry.due_at),
        "digest": entry.digest,
        "attachments": [
            {"name": a.name, "size": a.size, "sha256": a.sha256} for a in getattr(entry, "attachment_list", [])
        ],
    }
