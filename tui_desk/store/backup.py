"""Backups while consoles keep working, and restoring one: SQLite's online backup API plus the attachment folder.

Copying ``desk.db`` with ``cp`` while a console writes misses what still sits in ``desk.db-wal`` (the
WAL is checkpointed every 16 MB) and may catch a page half written. ``Connection.backup`` copies the
whole database in one step inside one read transaction: a consistent snapshot holding every
transaction committed before it began, while writers go on (WAL readers do not block them). The
attachment files are content-addressed and written (and fsynced) before the entry that names them
commits, so every file the snapshot's ``blob`` table names is already there to copy; each is hashed
as it is copied. The copy is written under a temporary name and renamed when complete, owner-only,
as one self-contained file (rollback journal, no ``-wal`` beside it), then checked by ``verify``.

Restoring checks the backup with ``verify`` first, refuses to replace a store that holds tickets
unless told, copies the attachment files first and the database last (through the backup API again,
so a console still open on the target sees the restored store, not a file swapped under it).

A PostgreSQL store is backed up as its lossless archive (store/archive.py), read in one REPEATABLE READ
snapshot: consoles keep working meanwhile (readers never block writers there). The archive is written
under a temporary name, checked (restored into a private temporary SQLite store, which ``verify`` must
pass and whose seal must be the archive's) and only then renamed into place. An archive (or an SQLite
backup) is restored into an *empty* store only, PostgreSQL or SQLite: the evidence of a store that holds
tickets is never deleted to make room. Checked first, restored in one transaction, verified after.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from tui_desk.domain.clock import to_utc
from tui_desk.domain.errors import DeskError
from tui_desk.store import sqlite
from tui_desk.store.attachments import BlobFolder


@dataclass
class Copied:
    """What a backup or a restore copied, and what ``verify`` found in the result."""

    path: Path
    tickets: int
    entries: int
    blobs: int
    blob_bytes: int
    seal_digest: str
    problems: list[str]
    kept: Path | None = None  # a restore --force: where the store it replaced was kept (``kept_tickets``)
    kept_tickets: int = 0


def files_of(path: Path) -> Path:
    """The attachment folder beside a store file (``desk.db.files``)."""
    return Path(path).with_name(Path(path).name + ".files")


def _connect_read_only(path: Path) -> sqlite3.Connection:
    if not Path(path).is_file() or Path(path).stat().st_size == 0:
        raise DeskError(f"no store at {path}")
    try:
        con = sqlite3.connect(sqlite.read_only_uri(path), uri=True, timeout=sqlite.BUSY_TIMEOUT_S)
        tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    except sqlite3.DatabaseError as err:
        raise DeskError(sqlite.explain_error(err, Path(path), read_only=True)) from None
    if "meta" not in tables or "log_entry" not in tables:
        con.close()
        raise DeskError(f"{path} is not a tui-desk store")
    return con


def _new_private(path: Path) -> None:
    """An empty owner-only file at ``path`` (replacing a leftover one)."""
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def _copy_blobs(db_file: Path, source: Path, target: Path) -> tuple[int, int]:
    """Copy into ``target`` every attachment file the store ``db_file`` names, from ``source``, hashing each.

    A file already in ``target`` with the right size is kept (content-addressed: the name is the hash).
    """
    con = sqlite3.connect(sqlite.read_only_uri(db_file), uri=True, timeout=sqlite.BUSY_TIMEOUT_S)
    try:
        blobs = con.execute("SELECT sha256, size FROM blob ORDER BY sha256").fetchall()
    finally:
        con.close()
    to = BlobFolder(target)
    count = total = 0
    created: list[Path] = []
    for sha, size in blobs:
        origin = BlobFolder(source).path_of(sha)
        try:
            with origin.open("rb") as reader:
                to.put(reader, sha, size, created)
        except FileNotFoundError:
            raise DeskError(f"attachment file {sha[:16]}… is missing from {source}; run tui-desk verify") from None
        except OSError as err:
            raise DeskError(f"cannot copy attachment file {sha[:16]}…: {err.strerror}") from None
        count += 1
        total += size
    return count, total


def _checked(path: Path, blobs: int, blob_bytes: int) -> Copied:
    from tui_desk.store import seal
    from tui_desk.store.verify import connect, verify_path

    report = verify_path(path)
    con = connect(path)
    try:
        con.execute("BEGIN")
        digest = seal.compute(con)["log_entry"].digest
    finally:
        con.close()
    return Copied(
        path=path,
        tickets=len(report.cases),
        entries=report.entries,
        blobs=blobs,
        blob_bytes=blob_bytes,
        seal_digest=digest,
        problems=[p.line() for p in report.problems],
    )


def _check_dest(dest: Path, force: bool, example: str) -> None:
    if dest.is_dir():
        raise DeskError(f"{dest} is a folder; give the backup a file name (e.g. {dest / example})")
    if not dest.parent.is_dir():
        raise DeskError(f"the folder {dest.parent} does not exist")
    if dest.exists() and not force:
        raise DeskError(f"{dest} already exists; choose another name (or --force to replace it)")


def backup(store_path: Path, dest: Path, *, force: bool = False) -> Copied:
    """A consistent copy of the store at ``dest`` (and its attachments in ``dest.files``), checked by verify."""
    store_path, dest = Path(store_path), Path(dest)
    _check_dest(dest, force, "desk.db")
    if dest.resolve() == store_path.resolve():
        raise DeskError("the backup would replace the store itself; choose another file")
    source = _connect_read_only(store_path)
    temp = dest.with_name(f".{dest.name}.tmp{os.getpid()}")
    try:
        _new_private(temp)
        copy = sqlite3.connect(temp)
        try:
            source.backup(copy)  # every page in one step: one snapshot, writers carry on meanwhile
            copy.execute("PRAGMA journal_mode = delete")  # one self-contained file
            copy.commit()
        finally:
            copy.close()
        with open(temp, "rb") as written:
            os.fsync(written.fileno())
        blobs, size = _copy_blobs(temp, files_of(store_path), files_of(dest))
        os.replace(temp, dest)
    except sqlite3.Error as err:
        raise DeskError(f"the backup failed: {err}") from None
    except OSError as err:
        raise DeskError(f"cannot write the backup {dest}: {err.strerror}") from None
    finally:
        source.close()
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()
    return _checked(dest, blobs, size)


def restore(backup_path: Path, target: Path, *, now: datetime, force: bool = False) -> Copied:
    """Put the backup at ``backup_path`` back as the store ``target``, once ``verify`` passes on it. A store
    with tickets that ``force`` replaces is first backed up beside it (``desk.db.replaced-20261202T151500Z``,
    with its attachments): a restore never deletes a case log."""
    backup_path, target = Path(backup_path), Path(target)
    con = _connect_read_only(backup_path)
    con.close()
    if target.exists() and target.resolve() == backup_path.resolve():
        raise DeskError("the backup and the store are the same file")
    found = _checked(backup_path, 0, 0)
    if found.problems:
        raise DeskError(f"the backup {backup_path} does not verify ({found.problems[0]}); nothing was restored")
    tickets = _tickets_in(target)
    if tickets is not None and not force:
        raise DeskError(
            f"the store {target} exists ({what_was_there(tickets)}); restore --force replaces it with the backup"
        )
    if not target.parent.is_dir():
        raise DeskError(f"the folder {target.parent} does not exist")
    kept = _keep_aside(target, tickets, now) if tickets else None
    blobs, size = _copy_blobs(backup_path, files_of(backup_path), files_of(target))
    if not target.exists():
        _new_private(target)
    source = _connect_read_only(backup_path)
    try:
        into = sqlite3.connect(target, timeout=sqlite.BUSY_TIMEOUT_S)
        try:
            source.backup(into)  # under the target's write lock; open consoles see the restored store
            into.execute("PRAGMA journal_mode = wal")
        finally:
            into.close()
    except sqlite3.Error as err:
        raise DeskError(sqlite.explain_error(err, target)) from None
    finally:
        source.close()
    restored = _checked(target, blobs, size)
    if kept is not None:
        restored.kept, restored.kept_tickets = kept, tickets
    return restored


def _keep_aside(target: Path, tickets: int, now: datetime) -> Path:
    """A copy of the store ``target`` that a restore replaces, beside it under a new name: a checked backup of
    a store (``tickets`` > 0), the file's bytes as they are of anything else (-1: not an empty store)."""
    name = f"{target.name}.replaced-{to_utc(now).strftime('%Y%m%dT%H%M%SZ')}"
    keep, n = target.with_name(name), 1
    while keep.exists():  # another restore in the same second
        n += 1
        keep = target.with_name(f"{name}-{n}")
    if tickets > 0:
        backup(target, keep)
    else:
        shutil.copy2(target, keep)
    return keep


