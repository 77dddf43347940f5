"""The console app: screens, database work off the UI thread, live refresh, timers, the command palette.

How its parts fit together:

- The top-level screens are the rows of ``SCREENS``: each is reachable by name (``app.open_screen(name)``,
  ``DeskApp(store, start_screen=name)``) and from the palette as "Open: <title>". A screen's own actions
  reach the palette by themselves: every binding with a description that ``check_action`` allows is
  offered (so the palette never lies).
- Screens ask the app only what ``tui/context.py`` names, and never import this module.
- Database work: ``app.run_db(fn, *args, on_done=..., on_error=...)`` runs ``fn`` in a thread worker
  (Peewee connections are per thread; the Store opens and closes one around each operation) and
  calls ``on_done(result)`` back on the UI thread. A ``DeskError`` or database failure becomes a
  warning notification (or ``on_error(err)``); it never crashes or freezes the console.
- Live refresh: when anyone commits to the store, every screen in the stack receives a
  ``StoreChanged`` message; a screen shows fresh data in ``on_store_changed``.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from textual import events
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Input, TextArea
from textual.worker import Worker, get_current_worker

from tui_desk.domain.clock import Clock, to_utc
from tui_desk.domain.errors import DeskError
from tui_desk.domain.text import printable
from tui_desk.store import Store
from tui_desk.store.news import News, news_for
from tui_desk.store.sweep import seconds_until_next_sweep, sweep_timers
from tui_desk.tui.commands import GoToCase
from tui_desk.tui.context import StoreChanged
from tui_desk.tui.keys import keymap
from tui_desk.tui.screens.queue import QueueScreen
from tui_desk.tui.screens.queue_loader import FirstPage
from tui_desk.tui.screens.supervisor import OverdueScreen, ReportsScreen, WorkloadScreen
from tui_desk.tui.state import load_state, save_state
from tui_desk.tui.typeahead import MOVES, TypeAhead, TypeAheadFence, give

POLL_INTERVAL_S = 1.0  # changes by others show within 2 s: poll every second
NEWS_EVERY_S = 60.0  # look for my newly overdue tickets at least this often (time makes tickets late)
NEWS_SHOWN = 3  # toasts at once; the rest are counted in one more
AFTER_FIRST_PAINT_S = 1.0  # work that need not delay the first screen (the sweep)

_log = logging.getLogger("tui_desk.console")  # worker failures, for --log (cli/errorlog.py)


@dataclass(frozen=True)
class ScreenEntry:
    screen: type[Screen]
    title: str


SCREENS: dict[str, ScreenEntry] = {
    "queue": ScreenEntry(QueueScreen, "Queue"),
    "overdue": ScreenEntry(OverdueScreen, "Overdue panel"),
    "workload": ScreenEntry(WorkloadScreen, "Workload per agent"),
    "reports": ScreenEntry(ReportsScreen, "Reports"),
}


class DeskApp(App[int]):
    """The tui-desk console on one store."""

    CSS_PATH = "app.tcss"
    TITLE = "tui-desk"
    ENABLE_COMMAND_PALETTE = True
    COMMANDS = App.COMMANDS | {GoToCase}
    BINDINGS = [
        Binding("question_mark,f1", "help", "Help", id="app.help"),
    ]

    def __init__(
        self,
        store: Store,
        *,
        clock: Clock | None = None,
        start_screen: str = "queue",
        timers: bool = True,
        live: bool = True,
        poll_interval: float = POLL_INTERVAL_S,
    ) -> None:
        super().__init__(driver_class=_driver_class())
        self.store = store
        self.clock = clock or store.clock
        self.start_screen = start_screen
        self.timers_enabled = timers and not store.read_only
        self.live = live
        self.poll_interval = poll_interval
        self._watch = store.change_watch()
        self._hung_up = False  # the terminal went away: workers' statements stop (see run_db)
        self._detail_screen = None  # built on first use, then reused (see open_ticket)
        self._typeahead = TypeAhead(self)
        self._forms: dict[type[Screen], Screen] = {}
        self._news: News | None = None  # what the agent was last told of (tui_desk/store/news.py)
        self._news_asked = False
        # The queue's first page is read while Textual starts up; the queue takes it on its first load.
        self.first_queue_page: FirstPage | None = None
        if start_screen == "queue":
            self.first_queue_page = FirstPage(store, self.agent, self.now(), self.tz)
        self.set_keymap(keymap(store.config))  # [keys] of config.toml; a bad id or key is refused here
        saved_theme = load_state().get("theme")
        if isinstance(saved_theme, str) and saved_theme in self.available_themes:
            self.theme = saved_theme

    # -- time and identity ----------------------------------------------------------------

    def now(self) -> datetime:
        return to_utc(self.clock.now())

    @property
    def agent(self) -> str:
        return self.store.agent

    @property
    def tz(self):
        return self.store.config.tz

    # -- lifecycle ------------------------------------------------------------------------

    def on_mount(self) -> None:
        self.watch(self, "theme", self._remember_theme, init=False)
        self.screen_change_signal.subscribe(self, self._typeahead.screen_changed, immediate=True)
        self.open_screen(self.start_screen)
        if self.live:
            self._poll()
        if self.timers_enabled:
            self.set_timer(AFTER_FIRST_PAINT_S, self._sweep)
            if self.store.config.mail is not None:
                self.set_timer(AFTER_FIRST_PAINT_S, self._deliver)
                if self.store.config.mail.imap is not None:
                    self.set_timer(AFTER_FIRST_PAINT_S * 2, self._fetch)
        self.set_timer(AFTER_FIRST_PAINT_S / 2, self._build_forms)
        if self.store.config.console.notify:
            self.set_timer(AFTER_FIRST_PAINT_S, self._check_news)
            self.set_interval(NEWS_EVERY_S, self._check_news)

    def on_terminal_gone(self, _message) -> None:
        """The terminal went away (SIGHUP, or end-of-file or EIO on it; see ``tui/terminal.py``):
        keep every half-typed entry, then leave as a hung-up process does (129 = 128 + SIGHUP)."""
        self._hung_up = True
        for screen in self.screen_stack:
            flush = getattr(screen, "flush_draft", None)
            if flush is not None:
                try:
                    flush()
                except Exception:  # noqa: BLE001 - leaving anyway; the last autosave is in the store
                    pass
        self.exit(return_code=128 + 1)

    async def on_event(self, event: events.Event) -> None:
        # A key arriving while a screen opens waits for it, in order (tui/typeahead.py).
        # A Tab is held too, though the forms bind it with priority: it moves focus in its place (MOVES).
        # Any other key a focused text field does not take itself (Backspace, Escape, Ctrl+S) runs its bindings
        # in the field's line, after the letters typed before it (typeahead.give).
        key = event.key if isinstance(event, events.Key) and not event.is_forwarded else None
        if key is not None:
            if (key in MOVES or not self._is_priority(key)) and self._typeahead.hold(event):
                return
            if key not in MOVES and self.focused is not None and give(self.focused, event):
                return
        await super().on_event(event)

    def _is_priority(self, key: str) -> bool:
        # Textual's private binding chain, read on every key: the public ``Screen.active_bindings`` asks every
        # binding's ``check_action`` (5 ms a key on the queue). Safe while Textual is pinned exactly (pyproject);
        # tests/console/test_forms_typing.py fails if a Textual upgrade changes what this reads.
        return any(
            b.priority for _, bindings in self.screen._binding_chain for b in bindings.key_to_bindings.get(key, ())
        )

    def action_focus_next(self) -> None:
        if not self._typeahead.active:  # a Tab typed ahead moves focus in its place (tui/typeahead.py)
            super().action_focus_next()

    def action_focus_previous(self) -> None:
        if not self._typeahead.active:
            super().action_focus_previous()

    def on_type_ahead_fence(self, fence: TypeAheadFence) -> None:
        self._typeahead.fence_arrived(fence)

    def on_key(self, event: events.Key) -> None:
        """Keys typed faster than focus moves (`/` then a word, `l` then a summary) were sent to the widget
        focus left, and come here unused: they belong in the text box focus went to, in order."""
        if self._typeahead.came_back(event):
            event.stop()
            return
        focused = self.focused
        if not (event.is_printable and event.character):
            return
        if isinstance(focused, Input):
            focused.insert_text_at_cursor(event.character)
            event.stop()
        elif isinstance(focused, TextArea) and not focused.read_only:
            focused.insert(event.character)
            event.stop()

    def on_unmount(self) -> None:
        self._watch.close()

    def _remember_theme(self, theme: str) -> None:
        save_state({"theme": theme})

    def open_screen(self, name: str) -> None:
        entry = SCREENS.get(name)
        if entry is None:
            raise DeskError(f"no console screen {name!r} (one of: {', '.join(SCREENS)})")
        if isinstance(self.screen, entry.screen):
            return  # already there
        self.push_screen(entry.screen())

    def open_ticket(self, case_number: str) -> None:
        from tui_desk.tui.screens.detail import DetailScreen

        # One detail screen is built once and reused: building a screen's widgets and styles costs more
        # than reading a 1,000-entry log. A second one is made only when it is already on the stack.
        screen = self._detail_screen
        if screen is None or screen in self.screen_stack:
            screen = DetailScreen(case_number)
            if self._detail_screen is None:
                self._detail_screen = screen
                self.install_screen(screen, name="detail")
        else:
            screen.show_case(case_number)
        self.push_screen(screen)

    def open_log_entry(self, case_number: str) -> None:
        from tui_desk.tui.screens.forms.log_entry import LogEntryScreen

        screen = self.form(LogEntryScreen)
        screen.open_case(case_number)
        self.push_screen(screen)

    def open_reply(self, case_number: str) -> None:
        from tui_desk.tui.screens.forms.reply import ReplyScreen

        self.push_screen(ReplyScreen(case_number))

    def form(self, kind: type[Screen]) -> Screen:
        """The one built form of this kind, emptied by its opener (a second one only while it is in use).

        Building a form's widgets and styles takes longer than the agent waits to type (0.3-1 s on a
        shared machine), so each is built once, at idle time (``_build_forms``), and reused.
        """
        screen = self._forms.get(kind)
        if screen is None:
            screen = self._forms[kind] = kind()
            self.install_screen(screen, name=f"form-{kind.__name__}")
        elif screen in self.screen_stack:
            return kind()
        return screen

    def clear_selection(self) -> None:
        """Textual's text fields call this whenever their cursor moves, on any screen: a form built off screen
        (``_build_forms``) or made ready there would drop the text an agent is selecting with the mouse on the
        screen in view. Only the field the agent is in (focused, so on the screen in view) clears it."""
        if isinstance(self.focused, (Input, TextArea)):
            super().clear_selection()

    def open_new_ticket(self) -> None:
        from tui_desk.tui.screens.forms.new_ticket import NewTicketScreen

        screen = self.form(NewTicketScreen)
        screen.open_form()
        self.push_screen(screen)

    def _build_forms(self) -> None:
        from tui_desk.tui.screens.dialogs import PromptDialog, StatusDialog
        from tui_desk.tui.screens.forms.log_entry import LogEntryScreen
        from tui_desk.tui.screens.forms.new_ticket import NewTicketScreen

        for kind in (LogEntryScreen, NewTicketScreen, StatusDialog, PromptDialog):
            if kind not in self._forms and self.is_running:
                screen = self.form(kind)
                self._load_screen_css(screen)
                _screen, mounted = self._get_screen(screen)  # what push_screen does first: compose and mount it
                self.run_worker(_styled_once_mounted(screen, mounted), group="build-forms")

    # -- database work off the UI thread --------------------------------------------------

    def run_db(
        self,
        fn: Callable[..., Any],
        *args: Any,
        on_done: Callable[[Any], Any] | None = None,
        on_error: Callable[[Exception], Any] | None = None,
        group: str = "db",
        exclusive: bool = False,
        quiet: bool = False,
    ) -> Worker:
        """Run ``fn(*args)`` in a thread; ``on_done(result)`` or ``on_error(err)`` run on the UI thread.

        Without ``on_error`` a failure is shown as a warning (unless ``quiet``). ``exclusive`` cancels
        the group's earlier workers' callbacks, so a stale search result never replaces a newer one.
        """

        def body() -> None:
            try:
                self._stop_on_hang_up()
                result = fn(*args)
            except Exception as err:  # noqa: BLE001 - shown to the user, never crashes the console
                if not get_current_worker().is_cancelled:  # a superseded query stopped on purpose
                    _log.log(
                        logging.INFO if isinstance(err, DeskError) else logging.ERROR,
                        "worker %s failed: %s",
                        getattr(fn, "__qualname__", fn),
                        err,
                        exc_info=err,
                    )
                    self._call_back(self._failed, err, on_error, quiet)
                return
            if get_current_worker().is_cancelled:
                return
            if on_done is not None:
                self._call_back(on_done, result)

        return self.run_worker(body, group=group, exclusive=exclusive, thread=True, exit_on_error=False)

    def _stop_on_hang_up(self) -> None:
        """Let SQLite stop this worker's statement once the terminal is gone: the process waits for its
        workers before it ends, and a read of the overdue panel on a big store takes seconds. A write it
        stops rolls back whole (a log entry's draft goes in the same transaction, so it stays)."""
        self.store.interrupt_when(self._hung_up_check)

    def _hung_up_check(self) -> int:
        return 1 if self._hung_up else 0

    def call_from_worker(self, callback: Callable, *args: Any) -> None:
        """From inside a ``run_db`` function: show a partial result now, unless a newer run superseded it."""
        if not get_current_worker().is_cancelled:
            self._call_back(callback, *args)

    def _call_back(self, callback: Callable, *args: Any) -> None:
        try:
            self.call_from_thread(callback, *args)
        except RuntimeError:
            pass  # the app is closing

    def _failed(self, err: Exception, on_error: Callable | None, quiet: bool) -> None:
        if on_error is not None:
            on_error(err)
        elif not quiet:
            self.warn(err)

    def warn(self, err: Exception | str) -> None:
        message = str(err) if isinstance(err, DeskError | str) else f"{type(err).__name__}: {err}"
        self.notify(message, severity="warning", markup=False, timeout=6)

    def announce_change(self) -> None:
        """Tell every screen in the stack that the store changed (after our own writes, the poll, the sweep)."""
        for screen in self.screen_stack:
            screen.post_message(StoreChanged())
        if self.store.config.console.notify and self._news is not None:
            self._check_news()

    # -- telling the agent: a party answered one of my tickets, one became overdue ----------

    def _check_news(self) -> None:
        if self._news_asked:
            return  # one question at a time; the next change asks again
        self._news_asked = True

        def finished(_err: Exception | None = None) -> None:
            self._news_asked = False

        def told(news: News) -> None:
            finished()
            self._tell(news)

        self.run_db(news_for, self.store, self.agent, self.now(), self._news, on_done=told, on_error=finished)

    def _tell(self, news: News) -> None:
        first, self._news = self._news is None, news
        if first:
            return  # the baseline: what was there when the console opened is on screen already
        toasts = [
            (
                f"{a.case_number}: {a.sender}{' ' + a.sender_name if a.sender_name else ''} answered: {a.summary}",
                "Answer",
                "information",
            )
            for a in news.answers
        ]
        toasts += [(f"{case} is overdue", "Overdue", "warning") for case in news.newly_overdue]
        for text, title, severity in toasts[:NEWS_SHOWN]:
            self.notify(printable(text, one_line=True), title=title, severity=severity, markup=False, timeout=10)
        if len(toasts) > NEWS_SHOWN:
            self.notify(f"and {len(toasts) - NEWS_SHOWN} more on your tickets", markup=False, timeout=10)
        if toasts and self.store.config.console.bell:
            self.bell()  # once, however many

    # -- live refresh ---------------------------------------------------------------------

    def _poll(self) -> None:
        def done(changed: bool) -> None:
            if changed:
                self.announce_change()
            self._rearm_poll()

        def failed(_err: Exception) -> None:
            self._watch.close()  # a watch's connection that failed (a server restarted) is made again
            self._rearm_poll(failed=True)

        self.run_db(self._watch.changed, on_done=done, on_error=failed, group="poll")

    def _rearm_poll(self, *, failed: bool = False) -> None:
        # Armed only after the previous poll finished, so polls never pile up on a slow store. A watch
        # that waits for the server's notification itself (PostgreSQL's LISTEN) is asked again at once,
        # unless it failed: then after the interval, like a poll.
        if self.is_running:
            blocks = getattr(self._watch, "blocks", False) and not failed
            self.set_timer(0.01 if blocks else self.poll_interval, self._poll)

    # -- timers ---------------------------------------------------------------------------

    def _sweep(self) -> None:
        self.run_db(self._sweep_body, on_done=self._after_sweep, on_error=self._sweep_failed, group="timers")

    def _sweep_body(self) -> tuple[str, float]:
        """Apply what fell due; return what happened (empty: nothing) and how long until the next look."""
        ceiling = float(self.store.config.sweep_interval_s)
        summary = sweep_timers(self.store).summary()
        return summary, max(seconds_until_next_sweep(self.store, ceiling), 1.0)

    def _after_sweep(self, outcome: tuple[str, float]) -> None:
        summary, interval = outcome
        if summary:
            self.notify(summary, title="Timers", markup=False)
            self.announce_change()
        if self.is_running:
            self.set_timer(interval, self._sweep)

    def _sweep_failed(self, err: Exception) -> None:
        self.warn(f"timer sweep: {err}")
        if self.is_running:
            self.set_timer(float(self.store.config.sweep_interval_s), self._sweep)

    # -- mail -----------------------------------------------------------------------------

    def _deliver(self) -> None:
        """Send the outbox's due messages (mail/deliver.py) in a worker; re-armed when it is done."""
        from tui_desk.mail.deliver import deliver_due

        mail = self.store.config.mail
        self.run_db(
            deliver_due, self.store, mail, on_done=self._after_delivery, on_error=self._delivery_failed, group="mail"
        )

    def _after_delivery(self, run) -> None:
        if run.sent or run.failed or run.retrying:
            if run.failed:
                self.notify(f"Mail: {run.summary()}", severity="warning", markup=False)
            self.announce_change()
        self._rearm_delivery()

    def _delivery_failed(self, err: Exception) -> None:
        self.warn(f"mail delivery: {err}")
        self._rearm_delivery(later=True)

    def _rearm_delivery(self, *, later: bool = False) -> None:
        if self.is_running:
            interval = self.store.config.mail.deliver_interval_s
            self.set_timer(interval * (12 if later else 1), self._deliver)  # a broken config: not every 5 s

    def _fetch(self) -> None:
        """Take the IMAP mailbox's new mail (mail/fetch.py) in a worker, every ``[mail.imap] interval_seconds``."""
        from tui_desk.mail.fetch import fetch_imap

        def done(results: list[dict]) -> None:
            taken = [r for r in results if r["outcome"] != "error"]
            if taken:
                self.notify(f"Mail: {len(taken)} message(s) taken in", markup=False)
                self.announce_change()
            if len(taken) < len(results):
                self.warn(f"mail intake: {len(results) - len(taken)} message(s) not taken; see tui-desk fetch")
            self._rearm_fetch()

        def failed(err: Exception) -> None:
            self.warn(f"mail fetch: {err}")
            self._rearm_fetch()

        self.run_db(fetch_imap, self.store, self.store.config.mail.imap, on_done=done, on_error=failed, group="fetch")

    def _rearm_fetch(self) -> None:
        if self.is_running:
            self.set_timer(self.store.config.mail.imap.interval_s, self._fetch)

    # -- help and the palette -------------------------------------------------------------

    def action_help(self) -> None:
        from tui_desk.tui.screens.dialogs import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.screen))

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from screen_commands(screen)
        for name, entry in SCREENS.items():
            yield SystemCommand(f"Open: {entry.title}", f"Go to the {entry.title} screen", _opener(self, name))
        yield from super().get_system_commands(screen)


