"""A second process for a big bulk load into SQLite: it builds part of the rows into a file of its own while
this process writes the rest into the store; the store then copies that file's rows in with INSERT … SELECT.

Why a process, and why through a file: handing SQLite a row from Python (``executemany`` binds each value)
costs more than SQLite's own work for a plain row (300,000 log entries: 1.3 s bound one by one, 0.3 s
copied from an attached file), Python runs one thread at a time, and sending Python objects between
processes costs as much as building them (100,000 import records: 1.5 s to pickle and unpickle). The
helper runs on the other core and its rows come back in SQLite's own form.

The helper never touches the store. It is forked inside the store's write transaction (what it builds
was decided under the write lock), writes only its own file, and ends with ``os._exit``, so no finalizer
of the store's inherited connection runs in it. The store's transaction alone decides what is kept: if
this process stops, the helper is stopped and its file thrown away.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import peewee as pw

from tui_desk.domain.errors import DeskError

SCHEMA = "staged"  # the helper's file, attached to the store's connection to be copied from


def usable(db: pw.Database) -> bool:
    """A helper can run: a SQLite store, a system that forks, and a second CPU to run it on."""
    if not isinstance(db, pw.SqliteDatabase) or not hasattr(os, "fork"):
        return False
    cpus = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else range(os.cpu_count() or 1)
    return len(cpus) >= 2


class Helper:
    """One forked builder. ``start(build)`` forks: the child makes a file with the store's definitions of the
    tables (empty), runs ``build(file_db)`` in one transaction there and says it is done. ``copy_in`` waits for
    that, attaches its file and copies each table's rows into the store's table, in the order they were built.
    ``tables`` names each table and the columns its builder fills (an id it leaves to the database is not
    copied: the store gives its own). Use it as a context manager around the store's transaction: its file
    is detached after the commit or rollback.

    The child removes its folder when this process lets it go (``close``) or is gone (killed: its end of the
    pipe closes), so nothing is left beside the store either way; it ignores Ctrl+C, which this process
    answers by stopping it."""

    def __init__(self, db: pw.SqliteDatabase, store: Path, tables: Sequence[tuple[str, Sequence[str]]]) -> None:
        self.db = db
        self.store = store
        self.tables = tuple((name, tuple(columns)) for name, columns in tables)
        self.path: Path | None = None
        self._folder: Path | None = None
        self._pid: int | None = None
        self._done: int | None = None  # read end: the child's report, then end of file
        self._hold: int | None = None  # write end: closing it lets the child go
        self._built = False
        self._attached = False

    def __enter__(self) -> Helper:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def start(self, build: Callable[[pw.SqliteDatabase], None]) -> None:
        """Inside the store's write transaction: fork the helper, which runs ``build`` on its own file."""
        names = tuple(name for name, _ in self.tables)
        marks = ", ".join("?" * len(names))
        found = dict(
            self.db.execute_sql(
                f"SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name IN ({marks})", names
            ).fetchall()
        )
        definitions = [found[name] for name in names]  # the store's own, so that values are kept as they are
        # Beside the store, not in /tmp: there is room for the store's rows there (a tmpfs may not have it).
        self._folder = Path(tempfile.mkdtemp(prefix=f".{self.store.name}.load-", dir=self.store.parent))
        self.path = self._folder / "rows.db"
        done_read, done_write = os.pipe()
        hold_read, hold_write = os.pipe()
        pid = os.fork()
        if pid:
            os.close(done_write)
            os.close(hold_read)
            self._pid, self._done, self._hold = pid, done_read, hold_write
            return
        os.close(done_read)
        os.close(hold_write)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        # Off the command's output: whoever reads it to its end must not wait for the helper.
        quiet = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(quiet, fd)
        report = b"ok"
        try:
            staged = pw.SqliteDatabase(str(self.path), pragmas={"journal_mode": "off", "synchronous": "off"})
            with staged.atomic():
                for sql in definitions:
                    staged.execute_sql(sql)
                build(staged)
            staged.close()
        except BaseException as err:  # noqa: BLE001 - whatever stops the helper is told to the store's process
            report = f"{type(err).__name__}: {err}".encode(errors="replace")
        try:
            os.write(done_write, report)
            os.close(done_write)
            os.read(hold_read, 1)  # until the store's process lets go, or is gone
        finally:
            shutil.rmtree(self._folder, ignore_errors=True)
            os._exit(0)

    def wait(self) -> None:
        """Wait until the helper has built everything; a DeskError if it could not."""
        if self._done is None:
            raise RuntimeError("the helper was not started")
        report = b""
        while chunk := os.read(self._done, 65536):
            report += chunk
        if report != b"ok":
            why = report.decode(errors="replace") or "it ended without a word"
            raise DeskError(f"the import's second process failed ({why}); nothing was imported")
        self._built = True

    def copy_in(self) -> None:
        """Inside the store's write transaction: wait for the helper, then copy its rows of every table."""
        self.wait()
        self.db.execute_sql(f"ATTACH DATABASE ? AS {SCHEMA}", (str(self.path),))
        self._attached = True
        for table, columns in self.tables:
            named = ", ".join(f'"{c}"' for c in columns)
            self.db.execute_sql(
                f'INSERT INTO main."{table}" ({named}) SELECT {named} FROM {SCHEMA}."{table}" ORDER BY rowid'
            )

    def close(self) -> None:
        """Detach the helper's file (after the store's commit or rollback) and let the helper go: it removes
        the file and ends; one that is still building is stopped, and the file removed here."""
        if self._attached:
            with contextlib.suppress(pw.OperationalError):
                self.db.execute_sql(f"DETACH DATABASE {SCHEMA}")
            self._attached = False
        if self._pid is None:
            return
        if not self._built:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self._pid, signal.SIGKILL)
        for fd in (self._done, self._hold):
            os.close(fd)
        os.waitpid(self._pid, 0)
        self._pid = None
        shutil.rmtree(self._folder, ignore_errors=True)


@contextlib.contextmanager
def helper(
    db: pw.Database, store: Path, tables: Sequence[tuple[str, Sequence[str]]], wanted: bool
) -> Iterator[Helper | None]:
    """A ``Helper`` for ``tables`` of the store at ``store`` when ``wanted`` and ``usable(db)``; else None."""
    if not (wanted and usable(db)):
        yield None
        return
    with Helper(db, store, tables) as made:
        yield made
