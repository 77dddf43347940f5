"""The refund rules: currencies and amounts, milestones that only move forward, and when a refund is stuck.

A case may carry several refunds, numbered 1, 2, … (a second one once the first is refunded). Each
refund goes approved → initiated → refunded, every milestone with its date and its amount: the amount
approved, the amount sent to the payment provider, the amount that reached the customer. Less at a
later milestone than at an earlier one is a *partial* refund, recorded as such; a later milestone is
never more than an earlier one. A refund's currency is one ISO 4217 code, fixed once it is approved.

This is the one definition: the store's ``set_refund`` plans every change here (``plan_change``), the
console's refund form checks what is typed with it, the overdue panel and the queue's view ask
``stuck`` (their SQL form, ``store.queries.stuck_refund_condition``, is built from ``STUCK_STEPS`` and
``overdue.is_late``, so the two cannot drift apart).

A ticket-like object for ``current_refund`` and ``stuck`` has ``status``, ``refund_amount``,
``currency``, ``refund_approved_at``, ``refund_initiated_at`` and ``refunded_at``: the ticket's
current refund (its latest), as the ticket row keeps it. Earlier refunds live in their milestone
records (``Milestone`` rows, kept append-only by the store).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from iso4217 import Currency

from tui_desk.domain.clock import to_utc
from tui_desk.domain.dates import format_span, format_when
from tui_desk.domain.errors import DeskError
from tui_desk.domain.overdue import is_late
from tui_desk.domain.statuses import NOT_CLOSED_STATUSES, Status, status_of

MILESTONES = ("approved", "initiated", "refunded")
# The ticket column holding the current refund's date of each milestone.
DATE_FIELD = {"approved": "refund_approved_at", "initiated": "refund_initiated_at", "refunded": "refunded_at"}
SHORT = {"approved": "appr", "initiated": "init", "refunded": "refd"}  # the queue's narrow column
MAX_AMOUNT = Decimal("1000000000000")  # 12 digits before the point: the ticket's refund_amount column
MAX_DECIMALS = 2  # the ticket's column keeps cents; a currency with fewer minor units allows fewer
FUTURE_SLACK = timedelta(minutes=5)  # a milestone has happened: a few minutes of clock skew allowed
# Codes with no minor unit in the standard (gold, SDR, test and "no currency" codes) are no money to refund.
CURRENCY_DECIMALS: dict[str, int] = {c.code: c.exponent for c in Currency if c.exponent is not None}


class RefundError(DeskError):
    """A refund change refused; ``field`` names the field it is about (amount, currency, a milestone, refund)."""

    def __init__(self, field_name: str, message: str) -> None:
        self.field = field_name
        super().__init__(message)


def check_currency(text: str) -> str:
    """An ISO 4217 code (``eur`` → ``EUR``), else a one-line message naming the field."""
    code = text.strip().upper()
    if not (len(code) == 3 and code.isascii() and code.isalpha()):
        raise RefundError("currency", f"currency {text!r} must be a three-letter ISO 4217 code such as EUR")
    if code not in CURRENCY_DECIMALS:
        hint = f"; did you mean {_nearest(code)}?" if _nearest(code) else " (e.g. EUR, USD, GBP)"
        raise RefundError("currency", f"currency {code!r} is not an ISO 4217 currency code{hint}")
    return code


def _nearest(code: str) -> str | None:
    """The known code most like a mistyped one: letters in the same place count first (EUX: EUR, not UGX)."""
    alike = max(CURRENCY_DECIMALS, key=lambda c: (sum(a == b for a, b in zip(c, code, strict=True)), c == "EUR"))
    if sum(a == b for a, b in zip(alike, code, strict=True)) >= 2:
        return alike
    near = difflib.get_close_matches(code, list(CURRENCY_DECIMALS), n=1, cutoff=0.6)
    return near[0] if near else None


def check_amount(text: str, currency: str | None = None, *, round_cents: bool = False) -> Decimal:
    """A refund amount: a number, zero or more, with no more decimals than the currency (and the store) has.

    ``round_cents`` rounds extra decimals instead of refusing them (an imported sheet's ``12.345`` is
    taken as the spreadsheet shows it). The one amount rule: the command line, the console and imports.
    """
    try:
        value = Decimal(str(text).strip())
    except InvalidOperation:
        raise RefundError("amount", f"refund amount {text!r} is not a number") from None
    if not value.is_finite():
        raise RefundError("amount", f"refund amount {text!r} is not a number")
    if value < 0:
        raise RefundError("amount", f"refund amount {text!r} must be zero or more")
    if value >= MAX_AMOUNT:  # the column keeps 14 digits; more would be stored rounded, silently
        raise RefundError("amount", f"refund amount {text!r} is too large (at most {MAX_AMOUNT - Decimal('0.01')})")
    places = min(CURRENCY_DECIMALS.get(currency or "", MAX_DECIMALS), MAX_DECIMALS)
    step = Decimal(1).scaleb(-places)
    if round_cents:
        return value.quantize(step, rounding=ROUND_HALF_UP)
    if value != value.quantize(step):
        if places == 0:
            raise RefundError("amount", f"refund amount {text!r}: {currency} has no minor unit (whole amounts only)")
        if places < MAX_DECIMALS:
            raise RefundError("amount", f"refund amount {text!r} has more decimals than {currency} has ({places})")
        raise RefundError("amount", f"refund amount {text!r} has more than two decimals")
    return value.quantize(step)


def amount_text(amount: Decimal, currency: str | None) -> str:
    """``49.90`` (``1200`` in JPY): as many decimals as the currency has, at most the store's two."""
    places = min(CURRENCY_DECIMALS.get(currency or "", MAX_DECIMALS), MAX_DECIMALS)
    return f"{amount:.{places}f}"


