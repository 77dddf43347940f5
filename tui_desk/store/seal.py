"""The store-wide seal: one running SHA-256 over every evidence row in insertion order, kept outside the store.

Each ticket's chain proves its own entries were not edited, but not that the chain was not cut short
(with the ticket's count and head set to match), moved to another ticket, or given another case
number. The seal closes that: a running digest over every log entry in id order,

    seal(n) = SHA-256 of [seal(n-1), ticket id, case number, entry seq, entry digest]

and likewise over the status changes and timer actions (every column, in id order). The entry
digests already cover each entry's content and the entry before it, so the running digest covers
every entry of every case, which ticket holds it, under which case number, and in which order. A
seal file records how far it went (the highest id and the number of rows per table), the digests,
checkpoints every ``CHECKPOINT`` entries (to say where a difference starts), when it was made and the
store's identity. Rows written later have higher ids and only extend it: ``check`` recomputes the
digests over rows with ids up to the seal's and compares.

Nothing in how rows are written changes; computing a seal reads the store once, in one snapshot.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from dataclasses import dataclass, field
from datetime import datetime

FORMAT = "tui-desk-seal/1"
CHECKPOINT = 4096
# The other evidence tables folded into the seal, each by every column, in id order.
_ROW_TABLES = {
    "status_change": "SELECT id, ticket_id, entry_id, at, from_status, to_status, agent, note FROM status_change",
    "timer_event": (
        "SELECT id, ticket_id, action, period_started_at, slot, due_at, applied_at, outcome, entry_id FROM timer_event"
    ),
}
_ENTRIES = (
    "SELECT e.id, e.ticket_id, t.case_number, e.seq, e.digest FROM log_entry e LEFT JOIN ticket t ON t.id = e.ticket_id"
)
_FETCH = 20_000


class SealError(ValueError):
    """A seal file that cannot be read as one."""


def _plain(value: object) -> object:
    # Damaged cells (BLOBs, invalid UTF-8) still hash, as their bytes: a seal never aborts on them.
    if isinstance(value, bytes):
        return {"bytes": value.hex()}
    if isinstance(value, str) and _has_surrogates(value):
        return {"bytes": value.encode("utf-8", "surrogateescape").hex()}
    return value


def _has_surrogates(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def step(previous: str, values: list) -> str:
    """The running digest after one more row: SHA-256 hex of ``[previous, *values]`` as compact JSON."""
    document = json.dumps([previous, *map(_plain, values)], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(document.encode("utf-8")).hexdigest()


@dataclass
class Running:
    """A running digest over one table: how far (highest id), how many rows, the digest, checkpoints."""

    last_id: int = 0
    rows: int = 0
    digest: str = ""
    checkpoints: list[list] = field(default_factory=list)  # [last id, rows, digest] every CHECKPOINT rows

    def to_json(self) -> dict:
        return {"last_id": self.last_id, "rows": self.rows, "digest": self.digest, "checkpoints": self.checkpoints}


def _run(con: sqlite3.Connection, sql: str, id_column: str, upto: int | None, *, checkpoints: bool = False) -> Running:
    state = Running()
    where, params = (f" WHERE {id_column} <= ?", (upto,)) if upto is not None else ("", ())
    cursor = con.execute(f"{sql}{where} ORDER BY {id_column}", params)
    while batch := cursor.fetchmany(_FETCH):
        digest = state.digest
        rows = state.rows
        for row in batch:
            digest = step(digest, list(row))
            rows += 1
            if checkpoints and rows % CHECKPOINT == 0:
                state.checkpoints.append([row[0], rows, digest])
        state.digest, state.rows, state.last_id = digest, rows, batch[-1][0]
    return state


def compute(con: sqlite3.Connection, upto: dict[str, int] | None = None) -> dict[str, Running]:
    """The running digests of the store read through ``con`` (rows up to ``upto``'s ids, if given)."""
    upto = upto or {}
    states = {"log_entry": _run(con, _ENTRIES, "e.id", upto.get("log_entry"), checkpoints=True)}
    for table, sql in _ROW_TABLES.items():
        states[table] = _run(con, sql, "id", upto.get(table))
    return states


def make(con: sqlite3.Connection, *, made_at: datetime, store_id: str | None, bound_from: int | None) -> dict:
    """A seal of the store as ``con`` sees it now (call inside one read transaction: one snapshot)."""
    states = compute(con)
    entries = states["log_entry"]
    return {
        "format": FORMAT,
        "store_id": store_id,
        "made_at": made_at.isoformat(),
        "chain_bound_from": bound_from,
        "last_entry_id": entries.last_id,
        "entries": entries.rows,
        "digest": entries.digest,
        "tables": {name: state.to_json() for name, state in states.items()},
    }


def read(text: str) -> dict:
    """A seal from its file's text; ``SealError`` when it is not one."""
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as err:
        raise SealError(f"it is not a tui-desk seal (not JSON: {err})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise SealError(f'it is not a tui-desk seal (no "format": "{FORMAT}")')
    tables = data.get("tables")
    if not isinstance(tables, dict) or "log_entry" not in tables:
        raise SealError("it is not a complete tui-desk seal (no tables)")
    for name, state in tables.items():
        if name not in ("log_entry", *_ROW_TABLES):
            raise SealError(f"it names an unknown table {name!r}")
        if not isinstance(state, dict):
            raise SealError(f"its {name} part is not an object")
        for key, kind in (("last_id", int), ("rows", int), ("digest", str)):
            if not isinstance(state.get(key), kind) or isinstance(state.get(key), bool):
                raise SealError(f"its {name}.{key} is missing or of the wrong type")
    return data


@dataclass(frozen=True)
class Difference:
    """What a recomputed table does not match in the seal: ``where`` narrows down the first difference."""

    table: str
    message: str
    first_id: int | None = None
    last_id: int | None = None


def check(con: sqlite3.Connection, data: dict) -> list[Difference]:
    """Recompute every sealed table up to the seal's ids and say where it differs (empty: nothing sealed changed)."""
    tables = data["tables"]
    now = compute(con, {name: state["last_id"] for name, state in tables.items()})
    out = []
    for name, sealed in tables.items():
        state = now[name]
        if state.rows == sealed["rows"] and state.digest == sealed["digest"] and state.last_id == sealed["last_id"]:
            continue
        gone = sealed["rows"] - state.rows
        what = (
            f"{gone} of the {sealed['rows']} {name} rows the seal covers are gone"
            if gone > 0
            else f"the {name} rows the seal covers were changed, moved or renumbered"
            if gone == 0
            else f"{-gone} {name} rows were added among those the seal covers"
        )
        first, last = 1, sealed["last_id"]
        if name == "log_entry":
            first, last = _first_difference(state.checkpoints, sealed.get("checkpoints") or [], sealed["last_id"])
        out.append(Difference(name, what, first, last))
    return out


def _first_difference(now: list[list], sealed: list[list], last_id: int) -> tuple[int, int]:
    """The id range (after the last checkpoint both agree on) in which the first difference lies."""
    first = 1
    for mine, theirs in zip(now, sealed, strict=False):
        if mine != list(theirs):
            return first, int(theirs[0]) if isinstance(theirs, list) and theirs else last_id
        first = mine[0] + 1
    return first, last_id
