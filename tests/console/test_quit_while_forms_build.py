"""Quitting while the forms are still being built ahead (at idle, ``DeskApp._build_forms``) ends cleanly.

Found in CI: a console that quit while a form's drop-down was mounting died with ``NoMatches '#label' on
SelectCurrent`` (Textual closes the widgets of installed screens in no set order). Without the fix this
test failed in 10 of 24 runs; it quits at several points of the build, so at least one lands inside it.
"""

from __future__ import annotations

import asyncio

from tui_desk.store import Store
from tui_desk.tui.app import DeskApp


def test_quitting_at_any_point_of_the_forms_build_raises_nothing(tmp_path):
    async def quit_after(delay: float) -> None:
        store = Store(tmp_path / "desk.db")
        app = DeskApp(store, timers=False, live=False)
        try:
            async with app.run_test(size=(80, 24)):
                app.call_later(app._build_forms)  # what the idle timer does, now, then quit mid-build
                await asyncio.sleep(delay)
        finally:
            store.close()

    async def main() -> None:
        for _round in range(2):
            for step in range(8):
                await quit_after(step * 0.01)  # raises the app's exception if it ended with one

    asyncio.run(main())
