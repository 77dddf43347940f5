"""The hash chain over a case's log: each entry's digest covers its content, its attachments and the previous digest."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from json.encoder import c_make_encoder as _c_make_encoder
from json.encoder import encode_basestring as _encode_text

from tui_desk.domain.clock import to_utc

GENESIS = ""  # where a chain made before chains were bound to their ticket (schema 2) starts

# The canonical JSON every digest covers (compact, UTF-8 as is). One encoder made once: ``json.dumps`` with
# these options builds a new one per call, a fifth of a bulk import's chaining; the text is the same.
_encoder = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
if _c_make_encoder is None:  # a Python without json's C part
    _canonical = _encoder.encode
else:
    # That encoder's C part, made once too (``encode`` makes it again on every call: 40 % of its time),
    # with the same options, so the same text; no circular-reference markers (a digest's document is a
    # fresh list of lists, strings, numbers and None).
    _chunks = _c_make_encoder(None, _encoder.default, _encode_text, None, ":", ",", False, False, True)

    def _canonical(document: object) -> str:
        return "".join(_chunks(document, 0))


# Where a bound chain starts: a digest of the ticket's id and case number, so the first entry's digest
# (and with it every later one) holds both. A log moved to another ticket, or two tickets' case numbers
# swapped, no longer verifies.
_GENESIS_TAG = "tui-desk chain genesis v1"


def genesis(ticket_id: int, case_number: str) -> str:
    """The previous digest of a bound chain's first entry: SHA-256 hex of the tag, the ticket id and its case number."""
    document = [_GENESIS_TAG, ticket_id, case_number]
    return hashlib.sha256(_canonical(document).encode("utf-8")).hexdigest()


# The entry fields the digest covers, in a fixed order.
CHAINED_FIELDS = (
    "seq",
    "kind",
    "at",
    "until",
    "logged_at",
    "channel",
    "direction",
    "sender",
    "sender_name",
    "agent",
    "summary",
    "body",
    "follow_up_at",
    "corrects_seq",
    "due_at",
)


def _plain(value: object) -> object:
    if isinstance(value, datetime):
        return iso_micro(value)
    return value


def iso_micro(dt: datetime) -> str:
    """A UTC instant exactly as the store keeps it: ``2026-11-15 14:30:00.000000``."""
    return to_utc(dt).isoformat(sep=" ", timespec="microseconds")[:26]


def entry_digest(previous: str, fields: Mapping[str, object], attachments: Iterable[tuple[str, str, int]]) -> str:
    """SHA-256 hex of the previous digest, the chained fields and the (sha256, name, size) of each attachment."""
    return chain_digest(previous, [_plain(fields.get(name)) for name in CHAINED_FIELDS], attachments)


def chain_digest(previous: str, values: Sequence[object], attachments: Iterable[tuple[str, str, int]]) -> str:
    """``entry_digest`` for values already in ``CHAINED_FIELDS`` order and in stored form (times as text).

    The log's writer builds each row in that form anyway; skipping the mapping is most of a bulk build's time.
    """
    document = [previous, values, sorted([sha, name, size] for sha, name, size in attachments)]
    canonical = _canonical(document)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
