"""The supervisor screens: the overdue panel, workload per agent, reports; ``nav.py`` moves between them."""

from __future__ import annotations

from tui_desk.tui.screens.supervisor.overdue import OverdueScreen
from tui_desk.tui.screens.supervisor.reports import ReportsScreen
from tui_desk.tui.screens.supervisor.workload import WorkloadScreen

SUPERVISOR_SCREENS = {screen.SCREEN_NAME: screen for screen in (OverdueScreen, WorkloadScreen, ReportsScreen)}
