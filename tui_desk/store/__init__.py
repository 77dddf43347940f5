"""The case store: Peewee models over SQLite, schema versions, and the transactional operations.

Callers above the store (console, command line, reporting, sheets) import what they need from here.
"""

from tui_desk.store.operations import (
    SORT_COLUMNS,
    Store,
    TicketChanged,
    TicketFilter,
    TicketSnapshot,
    describe_entry,
)

__all__ = ["SORT_COLUMNS", "Store", "TicketChanged", "TicketFilter", "TicketSnapshot", "describe_entry"]
