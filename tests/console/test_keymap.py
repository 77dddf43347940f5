"""Keys remapped in config.toml's [keys]: the new key works, the old one no longer does, and the help
screen, key bar and palette show the keys in force."""

from __future__ import annotations

import pytest

from tests.console.test_tui_flows import app_for, desk, screen_text, settle, sync  # noqa: F401 - desk is a fixture
from tui_desk.config import load_config
from tui_desk.domain.errors import DeskError
from tui_desk.tui.screens.dialogs import HelpScreen
from tui_desk.tui.screens.forms.log_entry import LogEntryScreen
from tui_desk.tui.screens.queue import QueueScreen
from tui_desk.tui.widgets.key_bar import KeyBar


def remapped(desk, tmp_path, text: str):  # noqa: F811
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    desk.config = load_config(path)
    return desk


@sync
async def test_a_remapped_key_works_and_help_key_bar_and_palette_show_it(desk, tmp_path):  # noqa: F811
    remapped(desk, tmp_path, '[keys]\n"queue.log" = "ctrl+l"\n[keys.queue]\nnew = "N"\n')
    app = app_for(desk)
    async with app.run_test(size=(120, 60)) as pilot:
        await settle(pilot)
        queue = app.screen
        assert isinstance(queue, QueueScreen)
        bar = queue.query_one(KeyBar).render().plain
        assert "^l Log" in bar and " l Log" not in bar and "N New" in bar
        commands = {c.title: c.help for c in app.get_system_commands(queue)}
        assert commands["Log"].endswith("key: ^l")
        await pilot.press("question_mark")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        text = screen_text(app)
        assert "^l  Log an interaction" in text and "N  New ticket" in text
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("l")  # the old key does nothing now
        await settle(pilot)
        assert app.screen is queue
        await pilot.press("ctrl+l")
        await settle(pilot)
        assert isinstance(app.screen, LogEntryScreen)


def test_a_bad_binding_id_or_key_is_refused_with_the_nearest_one(desk, tmp_path):  # noqa: F811
    with pytest.raises(DeskError, match='keys.queue.lgo is not a key binding of the console; did you mean "queue.log"'):
        app_for(remapped(desk, tmp_path, '[keys]\n"queue.lgo" = "ctrl+l"\n'))
    with pytest.raises(DeskError, match=r"keys.queue.log = 'ctrll' is not a key; did you mean \"ctrl\+l\""):
        app_for(remapped(desk, tmp_path, '[keys]\n"queue.log" = "ctrll"\n'))
    with pytest.raises(DeskError, match='did you mean "ctrl\\+l"'):
        app_for(remapped(desk, tmp_path, '[keys]\n"queue.log" = "^l"\n'))


def test_config_prints_every_binding_id_with_its_keys(cli, isolated_env):
    (isolated_env / "config.toml").write_text('[keys]\n"detail.status" = "S"\n', encoding="utf-8")
    out = cli.ok("config").stdout
    assert '"queue.log" = "l"' in out and '"detail.status" = "S"' in out and '"app.help" = "question_mark,f1"' in out
    (isolated_env / "config.toml").write_text('[keys]\n"detail.stats" = "S"\n', encoding="utf-8")
    assert 'did you mean "detail.status"' in cli.fails("config")
