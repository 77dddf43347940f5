"""The store's writes: each one checks the rules, then writes in one transaction holding the write lock.

The console and the command line call these and nothing else, so both follow the same rules. Every
log entry goes through the one writer (store/log.py); the words of system entries come from
domain/log_texts.py.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import peewee as pw

from tui_desk.domain import log_texts, refunds, sla, statuses, vocabulary
from tui_desk.domain.case_numbers import MAX_CASE_SEQ, format_case_number, parse_case_number
from tui_desk.domain.clock import to_utc
from tui_desk.domain.dates import format_when
from tui_desk.domain.errors import DeskError
from tui_desk.domain.evidence import iso_micro
from tui_desk.domain.statuses import Status, status_of
from tui_desk.store import log, outbox, sweep
from tui_desk.store.models import (
    CaseSequence,
    FieldChange,
    LogEntry,
    RefundMilestone,
    StatusChange,
    Ticket,
    TicketTag,
)
from tui_desk.store.queries import current_refund_of


@dataclass(frozen=True)
class TicketSnapshot:
    """What a console saw of a ticket when it started typing, to tell what changed underneath.

    A script knows only the version it read (``show --json``): ``at_version`` leaves the rest unknown.
    """

    version: int
    log_count: int | None
    status: str | None
    assignee: str | None

    @classmethod
    def of(cls, ticket: Ticket) -> TicketSnapshot:
        return cls(ticket.version, ticket.log_count, ticket.status, ticket.assignee)

    @classmethod
    def at_version(cls, version: int) -> TicketSnapshot:
        return cls(version, None, None, None)


class TicketChanged(DeskError):  # noqa: N818 - what happened to the ticket, read in the message
    """The ticket changed since the snapshot a write was based on; ``changes`` says how."""

    def __init__(
        self, case_number: str, changes: list[str], current: TicketSnapshot, *, since: str = "while you were typing"
    ) -> None:
        self.changes = changes
        self.current = current
        super().__init__(f"{case_number} changed {since}: " + "; ".join(changes))


# What ``edit_ticket`` may change (the case number, dates and status are not fields one corrects).
EDITABLE_FIELDS = (
    "priority",
    "subject",
    "customer",
    "email",
    "order_id",
    "reason",
    "kind",
    "seller_email",
    "partner_email",
)
# The entries ``undo`` can reverse: the acting agent's own changes to the ticket.
UNDOABLE_KINDS = ("status", "assignment", "tags", "edit")
# ``edit_ticket(opened=…)``: the opening, kept in ``field_change`` as the exact instant (``iso_micro``).
OPENED = "opened_at"
FUTURE_SLACK = timedelta(minutes=5)  # a contact may be dated this far ahead (clocks differ a little)


def in_the_future(when: datetime, now: datetime) -> bool:
    """Later than the clock skew allows (``FUTURE_SLACK``): the one test of every time rule below. (An aware
    time compares as it is: an import asks 400,000 times; a naive one is taken as UTC.)"""
    return (when if when.tzinfo is not None else to_utc(when)) > now + FUTURE_SLACK


def contact_time_problem(what: str, when: datetime | None, opened_at: datetime, now: datetime, tz) -> str | None:
    """The time rule for a contact, in one place: between the ticket's opening and 5 minutes from now.

    ``None`` if ``when`` is allowed (or not given), else the one-line refusal naming the allowed range.
    """
    if when is None:
        return None
    opened, latest = to_utc(opened_at), now + FUTURE_SLACK
    allowed = f"allowed: {_short(opened, now, tz)} to {int(FUTURE_SLACK.total_seconds() // 60)} minutes from now"
    if when < opened:
        return (
            f"the {what} {_short(when, now, tz)} is before the ticket opened ({_short(opened, now, tz)}); "
            f"{allowed}; an opening dated too late is corrected with `edit --opened`"
        )
    if in_the_future(when, now):
        return f"the {what} {_short(when, now, tz)} is in the future; {allowed} ({_short(latest, now, tz)})"
    return None


def check_opened(opened: datetime, now: datetime, tz, first: LogEntry | None = None) -> datetime:
    """When a ticket opened (``new --opened``, ``edit --opened``): not in the future beyond the clock skew,
    and not after ``first``, the earliest entry of its log (by its date): the rule of
    ``contact_time_problem`` seen from the opening's side, so no entry is left before the opening."""
    opened = to_utc(opened)
    if in_the_future(opened, now):
        raise DeskError(
            f"the time the ticket opened ({_short(opened, now, tz)}) is in the future; allowed: up to "
            f"{int(FUTURE_SLACK.total_seconds() // 60)} minutes from now ({_short(now + FUTURE_SLACK, now, tz)})"
        )
    if first is not None and to_utc(first.at) < opened:
        at = _short(first.at, now, tz)
        raise DeskError(
            f"the opening {_short(opened, now, tz)} is after the ticket's first entry (#{first.seq}, {at}); "
            f"allowed: up to {at}"
        )
    return opened


