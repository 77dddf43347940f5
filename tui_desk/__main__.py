"""``python -m tui_desk`` runs the ``tui-desk`` command."""

from tui_desk.cli import entry_point

entry_point()
