"""One ticket: its fields, key dates, next timer and whole timeline, with the actions an agent takes on it."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass, field

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Static

from tui_desk.domain.dates import format_when
from tui_desk.domain.errors import DeskError
from tui_desk.domain.statuses import Status, status_of
from tui_desk.domain.text import clip, printable
from tui_desk.store import TicketChanged, TicketSnapshot
from tui_desk.store.models import Ticket
from tui_desk.tui.colours import late_style, priority_style, status_style
from tui_desk.tui.context import StoreChanged
from tui_desk.tui.presenting import next_due, refund_timeline, timer_text
from tui_desk.tui.screens.read_only import refuse_if_read_only
from tui_desk.tui.widgets.key_bar import KeyBar
from tui_desk.tui.widgets.timeline import Line, Timeline, TimelineEntry, human_size, lay_out


@dataclass
class TicketView:
    """Everything the screen shows, read in one worker run."""

    ticket: Ticket
    tags: list[str]
    entries: list[TimelineEntry]
    draft: bool
    lines: tuple[int, list[Line]]  # the timeline laid out at a width, in the worker
    refunds: list = field(default_factory=list)  # domain/refunds.Refund, oldest first
    follow_ups: list[str] = field(default_factory=list)  # the cases that follow this one up


NEWEST_FIRST = 100  # entries shown before the rest of a long history is read
SUBJECT_SHOWN = 240  # characters of the subject in the header (two lines or three); `E` edits the whole


class DetailScreen(Screen):
    HELP_TITLE = "Ticket keys"
    CSS_PATH = "detail.tcss"
    BINDINGS = [
        Binding("escape", "back", "Back", id="detail.back"),
        Binding("l", "log", "Log", tooltip="Log entry: a call, an email, a note", id="detail.log"),
        Binding("r", "reply", "Reply", show=False, tooltip="Reply by email", id="detail.reply"),
        Binding("s", "status", "Status", id="detail.status"),
        Binding("a", "assign_me", "Take", tooltip="Take: assign to me", id="detail.assign_me"),
        Binding("A", "assign", "Assign to…", show=False, id="detail.assign"),
        Binding("t", "tags", "Tags", tooltip="Tags (+add -remove)", id="detail.tags"),
        Binding("e", "escalate", "Escalate L2", id="detail.escalate"),
        Binding("E", "edit", "Edit", tooltip="Edit priority, subject, customer…", id="detail.edit"),
        Binding("R", "refund", "Refund", show=False, tooltip="Record refund milestones", id="detail.refund"),
        Binding("u", "undo", "Undo", tooltip="Undo your own last change (10 min)", id="detail.undo"),
        Binding(
            "f",
            "attachments",
            "Files",
            show=False,
            tooltip="Attachments: open or show the path",
            id="detail.attachments",
        ),
        Binding("q", "app.quit", "Quit", show=False, id="detail.quit"),
        Binding("colon", "jump", "Jump to case", show=False, id="detail.jump"),
        Binding("y", "copy", "Copy the case number", show=False, id="detail.copy"),
        Binding(
            "Y", "copy_menu", "Copy…", show=False, tooltip="Copy the email, order or digest", id="detail.copy_menu"
        ),
    ]

    def __init__(self, case_number: str) -> None:
        super().__init__()
        self.case_number = case_number.strip().upper()
        self.view: TicketView | None = None

    def compose(self) -> ComposeResult:
        yield Static(Content.assemble((self.case_number, "bold"), "  loading…"), id="head")
        with Horizontal(id="facts"):
            yield Static(id="fields")
            yield Static(id="dates")
        yield Static(id="refunds")
        yield Timeline(id="timeline")
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one(Timeline).focus()

    def show_case(self, case_number: str) -> None:
        """Make this (already built) screen show another case: nothing of the previous one stays."""
        self.case_number = case_number.strip().upper()
        self.view = None
        if not self.query("#head"):
            return  # not built yet (it was closed as soon as it opened): compose will show this case
        self.query_one("#head", Static).update(Content.assemble((self.case_number, "bold"), "  loading…"))
        self.query_one("#fields", Static).update("")
        self.query_one("#dates", Static).update("")
        self.query_one("#refunds", Static).display = False
        timeline = self.query_one(Timeline)
        timeline.placeholder = "Loading…"
        timeline.set_entries([])
        timeline.focus()
        self.refresh_bindings()

    @property
    def ticket(self) -> Ticket | None:
        return self.view.ticket if self.view else None

    @property
    def closed(self) -> bool:
        return self.ticket is not None and self.ticket.status == Status.CLOSED.slug

    def load(self) -> None:
        store, tz = self.app.store, self.app.tz
        case = self.case_number

        opening = self.view is None
        width = self.query_one(Timeline).text_width
        show = self.show_view

        def view_of(ticket: Ticket, tags: list[str], draft: bool, last: int | None = None) -> TicketView:
            entries = TimelineEntry.build(store.entries(ticket, last=last, by_time=True), tz)
            lines = (width, lay_out(entries, width))
            return TicketView(ticket, tags, entries, draft, lines, store.refunds(ticket), store.follow_ups(ticket))

        def fetch() -> TicketView:
            ticket = store.get(case)
            tags = store.tags([ticket.id])[ticket.id]
            draft = store.load_draft(case) is not None if not store.read_only else False
            if opening and ticket.log_count > NEWEST_FIRST * 2:
                # A long history: show its newest entries (where the timeline opens) at once, then all.
                self.app.call_from_worker(show, view_of(ticket, tags, draft, last=NEWEST_FIRST))
            return view_of(ticket, tags, draft)

        def failed(err: Exception) -> None:
            if case != self.case_number:
                return  # a load for the case this screen showed before
            self.app.warn(err)
            if self.view is None:
                self.query_one(Timeline).placeholder = str(err)
                self.query_one(Timeline).refresh()

        # One group per screen: a newer load (another case, or a refresh) supersedes an older one.
        self.app.run_db(fetch, on_done=show, on_error=failed, group=f"detail-{id(self)}", exclusive=True)

    def show_view(self, view: TicketView) -> None:
        """Show what a load read, unless it was read for another case than the one the screen is on now
        (keys typed ahead: Enter, Escape, Down, Enter reuse this screen before the first load is in)."""
        if view.ticket.case_number != self.case_number:
            return
        first = self.view is None
        grew = self.view is not None and len(view.entries) != len(self.view.entries)
        before = self._binding_state()
        self.view = view
        self._show_header()
        self.query_one(Timeline).set_entries(view.entries, to_end=first or grew, lines=view.lines)
        if self._binding_state() != before:
            self.refresh_bindings()  # only when an action came or went

    def on_store_changed(self, _: StoreChanged) -> None:
        self.load()

    def on_screen_resume(self) -> None:
        self.load()

    def _binding_state(self) -> tuple:
        return tuple(self.check_action(a, ()) for a in ("log", "escalate", "attachments"))

    def _show_header(self) -> None:
        t, now, tz, config = self.ticket, self.app.now(), self.app.tz, self.app.store.config
        status = status_of(t.status)
        colours = self.app.theme_variables
        head = Content.assemble(
            (t.case_number, "bold"),
            f"  {t.kind}  ",
            (f" {status.label} ", status_style(colours, status, on="primary-background") + " reverse"),
            "  ",
            (t.priority, priority_style(colours, t.priority, on="primary-background") or "bold"),
            "  ",
            clip(printable(t.subject, one_line=True), SUBJECT_SHOWN),
        )
        if self.closed:
            head = head + Content.styled("  (read-only: Closed is final)", "italic $text-muted")
        if self.view.draft:
            head = head + Content.styled("  · draft waiting (l)", "bold $warning")
        self.query_one("#head", Static).update(head)

        def row(label: str, value: str | None) -> Content:
            return Content.assemble((f"{label:<10}", "$text-muted"), printable(value or "—", one_line=True))

        fields = [
            row("Customer", t.customer),
            row("Email", t.email),
            row("Order", t.order_id),
            row("Reason", t.reason),
            row("Agent", t.assignee or "unassigned"),
            row("Tags", " ".join(self.view.tags)),
        ]
        if t.references:
            fields.append(row("Follows", t.references))
        if self.view.follow_ups:
            fields.append(row("Follow-up", ", ".join(self.view.follow_ups)))
        self.query_one("#fields", Static).update(Content("\n").join(fields))
        refunds = self.query_one("#refunds", Static)
        refunds.update(Content("\n").join(Content(refund_timeline(r, tz)) for r in self.view.refunds))
        refunds.display = bool(self.view.refunds)

        due = next_due(t, config)
        dates = [
            row("Opened", format_when(t.opened_at, tz)),
            row("1st resp", format_when(t.first_response_at, tz)),
            row("Last act", format_when(t.last_action_at, tz)),
            row("Follow-up", format_when(t.follow_up_at, tz)),
            row("SLA due", format_when(t.sla_resolution_due_at, tz)),
        ]
        if t.resolved_at:
            dates.append(row("Resolved", format_when(t.resolved_at, tz)))
        if t.closed_at:
            dates.append(row("Closed", format_when(t.closed_at, tz)))
        dates.append(row("Timer", timer_text(t, config, now)))
        if due is not None and due.at < now:
            late = late_style(colours, on="background")
            dates.append(Content.assemble(("Overdue   ", "$text-muted"), (due.text(now), late)))
        self.query_one("#dates", Static).update(Content("\n").join(dates))

    def related_cases(self) -> list[tuple[str, str]]:
        """The cases this one follows and that follow it: the palette's "go to case" offers them first."""
        if self.ticket is None:
            return []
        found = [("follows", self.ticket.references)] if self.ticket.references else []
        return found + [("follow-up", case) for case in self.view.follow_ups]

    # -- actions ----------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action == "log" and self.ticket is None and not self.app.store.read_only:
            return True  # `l` typed before the ticket is read: the form reads it (and refuses a Closed one)
        if action in ("log", "reply", "status", "assign_me", "assign", "tags", "escalate", "undo", "edit", "refund"):
            if self.app.store.read_only:
                return True  # it says "read-only: ..." (screens/read_only.py)
            if self.ticket is None:
                return False
            if self.closed:
                return False
            if action == "refund" and self.ticket.kind != "refund":
                return False
            if action == "escalate" and self.ticket.status == Status.L2.slug:
                return False
        if action == "attachments" and not (self.view and any(e.attachments for e in self.view.entries)):
            return False
        return True

    def action_back(self) -> None:
        self.dismiss()

    def action_jump(self) -> None:
        from tui_desk.tui.screens.jump import ask_and_jump

        ask_and_jump(self.app)

    def action_copy(self) -> None:
        from tui_desk.tui.screens.copying import copy_text

        copy_text(self.app, "case number", self.case_number)

    def action_copy_menu(self) -> None:
        from tui_desk.tui.screens.copying import copy_menu

        copy_menu(self.app, self.case_number)

    @refuse_if_read_only
    def action_log(self) -> None:
        self.app.open_log_entry(self.case_number)

    @refuse_if_read_only
    def action_reply(self) -> None:
        self.app.open_reply(self.case_number)

    def _run(self, operation, done: str) -> None:
        """Run a write on the ticket as the screen shows it: ``operation(seen)`` gets the snapshot to guard with.

        If the ticket moved on meanwhile (another agent, the timers), nothing is written: the screen
        says what changed and shows the ticket as it is now, for the agent to decide again.
        """
        seen = TicketSnapshot.of(self.ticket)

        def finished(_) -> None:
            self.app.notify(f"{self.case_number}: {done}", markup=False)
            self.app.announce_change()

        def failed(err: Exception) -> None:
            self.app.warn(err)
            if isinstance(err, TicketChanged):
                self.load()

        self.app.run_db(lambda: operation(seen), on_done=finished, on_error=failed, group="detail-action")

    def _confirm_colleagues(self, what: str, then) -> None:
        """Taking or escalating a colleague's ticket asks first."""
        owner = self.ticket.assignee
        if owner is None or owner == self.app.agent:
            then()
            return
        from tui_desk.tui.screens.dialogs import ChoiceDialog

        def chosen(answer: str | None) -> None:
            if answer == "yes":
                then()

        lines = [f"{self.case_number} is assigned to {owner}."]
        choices = [("yes", f"{what} anyway"), ("no", "Leave it to " + owner)]
        self.app.push_screen(ChoiceDialog(f"{what} {owner}'s ticket?", lines, choices), chosen)

    @refuse_if_read_only
    def action_status(self) -> None:
        from tui_desk.tui.screens.dialogs import StatusDialog

        def chosen(result) -> None:
            if result is not None:
                status, note = result
                self._run(
                    lambda seen: self.app.store.change_status(self.case_number, status, note or None, expected=seen),
                    f"now {status.label}",
                )

        self.app.push_screen(self.app.form(StatusDialog).ask([self.case_number], status_of(self.ticket.status)), chosen)

    @refuse_if_read_only
    def action_escalate(self) -> None:
        def escalate() -> None:
            self._run(
                lambda seen: self.app.store.change_status(
                    self.case_number, Status.L2, "Escalated to L2", expected=seen
                ),
                "escalated to L2",
            )

        self._confirm_colleagues("Escalate", escalate)

    @refuse_if_read_only
    def action_assign_me(self) -> None:
        me = self.app.agent

        def take() -> None:
            self._run(lambda seen: self.app.store.assign(self.case_number, me, expected=seen), f"assigned to {me}")

        self._confirm_colleagues("Take", take)

    @refuse_if_read_only
    def action_assign(self) -> None:
        from tui_desk.tui.screens.dialogs import ask_for_agent

        def chosen(name: str | None) -> None:
            if name is not None:
                who = name.strip() or None
                self._run(
                    lambda seen: self.app.store.assign(self.case_number, who, expected=seen),
                    f"assigned to {who or 'nobody'}",
                )

        ask_for_agent(self.app, f"Assign {self.case_number} to", self.ticket.assignee or "", chosen)

    @refuse_if_read_only
    def action_edit(self) -> None:
        from tui_desk.tui.screens.forms.edit_ticket import EditTicketDialog

        def chosen(changes: dict | None) -> None:
            if changes:
                self._run(lambda seen: self.app.store.edit_ticket(self.case_number, expected=seen, **changes), "edited")

        self.app.push_screen(EditTicketDialog(self.ticket, list(self.app.store.config.kinds)), chosen)

    @refuse_if_read_only
    def action_refund(self) -> None:
        from tui_desk.tui.screens.forms.refund import open_refund_form

        open_refund_form(self.app, self.case_number, TicketSnapshot.of(self.ticket))

    @refuse_if_read_only
    def action_undo(self) -> None:
        def undone(entry) -> None:
            self.app.notify(f"{self.case_number}: {entry.summary}", markup=False)
            self.app.announce_change()

        seen = TicketSnapshot.of(self.ticket)
        self.app.run_db(
            lambda: self.app.store.undo(self.case_number, expected=seen), on_done=undone, group="detail-action"
        )

    @refuse_if_read_only
    def action_tags(self) -> None:
        from tui_desk.tui.screens.dialogs import PromptDialog, check_tags_text, parse_tag_changes

        def chosen(text: str | None) -> None:
            if not text:
                return
            try:
                add, remove = parse_tag_changes(text)
            except DeskError as err:
                self.app.warn(err)
                return
            self._run(lambda seen: self.app.store.tag(self.case_number, add, remove, expected=seen), "tags changed")

        current = " ".join(self.view.tags)
        self.app.push_screen(
            self.app.form(PromptDialog).ask(
                f"Tags for {self.case_number} (now: {current or 'none'})",
                "+tag to add, -tag to remove",
                check=check_tags_text,
            ),
            chosen,
        )

    def action_attachments(self) -> None:
        from tui_desk.tui.screens.dialogs import ChoiceDialog

        files = [(e.seq, name, size, sha) for e in self.view.entries for name, size, sha in e.attachments]
        choices = [(str(i), f"#{seq} {name} ({human_size(size)})") for i, (seq, name, size, _) in enumerate(files)]

        def chosen(value: str | None) -> None:
            if value is not None:
                _seq, name, _size, sha = files[int(value)]
                self.open_file(name, self.app.store.blobs.path_of(sha))

        self.app.push_screen(ChoiceDialog(f"Attachments of {self.case_number}", [], choices), chosen)

    def open_file(self, name: str, path) -> None:
        """Hand the stored copy to the system opener if there is one; always say where it is."""
        opener = shutil.which("xdg-open") or shutil.which("open")
        if opener and path.exists():
            try:
                subprocess.Popen(
                    [opener, str(path)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
                )
                self.app.notify(f"Opening {printable(name)}: {path}", markup=False)
                return
            except OSError:
                pass
        self.app.notify(f"{printable(name)} is stored at {path}", markup=False, timeout=15)