def _short(when: datetime, now: datetime, tz) -> str:
    """``14:30`` on today's date (in the store's zone), else the whole ``2026-11-15 14:30 UTC``."""
    full = format_when(when, tz)
    return full[11:16] if full[:10] == format_when(now, tz)[:10] else full


_TAKEN_SQL = f'SELECT "case_number" FROM "{Ticket._meta.table_name}" WHERE "case_number" IN'


class TicketCommands:
    """The store's writes (a part of ``Store``): open, log, move, assign, tag, record a refund."""

    # -- creating -------------------------------------------------------------------------

    def allocate_case_number(self, kind_code: str, year: int) -> str:
        """The next free case number of this kind and year. Call inside ``writing`` (the number is taken then)."""
        return self.allocate_case_numbers(kind_code, year, 1)[0]

    def allocate_case_numbers(self, kind_code: str, year: int, count: int) -> list[str]:
        """The next ``count`` free case numbers of this kind and year, in order. Call inside ``writing``.

        The sequence row is locked until the commit (made first if there is none, so the lock has a row
        to hold): a second writer on another host waits for it and then counts on from the first's number.
        A number a ticket already holds (kept from a sheet, say) is skipped.
        """
        prefix = self.config.prefix
        key = (CaseSequence.prefix == prefix) & (CaseSequence.kind_code == kind_code) & (CaseSequence.year == year)
        CaseSequence.insert(prefix=prefix, kind_code=kind_code, year=year, last=0).on_conflict_ignore().execute()
        row = self.backend.locked(CaseSequence.select(CaseSequence.last).where(key)).tuples().first()
        last = row[0] if row else 0
        if not (isinstance(last, int) and 0 <= last <= MAX_CASE_SEQ):
            # An older version kept an imported number past the bound (or the row was damaged):
            # count on from the highest sane number the tickets hold.
            last = self._highest_sequence(prefix, kind_code, year)
        numbers: list[str] = []
        while len(numbers) < count:
            wanted = min(count - len(numbers), MAX_CASE_SEQ - last)
            if wanted <= 0:
                raise DeskError(f"no case numbers left for {prefix}-{kind_code}-{year} (at most {MAX_CASE_SEQ:,})")
            # A chunk of candidates, asked about at once (a bound on the query's parameters); those taken
            # are skipped, and the next chunk starts after the last candidate.
            candidates = [format_case_number(prefix, kind_code, year, last + i) for i in range(1, min(wanted, 500) + 1)]
            marks = ", ".join("?" * len(candidates))  # a fixed statement: Peewee's query cost 7 ms a chunk
            taken = {number for (number,) in self.backend.run(self.db, f"{_TAKEN_SQL} ({marks})", candidates)}
            for number in candidates:
                last += 1
                if number not in taken:
                    numbers.append(number)
                    if len(numbers) == count:
                        break
        CaseSequence.update(last=last).where(key).execute()
        return numbers

    def _highest_sequence(self, prefix: str, kind_code: str, year: int) -> int:
        """The highest sequence up to MAX_CASE_SEQ among the tickets' numbers of this kind and year."""
        start = f"{prefix}-{kind_code}-{year:04d}-"
        end = start[:-1] + "."  # the next character after "-": a range the unique index answers
        highest = 0
        numbers = Ticket.select(Ticket.case_number).where((Ticket.case_number >= start) & (Ticket.case_number < end))
        for (number,) in numbers.tuples():
            seq = number[len(start) :]
            if seq.isdigit() and int(seq) <= MAX_CASE_SEQ:
                highest = max(highest, int(seq))
        return highest

    def reserve_case_number(self, number: str) -> None:
        """Keep an existing (imported) case number: later allocations go past it. Call inside ``writing``."""
        try:
            prefix, kind_code, year, seq = parse_case_number(number)
        except DeskError:
            return  # a foreign format can never collide with ours
        if seq > MAX_CASE_SEQ:
            return  # never allocated up to (imports refuse such a number)
        CaseSequence.insert(prefix=prefix, kind_code=kind_code, year=year, last=seq).on_conflict(
            conflict_target=[CaseSequence.prefix, CaseSequence.kind_code, CaseSequence.year],
            update={CaseSequence.last: pw.Case(None, [(CaseSequence.last > seq, CaseSequence.last)], seq)},
        ).execute()

    def create_ticket(
        self,
        *,
        customer: str,
        subject: str,
        kind: str = "refund",
        email: str | None = None,
        order_id: str | None = None,
        reason: str | None = None,
        priority: str = "normal",
        tags: Iterable[str] = (),
        description: str = "",
        references: str | None = None,
        opened: datetime | None = None,
        seller_email: str | None = None,
        partner_email: str | None = None,
        acknowledge: bool | str = True,
    ) -> Ticket:
        """Open a ticket: allocate its case number, log the automatic acknowledgement, queue it for the customer.

        ``opened`` dates the opening earlier than now (``new --opened``: the call came at 14:00, the
        ticket is typed in at 14:30), so contacts since then can be logged; the SLA counts from it.
        The acknowledgement is sent now, and is logged now.
        ``acknowledge`` as a text: no acknowledgement is queued, and the log says why (mail intake: an
        address that had too many of them this hour).
        """
        customer = vocabulary.require_text(customer, "customer").strip()
        subject = vocabulary.require_text(subject, "subject")
        if "\x00" in (description or ""):
            raise DeskError("description contains a NUL character")
        kind = kind.strip().lower()
        kind_code = self.config.kind_code(kind)
        priority = vocabulary.check_priority(priority)
        tag_names = sorted({vocabulary.check_tag(t) for t in tags})
        email = (email or "").strip() or None
        if email and "@" not in email:
            raise DeskError(f"email {email!r} has no @")
        seller_email = self._edited_value("seller_email", seller_email or "")
        partner_email = self._edited_value("partner_email", partner_email or "")
        if references:
            with self.reading():
                followed = Ticket.get_or_none(Ticket.case_number == references.strip().upper())
            if followed is None:
                raise DeskError(f"references: no ticket {references.strip()!r} to follow up")
            references = followed.case_number
        now = self.now()
        opened_at = check_opened(opened, now, self.config.tz) if opened is not None else now
        with self.writing():
            number = self.allocate_case_number(kind_code, opened_at.year)
            ticket = Ticket.create(
                case_number=number,
                kind=kind,
                customer=customer,
                email=email,
                seller_email=seller_email,
                partner_email=partner_email,
                order_id=(order_id or "").strip() or None,
                subject=subject,
                description=description or "",
                reason=(reason or "").strip() or None,
                priority=priority,
                status=Status.NEW.slug,
                created_by=self.agent,
                references=references,
                opened_at=opened_at,
                last_action_at=now,
                status_changed_at=opened_at,
            )
            ticket.log_head = log.genesis(ticket.id, number)  # saved with the acknowledgement below
            sla.write_clocks(ticket, sla.opened(opened_at, priority, self.config.sla))
            for name in tag_names:
                TicketTag.create(ticket=ticket, name=name)
            ack = log_texts.acknowledgement(customer, number, subject, description, self.config.templates)
            held = acknowledge if isinstance(acknowledge, str) else None
            ack_entry = self._append(
                ticket,
                log.system_entry(
                    "acknowledgement",
                    log_texts.acknowledgement_held(held) if held else ack.summary,
                    at=now,
                    body=ack.body,
                    direction="internal" if held else "out",
                    agent=self.agent,
                ),
            )
            log.record_first_status(self.db, ticket.id, ack_entry.id, Status.NEW, at=opened_at, agent=self.agent)
            if held or not acknowledge:
                return ticket
            outbox.queue_message(
                self.db,
                ticket.id,
                "buyer",
                email,
                number,
                ack.mail_subject,
                ack.body,
                created_at=now,
                kind="acknowledgement",
                entry_id=ack_entry.id,
            )
        return ticket

    # -- the log --------------------------------------------------------------------------

    def _append(self, ticket: Ticket, entry: log.NewEntry) -> LogEntry:
        """Append ``entry`` through the log's one writer and save the ticket's moved head. Call inside ``writing``."""
        written = log.append(self.db, ticket, entry)
        ticket.save()
        return written

    def _log_system(self, ticket: Ticket, kind: str, summary: str) -> LogEntry:
        """A system entry for something the acting agent did now (assignment, tags, refund)."""
        return self._append(ticket, log.system_entry(kind, summary, at=self.now(), agent=self.agent))

    @contextlib.contextmanager
    def _changing(
        self, case_number: str, expected: TicketSnapshot | None = None, *, writable: bool = True
    ) -> Iterator[Ticket]:
        """A write transaction on one ticket, which is re-read under the lock with its due timers applied,
        refused if it is Closed (``writable``) or changed since ``expected`` — every write's guard, once.

        Timer actions already due are first committed in a transaction of their own, so they stay applied
        even when the write is then refused (a reply to a ticket that closed meanwhile is refused, and the
        ticket is Closed for everyone, not only for this write).
        """
        ticket = self.get(case_number)
        if ticket.timer_due_at is not None and ticket.timer_due_at <= self.now():
            with self.writing():
                sweep.apply_due_timers(self, ticket.id, self.now())
        with self.writing():
            ticket = self._fresh(case_number)
            if writable:
                self._writable(ticket)
            self._check_unchanged(ticket, expected)
            yield ticket

    def _fresh(self, case_number: str) -> Ticket:
        """Re-read a ticket inside a write transaction: what another process committed counts.

        Its due timer actions are applied first, in the same transaction, so the write sees the ticket
        as an on-time sweep would have left it (a reply after the auto-close fell due finds it Closed).
        """
        key = case_number.strip().upper()
        # Locked until the commit (PostgreSQL; SQLite's write lock holds the whole store already).
        ticket = self.backend.locked(Ticket.select().where(Ticket.case_number == key)).first()
        if ticket is None:
            raise DeskError(f"no ticket {case_number.strip()!r}")
        now = self.now()
        if ticket.timer_due_at is not None and ticket.timer_due_at <= now:
            sweep.apply_due_timers(self, ticket.id, now)
            ticket = Ticket.get_by_id(ticket.id)  # already locked by this transaction
        return ticket

    def _check_unchanged(self, ticket: Ticket, expected: TicketSnapshot | None) -> None:
        if expected is None or expected.version == ticket.version:
            return
        if expected.log_count is None:
            raise TicketChanged(
                ticket.case_number,
                [f"it is at version {ticket.version} now; nothing was written"],
                TicketSnapshot.of(ticket),
                since=f"since version {expected.version}",
            )
        changes = []
        new = (
            LogEntry.select()
            .where((LogEntry.ticket == ticket.id) & (LogEntry.seq > expected.log_count))
            .order_by(LogEntry.seq)
        )
        for entry in new:
            if entry.sender in vocabulary.PARTIES:
                changes.append(f"{entry.agent} logged a message from the {entry.sender}: “{entry.summary}”")
            elif entry.agent == vocabulary.SYSTEM:
                changes.append(f"the system: “{entry.summary}”")
            else:
                changes.append(f"{entry.agent}: “{entry.summary}”")
        if ticket.status != expected.status:
            changes.append(f"status is now {status_of(ticket.status).label}")
        if ticket.assignee != expected.assignee:
            changes.append(f"assigned to {ticket.assignee or 'nobody'}")
        raise TicketChanged(ticket.case_number, changes or ["it was edited"], TicketSnapshot.of(ticket))

    def _check_times(self, ticket: Ticket, start: datetime, until: datetime | None) -> None:
        """A contact is dated within the ticket's life so far: not before it opened, not in the future
        (a few minutes of clock skew allowed). A ticket opened after its first contact (a call at 14:00,
        the ticket typed in at 14:30) is opened with ``new --opened`` (later: ``edit --opened``); imports keep
        their own dates."""
        for what, when in (("contact time", start), ("contact's end", until)):
            problem = contact_time_problem(what, when, ticket.opened_at, self.now(), self.config.tz)
            if problem:
                raise DeskError(problem)

    def refresh(self, case_number: str) -> Ticket:
        """The ticket as it is now, its due timer actions applied first (a reply may find it Closed)."""
        ticket = self.get(case_number)
        if ticket.timer_due_at is not None and ticket.timer_due_at <= self.now():
            with self.writing():
                sweep.apply_due_timers(self, ticket.id, self.now())
            ticket = self.get(case_number)
        return ticket

    def record_system_fact(
        self, case_number: str, kind: str, summary: str | None, change: Callable[[Ticket], bool]
    ) -> bool:
        """Something the program learned about a case (a message delivered, failed, bounced): ``change``
        writes it (returning False when there is nothing to record), and ``summary``, if any, is logged
        by ``system`` in the same transaction.

        A Closed ticket takes it too: the closing notice's delivery belongs to the closed case's record.
        """
        with self._changing(case_number, writable=False) as ticket:
            if not change(ticket):
                return False
            if summary:
                self._append(ticket, log.system_entry(kind, summary, at=self.now(), agent=vocabulary.SYSTEM))
            return True

    def _writable(self, ticket: Ticket) -> None:
        if ticket.status == Status.CLOSED.slug:
            closing = (
                StatusChange.select()
                .where((StatusChange.ticket == ticket.id) & (StatusChange.to_status == Status.CLOSED.slug))
                .order_by(StatusChange.id.desc())
                .first()
            )
            why = f" on {format_when(closing.at)} ({closing.note or 'closed'})" if closing else ""
            raise DeskError(
                f"{ticket.case_number} was closed{why}; Closed is final: open a follow-up with "
                f"tui-desk new --references {ticket.case_number}"
            )

    def add_entry(
        self,
        case_number: str,
        *,
        channel: str,
        summary: str,
        direction: str | None = None,
        sender: str | None = None,
        sender_name: str = "",
        body: str = "",
        attachments: Sequence[str | Path] = (),
        at: datetime | None = None,
        until: datetime | None = None,
        follow_up: datetime | None = None,
        corrects: int | None = None,
        status: Status | None = None,
        status_note: str | None = None,
        expected: TicketSnapshot | None = None,
        forget_draft: bool = False,
        draft_form: str = "entry",
        mail_to: str | None = None,
        counts_as_answer: bool = True,
    ) -> LogEntry:
        """Log an interaction (or a note, or a correction of an earlier entry), with its consequences.

        An inbound message from the party the ticket waits on moves it to Waiting on Us; so does the
        customer answering a Resolved ticket. ``status`` applies a status change with the entry.
        ``forget_draft`` deletes the acting agent's draft for the ticket in the same transaction, so a
        saved entry never leaves its draft behind (and a failed save keeps it).
        ``mail_to`` (an outbound email) queues the entry's content as an email in the same transaction:
        to ``buyer``, ``seller``, ``partner`` or an address; blank: the party the ticket waits on, else the
        customer (``outbox.reply_recipient``). ``counts_as_answer=False`` (an auto-reply, list mail, a
        sender who is none of the ticket's parties) logs an inbound message without its automatic move.
        """
        channel = vocabulary.check_channel(channel)
        summary = vocabulary.require_text(summary, "summary")
        if "\x00" in (body or "") or "\x00" in (sender_name or ""):
            raise DeskError("the entry contains a NUL character")
        direction, sender = vocabulary.resolve_party(channel, direction, sender)
        if mail_to is not None and (channel, direction) != ("email", "out"):
            raise DeskError("only an outbound email can be sent")
        at = to_utc(at) if at else None
        until = to_utc(until) if until else None
        start = at or self.now()
        if until and until < start:
            raise DeskError(f"the contact ends ({format_when(until)}) before it starts ({format_when(start)})")
        if follow_up and to_utc(follow_up) < start:
            raise DeskError(f"the follow-up ({format_when(follow_up)}) is before the contact ({format_when(start)})")
        for path in attachments:
            self.blobs.check(Path(path))
        # Attachments are copied in only once every check has passed: under the write lock, fsynced
        # before the commit. A write refused or rolled back after that takes its new files away again.
        created: list[Path] = []
        try:
            with self._changing(case_number, expected) as ticket:
                self._check_times(ticket, start, until)
                current = status_of(ticket.status)
                recipient = outbox.reply_recipient(ticket, mail_to) if mail_to is not None else None
                auto = (
                    statuses.status_after_inbound(current, sender) if direction == "in" and counts_as_answer else None
                )
                if status is not None:
                    statuses.check_transition(auto or current, status, status_note)
                target_entry = None
                if corrects is not None:
                    target_entry = LogEntry.get_or_none((LogEntry.ticket == ticket.id) & (LogEntry.seq == corrects))
                    if target_entry is None:
                        raise DeskError(f"{ticket.case_number} has no entry {corrects} to correct")
                files = [self.blobs.ingest(Path(p), created) for p in attachments]
                kind = "correction" if target_entry else ("note" if channel == "note" else "message")
                now = self.now()
                entry = self._append(
                    ticket,
                    log.NewEntry(
                        kind=kind,
                        channel=channel,
                        direction=direction,
                        sender=sender,
                        sender_name=sender_name.strip(),
                        summary=summary,
                        body=body or "",
                        agent=self.agent,
                        at=at or now,
                        logged_at=now,
                        until=until,
                        follow_up_at=follow_up,
                        corrects=(target_entry.id, target_entry.seq) if target_entry else None,
                        files=files,
                    ),
                )
                if direction == "out" and kind == "message":
                    if ticket.first_response_at is None:
                        ticket.first_response_at = entry.at
                        sla.write_clocks(ticket, sla.responded(sla.read_clocks(ticket), entry.at))
                    ticket.follow_up_at = None  # we got back to them: the promise is kept
                if follow_up is not None:
                    ticket.follow_up_at = to_utc(follow_up)
                ticket.save()
                if recipient is not None:
                    outbox.queue_message(
                        self.db,
                        ticket.id,
                        recipient.party,
                        recipient.address,
                        ticket.case_number,
                        log_texts.mail_subject(ticket.case_number, ticket.subject),
                        body or "",
                        created_at=now,
                        kind="reply",
                        entry_id=entry.id,
                    )
                if auto is not None:
                    who = sender_name.strip() or sender
                    self._set_status(ticket, auto, log_texts.answered(who), by_system=True)
                if status is not None:
                    self._set_status(ticket, status, status_note or "")
                if forget_draft:
                    self.forget_draft_of(ticket, form=draft_form)
        except BaseException:
            self.blobs.discard(created)
            raise
        return entry

    # -- status, assignment, tags, refund -------------------------------------------------

    def _set_status(self, ticket: Ticket, target: Status, note: str, *, by_system: bool = False) -> None:
        """Move the ticket, log it, and start or stop its timers. Call inside ``writing``."""
        log.change_status(
            self.db,
            ticket,
            target,
            note=note,
            agent=vocabulary.SYSTEM if by_system else self.agent,
            at=self.now(),
            timer_policy=self.config.timers,
            sla_policy=self.config.sla,
        )
        ticket.save()

    def change_status(
        self, case_number: str, target: Status, note: str | None = None, *, expected: TicketSnapshot | None = None
    ) -> Ticket:
        """Move a ticket by hand; Resolved needs a resolution note and Closed a final summary."""
        if note is not None and "\x00" in note:
            raise DeskError("the note contains a NUL character")
        # Closed is refused by the transition rules, in their words (no _writable here).
        with self._changing(case_number, expected, writable=False) as ticket:
            statuses.check_transition(status_of(ticket.status), target, note)
            self._set_status(ticket, target, note or "")
        return ticket

    def assign(self, case_number: str, assignee: str | None, *, expected: TicketSnapshot | None = None) -> Ticket:
        """Give the ticket to an agent (None or blank: unassigned)."""
        assignee = (assignee or "").strip() or None
        with self._changing(case_number, expected) as ticket:
            if ticket.assignee == assignee:
                return ticket
            summary = log_texts.assignment(assignee, ticket.assignee)
            entry = self._log_system(ticket, "assignment", summary)
            self._record(ticket, entry, [("assignee", ticket.assignee, assignee)])
            ticket.assignee = assignee
            ticket.save()
        return ticket

    def tag(
        self,
        case_number: str,
        add: Iterable[str] = (),
        remove: Iterable[str] = (),
        *,
        expected: TicketSnapshot | None = None,
    ) -> list[str]:
        """Add and remove tags; returns the ticket's tags afterwards."""
        add_names = {vocabulary.check_tag(t) for t in add}
        remove_names = {vocabulary.check_tag(t) for t in remove}
        with self._changing(case_number, expected) as ticket:
            present = {t.name for t in TicketTag.select().where(TicketTag.ticket == ticket.id)}
            added = sorted(add_names - present)
            removed = sorted(remove_names & present)
            if added or removed:
                entry = self._log_system(ticket, "tags", log_texts.tags_changed(added, removed))
                self._change_tags(ticket, entry, added, removed)
            return sorted((present | set(added)) - set(removed))

    def _change_tags(self, ticket: Ticket, entry: LogEntry, added: list[str], removed: list[str]) -> None:
        for name in added:
            TicketTag.create(ticket=ticket, name=name)
        if removed:
            TicketTag.delete().where((TicketTag.ticket == ticket.id) & TicketTag.name.in_(removed)).execute()
        self._record(ticket, entry, [("tag", None, n) for n in added] + [("tag", n, None) for n in removed])

    def _record(self, ticket: Ticket, entry: LogEntry, changes: list[tuple[str, str | None, str | None]]) -> None:
        """What an entry changed, field by field (old, new), for ``undo`` and for the record."""
        for name, old, new in changes:
            FieldChange.create(ticket=ticket.id, entry=entry.id, field=name, old=old, new=new)

    # -- editing and undoing ----------------------------------------------------------------

    def edit_ticket(
        self,
        case_number: str,
        *,
        expected: TicketSnapshot | None = None,
        opened: datetime | None = None,
        **changes: str | None,
    ) -> Ticket:
        """Correct a ticket's own fields (``EDITABLE_FIELDS``) and its opening (``opened``); each change
        is logged as old → new.

        A priority change moves the SLA due times to the new priority's targets (measured from the
        opening, as always; breaches already recorded stay); so does a new opening, which is checked by
        the time rule (``check_opened``: not after the first entry of the log, not in the future). A
        Closed ticket cannot be edited.
        """
        unknown = set(changes) - set(EDITABLE_FIELDS)
        if unknown:
            raise DeskError(f"cannot edit {sorted(unknown)[0]!r} (one of: {', '.join(EDITABLE_FIELDS)})")
        wanted = {name: self._edited_value(name, value) for name, value in changes.items() if value is not None}
        if not wanted and opened is None:
            raise DeskError(f"nothing to edit: give one of {', '.join(EDITABLE_FIELDS)}, opened")
        with self._changing(case_number, expected) as ticket:
            diff = [(name, getattr(ticket, name), new) for name, new in wanted.items() if getattr(ticket, name) != new]
            if opened is not None and iso_micro(opened) != iso_micro(ticket.opened_at):
                diff.append((OPENED, iso_micro(ticket.opened_at), iso_micro(opened)))
            if diff:
                self._apply_edit(ticket, diff, summary=self._edit_summary(diff))
        return ticket

    def _edit_summary(self, diff: list[tuple[str, str | None, str | None]]) -> str:
        """``log_texts.field_edit``, the opening shown as a date in the store's zone (kept exact underneath)."""

        def shown(name: str, value: str | None) -> str | None:
            return format_when(to_utc(datetime.fromisoformat(value)), self.config.tz) if name == OPENED else value

        return log_texts.field_edit([(name, shown(name, old), shown(name, new)) for name, old, new in diff])

    def _edited_value(self, name: str, value: str) -> str | None:
        """A new field value checked as ``create_ticket`` checks it."""
        if "\x00" in value:
            raise DeskError(f"{name.replace('_', ' ')} contains a NUL character")
        if name in ("subject", "customer"):
            text = vocabulary.require_text(value, name)
            return text.strip() if name == "customer" else text
        if name == "priority":
            return vocabulary.check_priority(value)
        if name == "kind":
            kind = value.strip().lower()
            self.config.kind_code(kind)
            return kind
        text = value.strip() or None  # email, order, reason: blank clears
        if name.endswith("email") and text and "@" not in text:
            raise DeskError(f"email {text!r} has no @")
        return text

    def _apply_edit(
        self, ticket: Ticket, diff: list[tuple[str, str | None, str | None]], *, summary: str, corrects=None
    ):
        for name, old, new in diff:
            if name == OPENED:  # an edit, or the undo of one: the entries logged since count too
                first = LogEntry.select().where(LogEntry.ticket == ticket.id).order_by(LogEntry.at, LogEntry.seq)
                opened = check_opened(datetime.fromisoformat(new), self.now(), self.config.tz, first.first())
                if iso_micro(ticket.status_changed_at) == old:  # still in the status it opened in
                    ticket.status_changed_at = opened
        entry = self._append(
            ticket, log.system_entry("edit", summary, at=self.now(), agent=self.agent, corrects=corrects)
        )
        self._record(ticket, entry, diff)
        for name, _, new in diff:
            setattr(ticket, name, to_utc(datetime.fromisoformat(new)) if name == OPENED else new)
        if any(name in ("priority", OPENED) for name, _, _ in diff):
            clocks = sla.priority_changed(
                sla.read_clocks(ticket),
                opened_at=ticket.opened_at,
                priority=ticket.priority,
                responded_at=ticket.first_response_at,
                policy=self.config.sla,
            )
            sla.write_clocks(ticket, clocks)
        ticket.save()

    def undo(self, case_number: str, *, expected: TicketSnapshot | None = None) -> LogEntry:
        """Reverse the acting agent's own last change (status, assignment, tags, field edit) on a ticket.

        Only the ticket's latest change, made by this agent within the configured window
        (``undo_minutes``), and never out of Closed. The undo is a new entry that corrects the one it
        reverses: the log keeps both. Returns the new entry.
        """
        with self._changing(case_number, expected) as ticket:
            last = (
                LogEntry.select()
                .where((LogEntry.ticket == ticket.id) & LogEntry.kind.in_(UNDOABLE_KINDS))
                .order_by(LogEntry.seq.desc())
                .first()
            )
            if last is None:
                raise DeskError(f"{ticket.case_number} has no change to undo")
            if last.agent != self.agent:
                raise DeskError(
                    f"the last change on {ticket.case_number} (#{last.seq}, {last.summary}) was made by "
                    f"{last.agent}; only your own last change can be undone"
                )
            if self.now() - last.logged_at > self.config.undo_window:
                minutes = int(self.config.undo_window.total_seconds() // 60)
                raise DeskError(
                    f"#{last.seq} ({last.summary}) was made {format_when(last.logged_at)}, more than "
                    f"{minutes} minutes ago; make the change again instead"
                )
            return self._reverse(ticket, last)

    def _reverse(self, ticket: Ticket, last: LogEntry) -> LogEntry:
        corrects = (last.id, last.seq)
        if last.kind == "status":
            change = StatusChange.get(StatusChange.entry == last.id)
            back = status_of(change.from_status)
            entry_id = log.change_status(
                self.db,
                ticket,
                back,
                note=log_texts.undo_of(last.seq),
                agent=self.agent,
                at=self.now(),
                timer_policy=self.config.timers,
                sla_policy=self.config.sla,
                corrects=corrects,
            )
            ticket.save()
            return LogEntry.get_by_id(entry_id)
        changes = list(FieldChange.select().where(FieldChange.entry == last.id).order_by(FieldChange.id))
        if last.kind == "assignment":
            (change,) = changes
            summary = log_texts.undo_of(last.seq) + ": " + log_texts.assignment(change.old, ticket.assignee)
            entry = self._append(
                ticket, log.system_entry("assignment", summary, at=self.now(), agent=self.agent, corrects=corrects)
            )
            self._record(ticket, entry, [("assignee", ticket.assignee, change.old)])
            ticket.assignee = change.old
            ticket.save()
            return entry
        if last.kind == "tags":
            added = sorted(c.old for c in changes if c.new is None)  # removed then: add back
            removed = sorted(c.new for c in changes if c.old is None)
            summary = log_texts.undo_of(last.seq) + ": " + log_texts.tags_changed(added, removed)
            entry = self._append(
                ticket, log.system_entry("tags", summary, at=self.now(), agent=self.agent, corrects=corrects)
            )
            self._change_tags(ticket, entry, added, removed)
            return entry
        diff = [(c.field, self._field_text(ticket, c.field), c.old) for c in changes]
        summary = log_texts.undo_of(last.seq) + ": " + self._edit_summary(diff)
        self._apply_edit(ticket, diff, summary=summary, corrects=corrects)
        return LogEntry.select().where(LogEntry.ticket == ticket.id).order_by(LogEntry.seq.desc()).get()

    @staticmethod
    def _field_text(ticket: Ticket, name: str) -> str | None:
        """A field as ``field_change`` keeps it: text, the opening as its exact instant."""
        return iso_micro(ticket.opened_at) if name == OPENED else getattr(ticket, name)

    def set_refund(
        self,
        case_number: str,
        *,
        amount: str | None = None,
        currency: str | None = None,
        approved_at: datetime | None = None,
        initiated_at: datetime | None = None,
        refunded_at: datetime | None = None,
        new: bool = False,
        expected: TicketSnapshot | None = None,
    ) -> Ticket:
        """Record a refund's amount, currency and milestones (approved → initiated → refunded), or start the
        case's next refund (``new``). The rules are domain/refunds.py's; each change is logged, old → new,
        and each milestone kept as a ``RefundMilestone`` row beside its entry.
        """
        if amount is not None:
            refunds.check_amount(amount)  # a malformed number is refused before the ticket is read
        dates = {"approved": approved_at, "initiated": initiated_at, "refunded": refunded_at}
        with self._changing(case_number, expected) as ticket:
            rows = list(RefundMilestone.select().where(RefundMilestone.ticket == ticket.id))
            current = current_refund_of(ticket, rows)
            change = refunds.plan_change(
                current, now=self.now(), new=new, amount=amount, currency=currency, dates=dates
            )
            after = change.refund
            ticket.refund_amount = after.amount
            ticket.currency = after.currency
            for name in refunds.MILESTONES:
                m = after.milestones.get(name)
                setattr(ticket, refunds.DATE_FIELD[name], m.at if m else None)
            body = ""
            carried = change.carried_over
            unrecorded = (
                []
                if carried is None
                else [
                    m
                    for m in carried.milestones.values()
                    if m.name not in {r.milestone for r in rows if r.number == carried.number}
                ]
            )
            if unrecorded:
                body = log_texts.refund_carried_over(
                    carried.number,
                    [f"{m.name} {format_when(m.at)}, {refunds.money(m.amount, carried.currency)}" for m in unrecorded],
                )
            summary = log_texts.refund_change(after.number, change.changes, started=change.started)
            entry = self._append(
                ticket, log.system_entry("refund", summary, at=self.now(), agent=self.agent, body=body)
            )
            for refund, milestones in ((carried, unrecorded), (after, change.recorded)):
                for m in milestones:
                    RefundMilestone.create(
                        ticket=ticket.id,
                        entry=entry.id,
                        number=refund.number,
                        milestone=m.name,
                        at=m.at,
                        amount=None if m.amount is None else str(m.amount),
                        currency=refund.currency,
                    )
        return ticket
