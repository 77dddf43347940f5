"""Several real processes writing one store at once: case numbers stay distinct, nothing is lost."""

import subprocess
import sys
import textwrap

import pytest

from tests.conftest import TUI_DESK
from tui_desk.store import TicketFilter

pytestmark = pytest.mark.backends  # store, CLI, timer, concurrency and evidence tests: both backends

WRITER = textwrap.dedent(
    """
    import sys, time
    from tui_desk.store import Store
    path, name, count, start = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    store = Store(path, agent=name)
    while time.time() < start:
        time.sleep(0.001)
    for i in range(count):
        t = store.create_ticket(customer=f"{name}-{i}", subject="race", kind="refund" if i % 2 else "support")
        store.add_entry(t.case_number, channel="email", summary=f"{name} entry {i}")
        print(t.case_number, flush=True)
    """
)


def test_processes_creating_at_once_get_distinct_case_numbers(db_path, store):
    import time

    start = time.time() + 1.5
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(db_path), f"w{n}", "25", str(start)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(5)
    ]
    acknowledged = []
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        acknowledged += out.split()
    assert len(acknowledged) == 125 == len(set(acknowledged))
    stored = {t.case_number for t in store.list_tickets(TicketFilter())}
    assert stored == set(acknowledged)
    for number in acknowledged:
        assert store.get(number).log_count == 2


def test_cli_processes_at_once(db_path, cli):
    cli.ok("list")  # create the store first
    procs = [
        subprocess.Popen(
            [TUI_DESK, "--db", str(db_path), "new", "--customer", f"c{n}", "--subject", "race"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=cli.env(),
        )
        for n in range(8)
    ]
    numbers = []
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        numbers.append(out.strip())
    assert len(set(numbers)) == 8
    assert sorted(numbers) == [f"TD-REF-2026-{n:05d}" for n in range(1, 9)]
