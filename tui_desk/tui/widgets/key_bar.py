"""The bottom line of every screen: the keys it offers now, and the palette key on the right.

A light stand-in for Textual's ``Footer``, which builds a widget per key and rebuilds them all each
time the keys change; that cost most of the time it took to open a ticket. This is one widget that
paints one line of text. It is for reading, not clicking: every key works from the keyboard.
"""

from __future__ import annotations

from textual.binding import Binding
from textual.content import Content
from textual.screen import Screen
from textual.widget import Widget

from tui_desk.tui.screens.read_only import hidden_in_key_bar

KEY_STYLE = "bold $footer-key-foreground"
DESCRIPTION_STYLE = "$footer-description-foreground"


_ORDER: dict[type, dict[str, int]] = {}


def _declared_order(active) -> tuple[int, int]:
    """Where a binding stands in its node's own ``BINDINGS`` (bindings without an id keep theirs)."""
    cls = type(active.node)
    order = _ORDER.get(cls)
    if order is None:
        declared = Binding.make_bindings(getattr(cls, "BINDINGS", []))
        order = _ORDER[cls] = {}
        for b in declared:
            if b.id:
                order.setdefault(b.id, len(order))
    return (0, order.get(active.binding.id, len(order))) if active.binding.id in order else (1, 0)


class KeyBar(Widget):
    DEFAULT_CSS = """
    KeyBar {
        dock: bottom;
        height: 1;
        color: $footer-foreground;
        background: $footer-background;
    }
    """

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, screen: Screen) -> None:
        if screen is self.screen:
            self.refresh()

    def render(self) -> Content:
        app = self.app
        active = self.screen.active_bindings
        shown: list[tuple[str, str, bool]] = []
        actions: set[str] = set()
        # In the order the screen declares its keys: a key moved by the keymap keeps its place.
        nodes: dict[int, int] = {}
        for item in active.values():
            nodes.setdefault(id(item.node), len(nodes))  # the focused widget's keys, the screen's, the app's
        items = sorted(active.values(), key=lambda item: (nodes[id(item.node)], *_declared_order(item)))
        for _node, binding, enabled, _tooltip in items:
            if not binding.show or binding.action in actions or hidden_in_key_bar(self.screen, binding.action):
                continue
            actions.add(binding.action)
            shown.append((app.get_key_display(binding), binding.description, enabled))
        right = Content("")
        palette = active.get(app.COMMAND_PALETTE_BINDING) if app.ENABLE_COMMAND_PALETTE else None
        if palette is not None:
            _node, binding, _enabled, _tooltip = palette
            right = Content.assemble(
                ("▏", "$foreground-muted"),
                (f"{app.get_key_display(binding)} ", KEY_STYLE),
                (f"{binding.description} ", DESCRIPTION_STYLE),
            )
        width = self.size.width
        room = max(0, width - right.cell_length)
        left = _keys(shown, compact=False)
        if left.cell_length > room:  # a narrow terminal (80 columns): the same keys, closer together
            left = _keys(shown, compact=True)
            if palette is not None and left.cell_length > room:
                right = Content.assemble(("▏", "$foreground-muted"), (f"{app.get_key_display(palette[1])} ", KEY_STYLE))
                room = max(0, width - right.cell_length)
        if left.cell_length > room:
            left = left.truncate(room)
        return left + Content(" " * (room - left.cell_length)) + right


def _keys(shown: list[tuple[str, str, bool]], *, compact: bool) -> Content:
    """The keys as `` l Log entry  s Status ``, or compact (80 columns): `` l Log entry s Status``."""
    items = []
    for key, description, enabled in shown:
        if compact:
            item = Content.styled(key, KEY_STYLE) + Content.styled(f" {description}", DESCRIPTION_STYLE)
        else:
            item = Content.styled(f" {key} ", KEY_STYLE) + Content.styled(f"{description} ", DESCRIPTION_STYLE)
        items.append(item if enabled else item.stylize("dim"))
    separator = Content.styled(" ", DESCRIPTION_STYLE) if compact else Content("")
    return (Content(" ") if compact else Content("")) + separator.join(items)
