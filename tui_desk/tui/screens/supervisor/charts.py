"""Text pictures for the supervisor screens: sparklines and bars that also read on a Linux console."""

from __future__ import annotations

import os

BLOCKS = "▁▂▃▄▅▆▇█"
# The Linux console's font has no eighth blocks; plain ASCII levels read everywhere.
ASCII_LEVELS = "_.-=+*#@"


def plain_glyphs() -> bool:
    """True where only basic glyphs are safe: the Linux console, dumb terminals, non-UTF-8 locales."""
    term = os.environ.get("TERM", "")
    if term in ("linux", "vt100", "vt102", "dumb") or term.startswith("vt"):
        return True
    locale = os.environ.get("LC_ALL") or os.environ.get("LC_CTYPE") or os.environ.get("LANG") or "C.UTF-8"
    return "utf" not in locale.lower().replace("-", "")


def sparkline(values: list[float], *, plain: bool | None = None) -> str:
    """One glyph per value, scaled to the largest; zero is the lowest glyph (a space where plain)."""
    plain = plain_glyphs() if plain is None else plain
    levels = ASCII_LEVELS if plain else BLOCKS
    top = max(values, default=0)
    out = []
    for v in values:
        if top <= 0 or v <= 0:
            out.append(" " if plain else levels[0])
        else:
            out.append(levels[min(len(levels) - 1, max(1, round(v / top * (len(levels) - 1))))])
    return "".join(out)


def bar(value: float, top: float, width: int, *, plain: bool | None = None) -> str:
    """A horizontal bar of at most ``width`` cells, in half cells; any non-zero value shows."""
    plain = plain_glyphs() if plain is None else plain
    if top <= 0 or value <= 0:
        return ""
    halves = max(1, round(value / top * width * 2))
    full, half = divmod(min(halves, width * 2), 2)
    if plain:
        return "#" * full + ("=" if half else "")
    return "█" * full + ("▌" if half else "")
