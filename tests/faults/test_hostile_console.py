"""Hostile input to the console: on a read-only store every write key answers with one line that
starts "read-only:", opens nothing, and the store, its -wal and its attachment folder stay byte for byte."""

from __future__ import annotations

import asyncio

import pytest
from test_hostile_inputs import fingerprint

from tests.conftest import NOW, workers_done
from tui_desk.domain.clock import FixedClock
from tui_desk.store import Store
from tui_desk.store.demo import build_demo
from tui_desk.tui.app import DeskApp
from tui_desk.tui.screens.detail import DetailScreen
from tui_desk.tui.screens.queue import QueueScreen


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    path = tmp_path_factory.mktemp("ro") / "desk.db"
    build_demo(path, tickets=12, seed=5, clock=FixedClock(NOW), progress=False)
    return path


async def _settle(pilot) -> None:
    for _ in range(4):
        await workers_done(pilot.app)
        await pilot.pause()


async def _press_write_key(path, key: str, on_detail: bool) -> tuple[type, list[str], str]:
    store = Store(path, clock=FixedClock(NOW), agent="ana", read_only=True)
    app = DeskApp(store, timers=False)
    try:
        async with app.run_test(size=(100, 30)) as pilot:
            await _settle(pilot)
            if on_detail:
                await pilot.press("enter")
                await _settle(pilot)
                assert isinstance(app.screen, DetailScreen)
            shown = _key_bar(app)
            await pilot.press(key)
            await _settle(pilot)
            return type(app.screen), [n.message for n in app._notifications], shown
    finally:
        store.close()


def _key_bar(app) -> str:
    from tui_desk.tui.widgets.key_bar import KeyBar

    return str(app.screen.query_one(KeyBar).render())


QUEUE_KEYS = [
    ("l", "log"),
    ("n", "new"),
    ("s", "status"),
    ("a", "assign me"),
    ("A", "assign"),
    ("t", "tags"),
    ("R", "refund"),
]
DETAIL_KEYS = [
    ("l", "log"),
    ("s", "status"),
    ("a", "assign me"),
    ("A", "assign"),
    ("t", "tags"),
    ("e", "escalate"),
    ("E", "edit"),
    ("u", "undo"),
    ("R", "refund"),
]
CASES = [("queue", k, w) for k, w in QUEUE_KEYS] + [("detail", k, w) for k, w in DETAIL_KEYS]


@pytest.mark.parametrize(("where", "key", "what"), CASES, ids=[f"{w} {k}" for w, k, _ in CASES])
def test_read_only_console_answers_a_write_key(demo, where, key, what):
    before = fingerprint(demo)
    screen, messages, key_bar = asyncio.run(_press_write_key(demo, key, where == "detail"))
    assert screen is (DetailScreen if where == "detail" else QueueScreen), "a form or dialog opened"
    assert messages == [f"read-only: this console may look but not change anything ({what} refused)"]
    assert all(len(m.splitlines()) == 1 for m in messages)
    assert " Log " not in key_bar and " Status " not in key_bar, "the key bar offers what it refuses"
    assert fingerprint(demo) == before