def what_was_there(tickets: int) -> str:
    """What ``_tickets_in`` found, in words: ``3 tickets``, or that the file is something else."""
    return f"{tickets} tickets" if tickets >= 0 else "a file that is not an empty store"


def _tickets_in(path: Path) -> int | None:
    """How many tickets the store at ``path`` holds; None when there is no store there (nothing to lose)."""
    if not path.exists() or path.stat().st_size == 0:
        return None
    try:
        con = sqlite3.connect(sqlite.read_only_uri(path), uri=True, timeout=sqlite.BUSY_TIMEOUT_S)
        try:
            return con.execute("SELECT count(*) FROM ticket").fetchone()[0]
        finally:
            con.close()
    except sqlite3.DatabaseError:
        return -1  # something is there that is not an empty store: never replace it unasked


# -- PostgreSQL: the archive as the backup --------------------------------------------------------------


def backup_archive(store, dest: Path, *, force: bool = False) -> Copied:
    """A backup of ``store`` (PostgreSQL) as its lossless archive at ``dest``, checked before it is kept."""
    from tui_desk.store.archive import write_archive

    dest = Path(dest)
    _check_dest(dest, force, "desk-backup.zip")
    temp = dest.with_name(f".{dest.name}.tmp{os.getpid()}")
    try:
        write_archive(store, temp)  # one REPEATABLE READ snapshot (backend.snapshot): writers carry on
        copied = check_archive(temp, config=store.config)
        if copied.problems:
            raise DeskError(f"the backup did not verify ({copied.problems[0]}); nothing was kept at {dest}")
        os.replace(temp, dest)
    except OSError as err:
        raise DeskError(f"cannot write the backup {dest}: {err.strerror or err}") from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()
    copied.path = dest
    return copied


