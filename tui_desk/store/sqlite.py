"""Everything SQLite-specific in one place: opening, pragmas, the write lock, append-only triggers, FTS5.

store/postgres.py supplies the same functions for PostgreSQL; store/backend.py says which is which.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import peewee as pw

from tui_desk.domain.errors import DeskError
from tui_desk.domain.search_text import MIN_FRAGMENT, fold, query_parts
from tui_desk.store.backend import APPEND_ONLY_TABLES, SearchPlan, append_only_tables  # noqa: F401 (re-exported)

NAME = "SQLite"

BUSY_TIMEOUT_S = 10
PRAGMAS = {
    "journal_mode": "wal",
    "foreign_keys": 1,
    "synchronous": "normal",  # with WAL: durable at checkpoints, never corrupt
    "cache_size": -16000,
    "busy_timeout": BUSY_TIMEOUT_S * 1000,
    # Checkpoint the WAL every 16 MB instead of 4: a sweep of 1,000 timers writes ~20 MB, and index
    # pages it touches in several of its short transactions are copied back once, not each time.
    "wal_autocheckpoint": 4000,
}

# A bulk load (import, archive restore, demo) keeps up to this much in its page cache until it commits
# (KiB: negative is a size, not pages); only what it touches is taken.
BULK_CACHE_SIZE = -512 * 1024
# FTS5 writes a new segment of its index each time this much new text is held (and merges them later). A bulk
# load holds sixteen times the usual 1 MiB: a fifth less time indexing 100,000 tickets' documents.
FTS_HASH_SIZE = 1024 * 1024
BULK_FTS_HASH_SIZE = 16 * FTS_HASH_SIZE

# APPEND_ONLY_TABLES is imported from backend.py for the callers that read it here.


def refuse_odd_path(path: Path) -> None:
    """A store path that names no store file: ``:memory:`` or a folder (one message, whoever opens it)."""
    if str(path) == ":memory:":
        # SQLite would keep nothing, and tui-desk would leave a file of that name behind.
        raise DeskError(f"--db {str(path)!r} is not a store file; name a file such as desk.db")
    if Path(path).is_dir():
        raise DeskError(f"{path} is a folder; --db names the store file in it (such as {Path(path) / 'desk.db'})")


def open_database(path: Path, *, read_only: bool = False, create: bool = True) -> pw.SqliteDatabase:
    """A Peewee database on ``path``: WAL, foreign keys, busy timeout; read-only opens with ``mode=ro``."""
    path = Path(path)
    refuse_odd_path(path)
    if read_only or not create:
        if not path.exists():
            raise DeskError(f"no store at {path}")
    else:
        if not path.parent.is_dir():
            raise DeskError(f"the folder {path.parent} does not exist")
        if not path.exists():
            # Created readable and writable by its owner only: case logs hold customer data.
            try:
                os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
            except FileExistsError:
                pass
            except OSError as err:
                raise DeskError(f"cannot create the store {path}: {err.strerror}") from None
        elif not os.access(path, os.W_OK):  # a read-only mount, or another account's file
            raise DeskError(f"the store {path} is read-only (the file cannot be written); nothing was written")
        elif path.stat().st_size:
            _refuse_foreign(path)
    if read_only:
        uri = read_only_uri(path)
        pragmas = {k: v for k, v in PRAGMAS.items() if k not in ("journal_mode",)}
        pragmas["query_only"] = 1
        return pw.SqliteDatabase(uri, pragmas=pragmas, timeout=BUSY_TIMEOUT_S, uri=True, autoconnect=True)
    return pw.SqliteDatabase(str(path), pragmas=PRAGMAS, timeout=BUSY_TIMEOUT_S, autoconnect=True)


def _refuse_foreign(path: Path) -> None:
    """Look read-only before the first pragma: switching to WAL would rewrite another program's file header."""
    try:
        con = sqlite3.connect(read_only_uri(path), uri=True, timeout=BUSY_TIMEOUT_S)
        try:
            tables = {row[0] for row in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        finally:
            con.close()
    except (sqlite3.DatabaseError, UnicodeDecodeError) as err:
        raise DeskError(explain_error(err, path)) from None
    if tables and "meta" not in tables:
        raise DeskError(f"{path} is an SQLite database but not a tui-desk store; it was left untouched")


def read_only_uri(path: Path) -> str:
    """A ``file:`` URI opening ``path`` read-only; the path is percent-encoded (``#`` or ``?`` in a folder name)."""
    return Path(path).resolve().as_uri() + "?mode=ro"


class ChangeWatch:
    """``changed()`` is True when someone committed to the store since the previous call.

    It reads SQLite's ``PRAGMA data_version``, which only means something on a connection that
    stays open (a fresh connection always starts from the same value), so the watch keeps one
    read-only connection of its own. Use it from one thread at a time.
    """

    blocks = False  # ``changed`` answers at once; the console calls it every few seconds

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._conn: sqlite3.Connection | None = None
        self._version: int | None = None

    def changed(self) -> bool:
        if self._conn is None:
            self._conn = sqlite3.connect(
                read_only_uri(self.path), uri=True, check_same_thread=False, timeout=BUSY_TIMEOUT_S
            )
        version = self._conn.execute("PRAGMA data_version").fetchone()[0]
        previous, self._version = self._version, version
        return previous is not None and version != previous

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


@contextlib.contextmanager
def write_transaction(db: pw.Database) -> Iterator[None]:
    """A transaction that takes the write lock up front, so the busy timeout applies to it.

    Before it commits, the fragment documents of the tickets it changed are written (``refresh_fragments``).
    """
    with db.atomic("IMMEDIATE"):
        yield
        refresh_fragments(db)


def snapshot(db: pw.Database):
    """A read transaction that sees one state of the store throughout (WAL: from its first read on),
    while writers carry on: what an archive or a backup is read in."""
    return db.atomic()


def schema_lock(db: pw.Database) -> None:
    """Inside ``write_transaction``: nobody else creates or migrates the schema meanwhile (the write lock does)."""


def locked(query: pw.ModelSelect, *, skip_locked: bool = False) -> pw.ModelSelect:
    """A ticket read inside a write that must hold it until the commit: SQLite's write lock already does."""
    return query


def locked_sql(sql: str, *, skip_locked: bool = False) -> str:
    """A fixed SELECT of one ticket, to hold it until the commit (see ``locked``)."""
    return sql


@contextlib.contextmanager
def bulk_ids(db: pw.Database) -> Iterator[None]:
    """Inside a write: a builder gives rows their ids itself (the write lock keeps others out)."""
    yield


# -- fixed statements: the log writer's, the sweep's, the outbox's (written with ? placeholders) ----


def run(db: pw.Database, sql: str, params: tuple | list = ()):
    """Run one fixed statement on this thread's connection; a DB-API cursor."""
    return db.connection().execute(sql, params)


def run_many(db: pw.Database, sql: str, rows) -> int:
    """Run one fixed statement for each of ``rows``; how many rows they changed in all."""
    return db.connection().executemany(sql, rows).rowcount


def new_ids(db: pw.Database, counts: dict[str, int]) -> dict[str, list[int]]:
    """Inside a write: ids for rows it will insert with explicit ids, ``counts[table]`` of each table.

    The write lock keeps every other writer out, so the ids after the largest are free until the commit;
    insert the rows before asking again in the same transaction.
    """
    ids = {}
    for table, count in counts.items():
        first = run(db, f'SELECT coalesce(max(id), 0) + 1 FROM "{table}"').fetchone()[0] if count else 0
        ids[table] = list(range(first, first + count))
    return ids


def insert(db: pw.Database, sql: str, params: tuple | list) -> int | None:
    """Run an INSERT of one row; its id, or None when ``ON CONFLICT DO NOTHING`` inserted nothing."""
    cursor = db.connection().execute(sql, params)
    return cursor.lastrowid if cursor.rowcount == 1 else None


def run_cancellable(db: pw.Database, sql: str, params, cancelled) -> list:
    """All rows of a read that stops (with a DeskError) once ``cancelled()`` turns true."""
    conn = db.connection()
    if cancelled is not None:
        conn.set_progress_handler(lambda: 1 if cancelled() else 0, 20_000)
    try:
        return db.execute_sql(sql, params).fetchall()
    finally:
        if cancelled is not None:
            conn.set_progress_handler(None, 0)


def interrupt_when(db: pw.Database, check) -> None:
    """SQLite stops this thread's statements when ``check()`` returns true (asked every 10,000 steps)."""
    db.connection().set_progress_handler(lambda: 1 if check() else 0, 10_000)


def bulk_speed(db: pw.Database) -> None:
    """For rebuildable data (the demo): trade durability for speed on this connection."""
    conn = db.connection()
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("PRAGMA cache_size = -262144")


def make_blobs(location: Path, db: pw.Database, *, max_bytes: int):
    """Attachment contents: files named by their SHA-256 in the folder beside the store."""
    from tui_desk.store.attachments import BlobFolder

    return BlobFolder(location.with_name(location.name + ".files"), max_bytes=max_bytes)


def add_column(db: pw.Database, table: str, column: str, declaration: str) -> None:
    """A migration's new column (the caller checks it is not there yet: SQLite has no IF NOT EXISTS here)."""
    db.execute_sql(f'ALTER TABLE "{table}" ADD COLUMN "{column}" {declaration}')


def has_table(con: sqlite3.Connection, name: str) -> bool:
    """On verify's own connection: whether the store has this table."""
    return bool(con.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)).fetchone())


