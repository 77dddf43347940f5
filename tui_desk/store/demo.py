"""A realistic demo store: every kind, status and channel, with histories, built fast by bulk inserts.

The rows are written with the same hash chain, case-number format and timer schedule as the store's
operations use, so the demo behaves exactly like a real store (the timers fire, ``verify`` passes).
"""

from __future__ import annotations

import contextlib
import json
import random
import shutil
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import platformdirs

from tui_desk.config import APP_NAME, Config
from tui_desk.domain import log_texts, sla, timers
from tui_desk.domain.case_numbers import format_case_number
from tui_desk.domain.clock import Clock, SystemClock, to_utc
from tui_desk.domain.errors import DeskError
from tui_desk.domain.statuses import Status
from tui_desk.store import log, schema
from tui_desk.store.backend import PostgresUrl, is_postgres
from tui_desk.store.models import Meta, Ticket

AGENTS = ("ana", "ben", "chloe", "dev", "emil", "farah")
FIRST = (
    "Maria",
    "John",
    "Aiko",
    "Lucas",
    "Priya",
    "Omar",
    "Sofia",
    "Chen",
    "Fatima",
    "Jonas",
    "Elena",
    "Kwame",
    "Noah",
    "Amara",
    "Mateo",
    "Yuki",
    "Leila",
    "Ivan",
    "Grace",
    "Tomás",
)
LAST = (
    "Garcia",
    "Smith",
    "Tanaka",
    "Silva",
    "Patel",
    "Haddad",
    "Rossi",
    "Wei",
    "Okafor",
    "Berg",
    "Novak",
    "Mensah",
    "Keller",
    "Dubois",
    "Kim",
    "Larsen",
    "Moreau",
    "Costa",
    "Nguyen",
    "Schmidt",
)
REFUND_REASONS = {
    "defective item": ("Defective item return", "Blender stopped working after two days", "Screen has dead pixels"),
    "not delivered": ("Parcel never arrived", "Tracking stuck for 3 weeks", "Order marked delivered but not received"),
    "wrong size": ("Shoes one size too small", "Jacket size does not match chart", "Wrong size sent"),
    "damaged in transit": ("Box crushed on arrival", "Glass vase arrived broken", "Damaged shipment"),
    "not as described": ("Colour differs from photos", "Material is not leather", "Item not as described"),
    "duplicate charge": ("Charged twice for one order", "Double payment on card", "Duplicate charge"),
}
SUPPORT_TOPICS = {
    "account": ("Cannot log in to my account", "Password reset mail never comes", "Change account email"),
    "shipping": ("How long does shipping to Norway take?", "Change delivery address", "Customs fees question"),
    "payment": ("Payment declined at checkout", "Invoice needed for my company", "Coupon code not accepted"),
    "product question": (
        "Is this charger compatible with EU plugs?",
        "Warranty period for headphones",
        "Spare parts for coffee machine",
    ),
}
TAGS = (
    "billing-dispute",
    "damaged-shipment",
    "refund-delayed",
    "vip",
    "repeat-customer",
    "escalated-social",
    "rma-issued",
    "fraud-check",
)
INBOUND = (
    ("Customer provided video proof", "Here is the video showing the problem. Please check the attachment."),
    ("Customer asked for an update", "Hi, any news on my case? It has been a while."),
    ("Customer sent photos of the damage", "Photos attached: box and item."),
    ("Customer disagrees with the offer", "A voucher does not help me, I want my money back."),
    ("Customer confirmed the return shipment", "I dropped the parcel at the post office today."),
)
OUTBOUND = (
    ("Asked customer for photos", "Could you send us photos of the item and the packaging?"),
    ("Support approved RMA", "Your return is approved. The RMA label is attached."),
    ("Explained refund timeline", "Refunds reach your card within 5-7 business days after approval."),
    ("Offered replacement or refund", "We can send a replacement or refund you in full. Which do you prefer?"),
    ("Confirmed receipt of return", "We received your return and started the refund."),
)
SELLER = (
    ("Seller confirmed stock issue", "We shipped the wrong variant, sorry. Please refund."),
    ("Seller disputes damage claim", "Our packaging was intact at handover to the carrier."),
)
NOTES = (
    ("Checked carrier tracking", "Carrier shows the parcel held at the depot since last week."),
    ("Escalation to product team", "Firmware issue suspected, asked L2 to look."),
    ("Fraud screening passed", "Order history looks normal."),
)
CHANNELS_IN = ("email", "email", "chat", "phone", "social")
STATUS_MIX = (
    (Status.NEW, 5),
    (Status.TODO, 8),
    (Status.L1, 15),
    (Status.L2, 6),
    (Status.WAITING_SELLER, 7),
    (Status.WAITING_BUYER, 12),
    (Status.WAITING_US, 8),
    (Status.RESOLVED, 10),
    (Status.CLOSED, 29),
)


