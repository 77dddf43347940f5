"""Small modal dialogs: help, status change (with its note), a one-line prompt, a choice."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen, Screen
from textual.suggester import SuggestFromList
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from tui_desk.domain.errors import DeskError
from tui_desk.domain.statuses import NOTE_REQUIRED, TRANSITIONS, Status
from tui_desk.domain.text import printable
from tui_desk.domain.vocabulary import check_tag
from tui_desk.tui.screens.reuse import Reused
from tui_desk.tui.typeahead import deliver

DIALOG_CSS = """
{name} {{ align: center middle; background: $background 60%; }}
{name} > Vertical {{
    width: 64; max-width: 100%; height: auto; max-height: 100%;
    border: round $accent; background: $surface; padding: 0 1;
}}
{name} .dialog-title {{ text-style: bold; height: auto; }}
{name} .hint {{ color: $text-muted; height: auto; }}
{name} .field-error {{ color: $error; height: auto; }}
"""


def parse_tag_changes(text: str) -> tuple[list[str], list[str]]:
    """``+vip -fraud-check urgent`` -> (["vip", "urgent"], ["fraud-check"])."""
    add, remove = [], []
    for word in text.split():
        if word.startswith("-"):
            remove.append(check_tag(word[1:]))
        else:
            add.append(check_tag(word.lstrip("+")))
    return add, remove


class HelpScreen(ModalScreen[None]):
    """Every key of the screen underneath (and the app's), with what it does."""

    DEFAULT_CSS = DIALOG_CSS.format(name="HelpScreen") + "HelpScreen > Vertical { width: 70; }"
    BINDINGS = [Binding("escape,q,question_mark,f1", "dismiss", "Close", id="help.close")]

    def __init__(self, under: Screen) -> None:
        super().__init__()
        self.under = under

    def compose(self) -> ComposeResult:
        lines = [Content.styled(help_title(self.under), "bold")]
        rows = help_rows(self.app, self.under)
        for title in ("Actions", "Moving", "Everywhere"):
            if rows.get(title):
                lines += [Content(""), Content.styled(title, "bold $text-muted")]
                lines += [Content.assemble((f"{keys:>14}  ", "bold $accent"), what) for keys, what in rows[title]]
        lines += [Content(""), Content("Ctrl+P: every action, views, sorting, screens, themes and “go to case”.")]
        with Vertical():
            with VerticalScroll():
                yield Static(Content("\n").join(lines))
            yield Static("Escape closes", classes="hint")


def help_title(screen: Screen) -> str:
    """What the help says it lists: the screen's ``HELP_TITLE``, else its class name in words
    (``WorkloadScreen`` -> "Workload keys")."""
    title = getattr(screen, "HELP_TITLE", None)
    if title:
        return title
    words = re.findall(r"[A-Z][a-z0-9]*", type(screen).__name__.removesuffix("Screen")) or ["Screen"]
    return " ".join([words[0], *(w.lower() for w in words[1:])]) + " keys"


def help_rows(app, screen: Screen) -> dict[str, list[tuple[str, str]]]:
    """(keys, description) per section for the keys in force on ``screen`` (the keymap applied, as
    Textual's ``active_bindings`` reports them): the screen's "Actions", its focused widgets' "Moving",
    the app's "Everywhere". Only bindings with an id (ours, not Textual's plumbing), same action merged;
    an action the screen does not allow right now (logging on a Closed ticket) is left out."""
    rows: dict[tuple[str, int, str], list] = {}
    for active in screen.active_bindings.values():
        node, b = active.node, active.binding
        if not b.description or not b.id:
            continue
        section = "Actions" if node is screen else ("Everywhere" if node is app else "Moving")
        entry = rows.setdefault((section, id(node), b.action), [[], b.tooltip or b.description])
        shown = app.get_key_display(b)
        if shown not in entry[0]:
            entry[0].append(shown)
    out: dict[str, list[tuple[str, str]]] = {}
    for (section, _node, _action), (keys, what) in rows.items():
        out.setdefault(section, []).append((" ".join(keys), what))
    return out


class StatusDialog(Reused, ModalScreen[tuple[Status, str] | None]):
    """Pick the new status; Resolved and Closed ask for their note here.

    Built once by the app and reused (``app.form(StatusDialog).ask(cases, current)``): building a dialog's
    widgets and styles took longer than the agent waits to pick.
    """

    DEFAULT_CSS = DIALOG_CSS.format(name="StatusDialog") + "StatusDialog OptionList { height: auto; max-height: 11; }"
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="status.cancel")]
    # Focus on the choices once built, by Textual (a query in on_mount failed when the console quit while
    # the dialog was being built ahead: NoMatches 'OptionList'); ``ask`` moves it there on each showing.
    AUTO_FOCUS = "#targets"

    def __init__(self, cases: Sequence[str] = (), current: Status | None = None) -> None:
        super().__init__()
        self._set(cases, current)

    def _set(self, cases: Sequence[str], current: Status | None) -> None:
        self.cases = list(cases)
        self.current = current
        self.targets = (
            sorted(TRANSITIONS[current], key=list(Status).index)
            if current
            else [s for s in Status if s is not Status.NEW]
        )
        self.chosen: Status | None = None

    def ask(self, cases: Sequence[str], current: Status | None) -> StatusDialog:
        """Empty the dialog for these tickets; called before it is shown (again)."""
        self._set(cases, current)
        if self.is_mounted:
            self.query_one(".dialog-title", Static).update(self._title())
            options = self.query_one(OptionList)
            options.clear_options()
            options.add_options(self._options())
            options.highlighted = 0
            self.query_one("#note", Input).value = ""
            self.query_one("#error", Static).update("")
            self.set_focus(options)
        return self

    def _title(self) -> Content:
        who = self.cases[0] if len(self.cases) == 1 else f"{len(self.cases)} tickets"
        now = f" (now {self.current.label})" if self.current else ""
        return Content(f"Change the status of {who}{now}")

    def _options(self) -> list[Option]:
        return [Option(s.label, id=s.slug) for s in self.targets]

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self._title(), classes="dialog-title")
            yield OptionList(*self._options(), id="targets")
            yield Input(placeholder="note (Resolved needs a resolution note, Closed a final summary)", id="note")
            yield Static("", classes="field-error", id="error")
            yield Static("Enter picks · Tab to the note · Escape cancels", classes="hint")

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.chosen = self.targets[event.option_index]
        self._submit()

    def on_input_submitted(self, _: Input.Submitted) -> None:
        if self.chosen is None:
            highlighted = self.query_one(OptionList).highlighted
            self.chosen = self.targets[highlighted] if highlighted is not None else None
        self._submit()

    def _submit(self) -> None:
        if self.chosen is None:
            return
        note = self.query_one("#note", Input).value
        if self.chosen in NOTE_REQUIRED and not note.strip():
            self.query_one("#error", Static).update(
                Content(f"{self.chosen.label} needs {NOTE_REQUIRED[self.chosen]}: type it, then Enter")
            )
            self.query_one("#note", Input).focus()
            return
        self.dismiss((self.chosen, note.strip()))

    def action_cancel(self) -> None:
        self.dismiss(None)