def install_tables(db: pw.Database) -> None:
    """Nothing only this backend keeps (attachment contents are files beside the store)."""


def current_role(db: pw.Database) -> str:
    raise DeskError('[store] identity = "database" needs a PostgreSQL store (SQLite has no database roles)')


def not_a_store(location: Path) -> str:
    return "the file is an SQLite database but not a tui-desk store"


def guard_sql(schema_version: int | None = None) -> dict[str, str]:
    """The guards by name: the exact triggers that make the evidence tables append-only and tickets undeletable.

    ``verify`` compares the stored triggers' text with these, so a guard replaced by one of the same
    name that does nothing (``... WHEN 0 ...``) is caught, not only a guard dropped. For a store at an
    older ``schema_version`` (read as it is), only the tables that version had.
    """
    guards = {}
    for table in append_only_tables(schema_version):
        for action in ("UPDATE", "DELETE"):
            guards[f"{table}_no_{action.lower()}"] = (
                f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} rows are append-only evidence'); END"
            )
    guards["ticket_no_delete"] = (
        "CREATE TRIGGER ticket_no_delete BEFORE DELETE ON ticket "
        "BEGIN SELECT RAISE(ABORT, 'tickets are never deleted'); END"
    )
    return guards


def normalised_sql(sql: str) -> str:
    """A trigger's text as compared by ``verify``: spacing, letter case and ``IF NOT EXISTS`` do not count."""
    text = " ".join(sql.replace("(", " ( ").replace(")", " ) ").replace(";", " ; ").split()).lower()
    return text.replace("create trigger if not exists ", "create trigger ", 1)


