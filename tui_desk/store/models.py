"""Peewee models: tickets, the append-only log and what hangs off it, timers, outbox, drafts."""

from __future__ import annotations

from datetime import datetime

import peewee as pw

from tui_desk.domain.clock import to_utc
from tui_desk.domain.evidence import iso_micro

database = pw.DatabaseProxy()


class UTCDateTimeField(pw.Field):
    """A UTC instant stored as fixed-width text (``2026-11-15 14:30:00.000000``) so text order is time order."""

    field_type = "TEXT"

    def db_value(self, value: datetime | None) -> str | None:
        if value is None:
            return None
        if isinstance(value, str):
            return value
        return iso_micro(value)

    def python_value(self, value: str | None) -> datetime | None:
        if value is None:
            return None
        return to_utc(datetime.fromisoformat(value))


class BaseModel(pw.Model):
    class Meta:
        database = database
        legacy_table_names = False


class Meta(BaseModel):
    """Store-wide facts, such as the schema version."""

    key = pw.TextField(primary_key=True)
    value = pw.TextField()


class CaseSequence(BaseModel):
    """The last sequence number handed out per prefix, kind code and year."""

    prefix = pw.TextField()
    kind_code = pw.TextField()
    year = pw.IntegerField()
    last = pw.IntegerField()

    class Meta:
        primary_key = pw.CompositeKey("prefix", "kind_code", "year")


class Ticket(BaseModel):
    case_number = pw.TextField(unique=True)
    kind = pw.TextField()
    customer = pw.TextField()
    email = pw.TextField(null=True)  # the customer's (buyer's) address
    seller_email = pw.TextField(null=True)  # schema 4: where messages for the seller and partner go
    partner_email = pw.TextField(null=True)
    order_id = pw.TextField(null=True)
    subject = pw.TextField()
    description = pw.TextField(default="")
    reason = pw.TextField(null=True)
    priority = pw.TextField(default="normal")
    status = pw.TextField(index=True)  # Status slug
    assignee = pw.TextField(null=True)  # indexed with status: see Meta
    created_by = pw.TextField()
    references = pw.TextField(null=True, index=True)  # an earlier case number this one follows up
    opened_at = UTCDateTimeField(index=True)
    first_response_at = UTCDateTimeField(null=True)
    last_action_at = UTCDateTimeField(index=True)
    status_changed_at = UTCDateTimeField()
    follow_up_at = UTCDateTimeField(null=True, index=True)
    sla_response_due_at = UTCDateTimeField(null=True)
    sla_resolution_due_at = UTCDateTimeField(null=True)  # None while the clock is paused or stopped
    # SLA bookkeeping (domain/sla.py): when each clock turns "at risk" (indexed: the overdue panel's
    # first cut), breach times kept for reports, and the working time spent paused while waiting.
    sla_response_risk_at = UTCDateTimeField(null=True, index=True)
    sla_resolution_risk_at = UTCDateTimeField(null=True, index=True)
    sla_response_breached_at = UTCDateTimeField(null=True)
    sla_resolution_breached_at = UTCDateTimeField(null=True)
    sla_paused_seconds = pw.IntegerField(default=0)
    sla_paused_since = UTCDateTimeField(null=True)
    resolved_at = UTCDateTimeField(null=True)
    closed_at = UTCDateTimeField(null=True)
    # Refund milestones (seed 002: the delay between approval and processing).
    refund_amount = pw.DecimalField(null=True, max_digits=14, decimal_places=2, auto_round=True)
    currency = pw.TextField(null=True)
    refund_approved_at = UTCDateTimeField(null=True)
    refund_initiated_at = UTCDateTimeField(null=True)
    refunded_at = UTCDateTimeField(null=True)
    # Timers: when the current waiting/resolved period began, how many reminder slots are
    # used up, and when the next timer action falls due (the sweep's index).
    period_started_at = UTCDateTimeField(null=True)
    reminders_done = pw.IntegerField(default=0)
    timer_due_at = UTCDateTimeField(null=True, index=True)
    # Evidence: the number of log entries and the digest of the last one (hash chain head).
    log_count = pw.IntegerField(default=0)
    log_head = pw.TextField(default="")
    # Bumped on every change, so a console can tell the ticket changed underneath it.
    version = pw.IntegerField(default=1)

    class Meta:
        # "My tickets" and "Unassigned" (an agent, or nobody, and an open status) count from this index
        # alone, without reading the tickets; it also serves every lookup by assignee.
        indexes = ((("assignee", "status"), False),)


