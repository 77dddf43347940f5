"""A second process for a big bulk load into SQLite: it prepares part of the work and builds its rows into a
file of its own while this process does the rest; the store then copies that file's rows in with INSERT … SELECT.

Why a process, and why through a file: handing SQLite a row from Python (``executemany`` binds each value)
costs more than SQLite's own work for a plain row (300,000 log entries: 1.3 s bound one by one, 0.3 s
copied from an attached file), Python runs one thread at a time, and sending Python objects between
processes costs as much as building them (100,000 import records: 1.5 s to pickle and unpickle). So the
helper keeps what it prepared, sends back only a short summary of it, and its rows come back in SQLite's
own form.

Two phases. ``start(prepare, build)`` forks before the store's write transaction: the child runs
``prepare()`` (an import reads and checks its share of the sheet), keeps what it returns and sends its
summary back (``summary()``). Inside the transaction, ``build(db, args)`` hands it what was decided under
the write lock (ids, case numbers); it builds its rows into its own file (``build(kept, file_db, args)``),
and ``copy_in(db)`` copies them into the store.

The helper never touches the store: it is forked before the store is opened, writes only its own file,
and ends with ``os._exit``. The store's transaction alone decides what is kept. The child removes its folder
when this process lets it go (``close``) or is gone (killed: its end of the pipe closes), so nothing is
left beside the store either way; it ignores Ctrl+C, which this process answers by stopping it.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import shutil
import signal
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

import peewee as pw

from tui_desk.domain.errors import DeskError

SCHEMA = "staged"  # the helper's file, attached to the store's connection to be copied from
_OK = "ok"


def usable(location: object) -> bool:
    """A helper can run for the store at ``location``: an SQLite file, a system that forks, and a second CPU."""
    if not isinstance(location, Path) or not hasattr(os, "fork"):
        return False
    cpus = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else range(os.cpu_count() or 1)
    return len(cpus) >= 2


class Helper:
    """One forked helper for the store at ``store`` (see the module doc). ``tables`` (of ``build`` and
    ``copy_in``) names each table its rows go to and the columns it fills, in the order they are copied
    (parents first); an id it leaves to the database is not copied: the store gives its own."""

    def __init__(self, store: Path) -> None:
        self.store = Path(store)
        # Beside the store, not in /tmp: there is room for the store's rows there (a tmpfs may not have it).
        self._folder = Path(tempfile.mkdtemp(prefix=f".{self.store.name}.load-", dir=self.store.parent))
        self.path = self._folder / "rows.db"
        self._pid: int | None = None
        self._reader = None  # its messages to this process
        self._writer = None  # this process's to it; closing it lets the helper go
        self._built = False
        self._attached: pw.Database | None = None

    def __enter__(self) -> Helper:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def start(self, prepare: Callable[[], tuple[object, object]], build: Callable[[object, pw.Database, object], None]):
        """Fork the helper: it runs ``prepare()`` -> (kept, summary) at once, and ``build`` when told."""
        to_parent = os.pipe()
        to_child = os.pipe()
        pid = os.fork()
        if pid:
            os.close(to_parent[1])
            os.close(to_child[0])
            self._pid = pid
            self._reader = os.fdopen(to_parent[0], "rb")
            self._writer = os.fdopen(to_child[1], "wb")
            return
        os.close(to_parent[0])
        os.close(to_child[1])
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        # Off the command's output: whoever reads it to its end must not wait for the helper. New Python files on
        # it too: another thread (a progress bar) may have held the old ones' locks when this process forked.
        quiet = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(quiet, fd)
        sys.stdin, sys.stdout, sys.stderr = (open(os.devnull, mode) for mode in ("r", "w", "w"))  # noqa: SIM115
        try:
            with os.fdopen(to_parent[1], "wb") as out, os.fdopen(to_child[0], "rb") as orders:
                _serve(out, orders, prepare, build, self.path)
        finally:
            shutil.rmtree(self._folder, ignore_errors=True)
            os._exit(0)

    def summary(self) -> object:
        """What ``prepare`` summed up (waits for it); a DeskError if it failed."""
        return self._receive()

    def build(self, db: pw.Database, tables: Sequence[tuple[str, Sequence[str]]], args: object) -> None:
        """Inside the store's write transaction: the helper builds its rows with ``args`` (sent by pickle) into
        its file, which gets the store's own definitions of the tables, so values are kept as they are."""
        names = tuple(name for name, _ in tables)
        marks = ", ".join("?" * len(names))
        found = dict(
            db.execute_sql(f"SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name IN ({marks})", names)
        )
        pickle.dump(([found[name] for name in names], args), self._writer, protocol=pickle.HIGHEST_PROTOCOL)
        self._writer.flush()

    def copy_in(self, db: pw.Database, tables: Sequence[tuple[str, Sequence[str]]]) -> None:
        """Inside the store's write transaction: wait until the helper has built its rows, then copy them in."""
        self._receive()
        self._built = True
        db.execute_sql(f"ATTACH DATABASE ? AS {SCHEMA}", (str(self.path),))
        self._attached = db
        for table, columns in tables:
            named = ", ".join(f'"{c}"' for c in columns)
            db.execute_sql(
                f'INSERT INTO main."{table}" ({named}) SELECT {named} FROM {SCHEMA}."{table}" ORDER BY rowid'
            )

    def close(self) -> None:
        """Detach the helper's file (after the store's commit or rollback) and let the helper go: it removes
        the file and ends; one that is still at work is stopped, and the file removed here."""
        if self._attached is not None:
            with contextlib.suppress(pw.OperationalError):
                self._attached.execute_sql(f"DETACH DATABASE {SCHEMA}")
            self._attached = None
        if self._pid is not None:
            if not self._built:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(self._pid, signal.SIGKILL)
            for pipe in (self._reader, self._writer):
                with contextlib.suppress(OSError):
                    pipe.close()
            os.waitpid(self._pid, 0)
            self._pid = None
        shutil.rmtree(self._folder, ignore_errors=True)

    def _receive(self) -> object:
        if self._reader is None:
            raise RuntimeError("the helper was not started")
        try:
            status, value = pickle.load(self._reader)
        except EOFError:
            status, value = "it ended without a word", None
        if status != _OK:
            raise DeskError(f"the import's second process failed ({status}); nothing was imported")
        return value


def _serve(out, orders, prepare, build, path: Path) -> None:
    """The helper's side: prepare and report, then build when told and report, then wait to be let go."""

    def report(status: str, value: object = None) -> None:
        pickle.dump((status, value), out, protocol=pickle.HIGHEST_PROTOCOL)
        out.flush()

    try:
        kept, summary = prepare()
    except BaseException as err:  # noqa: BLE001 - whatever stops the helper is told to the store's process
        report(f"{type(err).__name__}: {err}")
        return
    report(_OK, summary)
    try:
        definitions, args = pickle.load(orders)
    except EOFError:  # let go without a build (nothing for it to do, or the import stopped)
        return
    try:
        staged = pw.SqliteDatabase(str(path), pragmas={"journal_mode": "off", "synchronous": "off"})
        with staged.atomic():
            for sql in definitions:
                staged.execute_sql(sql)
            build(kept, staged, args)
        staged.close()
    except BaseException as err:  # noqa: BLE001
        report(f"{type(err).__name__}: {err}")
        return
    report(_OK)
    orders.read(1)  # until the store's process lets go, or is gone
