"""Which database holds a store, and the backend module that knows it: SQLite for a path, PostgreSQL for a URL.

Both backend modules (store/sqlite.py, store/postgres.py) supply the same functions: ``open_database``,
``write_transaction``, ``locked``, the guards (``guard_sql``, ``install_guards``, ``stored_guards``),
search (``install_search``, ``rebuild_search``, ``bulk_load``, ``search_plan``, ``search_condition``,
``join_search``), ``ChangeWatch``, ``data_version``, ``explain_error``, and the few fixed statements the
log writer, the sweep and the outbox run without the ORM (``run``, ``run_many``, ``insert``, written
with ``?`` placeholders; ``new_ids`` for rows inserted many at once). Everything else in the store is
Peewee and runs on either. ``bulk_load`` is a context manager yielding the backend's ``BulkLoad``: both have
``defer_indexes`` (for a load bigger than the store: SQLite remakes the table's indexes at the end,
PostgreSQL the search's GIN indexes); SQLite's also ``index``, to write search documents the importer
already has. Callers ask for ``index`` by name.

A new Peewee model needs nothing here: ``db.create_tables`` makes it on both; if its rows are
evidence, list its table in ``APPEND_ONLY_TABLES`` (and in ``APPEND_ONLY_SINCE`` with its schema version)
and both backends guard it.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from urllib.parse import unquote, urlsplit

import peewee as pw

from tui_desk.domain.errors import DeskError


@dataclass(frozen=True)
class SearchPlan:
    """A typed search in a backend's own syntax (``search_plan``): ``words``, the word-index query for the
    short words (``None`` if there are none), and ``fragments``, one pattern per fragment. Made from
    ``domain.search_text.query_parts``, so both backends read what was typed the same way."""

    words: str | None
    fragments: tuple[str, ...]

    @property
    def empty(self) -> bool:
        return self.words is None and not self.fragments


# Evidence tables: the database itself refuses to rewrite or remove their rows (both backends).
APPEND_ONLY_TABLES = (
    "log_entry",
    "attachment",
    "status_change",
    "field_change",
    "refund_milestone",
    "timer_event",
    "blob",
)
APPEND_ONLY_SINCE = {
    "field_change": 3,
    "refund_milestone": 4,
}  # tables that later schema versions added, and from which version

URL_SCHEMES = ("postgresql", "postgres")


def append_only_tables(schema_version: int | None = None) -> list[str]:
    """The evidence tables a store at ``schema_version`` has (None: the current one)."""
    return [
        table
        for table in APPEND_ONLY_TABLES
        if schema_version is None or schema_version >= APPEND_ONLY_SINCE.get(table, 0)
    ]


class PostgresUrl:
    """A ``postgresql://USER@HOST:PORT/DBNAME`` store: what ``--db`` names when it is not a path.

    It never holds a password: libpq reads one from ``PGPASSWORD``, ``~/.pgpass`` or a ``PGSERVICE``
    entry, so it stays out of the command line, the process list and the shell history.
    """

    def __init__(self, text: str) -> None:
        parts = urlsplit(text.strip())
        if parts.scheme not in URL_SCHEMES:
            raise DeskError(f"{text!r} is not a postgresql:// URL")
        if parts.password is not None:
            raise DeskError(
                "the PostgreSQL URL holds a password; give it through PGPASSWORD, ~/.pgpass or PGSERVICE "
                "instead (a password on the command line is visible to every user of the host)"
            )
        try:
            port = parts.port
        except ValueError:
            raise DeskError(f"the PostgreSQL URL {text!r} has a port that is not a number") from None
        self.user = unquote(parts.username) if parts.username else None
        self.host = unquote(parts.hostname) if parts.hostname else None
        self.port = port
        self.dbname = unquote(parts.path.lstrip("/"))
        self.query = parts.query
        if not self.dbname and "service=" not in self.query:
            raise DeskError(f"the PostgreSQL URL {text!r} names no database (postgresql://USER@HOST:PORT/DBNAME)")
        netloc = parts.netloc
        self.url = f"postgresql://{netloc}{parts.path}" + (f"?{parts.query}" if parts.query else "")

    @property
    def name(self) -> str:
        """How a screen's header names the store."""
        return self.dbname or "postgresql"

    def resolve(self) -> PostgresUrl:
        return self

    def exists(self) -> bool:
        return True  # the server says whether it exists, on connecting

    def is_file(self) -> bool:
        return False

    def __str__(self) -> str:
        return self.url

    def __repr__(self) -> str:
        return f"PostgresUrl({self.url!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PostgresUrl) and other.url == self.url

    def __hash__(self) -> int:
        return hash(self.url)


Location = Path | PostgresUrl


def is_url(text: str) -> bool:
    return any(text.strip().startswith(f"{scheme}://") for scheme in URL_SCHEMES)


def parse_location(value: str | os.PathLike | PostgresUrl) -> Location:
    """A store's location from ``--db``, ``TUI_DESK_DB`` or ``[store] url``: a URL, else a path."""
    if isinstance(value, PostgresUrl):
        return value
    if isinstance(value, str) and is_url(value):
        return PostgresUrl(value)
    return Path(value).expanduser()


def module_for(location: Location) -> ModuleType:
    """The backend module for a location."""
    if isinstance(location, PostgresUrl):
        from tui_desk.store import postgres

        return postgres
    from tui_desk.store import sqlite

    return sqlite


def of(db: pw.Database) -> ModuleType:
    """The backend module of an open Peewee database."""
    if isinstance(db, pw.PostgresqlDatabase):
        from tui_desk.store import postgres

        return postgres
    from tui_desk.store import sqlite

    return sqlite


def is_postgres(location: Location) -> bool:
    return isinstance(location, PostgresUrl)


def driver_errors() -> tuple[type[BaseException], ...]:
    """The low-level errors either driver raises (a fixed statement runs on the driver's cursor). psycopg's only
    once it is loaded (a PostgreSQL store was opened): before, none can be raised, and loading it costs time."""
    import sqlite3

    errors: tuple[type[BaseException], ...] = (pw.PeeweeException, sqlite3.Error)
    psycopg = sys.modules.get("psycopg")
    return errors if psycopg is None else (*errors, psycopg.Error)