def check_archive(path: Path, *, config=None) -> Copied:
    """What the archive at ``path`` holds, as ``verify`` finds it once restored into a private temporary
    SQLite store (deleted after), with the store-wide seal compared with the archive's."""
    from tui_desk.store import Store
    from tui_desk.store.archive import restore_archive

    folder = Path(tempfile.mkdtemp(prefix="tui-desk-check-"))
    try:
        db = folder / "check.db"
        store = Store(db, config=config, agent="restore")
        try:
            outcome = restore_archive(store, path)
        finally:
            store.close()
        copied = _checked(db, outcome.blobs, _blob_bytes(db))
        copied.path = Path(path)
        if not seal_matches(db, outcome.seal):
            copied.problems.append("the restored rows do not give the seal the archive names")
        return copied
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _blob_bytes(location) -> int:
    from tui_desk.store.verify import connect

    con = connect(location)
    try:
        return con.execute("SELECT coalesce(sum(size), 0) FROM blob").fetchone()[0]
    finally:
        con.close()


def seal_matches(location, archived: dict) -> bool:
    """Do the store's running digests (store/seal.py) equal an archive's (``RestoreOutcome.seal``)?"""
    from tui_desk.store import seal
    from tui_desk.store.verify import connect

    con = connect(location)
    try:
        now = seal.compute(con)
    finally:
        con.close()
    return all(
        now[name].digest == state.get("digest") and now[name].rows == state.get("rows")
        for name, state in archived.items()
    )


def restore_into_empty(source: Path, store, *, force: bool = False) -> Copied:
    """Put a backup (an archive, or an SQLite backup file) into ``store``, which must hold no tickets.

    The backup is checked first (``verify`` on it, or on the archive restored to a temporary store), then
    restored in one transaction through the archive (store/archive.py: every digest recomputed), then
    the store is verified and its seal compared with the backup's.
    """
    from tui_desk.store import Store
    from tui_desk.store.archive import is_archive, restore_archive, write_archive
    from tui_desk.store.models import Ticket

    source = Path(source)
    with store.reading():
        held = Ticket.select().count()
    if held:
        also = " (--force replaces SQLite files only)" if force else ""
        raise DeskError(
            f"the store {store.path} holds {held} tickets; a backup is restored into an empty store only, "
            f"since evidence is never deleted{also}: create a new database (createdb) and restore into it"
        )
    folder = Path(tempfile.mkdtemp(prefix="tui-desk-restore-"))
    try:
        if is_archive(source):
            archive = source
            found = check_archive(archive, config=store.config)
        else:
            con = _connect_read_only(source)  # refuses what is not a store
            con.close()
            found = _checked(source, 0, 0)
            if not found.problems:
                archive = folder / "backup.zip"
                backup_store = Store(source, config=store.config, agent="restore", read_only=True)
                try:
                    write_archive(backup_store, archive)
                finally:
                    backup_store.close()
        if found.problems:
            raise DeskError(f"the backup {source} does not verify ({found.problems[0]}); nothing was restored")
        outcome = restore_archive(store, archive)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    copied = _checked(store.path, outcome.blobs, _blob_bytes(store.path))
    if not seal_matches(store.path, outcome.seal):
        copied.problems.append("the restored store's seal is not the backup's")
    return copied