_STATUSES = [s for s, _ in STATUS_MIX]
_WEIGHTS = [w for _, w in STATUS_MIX]


def _age(final: Status, rng: random.Random) -> timedelta:
    """How long ago a ticket opened: finished ones over four months, open ones mostly this week."""
    if final is Status.CLOSED:
        return timedelta(minutes=rng.randint(9 * 24 * 60, 120 * 24 * 60))
    if final is Status.RESOLVED:
        return timedelta(minutes=rng.randint(12 * 60, 12 * 24 * 60))
    if final is Status.NEW:
        return timedelta(minutes=rng.uniform(5, 36 * 60))
    if final.is_waiting_on_party and rng.random() < 0.1:
        return timedelta(days=rng.uniform(31, 45))  # waiting for weeks: about to auto-close
    # Open work: most of it from the last few days, a tail of older cases that slipped.
    return timedelta(minutes=min(rng.expovariate(1 / (1.5 * 24 * 60)) + 60, 40 * 24 * 60))


def demo_path() -> Path:
    folder = Path(platformdirs.user_data_dir(APP_NAME))
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    return folder / "demo.db"


_stamp = log.stamp  # the store's text form of an instant, as the log writer stamps it


def _value(value):
    return _stamp(value) if isinstance(value, datetime) else value


