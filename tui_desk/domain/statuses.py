"""The nine ticket statuses (DESIGN §3), who each waiting status waits on, and the allowed transitions."""

from __future__ import annotations

import enum

from tui_desk.domain.errors import DeskError


class Status(enum.Enum):
    NEW = "New"
    TODO = "To do next"
    L1 = "L1 in progress"
    L2 = "L2 in progress"
    WAITING_SELLER = "Waiting on Seller"
    WAITING_BUYER = "Waiting on Buyer"
    WAITING_US = "Waiting on Us"
    RESOLVED = "Resolved"
    CLOSED = "Closed"

    @property
    def label(self) -> str:
        return self.value

    @property
    def slug(self) -> str:
        return _SLUGS[self]

    @property
    def is_open(self) -> bool:
        return self not in (Status.RESOLVED, Status.CLOSED)

    @property
    def is_waiting_on_party(self) -> bool:
        return self in WAITED_ON_PARTY


_SLUGS = {
    Status.NEW: "new",
    Status.TODO: "todo",
    Status.L1: "l1",
    Status.L2: "l2",
    Status.WAITING_SELLER: "waiting-seller",
    Status.WAITING_BUYER: "waiting-buyer",
    Status.WAITING_US: "waiting-us",
    Status.RESOLVED: "resolved",
    Status.CLOSED: "closed",
}

_BY_SLUG = {slug: status for status, slug in _SLUGS.items()}

# Two named sets, because "open" is asked two ways. OPEN_STATUSES: work is owed (every status but
# Resolved and Closed) -- the SLA, follow-ups and idle tickets count only here. NOT_CLOSED_STATUSES:
# every status but Closed -- what the queue's own views show, since a Resolved ticket can still be
# reopened for 7 days and an agent should still see it.
OPEN_STATUSES = tuple(s for s in Status if s.is_open)
NOT_CLOSED_STATUSES = tuple(s for s in Status if s is not Status.CLOSED)
WAITING_ON_PARTY_STATUSES = (Status.WAITING_SELLER, Status.WAITING_BUYER)


def status_of(slug: str) -> Status:
    """The status a stored slug names."""
    return _BY_SLUG[slug]


# The party a waiting status waits on, and the sender roles that count as that party's answer
# ("add someone else from the Seller's team to the loop": a partner speaks for the seller's side).
WAITED_ON_PARTY = {Status.WAITING_BUYER: "buyer", Status.WAITING_SELLER: "seller"}
PARTY_SENDERS = {"buyer": frozenset({"buyer"}), "seller": frozenset({"seller", "partner"})}
CUSTOMER_SENDERS = frozenset({"buyer"})

_WORKING = (
    Status.TODO,
    Status.L1,
    Status.L2,
    Status.WAITING_SELLER,
    Status.WAITING_BUYER,
    Status.WAITING_US,
)

# Allowed transitions. New is only ever the first status; Closed is final; a Resolved ticket
# can be reopened to active work while the customer may still disagree.
TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.NEW: frozenset((*_WORKING, Status.RESOLVED, Status.CLOSED)),
    **{s: frozenset((*(w for w in _WORKING if w is not s), Status.RESOLVED, Status.CLOSED)) for s in _WORKING},
    Status.RESOLVED: frozenset((Status.WAITING_US, Status.L1, Status.L2, Status.CLOSED)),
    Status.CLOSED: frozenset(),
}

# Statuses that cannot be entered by hand without a note, and what the note is called.
NOTE_REQUIRED = {Status.RESOLVED: "a resolution note", Status.CLOSED: "a final summary note"}

_ALIASES = {
    "todo": Status.TODO,
    "to-do-next": Status.TODO,
    "to-do": Status.TODO,
    "l1-in-progress": Status.L1,
    "l2-in-progress": Status.L2,
    "waiting-on-seller": Status.WAITING_SELLER,
    "waiting-on-buyer": Status.WAITING_BUYER,
    "waiting-on-us": Status.WAITING_US,
    "waiting-on-tgx": Status.WAITING_US,
}


def _normal(text: str) -> str:
    return "-".join(text.strip().lower().replace("_", " ").split())


def parse_status(text: str) -> Status:
    """A status from its label ("Waiting on Buyer"), its slug (``waiting-buyer``) or a close variant."""
    key = _normal(text)
    for status in Status:
        if key in (_normal(status.label), status.slug, status.name.lower().replace("_", "-")):
            return status
    if key in _ALIASES:
        return _ALIASES[key]
    choices = ", ".join(s.slug for s in Status)
    raise DeskError(f"unknown status {text.strip()!r} (one of: {choices})")


def check_transition(current: Status, target: Status, note: str | None, *, by_system: bool = False) -> None:
    """Refuse a transition the rules forbid, or one that needs a note given without one."""
    if current is Status.CLOSED:
        raise DeskError("the ticket is Closed, which is final; open a new ticket that references it")
    if target is current:
        raise DeskError(f"the ticket is already {current.label}")
    if target not in TRANSITIONS[current]:
        raise DeskError(f"cannot move a ticket from {current.label} to {target.label}")
    if not by_system and target in NOTE_REQUIRED and not (note and note.strip()):
        raise DeskError(f"moving to {target.label} needs {NOTE_REQUIRED[target]} (--note)")


def status_after_inbound(current: Status, sender: str) -> Status | None:
    """The status an inbound message from ``sender`` moves a ticket to, or None if it stays."""
    if current in WAITED_ON_PARTY and sender in PARTY_SENDERS[WAITED_ON_PARTY[current]]:
        return Status.WAITING_US
    if current is Status.RESOLVED and sender in CUSTOMER_SENDERS:
        return Status.WAITING_US
    return None