class PromptDialog(Reused, ModalScreen[str | None]):
    """One line of input; Enter answers, Escape cancels. Built once and reused (``app.form(PromptDialog).ask(…)``)."""

    DEFAULT_CSS = DIALOG_CSS.format(name="PromptDialog")
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="prompt.cancel")]

    def __init__(
        self,
        title: str = "",
        placeholder: str = "",
        value: str = "",
        suggestions: Sequence[str] = (),
        check: Callable[[str], str | None] | None = None,
    ) -> None:
        super().__init__()
        self._set(title, placeholder, value, suggestions, check)

    def _set(self, title, placeholder, value, suggestions, check) -> None:
        self.title_text = title
        self.placeholder = placeholder
        self.value = value
        self.suggestions = list(suggestions)
        self.check = check  # an error message for what was typed, or None: the dialog stays open with it

    def ask(
        self,
        title: str,
        placeholder: str = "",
        value: str = "",
        suggestions: Sequence[str] = (),
        check: Callable[[str], str | None] | None = None,
    ) -> PromptDialog:
        """Empty the prompt for this question; called before it is shown (again)."""
        self._set(title, placeholder, value, suggestions, check)
        if self.is_mounted:
            self.query_one(".dialog-title", Static).update(Content(title))
            self.query_one("#error", Static).update("")
            box = self.query_one(Input)
            box.placeholder = placeholder
            box.suggester = self._suggester()
            box.value = value
            box.cursor_position = len(value)
            self.set_focus(box)
        return self

    def _suggester(self) -> SuggestFromList | None:
        return SuggestFromList(self.suggestions, case_sensitive=False) if self.suggestions else None

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Content(self.title_text), classes="dialog-title")
            yield Input(self.value, placeholder=self.placeholder, suggester=self._suggester())
            yield Static("", classes="field-error", id="error")
            yield Static("Enter confirms · Escape cancels", classes="hint")

    def suggest(self, suggestions: Sequence[str]) -> None:
        """Complete from these (read after the prompt was shown)."""
        self.suggestions = list(suggestions)
        for box in self.query(Input):
            box.suggester = SuggestFromList(self.suggestions, case_sensitive=False)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        problem = self.check(event.value) if self.check else None
        if problem:
            self.query_one("#error", Static).update(Content(problem))
            return
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        self.dismiss(None)