def _remove_store(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    shutil.rmtree(str(path) + ".files", ignore_errors=True)


def build_demo(
    path: Path,
    *,
    tickets: int = 2000,
    seed: int = 7,
    clock: Clock | None = None,
    config: Config | None = None,
    fresh: bool = False,
    progress: bool = True,
) -> Path:
    """Build (or reuse, if one with the same settings exists) a demo store at ``path`` (a file, or an empty
    PostgreSQL database: ``build_demo_in``)."""
    from tui_desk.store import Store

    config = config or Config()
    clock = clock or SystemClock()
    marker = f"{tickets}:{seed}"
    if is_postgres(path):
        return build_demo_in(
            path, marker, tickets=tickets, seed=seed, clock=clock, config=config, fresh=fresh, progress=progress
        )
    if path.exists() and path.stat().st_size > 0:
        existing = _demo_marker(path, config, clock)
        if existing is None:
            raise DeskError(f"{path} is not a demo store; demo never overwrites a store (pick another --db)")
        if existing == marker and not fresh:
            return path
    _remove_store(path)
    store = Store(path, config=config, clock=clock, agent="demo")
    _fill(store, tickets, seed, marker, progress)
    store.close()
    return path


def build_demo_in(
    location: PostgresUrl,
    marker: str,
    *,
    tickets: int,
    seed: int,
    clock: Clock,
    config: Config,
    fresh: bool,
    progress: bool,
) -> PostgresUrl:
    """The demo in a PostgreSQL database: seeded when it holds no tickets, reused when it holds this very
    demo. Tickets there are never deleted (the server's guards refuse it), so a database holding other
    tickets, or a demo of other settings (or ``--fresh``), is refused: the demo wants a new, empty database."""
    from tui_desk.store import Store

    store = Store(location, config=config, clock=clock, agent="demo")
    try:
        with store.reading():
            held = Ticket.select().count()
            row = Meta.get_or_none(Meta.key == "demo")
        if held:
            existing = row.value if row is not None else None
            if existing is None:
                raise DeskError(
                    f"the store {location} holds {held} tickets and is not a demo store; demo never writes "
                    "into a store with tickets (give it a new, empty database)"
                )
            if existing != marker or fresh:
                built = _settings(existing)
                raise DeskError(
                    f"the store {location} holds a demo built with {built}; PostgreSQL never deletes tickets, "
                    "so demo cannot rebuild it there: give it a new, empty database (or the same settings)"
                )
            return location
        _fill(store, tickets, seed, marker, progress)
    finally:
        store.close()
    return location


def _settings(marker: str) -> str:
    count, _, seed = marker.partition(":")
    return f"--tickets {count} --seed {seed}" if seed else repr(marker)


def _demo_marker(path: Path, config: Config, clock: Clock) -> str | None:
    """The settings a demo store was built with, or None when ``path`` is not a demo store."""
    from tui_desk.store import Store

    try:
        store = Store(path, config=config, clock=clock, agent="demo", read_only=True)
        with store.reading():
            row = Meta.get_or_none(Meta.key == "demo")
        store.close()
    except DeskError:
        return None
    return row.value if row is not None else None


BATCH = 2000


def _fill(store, count: int, seed: int, marker: str, progress: bool) -> None:
    now = to_utc(store.clock.now())
    config = store.config
    rng = random.Random(seed)
    # Plan every ticket's kind, open time and case number up front (sequences run across batches),
    # then generate the histories in batches on other cores while this process inserts.
    sequences: dict[tuple[str, int], int] = {}
    plan = []
    for tid in range(1, count + 1):
        kind = "refund" if rng.random() < 0.6 else "support"
        final = rng.choices(_STATUSES, _WEIGHTS)[0]
        opened = now - _age(final, rng)
        code = config.kinds.get(kind, next(iter(config.kinds.values())))
        key = (code, opened.year)
        sequences[key] = sequences.get(key, 0) + 1
        number = format_case_number(config.prefix, code, opened.year, sequences[key])
        plan.append((tid, kind, final, opened, number))
    batches = [(plan[i : i + BATCH], f"{seed}:{i}", now, config) for i in range(0, count, BATCH)]
    db, backend = store.db, store.backend
    backend.bulk_speed(db)  # demo data can be rebuilt: trade durability for speed while building it
    bar = _progress(progress, count)
    done = 0
    entry_offset = 0
    with store.writing(), backend.bulk_ids(db), backend.bulk_load(db) as load:
        if not Ticket.select().exists():
            load.defer_indexes("ticket")  # a new store: its indexes are made once, at the end
        with contextlib.ExitStack() as stack:
            if len(batches) > 1:
                pool = stack.enter_context(ProcessPoolExecutor(max_workers=2))
                results = pool.map(_generate, batches)
            else:
                results = map(_generate, batches)
            for ticket_rows, entry_rows, tag_rows, change_rows, outbox_rows, event_rows in results:
                columns = list(ticket_rows[0])
                quoted = ", ".join(f'"{c}"' for c in columns)
                sql = f"INSERT INTO ticket({quoted}) VALUES ({', '.join('?' * len(columns))})"
                backend.run_many(db, sql, [[_value(r[c]) for c in columns] for r in ticket_rows])
                log.insert_rows(db, entry_rows, id_offset=entry_offset)
                backend.run_many(db, "INSERT INTO ticket_tag(ticket_id, name) VALUES (?, ?)", tag_rows)
                backend.run_many(db, _CHANGE_SQL, [(r[0], r[1] + entry_offset, *r[2:]) for r in change_rows])
                backend.run_many(db, _OUTBOX_SQL, outbox_rows)
                backend.run_many(db, _EVENT_SQL, [(*r[:-1], r[-1] + entry_offset) for r in event_rows])
                entry_offset += len(entry_rows)
                done += len(ticket_rows)
                bar(len_done=done)
        for (code, year), last in sequences.items():
            backend.run(
                db,
                "INSERT INTO case_sequence(prefix, kind_code, year, last) VALUES (?, ?, ?, ?)",
                (config.prefix, code, year, last),
            )
        schema.set_meta("demo", marker)
        schema.set_meta("demo_info", json.dumps({"tickets": count}))
    bar(close=True)


def _generate(batch):
    """The rows of one batch of tickets: their fields, histories, tags, status changes and outbox."""
    plan, seed, now, config = batch
    rng = random.Random(seed)
    rows = _Rows(log.LogBatch(first_id=1))
    for tid, kind, final, opened, number in plan:
        _history(rows, rng, now, config, tid, kind, final, opened, number)
    return rows.tickets, rows.entries.rows, rows.tags, rows.changes, rows.outbox, rows.events


@dataclass
class _Rows:
    """What a batch of demo tickets writes, table by table."""

    entries: log.LogBatch
    tickets: list = field(default_factory=list)
    tags: list = field(default_factory=list)
    changes: list = field(default_factory=list)
    outbox: list = field(default_factory=list)
    events: list = field(default_factory=list)


def _history(rows: _Rows, rng: random.Random, now: datetime, config: Config, tid, kind, final, opened, number) -> None:
    """One ticket's fields and history, from its open time to its final status."""
    policy = config.timers
    entries = rows.entries
    ticket_rows, tag_rows, change_rows, outbox_rows, event_rows = (
        rows.tickets,
        rows.tags,
        rows.changes,
        rows.outbox,
        rows.events,
    )
    customer = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
    email = customer.lower().replace(" ", ".").replace("á", "a") + "@example.com"
    if kind == "refund":
        reason = rng.choice(list(REFUND_REASONS))
        subject = rng.choice(REFUND_REASONS[reason])
    else:
        reason = rng.choice(list(SUPPORT_TOPICS))
        subject = rng.choice(SUPPORT_TOPICS[reason])
    description = f"{subject}. Order placed {opened:%Y-%m-%d}; please help."
    priority = rng.choices(("low", "normal", "high", "urgent"), (2, 6, 2, 0.6))[0]
    assignee = None if final in (Status.NEW, Status.TODO) and rng.random() < 0.7 else rng.choice(AGENTS)
    t = {
        "first_response_at": None,
        "follow_up_at": None,
        "resolved_at": None,
        "closed_at": None,
        "period_started_at": None,
        "reminders_done": 0,
        "timer_due_at": None,
        "refund_amount": None,
        "currency": None,
        "refund_approved_at": None,
        "refund_initiated_at": None,
        "refunded_at": None,
    }
    chain = log.Chain(tid, log_head=log.genesis(tid, number))

    def add(at, kind_, channel, direction, sender, summary, body="", agent=None, name="", due=None):
        entry = log.NewEntry(
            kind=kind_,
            channel=channel,
            direction=direction,
            sender=sender,
            summary=summary,
            agent=agent or "system",
            at=at,
            body=body,
            sender_name=name,
            due_at=due,
        )
        return entries.add(chain, entry)

    clocks = sla.opened(opened, priority, config.sla)
    ack = log_texts.acknowledgement(customer, number, subject, description)
    ack_id = entries.add(
        chain,
        log.system_entry("acknowledgement", ack.summary, at=opened, body=ack.body, direction="out", agent="intake"),
    )
    change_rows.append((tid, ack_id, _stamp(opened), None, Status.NEW.slug, "intake", ""))
    outbox_rows.append((tid, "buyer", email, number, ack.mail_subject, ack.body, _stamp(opened), _stamp(opened)))
    # When the work ends: resolution within days of opening; a close 7 days after resolving.
    resolved_plan = closed_plan = None
    if final is Status.CLOSED:
        resolved_plan = opened + timedelta(hours=rng.uniform(3, 6 * 24))
        closed_plan = min(resolved_plan + timedelta(days=7, hours=rng.uniform(0, 36)), now - timedelta(minutes=10))
    elif final is Status.RESOLVED:
        resolved_plan = opened + (now - opened) * rng.uniform(0.4, 0.9)
        resolved_plan = min(
            max(resolved_plan, now - timedelta(days=7) + timedelta(hours=1)), now - timedelta(minutes=10)
        )
    work_end = resolved_plan or now
    span = (work_end - opened).total_seconds()
    steps = rng.randint(0, 6) if final is not Status.NEW else 0
    t_at = opened
    current = Status.NEW
    who = assignee or rng.choice(AGENTS)

    def move(to: Status, at: datetime, note: str = "") -> None:
        nonlocal current, clocks
        clocks = sla.status_changed(
            clocks,
            old=current,
            new=to,
            now=at,
            opened_at=opened,
            priority=priority,
            responded_at=t["first_response_at"],
            policy=config.sla,
        )
        eid = entries.add(
            chain, log.system_entry("status", log_texts.status_change(current, to), at=at, body=note, agent=who)
        )
        change_rows.append((tid, eid, _stamp(at), current.slug, to.slug, who, note))
        current = to

    # Most worked tickets got a first reply within hours (the SLA's first-response clock).
    if final not in (Status.NEW, Status.TODO) and rng.random() < 0.92:
        first = opened + timedelta(minutes=rng.uniform(10, 300))
        if first < now - timedelta(minutes=10):
            add(
                first,
                "message",
                "email",
                "out",
                "agent",
                "First reply: we are looking into it",
                f"Hello {customer}, thank you for your message about {subject.lower()}. We are on it.",
                agent=who,
            )
            t["first_response_at"] = first
            clocks = sla.responded(clocks, first)
            t_at = first
    # The timeline before the final status: messages both ways, notes, a status change or two.
    for i in range(steps):
        t_at = t_at + timedelta(seconds=rng.uniform(0.02, 0.12) * span)
        if t_at >= work_end - timedelta(minutes=5):
            break
        roll = rng.random()
        if roll < 0.4:
            summary, body = rng.choice(OUTBOUND)
            add(t_at, "message", rng.choice(("email", "chat")), "out", "agent", summary, body, agent=who)
            if t["first_response_at"] is None:
                t["first_response_at"] = t_at
                clocks = sla.responded(clocks, t_at)
        elif roll < 0.75:
            summary, body = rng.choice(INBOUND)
            add(t_at, "message", rng.choice(CHANNELS_IN), "in", "buyer", summary, body, agent=who, name=customer)
        elif roll < 0.87:
            summary, body = rng.choice(SELLER)
            add(t_at, "message", "email", "in", "seller", summary, body, agent=who, name="Shop support")
        else:
            summary, body = rng.choice(NOTES)
            add(t_at, "note", "note", "internal", "agent", summary, body, agent=who)
        if i == 0 and final not in (Status.NEW,) and current is Status.NEW:
            move(Status.TODO if final is Status.TODO else Status.L1, t_at + timedelta(minutes=1))
    # Enter the final status, recently enough for the timers to make sense.
    if final is not current and final is not Status.NEW:
        late_waiting = final.is_waiting_on_party and (now - opened).days >= 31
        if late_waiting:  # the party has been silent for four weeks: closes within days
            ago = timedelta(hours=rng.uniform(24 * 26.5, 24 * 29.9))
        elif final.is_waiting_on_party:
            ago = timedelta(hours=rng.uniform(1, 24 * (3.3 if rng.random() < 0.85 else 8.5)))
        elif final in (Status.RESOLVED, Status.CLOSED):
            ago = now - (closed_plan or resolved_plan)
        else:
            ago = timedelta(hours=rng.uniform(0.2, 72))
        enter = max(t_at + timedelta(minutes=2), min(now - ago, now - timedelta(minutes=1)))
        if enter >= now:
            enter = now - timedelta(seconds=30)
        note = ""
        if final is Status.RESOLVED:
            note = "Refund approved and sent; customer informed." if kind == "refund" else "Answered."
        elif final is Status.CLOSED:
            note = "Final summary: resolved to the customer's satisfaction; no further action."
        if final in (Status.WAITING_BUYER, Status.WAITING_SELLER):
            party = "buyer" if final is Status.WAITING_BUYER else "seller"
            asked = enter - timedelta(seconds=20)
            add(
                asked,
                "message",
                "email",
                "out",
                "agent",
                f"Asked the {party} for more information",
                "Could you tell us more?",
                agent=who,
            )
            if t["first_response_at"] is None:
                t["first_response_at"] = asked
                clocks = sla.responded(clocks, asked)
        if final is Status.CLOSED and rng.random() < 0.8:
            # Most closed cases were resolved first, then closed by hand after the 7 days.
            resolved = max(t_at + timedelta(minutes=1), resolved_plan)
            move(Status.RESOLVED, resolved, "Resolution sent to the customer.")
            t["resolved_at"] = resolved
            enter = max(enter, resolved + timedelta(minutes=1))
        move(final, enter, note)
        t_at = enter
        if final is Status.RESOLVED:
            t["resolved_at"] = enter
        if final is Status.CLOSED:
            t["closed_at"] = enter
        if final.is_waiting_on_party or final is Status.RESOLVED:
            t["period_started_at"] = enter
            if late_waiting:
                party = "buyer" if final is Status.WAITING_BUYER else "seller"
                for slot in range(1, policy.max_reminders + 1):
                    due = enter + policy.reminder_interval * slot
                    sent = due + timedelta(seconds=rng.uniform(1, 50))
                    texts = log_texts.timer_action(
                        "reminder",
                        slot=slot,
                        party=party,
                        case_number=number,
                        subject=subject,
                        period_started_at=enter,
                        due_at=due,
                        now=sent,
                        policy=policy,
                        templates=config.templates,
                    )
                    reminder = log.system_entry(
                        "reminder", texts.summary, at=sent, body=texts.body, direction="out", agent="system"
                    )
                    reminder.due_at = due
                    eid = entries.add(chain, reminder)
                    event_rows.append((tid, "reminder", _stamp(enter), slot, _stamp(due), _stamp(sent), "sent", eid))
                    outbox_rows.append(
                        (
                            tid,
                            party,
                            email if party == "buyer" else None,
                            number,
                            texts.mail_subject,
                            texts.body,
                            _stamp(sent),
                            _stamp(sent),
                        )
                    )
                t["reminders_done"] = policy.max_reminders
            t["timer_due_at"] = timers.next_due(final, enter, t["reminders_done"], policy)
    if final.is_open and rng.random() < 0.25:
        t["follow_up_at"] = now + timedelta(hours=rng.uniform(-48, 96))
    if kind == "refund" and final in (Status.RESOLVED, Status.CLOSED, Status.L2, Status.WAITING_US):
        t["refund_amount"] = f"{rng.uniform(5, 400):.2f}"
        t["currency"] = rng.choice(("EUR", "USD", "GBP"))
        t["refund_approved_at"] = opened + timedelta(hours=rng.uniform(1, 72))
        if final in (Status.RESOLVED, Status.CLOSED):
            t["refund_initiated_at"] = t["refund_approved_at"] + timedelta(hours=rng.uniform(1, 96))
            t["refunded_at"] = t["refund_initiated_at"] + timedelta(hours=rng.uniform(24, 200))
    if t["follow_up_at"] is not None:
        entries.amend_last(follow_up_at=t["follow_up_at"])  # the promise lives on the last entry
    for tag in rng.sample(TAGS, k=rng.choices((0, 1, 2), (5, 3, 1))[0]):
        tag_rows.append((tid, tag))
    row = {
        "id": tid,
        "case_number": number,
        "kind": kind,
        "customer": customer,
        "email": email,
        "order_id": f"ORD-{rng.randint(100000, 999999)}",
        "subject": subject,
        "description": description,
        "reason": reason,
        "priority": priority,
        "status": current.slug,
        "assignee": assignee,
        "created_by": "intake",
        "opened_at": opened,
        "last_action_at": chain.last_action_at,
        "status_changed_at": t_at if current is not Status.NEW else opened,
        "log_count": chain.log_count,
        "log_head": chain.log_head,
        "version": chain.version,
        **t,
    }
    for name in sla.FIELDS:
        row[f"sla_{name}"] = getattr(clocks, name)
    ticket_rows.append(row)


def _progress(enabled: bool, total: int):
    """A Rich progress bar on stderr (nothing when not a terminal or not wanted)."""
    import sys

    if not enabled or not sys.stderr.isatty():
        return lambda **_: None
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    prog = Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=True,
    )
    prog.start()
    task = prog.add_task("Building demo store", total=total)

    def update(len_done: int | None = None, close: bool = False) -> None:
        if len_done is not None:
            prog.update(task, completed=len_done)
        if close:
            prog.stop()

    return update


_CHANGE_SQL = (
    "INSERT INTO status_change(ticket_id, entry_id, at, from_status, to_status, agent, note) "
    "VALUES (?, ?, ?, ?, ?, ?, ?)"
)
_EVENT_SQL = (
    "INSERT INTO timer_event(ticket_id, action, period_started_at, slot, due_at, applied_at, outcome, entry_id) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)
_OUTBOX_SQL = (
    "INSERT INTO outbox_message(ticket_id, recipient, address, case_number, subject, body, created_at, sent_at) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)