def stored_guards(con: sqlite3.Connection) -> dict[str, tuple[str | None, str]]:
    """Every trigger in the file: name → (table, SQL)."""
    return {
        name: (table, sql)
        for name, table, sql in con.execute("SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'trigger'")
    }


def guarded_tables() -> set[str]:
    return {*APPEND_ONLY_TABLES, "ticket"}


def install_guards(db: pw.Database, schema_version: int | None = None) -> None:
    """Triggers that make the evidence tables append-only, and tickets undeletable (a migration to
    ``schema_version`` installs those of the tables that version has, and only of tables that exist)."""
    tables = set(db.get_tables())
    for sql in guard_sql(schema_version).values():
        if sql.split(" ON ", 1)[1].split(" ", 1)[0] in tables:
            db.execute_sql(sql.replace("CREATE TRIGGER ", "CREATE TRIGGER IF NOT EXISTS ", 1))


SEARCH_TRIGGERS = (
    "ticket_search_insert",
    "ticket_search_update",
    "log_entry_search_insert",
    "ticket_fragments_insert",
    "ticket_fragments_update",
    "log_entry_fragments_insert",
)


_TICKET_COLUMNS = ("case_number", "customer", "email", "order_id", "subject", "description")
# ONE full-text document per ticket (rowid = ticket id) with two columns: the ticket's own fields, and
# everything people wrote in its log. A search of any number of words is then one MATCH that yields
# ticket ids in id order, which SQLite can stream: the newest matching page comes without reading every
# match. What the program writes itself (acknowledgements, status changes, reminders) repeats the
# ticket's fields or says nothing a person searches for, and is left out: the timer sweep stays cheap.
_ENTRY_SEARCHED = "sender <> 'system'"
_ENTRY_TEXT = "summary || ' ' || sender_name || ' ' || body"
# Older layouts of the search index, removed by ``rebuild_search``.
_OLD_SEARCH_TABLES = ("entry_search", "log_search")

