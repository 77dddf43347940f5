"""Snapshots of the supervisor screens at 80x24 with a fixed clock (the README's screenshots come from these)."""

from __future__ import annotations

import pytest
from test_supervisor import build_desk, make_app, settle


@pytest.fixture(autouse=True)
def utf8_terminal(monkeypatch):
    """The charts pick their glyphs from TERM and the locale; CI's may be anything (even unset)."""
    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.setenv("LANG", "C.UTF-8")
    monkeypatch.delenv("LC_ALL", raising=False)
    monkeypatch.delenv("LC_CTYPE", raising=False)


@pytest.fixture
def desk_app(store, clock):
    build_desk(store, clock)
    return lambda screen: make_app(store, clock, screen)


@pytest.mark.parametrize("screen", ["overdue", "workload", "reports"])
def test_supervisor_screen_snapshot(desk_app, snap_compare, screen):
    assert snap_compare(desk_app(screen), terminal_size=(80, 24), run_before=settle)


def test_overdue_panel_after_jumping_to_idle(desk_app, snap_compare):
    assert snap_compare(desk_app("overdue"), press=["5"], terminal_size=(80, 24), run_before=settle)