def money(amount: Decimal | None, currency: str | None) -> str:
    """``49.90 EUR``; ``—`` for no amount."""
    if amount is None:
        return "—"
    return f"{amount_text(amount, currency)} {currency or ''}".strip()


@dataclass(frozen=True)
class Milestone:
    """One milestone of one refund: when, and the amount at that point."""

    name: str  # approved, initiated, refunded
    at: datetime
    amount: Decimal | None


@dataclass(frozen=True)
class Refund:
    """One refund of a case. ``amount`` is the amount noted before any milestone, or the latest milestone's."""

    number: int  # 1, 2, …; 0: none recorded yet
    currency: str | None = None
    amount: Decimal | None = None
    milestones: dict[str, Milestone] = field(default_factory=dict)

    @property
    def latest(self) -> Milestone | None:
        for name in reversed(MILESTONES):
            if name in self.milestones:
                return self.milestones[name]
        return None

    @property
    def next_milestone(self) -> str | None:
        return next((name for name in MILESTONES if name not in self.milestones), None)

    @property
    def done(self) -> bool:
        return "refunded" in self.milestones

    @property
    def partial(self) -> bool:
        """Less reached the customer (so far) than was approved."""
        approved, latest = self.milestones.get("approved"), self.latest
        return (
            approved is not None
            and latest is not None
            and approved.amount is not None
            and latest.amount is not None
            and latest.amount < approved.amount
        )

    @property
    def empty(self) -> bool:
        return not self.milestones and self.amount is None and self.currency is None

    def steps(self) -> list[tuple[str, datetime, str | None]]:
        """``[(name, at, "2 d" since the milestone before or None)]``, in milestone order."""
        out, before = [], None
        for name in MILESTONES:
            m = self.milestones.get(name)
            if m is None:
                continue
            out.append((name, m.at, format_span(m.at - before) if before is not None else None))
            before = m.at
        return out

    def describe(self) -> dict:
        """JSON-ready (``show --json``)."""
        return {
            "number": self.number,
            "currency": self.currency,
            "amount": None if self.amount is None else amount_text(self.amount, self.currency),
            "partial": self.partial,
            "milestones": {
                m.name: {"at": _iso(m.at), "amount": None if m.amount is None else amount_text(m.amount, self.currency)}
                for m in (self.milestones[n] for n in MILESTONES if n in self.milestones)
            },
        }