def ask_for_agent(app, title: str, current: str, chosen: Callable[[str | None], None]) -> None:
    """The assign prompt: shown at once; the store's agent names (read off the UI thread once it is up)
    complete what is typed, and a name nobody has yet needs a second Enter, so a typo does not become
    a new agent."""
    known: list[str] = [app.agent]
    confirmed: set[str] = set()

    def check(text: str) -> str | None:
        name = text.strip()
        if not name or name in known or name in confirmed:
            return None
        confirmed.add(name)
        return f"{name!r} has no tickets yet; Enter again to assign to this new agent"

    dialog = app.form(PromptDialog).ask(title, "agent name (blank: unassign)", current, suggestions=known, check=check)

    def names(found: list[str]) -> None:
        known[:] = found
        if dialog.title_text == title:  # still this question (the dialog is reused)
            dialog.suggest(found)

    app.push_screen(dialog, chosen)
    app.run_db(app.store.agents, on_done=names)


class ChoiceDialog(ModalScreen[str | None]):
    """A message and a few choices, each with a key; Escape answers None."""

    DEFAULT_CSS = DIALOG_CSS.format(name="ChoiceDialog") + "ChoiceDialog OptionList { height: auto; max-height: 8; }"
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="choice.cancel")]

    def __init__(self, title: str, lines: Sequence[str], choices: Sequence[tuple[str, str]]) -> None:
        super().__init__()
        self.title_text = title
        self.lines = list(lines)
        self.choices = list(choices)  # (value, label)

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Content(self.title_text), classes="dialog-title")
            if self.lines:
                yield Static(Content("\n").join(Content(f"• {line}") for line in self.lines))
            # Labels may be customer text (attachment names): never markup, controls made visible.
            yield OptionList(*[Option(Content(printable(label)), id=value) for value, label in self.choices])
            yield Static("Enter picks · Escape cancels", classes="hint")

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)


class DraftQuestion(ChoiceDialog):
    """ "You have an unsaved draft", asked over a form that already takes typing.

    It takes only its own keys (arrows, Enter, Escape, Ctrl+…). Anything else typed while it is up is held
    in order and handed to the form's focused field with the answer; the form puts a restored draft before
    what was typed (``restore``), so no key is lost or reordered. Escape answers None, "not now": the
    form closes and the draft stays as it was.
    """

    OWN_KEYS = frozenset({"up", "down", "enter", "escape", "home", "end", "pageup", "pagedown"})

    def __init__(self, form: Screen, title: str, lines: Sequence[str], choices: Sequence[tuple[str, str]]) -> None:
        super().__init__(title, lines, [*choices, ("later", "Not now (Escape): keep the draft, close the form")])
        self.form = form
        self.typed: list[events.Key] = []
        self.answered = False

    def on_key(self, event: events.Key) -> None:
        if event.key in self.OWN_KEYS or event.key.startswith("ctrl+"):
            return
        if self.answered and self.answer is None:
            return  # "not now": the form is closing
        event.stop()
        event.prevent_default()
        key = events.Key(event.key, event.character)
        if self.answered:
            deliver(self.form, [key])  # typed between the answer and the dialog going away: after the rest
        else:
            self.typed.append(key)

    def dismiss(self, result: str | None = None):
        if result == "later":
            result = None
        if not self.answered:
            self.answered, self.answer = True, result
            if result is not None:
                deliver(self.form, self.typed)
        return super().dismiss(result)


def check_tags_text(text: str) -> str | None:
    """The error message for a tags line, or None if it reads."""
    try:
        parse_tag_changes(text)
    except DeskError as err:
        return str(err)
    return None