# Beside the word index, a trigram index of the same text folded by ``search_text.fold`` (one document
# per ticket, rowid = ticket id): any fragment of 3+ characters in any script matches, accents and ß
# folded. The folding is Python's, which a trigger cannot call on every connection (the sqlite3 shell
# has no such function), so the triggers only note the ticket in ``search_stale`` and every write
# transaction rewrites those tickets' documents before it commits. detail=none keeps the index at
# about twice the text's size; a fragment is a GLOB that the index narrows and SQLite checks.
FRAGMENTS_TABLE = "ticket_fragments"
STALE_TABLE = "search_stale"
_FRAGMENT_BATCH = 2000


def _fields_text(row: str = "") -> str:
    return " || ' ' || ".join(f"coalesce({row}{column}, '')" for column in _TICKET_COLUMNS)


def install_search(db: pw.Database) -> None:
    """The FTS5 index of each ticket's fields and log text, and the triggers that keep it current."""
    db.execute_sql(
        "CREATE VIRTUAL TABLE IF NOT EXISTS ticket_search USING fts5(fields, log, "
        "tokenize='unicode61 remove_diacritics 2')"
    )
    db.execute_sql(
        "CREATE TRIGGER IF NOT EXISTS ticket_search_insert AFTER INSERT ON ticket BEGIN "
        f"INSERT INTO ticket_search(rowid, fields, log) VALUES (new.id, {_fields_text('new.')}, ''); END"
    )
    # Only a real change re-indexes: saving a ticket writes every column, also on each log append.
    changed = " OR ".join(f"old.{column} IS NOT new.{column}" for column in _TICKET_COLUMNS)
    db.execute_sql(
        f"CREATE TRIGGER IF NOT EXISTS ticket_search_update AFTER UPDATE OF {', '.join(_TICKET_COLUMNS)} "
        f"ON ticket WHEN {changed} BEGIN "
        f"UPDATE ticket_search SET fields = {_fields_text('new.')} WHERE rowid = new.id; END"
    )
    entry_text = (
        _ENTRY_TEXT.replace("summary", "new.summary")
        .replace("sender_name", "new.sender_name")
        .replace("body", "new.body")
    )
    db.execute_sql(
        "CREATE TRIGGER IF NOT EXISTS log_entry_search_insert AFTER INSERT ON log_entry "
        f"WHEN new.{_ENTRY_SEARCHED} BEGIN "
        f"UPDATE ticket_search SET log = log || ' ' || {entry_text} WHERE rowid = new.ticket_id; END"
    )
    install_fragments(db)


def install_fragments(db: pw.Database) -> None:
    """The trigram index of folded text, the list of tickets whose document is stale, and its triggers."""
    db.execute_sql(
        f"CREATE VIRTUAL TABLE IF NOT EXISTS {FRAGMENTS_TABLE} USING fts5(doc, "
        "tokenize='trigram case_sensitive 1', detail=none)"
    )
    db.execute_sql(f"CREATE TABLE IF NOT EXISTS {STALE_TABLE} (ticket_id INTEGER PRIMARY KEY)")
    stale = f"INSERT OR IGNORE INTO {STALE_TABLE}(ticket_id) VALUES"
    changed = " OR ".join(f"old.{column} IS NOT new.{column}" for column in _TICKET_COLUMNS)
    db.execute_sql(
        f"CREATE TRIGGER IF NOT EXISTS ticket_fragments_insert AFTER INSERT ON ticket BEGIN {stale} (new.id); END"
    )
    db.execute_sql(
        f"CREATE TRIGGER IF NOT EXISTS ticket_fragments_update AFTER UPDATE OF {', '.join(_TICKET_COLUMNS)} "
        f"ON ticket WHEN {changed} BEGIN {stale} (new.id); END"
    )
    db.execute_sql(
        "CREATE TRIGGER IF NOT EXISTS log_entry_fragments_insert AFTER INSERT ON log_entry "
        f"WHEN new.{_ENTRY_SEARCHED} BEGIN {stale} (new.ticket_id); END"
    )


_SEARCH_TRIGGERS = SEARCH_TRIGGERS
OWN_TRIGGERS = SEARCH_TRIGGERS  # triggers the program makes besides the guards


def _index_tickets(db: pw.Database, where: str, params: tuple = ()) -> None:
    """(Re)write the search documents of the tickets ``where`` selects, from their fields and whole log."""
    db.execute_sql(
        "INSERT OR REPLACE INTO ticket_search(rowid, fields, log) " + _documents_sql(where, split=True), params
    )


