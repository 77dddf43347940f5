"""The store: one open database, its attachment folder, the config, the clock and the acting agent.

``Store`` is the facade the console, the command line, reporting and sheets use. Its methods come
from the modules that do each job: reads (queries.py), writes (commands.py), drafts (drafts.py) and
what ``--json`` prints (describe.py); this module holds only the plumbing they share: connections,
transactions and errors.
"""

from __future__ import annotations

import contextlib
import getpass
import logging
import os
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import peewee as pw

from tui_desk.config import Config
from tui_desk.domain.clock import Clock, SystemClock, to_utc
from tui_desk.domain.errors import DeskError
from tui_desk.store import backend, schema
from tui_desk.store.commands import TicketCommands
from tui_desk.store.describe import TicketDescriptions
from tui_desk.store.drafts import DraftKeeping
from tui_desk.store.models import database
from tui_desk.store.queries import TicketQueries

_log = logging.getLogger("tui_desk.store")
_DATABASES: dict[tuple[str, bool], pw.Database] = {}


def _shared_database(location: backend.Location, *, read_only: bool, create: bool) -> pw.Database:
    """One Peewee database per store and mode in a process, shared by every Store on it.

    Peewee keeps one connection per thread per database object, so two Stores on one file
    (two agents in a test, the console and its workers) must share the object, or their
    transactions would lock each other out.
    """
    key = (str(location.resolve()), read_only)
    db = _DATABASES.get(key)
    if db is None or not (location.exists() or not create):
        db = backend.module_for(location).open_database(location, read_only=read_only, create=create)
        _DATABASES[key] = db
    return db


def default_agent() -> str:
    """The acting agent when none is named: ``TUI_DESK_AGENT``, else the OS login name."""
    name = os.environ.get("TUI_DESK_AGENT")
    if name:
        return name
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "agent"


class _RolledBack(Exception):  # noqa: N818 - a signal, not an error
    """Raised at the end of a dry run's block (``Store.writing``) so that its transaction rolls back."""


class Store(TicketQueries, TicketCommands, DraftKeeping, TicketDescriptions):
    """An open store: the database (an SQLite file, or a PostgreSQL URL), where its attachments live, the
    config, the clock and the acting agent."""

    def __init__(
        self,
        path: Path | str | backend.PostgresUrl,
        *,
        config: Config | None = None,
        clock: Clock | None = None,
        agent: str | None = None,
        read_only: bool = False,
        create: bool = True,
    ) -> None:
        self.path = backend.parse_location(path)
        self.backend = backend.module_for(self.path)
        self.config = config or Config()
        self.clock = clock or SystemClock()
        self.read_only = read_only
        with self._errors():
            db = _shared_database(self.path, read_only=read_only, create=create)
        database.initialize(db)
        self.db = db
        self.blobs = self.backend.make_blobs(self.path, db, max_bytes=self.config.max_attachment_bytes)
        self.agent = self._acting_agent(agent)
        with self._errors():
            if read_only:
                with db.connection_context():
                    version = schema.stored_version(db, self.path)
                    if version is None:
                        raise DeskError(f"{self.path} holds no tui-desk store (the file is empty); nothing to read")
                    schema.check_not_newer(version, self.path)
            else:
                with db.connection_context():
                    schema.ensure_schema(db, self.path)

    def _acting_agent(self, agent: str | None) -> str:
        """Who acts: ``--agent``, else ``TUI_DESK_AGENT`` or the login name; with ``[store] identity =
        "database"`` the database role, and naming anyone else is refused."""
        if self.config.identity != "database":
            return (agent or default_agent()).strip() or "agent"
        with self._errors(), self.db.connection_context():
            role = self.backend.current_role(self.db)
        named = (agent or os.environ.get("TUI_DESK_AGENT") or "").strip()
        if named and named != role:
            raise DeskError(
                f'[store] identity = "database": you act as the database role {role!r}; acting as {named!r} '
                "is refused (connect as that role instead)"
            )
        return role

    def interrupt_when(self, check) -> None:
        """Let the database stop this thread's statements once ``check()`` is true (the console's hang-up)."""
        self.backend.interrupt_when(self.db, check)

    def change_watch(self):
        """A watch whose ``changed()`` tells that someone committed to the store (the console's live refresh)."""
        return self.backend.ChangeWatch(self.path)

    # -- plumbing -------------------------------------------------------------------------

    @contextlib.contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except DeskError:
            raise
        except (*backend.driver_errors(), UnicodeDecodeError, OSError) as err:
            message = self.backend.explain_error(err, self.path, read_only=self.read_only)
            _log.error("%s", message, exc_info=err)  # the traceback, for --log
            raise DeskError(message) from None

    def _activate(self) -> None:
        # The models are bound to one database proxy; point it at this store's database.
        if database.obj is not self.db:
            database.initialize(self.db)

    def _connect(self) -> None:
        # Each thread keeps its connection until ``close`` or the thread ends: opening and closing one
        # per operation cost more than the operation (the last close of a WAL store checkpoints it).
        if self.db.is_closed():
            self.db.connect()

    @contextlib.contextmanager
    def reading(self) -> Iterator[None]:
        """This thread's connection, for a read."""
        self._activate()
        with self._errors():
            self._connect()
            yield

    @contextlib.contextmanager
    def writing(self, *, dry_run: bool = False) -> Iterator[None]:
        """A write transaction that holds the write lock from its first statement. ``dry_run``: everything
        the block does is checked and written as usual, then rolled back instead of committed."""
        if self.read_only:
            raise DeskError(f"the store {self.path} is open read-only; nothing was changed")
        self._activate()
        with self._errors():
            self._connect()
            try:
                with self.backend.write_transaction(self.db):
                    yield
                    if dry_run:
                        raise _RolledBack
            except _RolledBack:
                pass

    def now(self) -> datetime:
        return to_utc(self.clock.now())

    def data_version(self) -> int:
        """Changes whenever another connection commits; a console polls it to notice others' work."""
        return self.backend.data_version(self.db)

    def close(self) -> None:
        """Close this thread's connection (other threads' close when they end)."""
        if not self.db.is_closed():
            self.db.close()