# Refunds waiting at a milestone (the stuck-refund section and view: store/queries.stuck_refund_condition):
# partial indexes over the few tickets still waiting, so that question never reads the whole table.
Ticket.add_index(
    Ticket.index(
        Ticket.refund_approved_at, name="ticket_refund_to_initiate", where=Ticket.refund_initiated_at.is_null()
    )
)
Ticket.add_index(
    Ticket.index(Ticket.refund_initiated_at, name="ticket_refund_to_refund", where=Ticket.refunded_at.is_null())
)


class TicketTag(BaseModel):
    ticket = pw.ForeignKeyField(Ticket, backref="tag_rows", on_delete="RESTRICT")
    name = pw.TextField(index=True)

    class Meta:
        indexes = ((("ticket", "name"), True),)


class Blob(BaseModel):
    """An attachment's content, stored once by its SHA-256 in the folder beside the store."""

    sha256 = pw.TextField(primary_key=True)
    size = pw.IntegerField()
    stored_at = UTCDateTimeField()


class LogEntry(BaseModel):
    """One line of a case's communication log. Append-only: the database refuses UPDATE and DELETE."""

    ticket = pw.ForeignKeyField(
        Ticket, backref="entries", on_delete="RESTRICT", index=False
    )  # (ticket, seq) indexes it
    seq = pw.IntegerField()  # 1, 2, 3 … within the ticket
    kind = pw.TextField()  # message, note, acknowledgement, status, assignment, tags, correction, reminder, …
    at = UTCDateTimeField()  # when the contact happened (start)
    until = UTCDateTimeField(null=True)  # when it ended, for calls and chats
    logged_at = UTCDateTimeField()  # when it was written here
    channel = pw.TextField()  # email, chat, phone, social, note, system
    direction = pw.TextField()  # in, out, internal
    sender = pw.TextField()  # buyer, seller, partner, agent, system
    sender_name = pw.TextField(default="")
    agent = pw.TextField()  # who logged it
    summary = pw.TextField()
    body = pw.TextField(default="")
    follow_up_at = UTCDateTimeField(null=True)
    corrects = pw.ForeignKeyField("self", null=True, backref="corrections", on_delete="RESTRICT")
    due_at = UTCDateTimeField(null=True)  # for timer actions: when it was due
    digest = pw.TextField()  # hash chain: covers this entry, its attachments and the previous digest

    class Meta:
        indexes = ((("ticket", "seq"), True),)


class Attachment(BaseModel):
    entry = pw.ForeignKeyField(LogEntry, backref="attachments", on_delete="RESTRICT")
    blob = pw.ForeignKeyField(Blob, column_name="sha256", object_id_name="sha256", on_delete="RESTRICT")
    name = pw.TextField()
    size = pw.IntegerField()


class StatusChange(BaseModel):
    ticket = pw.ForeignKeyField(Ticket, backref="status_changes", on_delete="RESTRICT")
    entry = pw.ForeignKeyField(LogEntry, on_delete="RESTRICT")
    at = UTCDateTimeField()
    from_status = pw.TextField(null=True)
    to_status = pw.TextField()
    agent = pw.TextField()
    note = pw.TextField(default="")


class FieldChange(BaseModel):
    """What one assignment, tag change, field edit or undo changed: old and new value, as text (None: none).

    Append-only evidence beside its log entry; ``undo`` reads it to put back exactly what was there.
    """

    ticket = pw.ForeignKeyField(Ticket, backref="field_changes", on_delete="RESTRICT")
    entry = pw.ForeignKeyField(LogEntry, on_delete="RESTRICT")
    field = pw.TextField()  # assignee, tag, priority, subject, customer, email, order_id, reason, kind
    old = pw.TextField(null=True)
    new = pw.TextField(null=True)


