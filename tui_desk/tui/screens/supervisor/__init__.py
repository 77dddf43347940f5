"""Registers the supervisor screens (overdue panel, workload, reports) with the console."""

from __future__ import annotations

from tui_desk.tui.app import register_screen
from tui_desk.tui.screens.supervisor.overdue import OverdueScreen
from tui_desk.tui.screens.supervisor.reports import ReportsScreen
from tui_desk.tui.screens.supervisor.workload import WorkloadScreen

register_screen("overdue", OverdueScreen, "Overdue panel")
register_screen("workload", WorkloadScreen, "Workload per agent")
register_screen("reports", ReportsScreen, "Reports")
