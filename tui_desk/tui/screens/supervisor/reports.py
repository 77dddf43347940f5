"""Reports: weekly trends as sparklines, response and resolution times as bars, refund reasons and delays."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Static

from tui_desk.domain.text import clip, printable
from tui_desk.reporting.reports import build_report
from tui_desk.tui.colours import tone
from tui_desk.tui.context import StoreChanged
from tui_desk.tui.screens.supervisor.charts import bar, sparkline
from tui_desk.tui.screens.supervisor.nav import SupervisorNav, nav_bindings
from tui_desk.tui.widgets.key_bar import KeyBar

BAR_WIDTH = 20
REFRESH_S = 15.0


def _h(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.1f} h" if value < 48 else f"{value / 24:.1f} d"


def _weekly(data: dict, colour) -> Content:
    weeks = data["weeks"]
    first, last = weeks[0]["week"], weeks[-1]["week"]
    lines = [Content.styled(f"Per week  ({len(weeks)} weeks, {first} .. {last})", "bold")]
    for key, label, style in (
        ("opened", "Opened", colour("primary")),
        ("resolved", "Resolved", colour("success")),
        ("response_breaches", "Response breaches", colour("error")),
        ("resolution_breaches", "Resolution breaches", colour("error")),
    ):
        values = [w[key] for w in weeks]
        lines.append(
            Content.assemble(
                f"  {label:<20} ", (sparkline(values), style), f"  total {sum(values):>4}  this week {values[-1]:>3}"
            )
        )
    return Content("\n").join(lines)


def _times(title: str, figures: dict, colour) -> Content:
    lines = [
        Content.styled(title, "bold"),
        Content(f"  {'':<16} {'n':>4} {'mean':>7} {'median':>7} {'p90':>7}  median"),
    ]
    rows = [("all", figures["all"]), ("by priority", None)]
    rows += [(p, s) for p, s in figures["by_priority"].items()]
    rows += [("by agent", None)]
    rows += [(printable(a, one_line=True), s) for a, s in figures["by_agent"].items()]
    top = max((s["median_hours"] or 0 for _, s in rows if s), default=0)
    for name, s in rows:
        if s is None:
            lines.append(Content.styled(f"  {name}", "dim italic"))
            continue
        lines.append(
            Content.assemble(
                f"  {clip(name, 16):<16} {s['count']:>4} {_h(s['mean_hours']):>7} {_h(s['median_hours']):>7} "
                f"{_h(s['p90_hours']):>7}  ",
                (bar(s["median_hours"] or 0, top, BAR_WIDTH), colour("primary")),
            )
        )
    return Content("\n").join(lines)


def _reasons(data: dict, colour) -> Content:
    reasons = data["refund_reasons"]["reasons"]
    lines = [Content.styled("Refund reasons per week", "bold")]
    if not reasons:
        lines.append(Content.styled("  no refunds opened in these weeks", "dim"))
    for name, counts in list(reasons.items())[:8]:
        lines.append(
            Content.assemble(
                f"  {clip(printable(name, one_line=True), 20):<20} ",
                (sparkline(counts), colour("accent")),
                f"  total {sum(counts):>4}",
            )
        )
    if len(reasons) > 8:
        lines.append(Content.styled(f"  … and {len(reasons) - 8} more (tui-desk report)", "dim"))
    return Content("\n").join(lines)


def _delays(data: dict, colour) -> Content:
    lines = [
        Content.styled("Refund delays", "bold"),
        Content(f"  {'':<22} {'n':>4} {'mean':>7} {'median':>7} {'p90':>7}"),
    ]
    steps = data["refund_delays"]
    top = max((s["median_hours"] or 0 for s in steps.values()), default=0)
    for key, label in (
        ("approved_to_initiated", "approved -> initiated"),
        ("initiated_to_refunded", "initiated -> refunded"),
        ("approved_to_refunded", "approved -> refunded"),
    ):
        s = steps[key]
        lines.append(
            Content.assemble(
                f"  {label:<22} {s['count']:>4} {_h(s['mean_hours']):>7} {_h(s['median_hours']):>7} "
                f"{_h(s['p90_hours']):>7}  ",
                (bar(s["median_hours"] or 0, top, 12), colour("warning")),
            )
        )
    return Content("\n").join(lines)


class ReportsScreen(SupervisorNav, Screen):
    """The report of the last twelve weeks; the same figures as ``tui-desk report``."""

    CSS_PATH = "supervisor.tcss"
    SCREEN_NAME = "reports"
    BINDINGS = [*nav_bindings("reports")]

    def __init__(self) -> None:
        super().__init__()
        self._shown: tuple | None = None
        self._pending = None

    def compose(self) -> ComposeResult:
        yield Static(id="title", classes="supervisor-title")
        with VerticalScroll(id="report"):
            yield Static(Content.styled("Reading the store…", "dim"), id="weekly", classes="report-block")
            yield Static(id="response", classes="report-block")
            yield Static(id="resolution", classes="report-block")
            yield Static(id="reasons", classes="report-block")
            yield Static(id="delays", classes="report-block")
        yield KeyBar()

    def on_mount(self) -> None:
        self.show_title("Reports")
        self.query_one("#report").focus()
        self.reload()

    def on_store_changed(self, _: StoreChanged) -> None:
        # Weekly figures barely move with one change, and a report reads every ticket: fold a busy
        # stream of changes into one reload per REFRESH_S.
        if self._pending is None:
            self._pending = self.set_timer(REFRESH_S, self._refresh)

    def _refresh(self) -> None:
        self._pending = None
        self.reload()

    def reload(self) -> None:
        store, now = self.app.store, self.app.now()
        self.app.run_db(lambda: build_report(store, None, now), on_done=self.show, group="reports", exclusive=True)

    def show(self, data: dict) -> None:
        shown = (self.app.theme_variables, data)
        if shown == self._shown:
            return
        self._shown = shown

        def colour(role: str) -> str:
            return tone(self.app, role, on="background")

        self.query_one("#weekly", Static).update(_weekly(data, colour))
        self.query_one("#response", Static).update(_times("First response time", data["first_response"], colour))
        self.query_one("#resolution", Static).update(_times("Resolution time", data["resolution"], colour))
        self.query_one("#reasons", Static).update(_reasons(data, colour))
        self.query_one("#delays", Static).update(_delays(data, colour))