async def _styled_once_mounted(screen: Screen, mounted) -> None:
    """A form built ahead is styled as its widgets mount: its first showing need not restyle it all."""
    await mounted
    screen.styled()


def _opener(app: DeskApp, name: str) -> Callable[[], None]:
    return lambda: app.open_screen(name)


def screen_commands(screen: Screen) -> Iterable[SystemCommand]:
    """Every described binding of the screen that is allowed right now, and the screen's own extras."""
    seen: set[str] = set()
    extra = getattr(screen, "palette_commands", None)
    if extra is not None:
        yield from extra()
    skip = getattr(screen, "PALETTE_SKIP", ())
    # The screen's own actions only (its widgets' move the cursor), with the keys in force (the keymap
    # applied); ``active_bindings`` already leaves out what ``check_action`` refuses.
    for active in screen.active_bindings.values():
        b = active.binding
        if active.node is not screen or not b.description or b.action in seen or not b.id:
            continue
        if b.action.startswith(skip):
            continue
        seen.add(b.action)
        help = f"{b.tooltip or b.description} · key: {screen.app.get_key_display(b)}"
        yield SystemCommand(b.description, help, _runner(screen, b.action))


def _runner(screen: Screen, action: str) -> Callable[[], Any]:
    return lambda: screen.run_action(action)


def _driver_class():
    """Our Linux driver, which ends when its terminal vanishes; Textual's own elsewhere."""
    if sys.platform == "win32":
        return None
    from tui_desk.tui.terminal import DeskDriver

    return DeskDriver


def run_console(ctx, **options) -> int:
    """Open the console on ``ctx.store()`` until the agent quits or its terminal goes; the CLI calls this."""
    store = ctx.store()
    try:
        app = DeskApp(store, clock=ctx.clock, **options)
        app.run()
    finally:
        store.close()
    return app.return_code or 0
