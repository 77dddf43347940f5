"""Supervisor commands: report, overdue, workload, and supervise (the console on the overdue panel)."""

from __future__ import annotations

import argparse
import os
import textwrap

from tui_desk.domain.dates import format_when, parse_when, short_span
from tui_desk.domain.errors import DeskError
from tui_desk.domain.text import clip, printable


def register(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser(
        "report",
        help="response and resolution times, weekly counts, refund reasons and delays, SLA breaches",
        description="Figures for the window [--since, --until); by default the last 12 weeks up to now.",
    )
    p.add_argument("--since", metavar="WHEN", help="start of the window (default: Monday 11 weeks before --until)")
    p.add_argument("--until", metavar="WHEN", help="end of the window, not included (default: now)")
    form = p.add_mutually_exclusive_group()
    form.add_argument("--json", action="store_true", help="machine-readable output")
    form.add_argument("--csv", action="store_true", help="one long CSV table: section, group, key, metric, value")
    p.set_defaults(handler=cmd_report)

    p = commands.add_parser("overdue", help="the overdue panel: SLA breached or at risk, follow-ups missed, …")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(handler=cmd_overdue)

    p = commands.add_parser("workload", help="per agent: open, overdue, waiting, resolved this week")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(handler=cmd_workload)

    p = commands.add_parser("supervise", help="open the console on the overdue panel (for an SSH login)")
    p.set_defaults(handler=cmd_supervise)


def _when(ctx, value: str | None):
    return None if value is None else parse_when(value, ctx.clock.now(), ctx.config.tz)


def cmd_report(ctx) -> int:
    from tui_desk.reporting.reports import build_report, report_csv, report_text

    a = ctx.args
    since, until = _when(ctx, a.since), _when(ctx, a.until)
    data = build_report(ctx.store(create=False), since, until)
    if a.csv:
        print(report_csv(data), end="")
    else:
        ctx.emit(data, lambda: report_text(data))
    return 0


def cmd_overdue(ctx) -> int:
    from tui_desk.reporting.overdue import overdue

    store = ctx.store(create=False)
    sections = overdue(store)

    def text() -> str:
        return overdue_text(sections, f"(as of {format_when(store.now(), ctx.config.tz)})")

    ctx.emit([s.as_dict() for s in sections], text)
    return 0


WIDTH = 80  # what a supervisor's SSH terminal has


def overdue_text(sections, footer: str) -> str:
    """The panel in 80 columns: case, customer, status, agent, how late (``in 3h`` while ahead), what."""
    case_w = max([17] + [len(r.case_number) for s in sections for r in s.rows])
    status_w, agent_w, late_w, what_w = 17, 8, 10, 10
    customer_w = max(6, WIDTH - 2 - case_w - status_w - agent_w - late_w - what_w - 5)
    lines = [
        f"  {'CASE':<{case_w}} {'CUSTOMER':<{customer_w}} {'STATUS':<{status_w}} {'AGENT':<{agent_w}} "
        f"{'LATE':>{late_w}} DUE"
    ]
    for section in sections:
        lines.extend(textwrap.wrap(f"{section.title}: {section.count}", WIDTH, subsequent_indent="  "))
        for r in section.rows:
            lines.append(
                f"  {r.case_number:<{case_w}} {clip(printable(r.customer, one_line=True), customer_w):<{customer_w}} "
                f"{r.status:<{status_w}} {clip(printable(r.assignee or '-', one_line=True), agent_w):<{agent_w}} "
                f"{short_span(r.late):>{late_w}} {clip(r.what, what_w)}"
            )
    lines.append(footer)
    return "\n".join(lines)


def cmd_workload(ctx) -> int:
    from tui_desk.reporting.workload import workload

    loads = workload(ctx.store(create=False))

    def text() -> str:
        lines = [f"{'AGENT':<20} {'OPEN':>5} {'OVERDUE':>8} {'WAITING':>8} {'RESOLVED THIS WEEK':>19}"]
        for w in loads:
            name = clip(printable(w.agent), 20) if w.agent else "(unassigned)"
            lines.append(f"{name:<20} {w.open:>5} {w.overdue:>8} {w.waiting:>8} {w.resolved_this_week:>19}")
        return "\n".join(lines)

    ctx.emit([w.as_dict() for w in loads], text)
    return 0


def cmd_supervise(ctx) -> int:
    from tui_desk.cli import open_console

    if not ctx.db_path.exists():
        raise DeskError(f"no store at {ctx.db_path}")
    # Over a slow SSH link nothing should move unless the data did: no animated scrolling or fades.
    os.environ.setdefault("TEXTUAL_ANIMATIONS", "none")
    return open_console(ctx, start_screen="overdue")
