"""Report figures from the store: response and resolution times, weekly counts, refund reasons and delays, breaches.

Every figure counts what happened inside the window ``[since, until)``: a first response sent in it,
a ticket resolved in it, a ticket opened in it, a refund step completed in it, a breach that fell in it.
Durations are clock hours (what the customer waited); the SLA clocks (domain/sla.py) are what count
business hours and pauses. The 90th percentile is the nearest-rank one: the smallest value that at
least 90 % of the values do not exceed, always one of the measured values.
"""

from __future__ import annotations

import csv
import io
import math
import statistics
from dataclasses import dataclass
from datetime import datetime, timedelta

from tui_desk.domain import sla
from tui_desk.domain.clock import to_utc
from tui_desk.domain.dates import iso
from tui_desk.domain.errors import DeskError
from tui_desk.domain.statuses import status_of
from tui_desk.reporting.workload import week_start
from tui_desk.store.models import Ticket

DEFAULT_WEEKS = 12
NO_REASON = "(none)"
UNASSIGNED = "(unassigned)"
REFUND_STEPS = (
    ("approved_to_initiated", "refund_approved_at", "refund_initiated_at"),
    ("initiated_to_refunded", "refund_initiated_at", "refunded_at"),
    ("approved_to_refunded", "refund_approved_at", "refunded_at"),
)


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


@dataclass(frozen=True)
class Stats:
    count: int
    mean: float | None
    median: float | None
    p90: float | None

    @classmethod
    def of(cls, hours: list[float]) -> Stats:
        if not hours:
            return cls(0, None, None, None)
        return cls(len(hours), statistics.fmean(hours), statistics.median(hours), percentile(hours, 0.9))

    def as_dict(self) -> dict:
        def r(v):
            return None if v is None else round(v, 2)

        return {
            "count": self.count,
            "mean_hours": r(self.mean),
            "median_hours": r(self.median),
            "p90_hours": r(self.p90),
        }


def _hours(start: datetime, end: datetime) -> float:
    return max((end - start).total_seconds(), 0.0) / 3600


def _grouped(samples: list[tuple[dict, float]]) -> dict:
    """Overall and by kind, priority and agent."""
    out = {"all": Stats.of([h for _, h in samples]).as_dict()}
    for dimension, key in (("kind", "kind"), ("priority", "priority"), ("agent", "assignee")):
        groups: dict[str, list[float]] = {}
        for row, hours in samples:
            groups.setdefault(row[key] or UNASSIGNED, []).append(hours)
        out[f"by_{dimension}"] = {name: Stats.of(groups[name]).as_dict() for name in sorted(groups)}
    return out


def build_report(store, since: datetime | None = None, until: datetime | None = None) -> dict:
    """All report figures as JSON-ready data."""
    now = store.now()
    tz = store.config.tz
    until = to_utc(until) if until else now
    since = to_utc(since) if since else week_start(until, tz) - timedelta(weeks=DEFAULT_WEEKS - 1)
    if since >= until:
        raise DeskError("the report window is empty: --since must be before --until")
    weeks = []
    start = week_start(since, tz)
    while start < until:
        weeks.append(start)
        # A week is 7 local days; stepping in local time keeps Mondays across DST changes.
        start = week_start(start + timedelta(days=7, hours=12), tz)
    labels = [w.astimezone(tz).date().isoformat() for w in weeks]

    def week_of(at: datetime) -> int:
        index = 0
        for i, w in enumerate(weeks):
            if at >= w:
                index = i
        return index

    def inside(at: datetime | None) -> bool:
        return at is not None and since <= at < until

    columns = [
        Ticket.id,
        Ticket.kind,
        Ticket.priority,
        Ticket.assignee,
        Ticket.reason,
        Ticket.status,
        Ticket.opened_at,
        Ticket.first_response_at,
        Ticket.resolved_at,
        Ticket.closed_at,
        Ticket.refund_approved_at,
        Ticket.refund_initiated_at,
        Ticket.refunded_at,
        *(getattr(Ticket, f"sla_{name}") for name in sla.FIELDS),
    ]
    responses: list[tuple[dict, float]] = []
    resolutions: list[tuple[dict, float]] = []
    opened = [0] * len(weeks)
    resolved = [0] * len(weeks)
    breaches = {"response": [0] * len(weeks), "resolution": [0] * len(weeks)}
    reasons: dict[str, list[int]] = {}
    delays: dict[str, list[float]] = {name: [] for name, _, _ in REFUND_STEPS}
    with store.reading():
        # One pass over the tickets, as plain dicts: a report over 100k tickets must not build 100k models.
        for row in Ticket.select(*columns).dicts().iterator():
            row = {k: (to_utc(v) if isinstance(v, datetime) else v) for k, v in row.items()}
            if inside(row["opened_at"]):
                opened[week_of(row["opened_at"])] += 1
                if row["kind"] == "refund":
                    reasons.setdefault(row["reason"] or NO_REASON, [0] * len(weeks))[week_of(row["opened_at"])] += 1
            if inside(row["first_response_at"]):
                responses.append((row, _hours(row["opened_at"], row["first_response_at"])))
            done = row["resolved_at"] or row["closed_at"]
            if inside(done):
                resolved[week_of(done)] += 1
                resolutions.append((row, _hours(row["opened_at"], done)))
            for name, start_key, end_key in REFUND_STEPS:
                if row[start_key] is not None and inside(row[end_key]):
                    delays[name].append(_hours(row[start_key], row[end_key]))
            clocks = sla.SlaClocks(**{name: row[f"sla_{name}"] for name in sla.FIELDS})
            found = sla.breaches(
                clocks, status=status_of(row["status"]), responded_at=row["first_response_at"], now=min(now, until)
            )
            for which, at in found.items():
                if inside(at):
                    breaches[which][week_of(at)] += 1
    return {
        "since": iso(since),
        "until": iso(until),
        "timezone": store.config.timezone,
        "first_response": _grouped(responses),
        "resolution": _grouped(resolutions),
        "weeks": [
            {
                "week": label,
                "opened": opened[i],
                "resolved": resolved[i],
                "response_breaches": breaches["response"][i],
                "resolution_breaches": breaches["resolution"][i],
            }
            for i, label in enumerate(labels)
        ],
        "refund_reasons": {
            "weeks": labels,
            "reasons": {name: reasons[name] for name in sorted(reasons, key=lambda n: (-sum(reasons[n]), n))},
        },
        "refund_delays": {name: Stats.of(values).as_dict() for name, values in delays.items()},
    }


