"""The case store: Peewee models over SQLite, schema versions, the one writer of the log, and the operations.

Callers above the store (console, command line, reporting, sheets) import what they need from here.
"""

import sys as _sys

# Peewee imports psycopg as it loads whenever psycopg is installed (the postgres extra): a tenth of a second
# of every command's start, SQLite stores included. It loads here without it; store/postgres.py gives it the
# driver when a PostgreSQL store is opened.
if "peewee" not in _sys.modules and "psycopg" not in _sys.modules:
    _sys.modules["psycopg"] = None  # `import psycopg` raises ImportError, and Peewee goes on without it
    try:
        import peewee  # noqa: F401
    finally:
        del _sys.modules["psycopg"]

from tui_desk.store.commands import TicketChanged, TicketSnapshot  # noqa: E402
from tui_desk.store.core import Store  # noqa: E402
from tui_desk.store.describe import describe_entry  # noqa: E402
from tui_desk.store.queries import SORT_COLUMNS, TicketFilter  # noqa: E402

__all__ = ["SORT_COLUMNS", "Store", "TicketChanged", "TicketFilter", "TicketSnapshot", "describe_entry"]