def _documents_sql(where: str, *, split: bool = False) -> str:
    """Each selected ticket's id and its searchable text: its fields, then its people's log text in order
    (``split``: the two apart, as the word index keeps them). The log text is read ticket by ticket
    through the (ticket, seq) index: twice as fast as grouping every entry first."""
    between = ", " if split else " || ' ' || "
    log_text = (
        f"SELECT group_concat(text, ' ') FROM (SELECT {_ENTRY_TEXT} AS text FROM log_entry e "
        f"WHERE e.ticket_id = t.id AND e.{_ENTRY_SEARCHED} ORDER BY e.seq)"
    )
    return f"SELECT t.id, {_fields_text('t.')}{between}coalesce(({log_text}), '') FROM ticket t WHERE {where}"


def _index_fragments(db: pw.Database, where: str, params: tuple = ()) -> None:
    """(Re)write the fragment documents of the tickets ``where`` selects, folded, a batch at a time."""
    cursor = db.execute_sql(_documents_sql(where), params)
    while rows := cursor.fetchmany(_FRAGMENT_BATCH):
        db.cursor().executemany(
            f"INSERT OR REPLACE INTO {FRAGMENTS_TABLE}(rowid, doc) VALUES (?, ?)",
            [(ticket_id, fold(text)) for ticket_id, text in rows],
        )


def _write_documents(db: pw.Database, rows: list[tuple[int, str, str]], *, new: bool = False) -> None:
    """Both indexes' documents of these tickets: (id, fields text, log text) as ``_documents_sql`` gives
    them. ``new``: none of them is indexed yet (a plain INSERT, a quarter faster than INSERT OR REPLACE)."""
    verb = "INSERT" if new else "INSERT OR REPLACE"
    db.cursor().executemany(f"{verb} INTO ticket_search(rowid, fields, log) VALUES (?, ?, ?)", rows)
    db.cursor().executemany(
        f"{verb} INTO {FRAGMENTS_TABLE}(rowid, doc) VALUES (?, ?)",
        [(ticket_id, fold(f"{fields} {text}")) for ticket_id, fields, text in rows],
    )


STAGED_DOCUMENTS = "staged_documents"  # a bulk load helper's search documents (store/staging.py)


def stage_documents(db: pw.Database, rows: list[tuple[int, str, str]]) -> None:
    """In a bulk load helper's own file: new tickets' documents as ``BulkLoad.index`` takes them, with the
    fragment index's folded text made here (on the helper's CPU); ``BulkLoad.index_staged`` copies them in."""
    db.execute_sql(f"CREATE TABLE IF NOT EXISTS {STAGED_DOCUMENTS} (id INTEGER PRIMARY KEY, fields, log, folded)")
    db.cursor().executemany(
        f"INSERT INTO {STAGED_DOCUMENTS} (id, fields, log, folded) VALUES (?, ?, ?, ?)",
        [(ticket_id, fields, text, fold(f"{fields} {text}")) for ticket_id, fields, text in rows],
    )


def schema_changed(db: pw.Database) -> None:
    """The schema was created or migrated: nothing is kept about it here (``refresh_fragments`` asks)."""


def refresh_fragments(db: pw.Database) -> None:
    """Inside a write transaction: rewrite the fragment documents of the tickets noted stale."""
    try:
        stale = db.execute_sql(f"SELECT 1 FROM {STALE_TABLE} LIMIT 1").fetchone()
    except pw.OperationalError as err:
        if f"no such table: {STALE_TABLE}" in str(err):
            return  # a store being created or migrated, before the index exists
        raise
    if stale is None:
        return
    _index_fragments(db, f"id IN (SELECT ticket_id FROM {STALE_TABLE})")
    db.execute_sql(f"DELETE FROM {STALE_TABLE}")


def rebuild_search(db: pw.Database) -> None:
    """Drop any earlier layout of the search index and build the current one. Inside a write transaction."""
    for name in _SEARCH_TRIGGERS:
        db.execute_sql(f"DROP TRIGGER IF EXISTS {name}")
    for table in (*_OLD_SEARCH_TABLES, "ticket_search", FRAGMENTS_TABLE, STALE_TABLE):
        db.execute_sql(f"DROP TABLE IF EXISTS {table}")
    install_search(db)
    _index_tickets(db, "1")
    _index_fragments(db, "1")


def add_fragments(db: pw.Database) -> None:
    """The fragment index beside an existing word index, built for every ticket. Inside a write transaction."""
    for name in SEARCH_TRIGGERS[3:]:
        db.execute_sql(f"DROP TRIGGER IF EXISTS {name}")
    for table in (FRAGMENTS_TABLE, STALE_TABLE):
        db.execute_sql(f"DROP TABLE IF EXISTS {table}")
    install_fragments(db)
    _index_fragments(db, "1")