# -- presenting ---------------------------------------------------------------------------------


def _h(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def _stats_lines(title: str, figures: dict) -> list[str]:
    lines = [title, f"  {'':<22} {'n':>5} {'mean h':>8} {'median h':>9} {'p90 h':>7}"]

    def line(name: str, s: dict) -> str:
        return (
            f"  {name[:22]:<22} {s['count']:>5} {_h(s['mean_hours']):>8} {_h(s['median_hours']):>9} "
            f"{_h(s['p90_hours']):>7}"
        )

    lines.append(line("all", figures["all"]))
    for dimension in ("kind", "priority", "agent"):
        for name, s in figures[f"by_{dimension}"].items():
            lines.append(line(f"{dimension}: {name}", s))
    return lines


def report_text(data: dict) -> str:
    """The report as plain text tables (80 columns)."""
    lines = [f"Report {data['since']} .. {data['until']} (weeks start Monday, {data['timezone']})", ""]
    lines += _stats_lines("First response time", data["first_response"]) + [""]
    lines += _stats_lines("Resolution time", data["resolution"]) + [""]
    lines.append("Per week        opened  resolved  response breaches  resolution breaches")
    for w in data["weeks"]:
        lines.append(
            f"  {w['week']:<12} {w['opened']:>6} {w['resolved']:>9} {w['response_breaches']:>18} "
            f"{w['resolution_breaches']:>20}"
        )
    lines.append("")
    lines.append("Refund reasons per week (oldest week first)")
    for name, counts in data["refund_reasons"]["reasons"].items():
        lines.append(f"  {name[:24]:<24} {sum(counts):>5}  " + " ".join(str(c) for c in counts))
    if not data["refund_reasons"]["reasons"]:
        lines.append("  (no refunds opened)")
    lines.append("")
    lines.append(f"Refund delays  {'n':>5} {'mean h':>8} {'median h':>9} {'p90 h':>7}")
    for name, s in data["refund_delays"].items():
        label = name.replace("_to_", " -> ")
        lines.append(
            f"  {label:<22} {s['count']:>5} {_h(s['mean_hours']):>8} {_h(s['median_hours']):>9} {_h(s['p90_hours']):>7}"
        )
    return "\n".join(lines)


def report_csv(data: dict) -> str:
    """The report as one long CSV table: section, group, key, metric, value."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["section", "group", "key", "metric", "value"])
    for section in ("first_response", "resolution"):
        figures = data[section]
        for group, by in [("all", {"all": figures["all"]})] + [
            (d, figures[f"by_{d}"]) for d in ("kind", "priority", "agent")
        ]:
            for key, stats in by.items():
                for metric, value in stats.items():
                    writer.writerow([section, group, key, metric, "" if value is None else value])
    for w in data["weeks"]:
        for metric in ("opened", "resolved", "response_breaches", "resolution_breaches"):
            writer.writerow(["weeks", "week", w["week"], metric, w[metric]])
    weeks = data["refund_reasons"]["weeks"]
    for reason, counts in data["refund_reasons"]["reasons"].items():
        for week, count in zip(weeks, counts, strict=True):
            writer.writerow(["refund_reasons", reason, week, "opened", count])
    for step, stats in data["refund_delays"].items():
        for metric, value in stats.items():
            writer.writerow(["refund_delays", "step", step, metric, "" if value is None else value])
    return out.getvalue()