class RefundMilestone(BaseModel):
    """One refund milestone as recorded (domain/refunds.py): append-only, beside the log entry that says it.

    The log entry is the evidence (chained and sealed); these rows are its structured index, so a case's
    earlier refunds keep their milestones when the ticket row moves on to the next refund.
    """

    ticket = pw.ForeignKeyField(Ticket, backref="refund_milestones", on_delete="RESTRICT")
    entry = pw.ForeignKeyField(LogEntry, on_delete="RESTRICT")
    number = pw.IntegerField()  # the refund's number within the case: 1, 2, …
    milestone = pw.TextField()  # approved, initiated, refunded
    at = UTCDateTimeField()
    amount = pw.TextField(null=True)  # exact decimal text
    currency = pw.TextField(null=True)

    class Meta:
        indexes = ((("ticket", "number", "milestone"), True),)


class TimerEvent(BaseModel):
    """One timer action applied (or skipped) for one period; the unique key makes a second attempt a no-op."""

    ticket = pw.ForeignKeyField(Ticket, backref="timer_events", on_delete="RESTRICT")
    action = pw.TextField()  # reminder, auto_close, resolved_close
    period_started_at = UTCDateTimeField()
    slot = pw.IntegerField()  # reminder number 1..N; 0 for closes
    due_at = UTCDateTimeField()
    applied_at = UTCDateTimeField()
    outcome = pw.TextField()  # sent, skipped, closed
    entry = pw.ForeignKeyField(LogEntry, null=True, on_delete="RESTRICT")

    class Meta:
        indexes = ((("ticket", "action", "period_started_at", "slot"), True),)


class OutboxMessage(BaseModel):
    """A message to a party of the case, waiting for ``tui-desk deliver`` (or a console) to send it.

    Its state is read from its dates: sent, failed (permanently), bounced, else waiting. A deliverer
    claims it under the write lock (``claimed_until``, a lease a crashed deliverer's claim runs out of);
    temporary failures count ``attempts`` and wait until ``next_attempt_at``.
    """

    ticket = pw.ForeignKeyField(Ticket, backref="outbox", on_delete="RESTRICT")
    timer_event = pw.ForeignKeyField(TimerEvent, null=True, on_delete="RESTRICT")
    recipient = pw.TextField()  # buyer, seller, partner
    address = pw.TextField(null=True)
    case_number = pw.TextField()
    subject = pw.TextField()
    body = pw.TextField()
    created_at = UTCDateTimeField()
    sent_at = UTCDateTimeField(null=True, index=True)
    # Schema 4: delivery.
    kind = pw.TextField(null=True)  # acknowledgement, reminder, auto_close, resolved_close, reply
    entry = pw.ForeignKeyField(LogEntry, null=True, on_delete="RESTRICT")  # a reply's entry (its attachments)
    message_id = pw.TextField(null=True, unique=True)  # <td.ID.STORE@domain>, fixed at the first claim
    attempts = pw.IntegerField(default=0, constraints=[pw.SQL("DEFAULT 0")])
    next_attempt_at = UTCDateTimeField(null=True)
    claimed_until = UTCDateTimeField(null=True)
    claimed_by = pw.TextField(null=True)
    last_error = pw.TextField(null=True)  # the server's reply to the last failed attempt
    failed_at = UTCDateTimeField(null=True)
    bounced_at = UTCDateTimeField(null=True)


class InboundMessage(BaseModel):
    """Schema 4: every incoming mail by its Message-ID, once (a second copy creates nothing)."""

    message_id = pw.TextField(unique=True)
    ticket = pw.ForeignKeyField(Ticket, null=True, on_delete="RESTRICT")
    entry = pw.ForeignKeyField(LogEntry, null=True, on_delete="RESTRICT")
    sender = pw.TextField(default="")  # the From address
    received_at = UTCDateTimeField()
    outcome = pw.TextField()  # threaded, opened, follow_up, auto, bounce, malformed


class Draft(BaseModel):
    """A half-typed log entry, saved as it is typed; not evidence, so it may change and go."""

    ticket = pw.ForeignKeyField(Ticket, on_delete="CASCADE")
    agent = pw.TextField()
    data = pw.TextField()  # JSON of the form's fields
    base_version = pw.IntegerField()  # the ticket version the draft was started on
    updated_at = UTCDateTimeField()

    class Meta:
        indexes = ((("ticket", "agent"), True),)


ALL_MODELS = [
    Meta,
    CaseSequence,
    Ticket,
    TicketTag,
    Blob,
    LogEntry,
    Attachment,
    StatusChange,
    FieldChange,
    RefundMilestone,
    TimerEvent,
    OutboxMessage,
    InboundMessage,
    Draft,
]
