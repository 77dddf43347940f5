"""Several ``tui-desk sweep`` processes over the same due tickets: every action happens exactly once."""

import json
import subprocess
from collections import Counter
from datetime import timedelta

import pytest
from conftest import NOW, TUI_DESK

from tui_desk.domain.statuses import Status
from tui_desk.store import Store
from tui_desk.store.models import LogEntry, OutboxMessage, TimerEvent
from tui_desk.store.verify import verify_store

pytestmark = pytest.mark.backends  # store, CLI, timer, concurrency and evidence tests: both backends

SWEEPERS = 4
TICKETS = 300  # enough that the sweeps overlap in time, not one finishing before the next starts


def sweep_in_parallel(cli, now) -> list[dict]:
    env = cli.env(TUI_DESK_NOW=now.isoformat())
    procs = [
        subprocess.Popen(
            [TUI_DESK, "--db", str(cli.db), "sweep", "--json"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for _ in range(SWEEPERS)
    ]
    results = []
    for p in procs:  # all started before any is awaited: they race for the same tickets
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        results.append(json.loads(out))
    return results


def test_parallel_sweeps_apply_each_action_exactly_once(db_path, clock, cli):
    store = Store(db_path, clock=clock, agent="ana")
    buyers, sellers, resolved = [], [], []
    for i in range(TICKETS):
        t = store.create_ticket(customer=f"Customer {i}", subject="Parcel", email=f"c{i}@example.com")
        target = (Status.WAITING_BUYER, Status.WAITING_SELLER, Status.RESOLVED)[i % 3]
        store.change_status(t.case_number, target, "Refund sent" if target is Status.RESOLVED else None)
        (buyers, sellers, resolved)[i % 3].append(t.case_number)
    store.close()

    # Day 7: every waiting ticket gets reminder 2 (1 skipped); every resolved ticket is closed.
    results = sweep_in_parallel(cli, NOW + timedelta(days=7))
    waiting = buyers + sellers
    assert sum(r["reminders"] for r in results) == len(waiting)
    assert sum(r["skipped"] for r in results) == len(waiting)
    assert sum(r["resolved_closed"] for r in results) == len(resolved)
    touched = Counter(n for r in results for n in r["touched"])
    assert set(touched) == set(waiting + resolved) and set(touched.values()) == {1}

    # Day 45: the waiting tickets close, again each exactly once, with no reminder burst.
    results = sweep_in_parallel(cli, NOW + timedelta(days=45))
    assert sum(r["auto_closed"] for r in results) == len(waiting)
    assert sum(r["reminders"] for r in results) == 0

    store = Store(db_path, clock=clock, agent="ana")
    with store.reading():
        events = Counter((e.ticket_id, e.action, e.slot, e.outcome) for e in TimerEvent.select())
        entries = Counter((e.ticket_id, e.kind, e.due_at) for e in LogEntry.select().where(LogEntry.kind != "status"))
        sent_by_timers = OutboxMessage.select().where(OutboxMessage.timer_event.is_null(False))
        messages = Counter(m.timer_event_id for m in sent_by_timers)
    assert set(events.values()) == {1} and set(entries.values()) == {1} and set(messages.values()) == {1}
    assert sum(1 for k in events if k[3] == "sent") == len(waiting)
    assert sum(1 for k in events if k[3] == "closed") == len(waiting) + len(resolved)
    assert len(messages) == 2 * len(waiting) + len(resolved)  # one reminder and one close notice each
    for number in waiting + resolved:
        assert store.get(number).status == Status.CLOSED.slug
    assert verify_store(store).ok
    store.close()