def _iso(at: datetime) -> str:
    return to_utc(at).strftime("%Y-%m-%dT%H:%M:%SZ")


def current_refund(ticket, number: int, recorded: list[Milestone]) -> Refund:
    """The ticket's current refund (number ``number``; 0: none yet) from its row and its recorded milestones.

    A milestone on the ticket row but not recorded (imported, or written before milestones were
    recorded one by one) counts with the row's amount.
    """
    by_name = {m.name: m for m in recorded}
    milestones = {}
    for name in MILESTONES:
        at = getattr(ticket, DATE_FIELD[name])
        if at is not None:
            milestones[name] = by_name.get(name) or Milestone(name, to_utc(at), ticket.refund_amount)
    refund = Refund(number, ticket.currency, ticket.refund_amount, milestones)
    if number == 0 and not refund.empty:
        refund = replace(refund, number=1)
    return refund


@dataclass(frozen=True)
class RefundChange:
    """What one recording does: the refund afterwards, the new milestones, and each change as (what, old, new)."""

    refund: Refund
    started: bool  # a new refund (its number is the next one)
    recorded: list[Milestone]
    changes: list[tuple[str, str | None, str]]
    carried_over: Refund | None = None  # the previous refund, when it ends here with unrecorded milestones


def plan_change(
    current: Refund,
    *,
    now: datetime,
    new: bool = False,
    amount: str | None = None,
    currency: str | None = None,
    dates: dict[str, datetime | None] | None = None,
) -> RefundChange:
    """Check a recording against the rules and work out what it changes; a ``RefundError`` names the field.

    ``new`` starts the next refund (the current one must be refunded). Milestones move forward only:
    each once, in order (refunded needs initiated needs approved), dated in order and not in the
    future. Amounts: given with milestones, each of them gets it; otherwise a milestone carries the
    amount before it. A later milestone's amount is at most the earlier's (less: partial).
    """
    dates = {name: to_utc(at) for name, at in (dates or {}).items() if at is not None}
    for name in dates:
        if name not in MILESTONES:
            raise ValueError(name)
    base = current
    carried = None
    if new:
        if current.number and not current.done:
            step = current.next_milestone
            raise RefundError(
                "refund",
                f"refund {current.number} is not refunded yet (next: {step}); record its milestones before "
                f"starting refund {current.number + 1}",
            )
        carried = current if current.number else None
        base = Refund(current.number + 1 if current.number else 1, currency=current.currency)
        if "approved" not in dates:  # its approval is what makes it a refund of its own (and numbers it)
            raise RefundError("approved", f"approved: refund {base.number} starts with its approval date")
    elif base.number == 0:
        base = Refund(1)
    code = base.currency
    if currency is not None and currency.strip():
        code = check_currency(currency)
        if code != base.currency and base.milestones:
            raise RefundError(
                "currency",
                f"currency: refund {base.number} was approved in {base.currency}; a refund in {code} is a new refund",
            )
    value = check_amount(amount, code) if amount is not None and amount.strip() else None
    if not dates and value is None and (code == base.currency or currency is None) and not new:
        raise RefundError("refund", "nothing to record: give an amount, a currency or a milestone date")
    if not dates and value is not None and base.milestones:
        raise RefundError(
            "amount",
            f"amount: refund {base.number} is already {base.latest.name}; its amount changes only with its next "
            f"milestone (or in a new refund)",
        )
    latest_at = now + FUTURE_SLACK
    milestones = dict(base.milestones)
    recorded: list[Milestone] = []
    previous = base.latest
    carried_amount = value if value is not None else (previous.amount if previous else base.amount)
    for name in MILESTONES:
        at = dates.get(name)
        if at is None:
            continue
        if name in milestones:
            raise RefundError(
                name,
                f"{name}: refund {base.number} was already {name} on {format_when(milestones[name].at)}; "
                "milestones only move forward",
            )
        index = MILESTONES.index(name)
        if index and MILESTONES[index - 1] not in milestones:
            raise RefundError(
                name, f"{name}: refund {base.number} cannot be {name} before it was {MILESTONES[index - 1]}"
            )
        if at > latest_at:
            raise RefundError(
                name, f"{name}: {format_when(at)} is in the future; a milestone is recorded once it happened"
            )
        if previous is not None and at < previous.at:
            raise RefundError(
                name,
                f"{name}: the refund cannot be {name} ({format_when(at)}) before it was {previous.name} "
                f"({format_when(previous.at)})",
            )
        if previous is not None and carried_amount is not None and previous.amount is not None:
            if carried_amount > previous.amount:
                raise RefundError(
                    "amount",
                    f"amount: {money(carried_amount, code)} {name} is more than the "
                    f"{money(previous.amount, code)} {previous.name}",
                )
        m = Milestone(name, at, carried_amount)
        milestones[name] = m
        recorded.append(m)
        previous = m
    after = Refund(base.number, code, carried_amount if carried_amount is not None else base.amount, milestones)
    changes: list[tuple[str, str | None, str]] = []
    if code != base.currency and not recorded:
        changes.append(("currency", base.currency, code or "—"))
    if value is not None and not recorded and value != base.amount:
        changes.append(("amount", money(base.amount, code) if base.amount is not None else None, money(value, code)))
    for m in recorded:
        text = f"{format_when(m.at)}, {money(m.amount, code)}"
        if m.name != "approved" and after.partial and m is recorded[-1]:
            text += f" of {money(after.milestones['approved'].amount, code)} approved (partial)"
        changes.append((m.name, None, text))
    if not changes and not new:
        raise RefundError("refund", f"nothing to record: refund {base.number} already says that")
    return RefundChange(after, new or current.number == 0, recorded, changes, carried)


