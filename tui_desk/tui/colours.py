"""Colours from the theme, made readable: every coloured text keeps a contrast of at least 4.5 : 1.

The roles (a status, a priority, "late") name theme variables (``$primary``, ``$error``, …), never fixed
hex values, so a theme or the agent's own CSS decides the hue. A theme's accent colours are chosen for
backgrounds, not text: ``textual-light``'s success green on its surface reads at 1.8 : 1. So before a
colour paints text it is moved toward black or white, keeping its hue, until it reaches the WCAG AA
ratio against what it is painted on.

ANSI themes (``ansi-dark``, ``ansi-light``) leave the colours to the terminal, and what the terminal's
"green" looks like on its background is not known here: there coloured text uses the terminal's own
foreground (its roles still differ by bold), which the terminal's palette makes readable.
"""

from __future__ import annotations

from functools import lru_cache

from rich.color import Color as RichColor
from rich.style import Style
from textual.color import Color, ColorParseError

from tui_desk.domain.statuses import Status

MIN_CONTRAST = 4.5  # WCAG 2 AA for normal text

# (theme variable, bold) per status; the label is always shown too, colour only helps the eye.
STATUS_ROLE: dict[Status, tuple[str, bool]] = {
    Status.NEW: ("primary", True),
    Status.TODO: ("primary", False),
    Status.L1: ("accent", False),
    Status.L2: ("accent", True),
    Status.WAITING_SELLER: ("secondary", False),
    Status.WAITING_BUYER: ("secondary", False),
    Status.WAITING_US: ("warning", True),
    Status.RESOLVED: ("success", False),
    Status.CLOSED: ("foreground-muted", False),
}
PRIORITY_ROLE: dict[str, tuple[str, bool]] = {
    "urgent": ("error", True),
    "high": ("warning", False),
    "low": ("foreground-muted", False),
}
LATE_ROLE = ("error", True)


def luminance(color: Color) -> float:
    """WCAG relative luminance of an opaque colour."""

    def channel(c: int) -> float:
        s = c / 255
        return s / 12.92 if s <= 0.03928 else ((s + 0.055) / 1.055) ** 2.4

    return 0.2126 * channel(color.r) + 0.7152 * channel(color.g) + 0.0722 * channel(color.b)


def contrast(a: Color, b: Color) -> float:
    """The WCAG contrast ratio of two colours, 1 to 21."""
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


@lru_cache(maxsize=512)
def readable(fg: Color, bg: Color, ratio: float = MIN_CONTRAST) -> Color:
    """``fg``, or the nearest colour toward black or white (whichever ``bg`` contrasts more with) that
    reaches ``ratio`` against ``bg``."""
    if contrast(fg, bg) >= ratio:
        return fg
    black, white = Color(0, 0, 0), Color(255, 255, 255)
    target = black if contrast(black, bg) >= contrast(white, bg) else white
    for step in range(1, 21):
        moved = fg.blend(target, step / 20)
        if contrast(moved, bg) >= ratio:
            return moved
    return target


def is_terminal_colour(color: Color | RichColor | None) -> bool:
    """A colour the terminal decides (ANSI, default): its RGB is not known here."""
    if color is None:
        return True
    if isinstance(color, RichColor):
        return color.triplet is None
    return color.ansi is not None or color.a == 0


def legible(style: Style, background: RichColor | None) -> Style:
    """``style`` with its colour made readable on ``background`` (a Rich colour, as widgets paint)."""
    if style.color is None or style.color.triplet is None:
        return style
    if background is None or background.triplet is None:
        return style + Style(color="default")  # an ANSI theme: the terminal's foreground
    fg = Color(*style.color.triplet)
    bg = Color(*background.triplet)
    fixed = readable(fg, bg)
    return style if fixed == fg else style + Style(color=fixed.rich_color)


def theme_colour(variables: dict[str, str], role: str, on: str = "surface") -> str:
    """A theme variable as a colour for text on the variable ``on``, as a style word for ``Content``
    and Rich text (``#1f6f3a``, or ``default`` in an ANSI theme)."""
    try:
        fg = Color.parse(variables[role])
        bg = Color.parse(variables.get(on) or variables["background"])
        if bg.a == 0:
            bg = Color.parse(variables["background"])
    except (KeyError, ValueError, ColorParseError):
        return "default"
    if is_terminal_colour(fg) or is_terminal_colour(bg):
        return "default"
    fg = bg.blend(fg.with_alpha(1), fg.a) if fg.a < 1 else fg
    return readable(fg, bg).hex


def role_style(variables: dict[str, str], role: tuple[str, bool], on: str = "surface") -> str:
    """``bold #hex`` for a (variable, bold) role."""
    name, bold = role
    return f"{'bold ' if bold else ''}{theme_colour(variables, name, on)}"


def status_style(variables: dict[str, str], status: Status, on: str = "surface") -> str:
    return role_style(variables, STATUS_ROLE[status], on)


def priority_style(variables: dict[str, str], priority: str, on: str = "surface") -> str:
    role = PRIORITY_ROLE.get(priority)
    return role_style(variables, role, on) if role else ""


def late_style(variables: dict[str, str], on: str = "surface") -> str:
    return role_style(variables, LATE_ROLE, on)


def tone(app, role: str, *, bold: bool = False, on: str = "surface") -> str:
    """The app's current theme colour ``role`` as a readable text style on ``on`` (supervisor screens, charts)."""
    return role_style(app.theme_variables, (role, bold), on)
