"""The rule that maps a sheet's status word ("Refund Initiated", "Pending", …) onto the nine statuses.

The rule, in order (the first that applies wins):

1. A blank cell is New, or Resolved when the row has a Resolution Date.
2. One of the nine statuses by its label or slug ("Waiting on Buyer", ``waiting-buyer``) is itself.
3. Otherwise the words decide, checked in this order:
   - Closed: closed, cancelled, rejected, denied, declined, withdrawn, archived, duplicate, spam, void.
   - Resolved: resolved, refunded, completed, complete, done, fixed, solved, settled, paid.
   - Waiting on Seller: waiting/awaiting/pending/on hold + seller, vendor, merchant, supplier, warehouse.
   - Waiting on Buyer: waiting/awaiting/pending/on hold/need + customer, buyer, client, user, info,
     reply, response, return.
   - Waiting on Us: customer replied, reopened, waiting on us/support/agent.
   - L2 in progress: escalated, escalation, specialist, tier 2, level 2, l2, dispute, chargeback, claim.
   - L1 in progress: in progress, processing, working, investigating, review, refund initiated,
     refund approved, approved, rma, replacement, return received, shipped, started.
   - To do next: open, pending, todo, to do, queued, received, submitted, triage, unassigned.
   - anything else is not guessed: the row is reported as bad (``--status-map WORD=STATUS`` names it).
4. A row with a Resolution Date whose word maps to an open status becomes Resolved: the date is the
   stronger fact (the GTB row "Refund Initiated … resolved 2023-11-02" is Resolved). Closed stays Closed.

The sheet's own word is kept verbatim in the ticket's import entry.
"""

from __future__ import annotations

import re

from tui_desk.domain.errors import DeskError
from tui_desk.domain.statuses import Status, parse_status

_WAIT = {"waiting", "awaiting", "pending", "hold", "need", "needs", "needed", "wait"}
_SELLER = {"seller", "vendor", "merchant", "supplier", "warehouse", "partner", "store", "shop"}
_BUYER = {"customer", "buyer", "client", "user", "info", "information", "reply", "response", "return", "feedback"}

_RULES: tuple[tuple[Status, object], ...] = (
    (
        Status.CLOSED,
        {
            "closed",
            "cancelled",
            "canceled",
            "rejected",
            "denied",
            "declined",
            "withdrawn",
            "archived",
            "duplicate",
            "spam",
            "void",
        },
    ),
    (Status.RESOLVED, {"resolved", "refunded", "completed", "complete", "done", "fixed", "solved", "settled", "paid"}),
    (Status.WAITING_SELLER, lambda w: bool(w & _WAIT and w & _SELLER)),
    (Status.WAITING_BUYER, lambda w: bool(w & _WAIT and w & _BUYER)),
    (
        Status.WAITING_US,
        lambda w: bool(
            {"replied", "reopened", "answered"} & w or (w & _WAIT and w & {"us", "support", "agent", "team"})
        ),
    ),
    (
        Status.L2,
        lambda w: bool(
            {"escalated", "escalation", "specialist", "l2", "dispute", "disputed", "chargeback", "claim"} & w
            or "tier 2" in _joined(w)
            or "level 2" in _joined(w)
        ),
    ),
    (
        Status.L1,
        lambda w: bool(
            {
                "processing",
                "working",
                "investigating",
                "investigation",
                "review",
                "reviewing",
                "initiated",
                "approved",
                "rma",
                "replacement",
                "shipped",
                "started",
                "l1",
                "progress",
            }
            & w
            or {"received"} <= w
            and "return" in w
        ),
    ),
    (
        Status.TODO,
        {"open", "pending", "todo", "queued", "received", "submitted", "triage", "unassigned", "new", "to", "do"},
    ),
)


def _joined(words: set[str]) -> str:
    return " ".join(sorted(words))


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-z0-9]+", text.lower()))


def sheet_status(
    word: str | None, *, has_resolution_date: bool = False, extra: dict[str, Status] | None = None
) -> Status:
    """The status a sheet's word stands for under the rule above; DeskError when no rule applies."""
    text = (word or "").strip()
    if not text:
        return Status.RESOLVED if has_resolution_date else Status.NEW
    status = _by_rule(text, extra or {})
    if has_resolution_date and status.is_open:
        return Status.RESOLVED
    return status


def _by_rule(text: str, extra: dict[str, Status]) -> Status:
    key = " ".join(text.lower().split())
    if key in extra:
        return extra[key]
    try:
        return parse_status(text)
    except DeskError:
        pass
    words = _words(text)
    for status, test in _RULES:
        if isinstance(test, set):
            if words & test:
                return status
        elif test(words):
            return status
    raise DeskError(f'unknown status {text!r} (add --status-map "{text}=STATUS")')
