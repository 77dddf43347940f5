"""Soak: several real processes on one store for a bounded time — creators with attachments, a status changer,
two timer sweepers and a queue reader. At the end every acknowledged write is there, no case number or timer
action exists twice, no "database is locked" reached anyone, and the figures are printed.

About 10 s in the normal suite; 60 s with ``--run-slow`` (``TUI_DESK_SOAK_SECONDS`` overrides both). With
``--run-slow`` also the hosts' soak on PostgreSQL: 20 writer processes and 3 sweeps on one server for 60 s.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from conftest import raw_connect
from test_faults import _integrity, _no_half_applied, _verified

from tui_desk.store import Store

# Each worker runs until its deadline, prints one JSON line per acknowledged write (after the call
# returned) and a final JSON summary. A busy store is retried (counted) up to 3 times; anything else
# that goes wrong is printed, and the test fails on it.
WORKER = r"""
import json, os, random, sys, time
from datetime import timedelta
from pathlib import Path
from tui_desk.domain.clock import SystemClock
from tui_desk.domain.errors import DeskError
from tui_desk.domain.statuses import Status
from tui_desk.store import Store
from tui_desk.store import TicketFilter

role, name, db, seconds, folder = sys.argv[1:6]
deadline = time.monotonic() + float(seconds)
rng = random.Random(name)


class Ahead:
    # Sweepers live four days ahead, so reminders fall due for the tickets moved to Waiting on Buyer now.
    def now(self):
        return SystemClock().now() + timedelta(days=4)


store = Store(db, agent=name, clock=Ahead() if role == "sweeper" else None)
latencies, retries, errors, busy, ops = [], 0, [], 0, 0


def ack(**data):
    print(json.dumps(data), flush=True)


def attempt(fn):
    global retries, busy
    for n in range(4):
        started = time.perf_counter()
        try:
            value = fn()
        except DeskError as err:
            if "busy" in str(err) or "locked" in str(err):
                busy += 1
                if n < 3:
                    retries += 1
                    continue
            raise
        latencies.append(time.perf_counter() - started)
        return value


mine = []
while time.monotonic() < deadline:
    ops += 1
    try:
        if role == "creator":
            if not mine or rng.random() < 0.4:
                t = attempt(lambda: store.create_ticket(customer="C " + name, subject=f"S {name} {ops}",
                                                        email="c@example.com"))
                mine.append(t.case_number)
                ack(op="new", case=t.case_number, seq=1, token=f"S {name} {ops}")
            else:
                f = Path(folder) / f"{name}-{ops}.txt"
                f.write_bytes(os.urandom(rng.randint(10, 50_000)))
                case = rng.choice(mine)
                e = attempt(lambda: store.add_entry(case, channel="email", summary=f"E {name} {ops}",
                                                    body="b" * rng.randint(0, 3000), attachments=[f]))
                ack(op="entry", case=case, seq=e.seq, token=f"E {name} {ops}")
        elif role == "changer":
            pool = store.list_tickets(TicketFilter(statuses=[Status.NEW, Status.L1, Status.WAITING_BUYER,
                                                             Status.WAITING_US]), sort="last_action", limit=50)
            if not pool:
                time.sleep(0.05)
                continue
            t = rng.choice(pool)
            target = Status.WAITING_BUYER if t.status != Status.WAITING_BUYER.slug else Status.L1
            done = attempt(lambda: store.change_status(t.case_number, target))
            ack(op="status", case=t.case_number, seq=done.log_count, token=target.slug)
        elif role == "sweeper":
            from tui_desk.store.sweep import sweep_timers
            result = attempt(lambda: sweep_timers(store))
            for a in result.actions:
                ack(op="timer", case=a["case_number"], action=a["action"], seq=a["entry"])
            time.sleep(0.05)
        else:  # reader: what the queue screen asks for
            started = time.perf_counter()
            rows = store.list_tickets(TicketFilter(), sort="due", limit=60)
            store.count_tickets(TicketFilter())
            if rows:
                store.entries(rng.choice(rows))
            latencies.append(time.perf_counter() - started)
            time.sleep(0.02)
    except DeskError as err:
        if "already" not in str(err):  # a status change that another process made first is a refusal, not a loss
            errors.append(str(err))
    except Exception as err:
        errors.append(f"{type(err).__name__}: {err}")
print(json.dumps({"summary": True, "role": role, "name": name, "ops": ops, "latencies": latencies,
                  "retries": retries, "busy": busy, "errors": errors[:20], "error_count": len(errors)}), flush=True)