# -- stuck refunds --------------------------------------------------------------------------


@dataclass(frozen=True)
class RefundPolicy:
    """``[refunds]`` in the config: how long a refund may wait at each milestone before it is stuck."""

    initiate_within: timedelta = timedelta(days=2)  # approved → initiated
    refund_within: timedelta = timedelta(days=5)  # initiated → refunded


@dataclass(frozen=True)
class StuckStep:
    """A refund waiting at ``since`` for ``next`` longer than the policy's ``within`` allows."""

    what: str  # the word the panel shows: what is due
    since: str  # the milestone it waits at
    next: str  # the milestone that would end the wait
    within: str  # the RefundPolicy attribute


STUCK_STEPS = (
    StuckStep("initiate", "approved", "initiated", "initiate_within"),
    StuckStep("refund", "initiated", "refunded", "refund_within"),
)
# A Closed case is final (nothing more can be recorded on it): its refund is no longer followed here.
FOLLOWED_STATUSES = NOT_CLOSED_STATUSES


@dataclass(frozen=True)
class Stuck:
    step: StuckStep
    since_at: datetime
    due_at: datetime


def stuck(ticket, now: datetime, policy: RefundPolicy) -> Stuck | None:
    """Whether the ticket's current refund is stuck at ``now``: waiting at a milestone past its allowance."""
    status = ticket.status if isinstance(ticket.status, Status) else status_of(ticket.status)
    if status not in FOLLOWED_STATUSES:
        return None
    for step in STUCK_STEPS:
        since = getattr(ticket, DATE_FIELD[step.since])
        if since is not None and getattr(ticket, DATE_FIELD[step.next]) is None:
            due = to_utc(since) + getattr(policy, step.within)
            return Stuck(step, to_utc(since), due) if is_late(due, now) else None
    return None