@contextlib.contextmanager
def bulk_load(db: pw.Database) -> Iterator[BulkLoad]:
    """Inside a write transaction: insert many new tickets and entries, then index them in one pass.

    Per-row index triggers cost most of a bulk load. Only rows added inside the block are indexed
    afterwards, so the block must insert, not update, searchable fields. A builder that has each new
    ticket's text at hand may index its tickets itself as it goes (``BulkLoad.index``): then the load
    does not read that text back.
    """
    last_ticket = db.execute_sql("SELECT coalesce(max(id), 0) FROM ticket").fetchone()[0]
    last_entry = db.execute_sql("SELECT coalesce(max(id), 0) FROM log_entry").fetchone()[0]
    for name in _SEARCH_TRIGGERS:
        db.execute_sql(f"DROP TRIGGER IF EXISTS {name}")
    # The load's pages stay in memory until the commit instead of spilling to the WAL and being read
    # back (a 100,000-row import dirties ~250 MB; with the usual 16 MB it wrote and read each page
    # several times: a sixth of its CPU, in the kernel). Back to the usual size afterwards.
    cache = db.execute_sql("PRAGMA cache_size").fetchone()[0]
    db.execute_sql(f"PRAGMA cache_size = {BULK_CACHE_SIZE}")
    _fts_hash_size(db, BULK_FTS_HASH_SIZE)
    load = BulkLoad(db, last_ticket)
    try:
        yield load
        # Each touched ticket's documents again, whole: its fields, its earlier log text (if any) and the
        # new; but not the new tickets the builder indexed itself.
        load.restore_indexes()
        touched = "id > ? OR id IN (SELECT ticket_id FROM log_entry WHERE id > ? AND ticket_id <= ?)"
        cursor = db.execute_sql(_documents_sql(touched, split=True), (load.indexed_upto, last_entry, last_ticket))
        while rows := cursor.fetchmany(_FRAGMENT_BATCH):
            _write_documents(db, rows)
        install_search(db)
        _fts_hash_size(db, FTS_HASH_SIZE)  # (a rollback undoes it with the rest)
    finally:
        db.execute_sql(f"PRAGMA cache_size = {int(cache)}")


def _fts_hash_size(db: pw.Database, size: int) -> None:
    """How much new index text FTS5 keeps in memory before it writes a segment (kept in the table's config)."""
    for table in ("ticket_search", FRAGMENTS_TABLE):
        db.execute_sql(f"INSERT INTO {table}({table}, rank) VALUES ('hashsize', ?)", (size,))


class BulkLoad:
    """What a bulk load's block may do besides inserting: index the new tickets it made itself."""

    def __init__(self, db: pw.Database, last_ticket: int) -> None:
        self.db = db
        self.indexed_upto = last_ticket  # the new tickets up to this id are indexed
        self._dropped: list[str] = []  # the CREATE INDEX statements of indexes to make again

    def defer_indexes(self, table: str) -> None:
        """Drop ``table``'s own indexes now and make them again (the same SQL) at the end of the load: for a
        load that adds more rows than the table holds, sorting once costs less than a B-tree insert per row
        and index (the ticket table has twelve; 100,000 tickets: 0.4 s to index after, 1.4 s as they go in).
        A UNIQUE index then checks at the end: a duplicate stops the load there, and nothing is written."""
        found = self.db.execute_sql(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL", (table,)
        ).fetchall()
        for name, sql in found:
            self.db.execute_sql(f'DROP INDEX "{name}"')
            self._dropped.append(sql)

    def index_staged(self, schema: str) -> None:
        """``index`` for the documents a helper staged (``stage_documents``) in the attached file ``schema``."""
        first, last, count = self.db.execute_sql(
            f"SELECT min(id), max(id), count(*) FROM {schema}.{STAGED_DOCUMENTS}"
        ).fetchone()
        if not count:
            return
        if first != self.indexed_upto + 1 or last - first + 1 != count:
            raise ValueError("BulkLoad.index_staged takes the next new tickets, in id order, without gaps")
        staged = f"FROM {schema}.{STAGED_DOCUMENTS} ORDER BY id"
        self.db.execute_sql(f"INSERT INTO ticket_search(rowid, fields, log) SELECT id, fields, log {staged}")
        self.db.execute_sql(f"INSERT INTO {FRAGMENTS_TABLE}(rowid, doc) SELECT id, folded {staged}")
        self.indexed_upto = last

    def restore_indexes(self) -> None:
        while self._dropped:
            self.db.execute_sql(self._dropped.pop(0))

    def index(self, documents: list[tuple[int, str, str]]) -> None:
        """Index these new tickets now: (id, fields text, log text) exactly as ``_documents_sql`` would read
        them (the fields and the people's entries, each joined by one space). Their ids must follow on
        from the tickets before the load (or those indexed before), in order, and each ticket must hold all
        the entries the load gives it: the load skips them at its end."""
        if not documents:
            return
        first = self.indexed_upto + 1
        if [d[0] for d in documents] != list(range(first, first + len(documents))):
            raise ValueError("BulkLoad.index takes the next new tickets, in id order, without gaps")
        _write_documents(self.db, documents, new=True)
        self.indexed_upto = documents[-1][0]


