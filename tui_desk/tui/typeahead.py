"""Keys typed while a screen opens reach it in the order typed.

A key arrives at the app, which forwards it to the focused widget; a key that widget does not use
bubbles back up, one message queue at a time. `l` is such a key: the log form opens only when it has
bubbled back to the app. Keys typed right after it were forwarded to the queue's table meanwhile and
are still on their way back, while keys typed a moment later go straight to the form's field: two
routes of different lengths, and the words come out shuffled ("says Customer the belt").

So when a screen opens, the keys that arrive are held, in order, until (1) a fence posted behind the
keys already on the long route has come back to the app (so every one of them has arrived: each
queue is first in, first out) and (2) the new screen has a mounted, focused widget. Then they are
given to that widget in order, and the keys after them follow the same route to it.

The same two routes inside one text field: a letter is taken by the field at once, but an editing key
(Backspace, Ctrl+U, the arrows) is a binding, and Textual runs bindings only once the key has bubbled
back up to the app, after the letters typed behind it ("abcd⌫xy" came out "abcdx" when the keys arrived
in one read); and a binding with priority (Ctrl+S, Ctrl+Q) runs at the app's door at once, before the
letters typed ahead of it are in the field (a summary and Ctrl+S in one read was refused as blank, and
could have been saved cut short). So a key a text field does not take itself is queued in the field's
line instead, and its bindings run there, in the order typed (``give``): an editing key of the field,
the form's Ctrl+S, a screen's key such as Escape (a key typed after it goes where the focus went then).
Tab stays at the door (``MOVES``): the letters typed after it belong in the next field.
"""

from __future__ import annotations

import time

from textual import events
from textual.message import Message
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Input, TextArea

CHECK_S = 0.005  # how often a hold looks whether the screen can take its keys
GIVE_UP_S = 2.0  # a screen that never focuses anything gets its keys anyway, in order
# Keys that move focus. A Tab typed ahead also reaches the screen it was typed on, whose binding would
# move the new form's focus before the words typed ahead of it arrive: while holding, the app ignores
# that move (``DeskApp.action_focus_next``) and the Tab, held in its place, moves focus when released.
MOVES = {"tab": "focus_next", "shift+tab": "focus_previous"}


def deliver(screen: Screen, keys: list[events.Key], target: Widget | None = None) -> None:
    """Give ``keys`` to the screen's focused widget (or ``target``) in order, as the app forwards a key; a Tab
    moves focus in its place, so the words after it go to the next field. Also used by a question that holds
    what is typed while it is up (``dialogs.DraftQuestion``)."""
    target = target or screen.focused or screen
    for key in keys:
        if key.key in MOVES:
            getattr(screen, MOVES[key.key])()
            target = screen.focused or target
            continue
        if not give(target, key):
            target._forward_event(key)  # marked as forwarded, so the app does not take it in twice


def give(field: Widget, key: events.Key) -> bool:
    """If the text field ``field`` does not take ``key`` itself (an editing key such as Backspace, Ctrl+U or
    an arrow, or a key of the screen such as Escape), queue it in the field's line: there, behind the keys
    already given to the field and ahead of the ones after, the bindings run as they would once the key
    had bubbled back to the app. True if so; False, and the key goes the usual way."""
    if not isinstance(field, Input | TextArea) or takes_itself(field, key):
        return False
    field.call_later(_in_place, field, key)
    return True


def takes_itself(field: Input | TextArea, key: events.Key) -> bool:
    """The field uses the key in its own key handler (a letter; Enter in a text area), not by a binding."""
    if field.check_consume_key(key.key, key.character):
        return True
    return isinstance(field, TextArea) and not field.read_only and key.key == "enter"


async def _in_place(field: Widget, key: events.Key) -> None:
    app = field.app
    if not app.is_running or not app.screen_stack:
        return
    # The bindings from the focus now: with priority first, as at the app's door, then as for a key come back.
    if await app._check_bindings(key.key, priority=True) or await app._check_bindings(key.key):
        return
    if field.is_mounted:
        field._forward_event(key)  # bound nowhere: the usual way, up from the field


class TypeAheadFence(Message):
    """Posted behind the keys still bubbling back from the screen that was left; bubbles to the app."""

    def __init__(self, generation: int) -> None:
        super().__init__()
        self.generation = generation


class TypeAhead:
    """The app's hold on keys while a screen opens (see the module's docstring)."""

    def __init__(self, app) -> None:
        self.app = app
        self.held: list[events.Key] = []
        self.early = 0  # held[:early] came back on the long route: typed before every other held key
        self.holding = False
        self.fenced = False
        self.generation = 0
        self.since = 0.0
        self._timer = None
        self._depth = 0

    def screen_changed(self, _screen: Screen) -> None:
        """A screen was pushed (the stack grew): hold keys until it can take them, behind the ones still
        on their way to the app from the screen under it."""
        stack = self.app.screen_stack
        grew, self._depth = len(stack) > self._depth, len(stack)
        if not grew or len(stack) < 2:
            return
        under = stack[-2]
        self.generation += 1
        self.holding, self.fenced, self.since = True, False, time.monotonic()
        (under.focused or under).post_message(TypeAheadFence(self.generation))
        self._arm()

    def fence_arrived(self, fence: TypeAheadFence) -> None:
        if fence.generation == self.generation:
            self.fenced = True
            self.release()

    def hold(self, event: events.Key) -> bool:
        """At the app's door: keep this key back (True) while a screen is opening or keys wait."""
        if not (self.holding or self.held):
            return False
        self.held.append(events.Key(event.key, event.character))
        self.release()
        return True

    def came_back(self, event: events.Key) -> bool:
        """A key no widget used came back to the app: while holding, it goes before the keys held at the
        door (it was forwarded before the hold began)."""
        if not (self.holding or self.held):
            return False
        self.held.insert(self.early, events.Key(event.key, event.character))
        self.early += 1
        return True

    @property
    def active(self) -> bool:
        """Keys are being held: a focus move now would run ahead of the keys typed before it."""
        return self.holding or bool(self.held)

    def release(self) -> None:
        target = self._target()
        if target is None:
            return
        keys, self.held, self.early, self.holding = self.held, [], 0, False
        deliver(self.app.screen, keys, target)

    def _target(self) -> Widget | None:
        if not self.app.screen_stack:
            return None  # the app is closing
        screen = self.app.screen
        late = time.monotonic() - self.since > GIVE_UP_S
        if not (self.fenced or late) or not screen.is_mounted:
            return None
        focused = screen.focused
        # A form says when it is ready (its first field focused); other screens are once anything is.
        ready = getattr(screen, "takes_typing", None)
        if focused is not None and focused.is_mounted and (ready is None or ready()):
            return focused
        return (focused or screen) if late else None

    def _arm(self) -> None:
        if self._timer is None:
            self._timer = self.app.set_interval(CHECK_S, self._tick)

    def _tick(self) -> None:
        if not self.app.screen_stack:
            self.holding, self.held = False, []  # the app is closing: nothing left to give the keys to
        if self.holding or self.held:
            self.release()
        if not (self.holding or self.held) and self._timer is not None:
            self._timer.stop()
            self._timer = None