"""

ROLES = [
    ("creator", "c1"),
    ("creator", "c2"),
    ("changer", "s1"),
    ("sweeper", "w1"),
    ("sweeper", "w2"),
    ("reader", "r1"),
]


def _seconds(request) -> float:
    if os.environ.get("TUI_DESK_SOAK_SECONDS"):
        return float(os.environ["TUI_DESK_SOAK_SECONDS"])
    return 60.0 if request.config.getoption("--run-slow") else 10.0


def _percentile(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def run_soak(tmp_path: Path, seconds: float, *, db=None, roles=ROLES) -> dict:
    db = db or tmp_path / "desk.db"
    Store(db, agent="setup").close()
    folder = tmp_path / "incoming"
    folder.mkdir()
    env = dict(os.environ)
    env.pop("TUI_DESK_NOW", None)
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, role, name, str(db), str(seconds), str(folder)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for role, name in roles
    ]
    acks, summaries, stderr = [], [], []
    for proc in procs:
        out, err = proc.communicate(timeout=seconds + 120)
        stderr.append(err)
        for line in out.splitlines():
            data = json.loads(line)
            (summaries if data.get("summary") else acks).append(data)
    assert all(p.returncode == 0 for p in procs), stderr
    return {"db": db, "acks": acks, "summaries": summaries, "seconds": seconds}


def check_and_report(result: dict) -> dict:
    db, acks, summaries = result["db"], result["acks"], result["summaries"]
    errors = [e for s in summaries for e in s["errors"]]
    assert not any("locked" in e or "busy" in e for e in errors), errors
    assert not errors, errors
    assert sum(s["busy"] for s in summaries) == 0, "a busy store reached a worker (it had to retry)"
    writes = [a for a in acks if a["op"] in ("new", "entry", "status")]
    timers = [a for a in acks if a["op"] == "timer"]
    assert len(writes) > 20
    # Every acknowledged write is there, where it was acknowledged.
    store = Store(db, agent="checker", read_only=True)
    logs: dict[str, dict[int, object]] = {}
    for a in writes:
        if a["case"] not in logs:
            logs[a["case"]] = {e.seq: e for e in store.entries(store.get(a["case"]))}
        entry = logs[a["case"]].get(a["seq"])
        assert entry is not None, a
        if a["op"] == "new":
            assert store.get(a["case"]).subject == a["token"]
        elif a["op"] == "entry":
            assert entry.summary == a["token"] and len(entry.attachments) == 1
        else:
            assert entry.kind == "status"
    store.close()
    # No case number twice, no timer action twice (across both sweepers).
    new_cases = [a["case"] for a in writes if a["op"] == "new"]
    assert len(new_cases) == len(set(new_cases))
    twice = [k for k, n in Counter((a["case"], a["seq"]) for a in timers).items() if n > 1]
    assert not twice, twice
    con = raw_connect(db)
    # Each action reported by a sweeper is one TimerEvent row with its own log entry; none reported twice, none
    # applied unreported (the unique key per ticket, action, waiting period and slot turns a second try into a no-op).
    events = con.execute(
        "SELECT t.case_number, e.seq, e.kind FROM timer_event v JOIN ticket t ON t.id = v.ticket_id "
        "JOIN log_entry e ON e.id = v.entry_id"
    ).fetchall()
    con.close()
    assert sorted((c, s) for c, s, _ in events) == sorted((a["case"], a["seq"]) for a in timers)
    assert {k for _, _, k in events} <= {"reminder", "reminder_skipped", "auto_close", "resolved_close"}
    if isinstance(db, Path):
        _integrity(db)
    _no_half_applied(db)
    _verified(db)
    latencies = [x for s in summaries if s["role"] in ("creator", "changer") for x in s["latencies"]]
    reads = [x for s in summaries if s["role"] == "reader" for x in s["latencies"]]
    figures = {
        "processes": len(summaries),
        "seconds": result["seconds"],
        "writes": len(writes),
        "writes_per_s": len(writes) / result["seconds"],
        "write_p50_ms": _percentile(latencies, 50) * 1000,
        "write_p99_ms": _percentile(latencies, 99) * 1000,
        "write_max_ms": max(latencies, default=0) * 1000,
        "retries": sum(s["retries"] for s in summaries),
        "timer_actions": len(timers),
        "sweeps": sum(s["ops"] for s in summaries if s["role"] == "sweeper"),
        "queue_reads": len(reads),
        "read_p99_ms": _percentile(reads, 99) * 1000,
    }
    print(
        "\nsoak {seconds:.0f} s, {processes} processes: {writes} writes ({writes_per_s:.1f}/s), write latency p50 "
        "{write_p50_ms:.1f} ms p99 {write_p99_ms:.1f} ms max {write_max_ms:.0f} ms, retries {retries}, "
        "{sweeps} sweeps applied {timer_actions} timer actions, "
        "{queue_reads} queue reads (p99 {read_p99_ms:.1f} ms)".format(**figures)
    )
    return figures


def test_soak_short(request, tmp_path):
    if request.config.getoption("--run-slow"):
        pytest.skip("the long soak runs instead")
    figures = check_and_report(run_soak(tmp_path, _seconds(request)))
    assert figures["timer_actions"] > 0, "the sweepers never acted: the soak did not test them"


@pytest.mark.slow
def test_soak_long(request, tmp_path):
    figures = check_and_report(run_soak(tmp_path, max(60.0, _seconds(request))))
    assert figures["timer_actions"] > 0


# Hosts on one PostgreSQL server: 15 creators and 5 status changers (20 writers), 3 sweeps, a queue reader.
HOSTS = [
    *(("creator", f"c{n}") for n in range(15)),
    *(("changer", f"s{n}") for n in range(5)),
    *(("sweeper", f"w{n}") for n in range(3)),
    ("reader", "r1"),
]


@pytest.mark.slow
@pytest.mark.postgres_only
def test_postgres_soak_20_writers_and_3_sweeps(request, tmp_path, db_path):
    figures = check_and_report(run_soak(tmp_path, max(60.0, _seconds(request)), db=db_path, roles=HOSTS))
    assert figures["timer_actions"] > 0