def search_plan(query: str) -> SearchPlan:
    """What a typed search asks of the two indexes; every condition must hold. No user text is read as FTS
    or GLOB syntax.

    ``words``: an FTS5 MATCH on the word index for the short words (1-2 characters: a word's start);
    ``fragments``: GLOB patterns on the fragment index, one per fragment of 3+ characters (anywhere in the
    text) -- and per 1-2 character fragment of a script written without spaces (``退款``, ``伟``): too short
    for a trigram, so the fragment documents are read through (slower).
    """
    words, fragments = query_parts(query)
    return SearchPlan(
        " ".join('"' + " ".join(tokens) + '"*' for tokens in words) or None,
        tuple("*" + _GLOB_SPECIAL.sub(lambda m: f"[{m[0]}]", folded) + "*" for folded in fragments),
    )


_GLOB_SPECIAL = re.compile(r"[*?\[]")


def _fragment_sql(plan: SearchPlan) -> tuple[str, tuple[str, ...]]:
    """The conditions on the fragment index for a plan's fragments, and their parameters.

    A fragment of exactly three characters is one trigram: a MATCH answers it from the index alone.
    A longer one is a GLOB that the index narrows and SQLite checks on the document (detail=none has
    no positions). One too short for a trigram is a GLOB on ``doc || ''``, which FTS5 is not given (it
    would find nothing): SQLite reads the documents through and checks each.
    """
    trigrams, conditions, params = [], [], []
    for pattern in plan.fragments:
        literal = pattern[1:-1]
        if "[" in literal or len(literal) < MIN_FRAGMENT:
            conditions.append(f"({FRAGMENTS_TABLE}.doc || '') GLOB ?")
            params.append(pattern)
        elif len(literal) == MIN_FRAGMENT:
            trigrams.append('"' + literal.replace('"', '""') + '"')
        else:
            conditions.append(f"{FRAGMENTS_TABLE}.doc GLOB ?")
            params.append(pattern)
    if trigrams:
        conditions.insert(0, f"{FRAGMENTS_TABLE} MATCH ?")
        params.insert(0, " ".join(trigrams))
    return " AND ".join(conditions), tuple(params)


def search_condition(plan: SearchPlan, ticket_id: pw.Field) -> pw.Node:
    """``ticket_id`` restricted to the tickets matching ``plan`` (a never-true condition for an empty plan)."""
    if plan.empty:
        return pw.SQL("0")
    condition = None
    if plan.words is not None:
        condition = ticket_id.in_(
            pw.SQL("(SELECT rowid FROM ticket_search WHERE ticket_search MATCH ?)", (plan.words,))
        )
    if plan.fragments:
        where, params = _fragment_sql(plan)
        fragment = ticket_id.in_(pw.SQL(f"(SELECT rowid FROM {FRAGMENTS_TABLE} WHERE {where})", params))
        condition = fragment if condition is None else condition & fragment
    return condition


_SEARCH_TABLE = pw.Table("ticket_search").alias("ticket_search")
_FRAGMENTS = pw.Table(FRAGMENTS_TABLE).alias(FRAGMENTS_TABLE)


