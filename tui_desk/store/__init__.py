"""The case store: Peewee models over SQLite, schema versions, the one writer of the log, and the operations.

Callers above the store (console, command line, reporting, sheets) import what they need from here.
"""

from tui_desk.store.commands import TicketChanged, TicketSnapshot
from tui_desk.store.core import Store
from tui_desk.store.describe import describe_entry
from tui_desk.store.queries import SORT_COLUMNS, TicketFilter

__all__ = ["SORT_COLUMNS", "Store", "TicketChanged", "TicketFilter", "TicketSnapshot", "describe_entry"]