def join_search(query: pw.ModelSelect, ticket_id: pw.Field, plan: SearchPlan) -> tuple[pw.ModelSelect, pw.Node]:
    """``query`` narrowed to the tickets matching ``plan`` by a join, and the column to order by id.

    Ordered by that column (an index's own rowid), SQLite reads matches in order and stops at the
    LIMIT, so the first page of a search for three letters does not wait for every match; ordered by
    the ticket's id instead, it would read and sort them all. The fragment index is joined when the
    plan has fragments (the word index, if also asked, is then a condition), else the word index.

    The search index always drives the join; the ticket's other conditions (the view's statuses, a
    word list) are checked per match. ``+`` keeps SQLite from turning it round: driven by the tickets
    of a view (its status index) or by a word list, it asked the search index again for every one of
    them. At 100,000 tickets `mari` in the Open view took 55 s for its first page, `parcel n` 136 s;
    now both take under 40 ms.
    """
    if plan.fragments:
        rowid = _FRAGMENTS.c.rowid
        where, params = _fragment_sql(plan)
        joined = query.join(_FRAGMENTS, on=(_unindexed(rowid) == ticket_id)).where(pw.SQL(where, params))
        if plan.words is not None:
            words = pw.SQL("(SELECT rowid FROM ticket_search WHERE ticket_search MATCH ?)", (plan.words,))
            joined = joined.where(pw.Expression(_unindexed(ticket_id), pw.OP.IN, words))
        return joined, rowid
    rowid = _SEARCH_TABLE.c.rowid
    joined = query.join(_SEARCH_TABLE, on=(_unindexed(rowid) == ticket_id))
    return joined.where(pw.SQL("ticket_search MATCH ?", (plan.words,))), rowid


def _unindexed(column: pw.Node) -> pw.Node:
    """``+column``: the same value, but SQLite may not look rows up by it (so it cannot drive a join)."""
    return pw.NodeList((pw.SQL("+"), column), glue="")


def data_version(db: pw.Database) -> int:
    """SQLite's counter that changes when another connection commits: cheap change detection."""
    return db.execute_sql("PRAGMA data_version").fetchone()[0]


# What a database failure may be raised as (Peewee's own and the driver's), for a last-resort message.
STORE_ERRORS = (pw.PeeweeException, sqlite3.Error)


def damaged(path: Path, what: str) -> str:
    """The one message for a store SQLite cannot read as a store (said the same by every command)."""
    return f"the store {path} is damaged ({what}): run tui-desk verify; restore from a backup"


def full(path: Path) -> str:
    return f"the disk holding {path} is full; nothing was saved"


def _cause(err: BaseException) -> BaseException:
    """The failure that matters: when SQLite has already rolled back (a full disk does), the library's
    own rollback then fails with "cannot rollback - no transaction is active", hiding the real error."""
    while "no transaction is active" in str(err) and err.__context__ is not None:
        err = err.__context__
    return err


def _no_room(path: Path) -> bool:
    """True when the disk holding ``path`` has (almost) no room left: SQLite may say "disk I/O error"
    when it cannot even make its ``-shm`` file there."""
    try:
        info = os.statvfs(Path(path).parent)
    except OSError:
        return False
    return info.f_bavail * info.f_frsize < 64 * 1024


def explain_error(err: BaseException, path: Path, *, read_only: bool = False) -> str:
    """A one-line message for a low-level database failure."""
    err = _cause(err)
    text = str(err)
    if isinstance(err, UnicodeDecodeError):  # a flipped byte in the schema or in a text column
        return damaged(path, "text that is not UTF-8 where SQLite keeps its schema or a value")
    if isinstance(err, OSError) and err.errno == errno.ENOSPC:
        return full(path)
    if "database or disk is full" in text or ("disk" in text and "full" in text) or _no_room(path):
        return full(path)
    if isinstance(err, (pw.OperationalError, sqlite3.OperationalError)):
        if "readonly" in text or "read-only" in text or "attempt to write" in text:
            if read_only:
                # A WAL reader must create or map the "-shm" file beside the store.
                return (
                    f"cannot read {path} read-only: SQLite needs to create {path.name}-shm in {path.parent}, "
                    "which this user may not write (give readers group write access to the folder; "
                    "see the README, Supervisors)"
                )
            return f"the store {path} is read-only"
        if "locked" in text or "busy" in text:
            return f"the store {path} is busy (locked by another process); try again"
        if "unable to open" in text:
            return f"cannot open the store {path}"
        if "disk I/O error" in text:
            return f"cannot read or write the store {path} (disk I/O error); nothing was saved"
    if isinstance(err, (pw.DatabaseError, sqlite3.DatabaseError)) and "not a database" in text:
        return f"{path} is not a tui-desk store (file is not a database, or it is corrupted)"
    if "malformed" in text or "no such table" in text or "no such column" in text:
        return damaged(path, text)
    return f"store error on {path}: {text}"
