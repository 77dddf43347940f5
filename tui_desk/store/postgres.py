"""Everything PostgreSQL-specific in one place: connecting, row locks, the guards as PL/pgSQL triggers,
full-text search (GIN) with trigram indexes, LISTEN/NOTIFY, attachments as ``bytea``.

The same functions as store/sqlite.py (store/backend.py lists them), through psycopg 3 and Peewee's
``PostgresqlDatabase``. A write locks the ticket it changes (``SELECT … FOR UPDATE``) where SQLite's
``BEGIN IMMEDIATE`` locks the whole store: one writer per ticket either way, and writes to different
tickets run side by side here.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import re
import tempfile
import threading
import weakref
from collections.abc import Iterator
from pathlib import Path

import peewee as pw
import psycopg
from psycopg.pq import TransactionStatus
from psycopg.types.json import Json, Jsonb

from tui_desk.domain.errors import DeskError
from tui_desk.domain.search_text import fold, query_parts
from tui_desk.store.attachments import AttachmentFile, BlobFolder
from tui_desk.store.backend import PostgresUrl, SearchPlan, append_only_tables

NAME = "PostgreSQL"
CHANNEL = "tui_desk_changed"  # NOTIFY'd by every commit that changes a ticket or the outbox
CONNECT_TIMEOUT_S = 10
LOCK_TIMEOUT = "10s"  # as long as SQLite's busy timeout: a writer waits this long for a ticket, then says so
_SCHEMA_LOCK = 7_245_116  # pg_advisory_xact_lock key: one process creates or migrates the schema at a time
STALE_TABLE = "search_stale"  # tickets whose folded fragment text must be rewritten before the commit
BLOB_TABLE = "blob_content"  # attachment contents by SHA-256 (append-only, like blob)


def _give_peewee_psycopg() -> None:
    """Peewee was loaded without psycopg (store/__init__.py): give it the driver as its own import would have.
    (A Peewee before 4 has no psycopg 3 support to give it to: it is left as it is.)"""
    if getattr(pw, "psycopg", psycopg) is not None:
        return
    pw.psycopg, pw.TransactionStatus, pw.Json_pg3, pw.Jsonb_pg3 = psycopg, TransactionStatus, Json, Jsonb
    adapter = pw.Psycopg3Adapter
    adapter.txn_idle, adapter.txn_inerror, adapter.txn_unknown = (
        TransactionStatus.IDLE,
        TransactionStatus.INERROR,
        TransactionStatus.UNKNOWN,
    )


_give_peewee_psycopg()


def open_database(location: PostgresUrl, *, read_only: bool = False, create: bool = True) -> pw.PostgresqlDatabase:
    """A Peewee database on the server ``location`` names; the password comes from libpq's usual sources."""
    options = f"-c lock_timeout={LOCK_TIMEOUT}"
    if read_only:
        options += " -c default_transaction_read_only=on"
    return pw.PostgresqlDatabase(
        location.url,
        autoconnect=True,
        prefer_psycopg3=True,
        options=options,
        application_name="tui-desk",
        connect_timeout=CONNECT_TIMEOUT_S,
    )


@contextlib.contextmanager
def write_transaction(db: pw.Database) -> Iterator[None]:
    """A transaction; what it changes it locks row by row (``locked``), so writers wait for each other.

    Before it commits, the folded fragment text of the tickets it changed is written (``refresh_fragments``).
    """
    with db.atomic():
        yield
        refresh_fragments(db)


def snapshot(db: pw.Database):
    """A read transaction that sees one state of the store throughout (REPEATABLE READ: its snapshot is
    taken at its first statement), while writers carry on: what an archive or a backup is read in.
    (READ COMMITTED, the default, would see each table as of its own statement.)"""
    return db.atomic("REPEATABLE READ")


def schema_lock(db: pw.Database) -> None:
    """Inside ``write_transaction``: one process at a time creates or migrates the schema."""
    run(db, "SELECT pg_advisory_xact_lock(?)", (_SCHEMA_LOCK,))


def locked(query: pw.ModelSelect, *, skip_locked: bool = False) -> pw.ModelSelect:
    """Rows read inside a write, locked until the commit: another write to them waits, then re-reads;
    ``skip_locked``: rows someone else holds are left out (the outbox's claim)."""
    return query.for_update("FOR UPDATE SKIP LOCKED" if skip_locked else True)


def locked_sql(sql: str, *, skip_locked: bool = False) -> str:
    """A fixed SELECT of one ticket, locked until the commit; ``skip_locked``: no row if someone holds it."""
    return sql + (" FOR UPDATE SKIP LOCKED" if skip_locked else " FOR UPDATE")


_ID_TABLES = (
    "ticket",
    "log_entry",
    "attachment",
    "status_change",
    "field_change",
    "timer_event",
    "outbox_message",
    "ticket_tag",
    "draft",
)


@contextlib.contextmanager
def bulk_ids(db: pw.Database) -> Iterator[None]:
    """Inside a write: a builder gives rows their ids itself. Other writers wait (SQLite's lock does the
    same), and the id sequences are moved past what was inserted, so later inserts do not collide."""
    tables = [t for t in _ID_TABLES if t in _tables(db)]
    run(db, "LOCK TABLE {} IN SHARE ROW EXCLUSIVE MODE".format(", ".join(f'"{t}"' for t in tables)))
    yield
    for table in tables:
        run(
            db,
            f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "
            f'(SELECT coalesce(max(id), 0) + 1 FROM "{table}"), false)',
        )


def _tables(db: pw.Database) -> set[str]:
    return set(db.get_tables())


# -- fixed statements (written with ? placeholders, as for SQLite) ----------------------------------


@functools.lru_cache(maxsize=256)
def _pg(sql: str) -> str:
    # The fixed statements hold no literal ? or %: every ? is a parameter.
    return sql.replace("%", "%%").replace("?", "%s")


def run(db: pw.Database, sql: str, params: tuple | list = ()):
    """Run one fixed statement on this thread's connection; a DB-API cursor."""
    cursor = db.cursor()
    if params:
        cursor.execute(_pg(sql), params)
    else:
        cursor.execute(sql)
    return cursor


def run_many(db: pw.Database, sql: str, rows) -> int:
    """Run one fixed statement for each of ``rows`` (pipelined: one round trip, not one per row); how
    many rows they changed in all."""
    rows = list(rows)
    if not rows:
        return 0
    cursor = db.cursor()
    cursor.executemany(_pg(sql), rows)
    return cursor.rowcount


def new_ids(db: pw.Database, counts: dict[str, int]) -> dict[str, list[int]]:
    """Inside a write: ids for rows it will insert with explicit ids, ``counts[table]`` of each table, from
    the tables' own sequences (no other writer gets them), all in one statement."""
    wanted = [(table, count) for table, count in counts.items() if count]
    ids = {table: [] for table in counts}
    if wanted:
        columns = ", ".join(
            f"ARRAY(SELECT nextval(pg_get_serial_sequence('\"{table}\"', 'id')) FROM generate_series(1, ?))"
            for table, _ in wanted
        )
        row = run(db, f"SELECT {columns}", [count for _, count in wanted]).fetchone()
        for (table, _), values in zip(wanted, row, strict=True):
            ids[table] = sorted(values)
    return ids


def insert(db: pw.Database, sql: str, params: tuple | list) -> int | None:
    """Run an INSERT of one row; its id, or None when ``ON CONFLICT DO NOTHING`` inserted nothing."""
    cursor = db.cursor()
    cursor.execute(_pg(sql) + " RETURNING id", params)
    row = cursor.fetchone()
    return row[0] if row else None


def run_cancellable(db: pw.Database, sql: str, params, cancelled) -> list:
    """All rows of a read that the server stops (with a DeskError) once ``cancelled()`` turns true."""
    if cancelled is None:
        return db.execute_sql(sql, params).fetchall()
    conn = db.connection()
    done = threading.Event()

    def watch() -> None:
        while not done.wait(0.05):
            if cancelled():
                with contextlib.suppress(Exception):
                    conn.cancel_safe()
                return

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        return db.execute_sql(sql, params).fetchall()
    except pw.DatabaseError as err:
        if isinstance(getattr(err, "orig", None), psycopg.errors.QueryCanceled) or "canceling statement" in str(err):
            raise DeskError("the search was superseded") from None
        raise
    finally:
        done.set()
        watcher.join()


def interrupt_when(db: pw.Database, check) -> None:
    """Nothing to set up: a statement here waits on the server, which ``statement_timeout`` and the
    lock timeout bound; the console's hang-up ends the process, and the server rolls its work back."""


def bulk_speed(db: pw.Database) -> None:
    """For rebuildable data (the demo): commits need not wait for the disk on this connection."""
    run(db, "SET synchronous_commit = off")


def not_a_store(location: PostgresUrl) -> str:
    return f"the database {location} holds tables but is not a tui-desk store; it was left untouched"


# -- guards: PL/pgSQL triggers that refuse to rewrite or remove evidence --------------------------

REFUSE_FUNCTION = "tui_desk_refuse"
_REFUSE_BODY = "BEGIN RAISE EXCEPTION '%', TG_ARGV[0] USING ERRCODE = 'integrity_constraint_violation'; END"
_FUNCTION_GUARD = f"{REFUSE_FUNCTION}()"  # the function's body is checked too, as a guard of its own


def _evidence_tables(schema_version: int | None) -> list[str]:
    return [*append_only_tables(schema_version), BLOB_TABLE]


def guard_sql(schema_version: int | None = None) -> dict[str, str]:
    """The guards by name, as ``pg_get_triggerdef`` prints them (schema name left out), and the function
    they call by its body: ``verify`` compares the stored ones with these."""
    guards = {_FUNCTION_GUARD: _REFUSE_BODY}

    def trigger(name: str, when: str, table: str, level: str, message: str) -> None:
        guards[name] = (
            f"CREATE TRIGGER {name} BEFORE {when} ON {table} FOR EACH {level} "
            f"EXECUTE FUNCTION {REFUSE_FUNCTION}('{message}')"
        )

    for table in _evidence_tables(schema_version):
        message = f"{table} rows are append-only evidence"
        trigger(f"{table}_no_update", "UPDATE", table, "ROW", message)
        trigger(f"{table}_no_delete", "DELETE", table, "ROW", message)
        trigger(f"{table}_no_truncate", "TRUNCATE", table, "STATEMENT", message)
    trigger("ticket_no_delete", "DELETE", "ticket", "ROW", "tickets are never deleted")
    trigger("ticket_no_truncate", "TRUNCATE", "ticket", "STATEMENT", "tickets are never deleted")
    return guards


def normalised_sql(sql: str) -> str:
    """A guard's text as compared by ``verify``: spacing and letter case do not count."""
    return " ".join(sql.replace("(", " ( ").replace(")", " ) ").replace(";", " ; ").split()).lower()


def add_column(db: pw.Database, table: str, column: str, declaration: str) -> None:
    """A migration's new column, unless it is there already."""
    run(db, f'ALTER TABLE "{table}" ADD COLUMN IF NOT EXISTS "{column}" {declaration}')


def has_table(con, name: str) -> bool:
    """On verify's own connection: whether the store has this table."""
    return bool(con.execute("SELECT to_regclass(?)", (name,)).fetchone()[0])


def install_tables(db: pw.Database) -> None:
    """What only this backend keeps: attachment contents, and the notification of every change."""
    run(db, f"CREATE TABLE IF NOT EXISTS {BLOB_TABLE} (sha256 text PRIMARY KEY, content bytea NOT NULL)")
    run(
        db,
        "CREATE OR REPLACE FUNCTION tui_desk_notify() RETURNS trigger LANGUAGE plpgsql AS "
        f"$$ BEGIN PERFORM pg_notify('{CHANNEL}', ''); RETURN NULL; END $$",
    )
    present = _trigger_names(db)
    for table in ("ticket", "outbox_message"):
        name = f"{table}_changed_notify"
        if name not in present:
            run(
                db,
                f'CREATE TRIGGER {name} AFTER INSERT OR UPDATE ON "{table}" '
                "FOR EACH STATEMENT EXECUTE FUNCTION tui_desk_notify()",
            )


def install_guards(db: pw.Database, schema_version: int | None = None) -> None:
    """The guards that are missing (one replaced by hand stays as it is, for ``verify`` to report);
    only of tables that exist (``schema_version`` is SQLite's concern: a PostgreSQL store starts current)."""
    install_tables(db)
    if not _function_exists(db, REFUSE_FUNCTION):
        run(
            db,
            f"CREATE FUNCTION {REFUSE_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$ {_REFUSE_BODY} $$",
        )
    present = _trigger_names(db)
    tables = _tables(db)
    for name, sql in guard_sql().items():
        if name == _FUNCTION_GUARD or name in present:
            continue
        if sql.split(" ON ", 1)[1].split(" ", 1)[0] in tables:
            run(db, sql)


def _trigger_names(db: pw.Database) -> set[str]:
    rows = run(
        db,
        "SELECT t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
        "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE NOT t.tgisinternal AND n.nspname = current_schema()",
    ).fetchall()
    return {row[0] for row in rows}


def _function_exists(db: pw.Database, name: str) -> bool:
    return bool(
        run(
            db,
            "SELECT 1 FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
            "WHERE p.proname = ? AND n.nspname = current_schema()",
            (name,),
        ).fetchone()
    )


def stored_guards(con) -> dict[str, tuple[str | None, str]]:
    """Every trigger on the store's tables (name → table, SQL as ``guard_sql`` writes it), and the guard
    function's body; a disabled trigger reads as such, so it differs from the program's own."""
    schema_name = con.execute("SELECT current_schema()").fetchone()[0]
    present: dict[str, tuple[str | None, str]] = {}
    rows = con.execute(
        "SELECT t.tgname, c.relname, pg_get_triggerdef(t.oid), t.tgenabled FROM pg_trigger t "
        "JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE NOT t.tgisinternal AND n.nspname = current_schema()"
    ).fetchall()
    for name, table, sql, enabled in rows:
        sql = sql.replace(f" ON {schema_name}.", " ON ").replace(f"FUNCTION {schema_name}.", "FUNCTION ")
        if enabled == "D":
            sql += " -- disabled"
        present[name] = (table, sql)
    body = con.execute(
        "SELECT p.prosrc FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
        "WHERE p.proname = ? AND n.nspname = current_schema()",
        (REFUSE_FUNCTION,),
    ).fetchone()
    if body is not None:
        present[_FUNCTION_GUARD] = (None, body[0])
    return present


def guarded_tables() -> set[str]:
    return {*_evidence_tables(None), "ticket"}


# -- search: a tsvector per ticket (GIN), trigram indexes for case-number and email fragments ----------

_TICKET_COLUMNS = ("case_number", "customer", "email", "order_id", "subject", "description")
SEARCH_TRIGGERS = ("ticket_search_insert", "ticket_search_update", "log_entry_search_insert")
# The identity check pg-roles sets up for agents' roles (an owner's choice, not a guard of every store).
IDENTITY_TRIGGERS = ("log_entry_agent_is_role", "status_change_agent_is_role")
OWN_TRIGGERS = (*SEARCH_TRIGGERS, "ticket_changed_notify", "outbox_message_changed_notify", *IDENTITY_TRIGGERS)
_ENTRY_TEXT = "coalesce(NEW.summary, '') || ' ' || coalesce(NEW.sender_name, '') || ' ' || coalesce(NEW.body, '')"


def _fields_text(row: str) -> str:
    return " || ' ' || ".join(f"coalesce({row}{column}, '')" for column in _TICKET_COLUMNS)


# The search's GIN indexes (the documents, the folded text's trigrams, case numbers and emails), by name.
_GIN_INDEXES = {
    "ticket_search_folded_trgm": "CREATE INDEX IF NOT EXISTS ticket_search_folded_trgm ON ticket_search "
    "USING gin (folded gin_trgm_ops)",
    "ticket_search_document": "CREATE INDEX IF NOT EXISTS ticket_search_document ON ticket_search USING gin (document)",
    "ticket_case_number_trgm": "CREATE INDEX IF NOT EXISTS ticket_case_number_trgm ON ticket "
    "USING gin (case_number gin_trgm_ops)",
    "ticket_email_trgm": "CREATE INDEX IF NOT EXISTS ticket_email_trgm ON ticket USING gin (email gin_trgm_ops)",
}


def install_search(db: pw.Database) -> None:
    """The search documents and their GIN index, the trigram indexes, and the triggers that keep them."""
    for extension in ("unaccent", "pg_trgm"):
        run(db, f"CREATE EXTENSION IF NOT EXISTS {extension}")
    # Words as SQLite's unicode61 tokenizer splits them (letters and digits; diacritics removed).
    run(
        db,
        "CREATE OR REPLACE FUNCTION tui_desk_words(t text) RETURNS text LANGUAGE sql STABLE AS "
        "$$ SELECT regexp_replace(lower(unaccent(coalesce(t, ''))), '[^[:alnum:]]+', ' ', 'g') $$",
    )
    run(
        db,
        "CREATE TABLE IF NOT EXISTS ticket_search (ticket_id integer PRIMARY KEY, fields text NOT NULL DEFAULT '', "
        "log text NOT NULL DEFAULT '', document tsvector NOT NULL DEFAULT ''::tsvector)",
    )
    # The fragment text: fields and log folded by domain/search_text.fold (in Python, before each commit,
    # for the tickets in search_stale), searched with LIKE through a trigram index.
    run(db, "ALTER TABLE ticket_search ADD COLUMN IF NOT EXISTS folded text NOT NULL DEFAULT ''")
    run(db, f"CREATE TABLE IF NOT EXISTS {STALE_TABLE} (ticket_id integer PRIMARY KEY)")
    for sql in _GIN_INDEXES.values():
        run(db, sql)
    fields = _fields_text("NEW.")
    run(
        db,
        "CREATE OR REPLACE FUNCTION tui_desk_index_ticket() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"INSERT INTO ticket_search(ticket_id, fields, document) VALUES (NEW.id, {fields}, "
        f"to_tsvector('simple', tui_desk_words({fields}))) ON CONFLICT (ticket_id) DO UPDATE SET "
        "fields = EXCLUDED.fields, document = EXCLUDED.document || "
        "to_tsvector('simple', tui_desk_words(ticket_search.log)); "
        f"INSERT INTO {STALE_TABLE}(ticket_id) VALUES (NEW.id) ON CONFLICT DO NOTHING; RETURN NULL; END $$",
    )
    run(
        db,
        "CREATE OR REPLACE FUNCTION tui_desk_index_entry() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"UPDATE ticket_search SET log = log || ' ' || {_ENTRY_TEXT}, "
        f"document = document || to_tsvector('simple', tui_desk_words({_ENTRY_TEXT})) "
        "WHERE ticket_id = NEW.ticket_id; "
        f"INSERT INTO {STALE_TABLE}(ticket_id) VALUES (NEW.ticket_id) ON CONFLICT DO NOTHING; RETURN NULL; END $$",
    )
    _install_search_triggers(db)


def _install_search_triggers(db: pw.Database) -> None:
    present = _trigger_names(db)
    changed = " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in _TICKET_COLUMNS)
    statements = {
        "ticket_search_insert": "AFTER INSERT ON ticket FOR EACH ROW",
        "ticket_search_update": f"AFTER UPDATE OF {', '.join(_TICKET_COLUMNS)} ON ticket FOR EACH ROW WHEN ({changed})",
    }
    for name, when in statements.items():
        if name not in present:
            run(db, f"CREATE TRIGGER {name} {when} EXECUTE FUNCTION tui_desk_index_ticket()")
    if "log_entry_search_insert" not in present:
        run(
            db,
            "CREATE TRIGGER log_entry_search_insert AFTER INSERT ON log_entry FOR EACH ROW "
            "WHEN (NEW.sender <> 'system') EXECUTE FUNCTION tui_desk_index_entry()",
        )


def _index_tickets(db: pw.Database, where: str, params: tuple = ()) -> None:
    """(Re)write the search documents of the tickets ``where`` selects, from their fields and whole log."""
    run(
        db,
        "INSERT INTO ticket_search(ticket_id, fields, log, document) "
        f"SELECT t.id, {_fields_text('t.')}, coalesce(l.text, ''), "
        f"to_tsvector('simple', tui_desk_words({_fields_text('t.')})) || "
        "to_tsvector('simple', tui_desk_words(coalesce(l.text, ''))) FROM ticket t LEFT JOIN "
        "(SELECT ticket_id, string_agg(coalesce(summary, '') || ' ' || coalesce(sender_name, '') || ' ' || "
        "coalesce(body, ''), ' ' ORDER BY seq) AS text FROM log_entry WHERE sender <> 'system' "
        f"AND ticket_id IN (SELECT id FROM ticket WHERE {where}) GROUP BY ticket_id) l ON l.ticket_id = t.id "
        f"WHERE {where} ON CONFLICT (ticket_id) DO UPDATE SET fields = EXCLUDED.fields, log = EXCLUDED.log, "
        "document = EXCLUDED.document",
        params + params,
    )
    run(
        db,
        f"INSERT INTO {STALE_TABLE}(ticket_id) SELECT id FROM ticket WHERE {where} ON CONFLICT DO NOTHING",
        params,
    )
    refresh_fragments(db)


# The databases known to hold search_stale: once it exists, only rebuild_search drops it (and makes it
# again in the same transaction), so a write asks the server once per database, not once per commit.
_HAS_STALE_TABLE: weakref.WeakSet[pw.Database] = weakref.WeakSet()


def schema_changed(db: pw.Database) -> None:
    """The schema was created or migrated (or the search index rebuilt): ask again what exists."""
    _HAS_STALE_TABLE.discard(db)


def _has_stale_table(db: pw.Database) -> bool:
    if db in _HAS_STALE_TABLE:
        return True
    if not run(db, "SELECT to_regclass(?) IS NOT NULL", (STALE_TABLE,)).fetchone()[0]:
        return False  # a store being created or migrated, before the index exists
    _HAS_STALE_TABLE.add(db)
    return True


def refresh_fragments(db: pw.Database) -> None:
    """Inside a write transaction: rewrite the folded fragment text of the tickets noted stale."""
    if not _has_stale_table(db):
        return
    ids = [row[0] for row in run(db, f"DELETE FROM {STALE_TABLE} RETURNING ticket_id").fetchall()]
    if not ids:
        return
    rows = run(
        db, "SELECT ticket_id, fields || ' ' || log FROM ticket_search WHERE ticket_id = ANY(?)", (ids,)
    ).fetchall()
    run_many(db, "UPDATE ticket_search SET folded = ? WHERE ticket_id = ?", [(fold(t), i) for i, t in rows])


def add_fragments(db: pw.Database) -> None:
    """Schema 5 on an existing store: the fragment text beside the word index, built for every ticket."""
    install_search(db)
    _index_tickets(db, "TRUE")


def rebuild_search(db: pw.Database) -> None:
    """Build the search documents afresh. Inside a write transaction."""
    for name in SEARCH_TRIGGERS:
        table = "log_entry" if name.startswith("log_entry") else "ticket"
        run(db, f"DROP TRIGGER IF EXISTS {name} ON {table}")
    run(db, "DROP TABLE IF EXISTS ticket_search")
    run(db, f"DROP TABLE IF EXISTS {STALE_TABLE}")
    schema_changed(db)
    install_search(db)
    _index_tickets(db, "TRUE")


@contextlib.contextmanager
def bulk_load(db: pw.Database) -> Iterator[BulkLoad]:
    """Inside a write transaction: insert many new tickets and entries, then index them in one pass."""
    last_ticket = run(db, "SELECT coalesce(max(id), 0) FROM ticket").fetchone()[0]
    last_entry = run(db, "SELECT coalesce(max(id), 0) FROM log_entry").fetchone()[0]
    for name in SEARCH_TRIGGERS:
        table = "log_entry" if name.startswith("log_entry") else "ticket"
        run(db, f"DROP TRIGGER IF EXISTS {name} ON {table}")
    load = BulkLoad(db)
    yield load
    # The new tickets and the old ones with new entries, as one set: written with OR, the planner checked
    # each ticket against the new entries one by one once they outgrew work_mem (a 1,000,000-ticket
    # load had not indexed a fifth of its tickets after half an hour); a UNION is hashed and joined.
    touched = (
        "id IN (SELECT id FROM ticket WHERE id > ? "
        "UNION SELECT ticket_id FROM log_entry WHERE id > ? AND ticket_id <= ?)"
    )
    _index_tickets(db, touched, (last_ticket, last_entry, last_ticket))
    load.restore_indexes()
    _install_search_triggers(db)


class BulkLoad:
    """What a bulk load's block may do besides inserting: put off the search's GIN indexes."""

    def __init__(self, db: pw.Database) -> None:
        self.db = db
        self._deferred = False

    def defer_indexes(self, table: str) -> None:
        """For a load that adds more tickets than the store holds: drop the search's GIN indexes now and
        build them once at the end of the load (in this transaction, so a failed load keeps them). A GIN
        index is built many times faster over a whole table than kept up row by row (the PostgreSQL
        manual advises as much for bulk loads); the other indexes stay."""
        if table != "ticket" or self._deferred:
            return
        for name in _GIN_INDEXES:
            run(self.db, f"DROP INDEX IF EXISTS {name}")
        self._deferred = True

    def restore_indexes(self) -> None:
        if self._deferred:
            for sql in _GIN_INDEXES.values():
                run(self.db, sql)
            self._deferred = False


def search_plan(query: str) -> SearchPlan:
    """What a typed search asks, as in the SQLite backend: ``words``, a ``tsquery`` for the short words
    (1-2 characters: a word's start); ``fragments``, LIKE patterns on the folded text, one per fragment
    of 3+ characters (anywhere in the text) or of a script written without spaces. Every one must hold.
    No user text is read as tsquery or LIKE syntax."""
    words, fragments = query_parts(query)
    return SearchPlan(
        " & ".join("(" + " <-> ".join(f"'{t}'" for t in tokens) + ":*)" for tokens in words) or None,
        tuple("%" + re.sub(r"([\\%_])", r"\\\1", folded) + "%" for folded in fragments),
    )


_QUERY = "to_tsquery('simple', lower(unaccent(%s)))"


def _plan_sql(plan: SearchPlan) -> tuple[str, tuple[str, ...]]:
    conditions, params = [], []
    if plan.words is not None:
        conditions.append(f"ticket_search.document @@ {_QUERY}")
        params.append(plan.words)
    for pattern in plan.fragments:
        conditions.append("ticket_search.folded LIKE %s")
        params.append(pattern)
    return " AND ".join(conditions), tuple(params)


def search_condition(plan: SearchPlan, ticket_id: pw.Field) -> pw.Node:
    """``ticket_id`` restricted to the tickets matching ``plan`` (a never-true condition for an empty plan)."""
    if plan.empty:
        return pw.SQL("1 = 0")
    where, params = _plan_sql(plan)
    return ticket_id.in_(pw.SQL(f"(SELECT ticket_id FROM ticket_search WHERE {where})", params))


_SEARCH_TABLE = pw.Table("ticket_search").alias("ticket_search")


def join_search(query: pw.ModelSelect, ticket_id: pw.Field, plan: SearchPlan) -> tuple[pw.ModelSelect, pw.Node]:
    """``query`` narrowed to the tickets matching ``plan`` by a join, and the column to order by id."""
    where, params = _plan_sql(plan)
    joined = query.join(_SEARCH_TABLE, on=(_SEARCH_TABLE.c.ticket_id == ticket_id)).where(pw.SQL(where, params))
    return joined, ticket_id


# -- change notification ------------------------------------------------------------------------------


class ChangeWatch:
    """``changed()`` is True when someone committed a change since the previous call, told by NOTIFY.

    It keeps a connection of its own that LISTENs, and waits up to ``wait_s`` for a notification, so a
    console that calls it again at once sees another host's change as soon as it is committed.
    """

    blocks = True
    wait_s = 0.5

    def __init__(self, location: PostgresUrl) -> None:
        self.location = location
        self._conn: psycopg.Connection | None = None

    def changed(self) -> bool:
        if self._conn is None or self._conn.closed:
            self._conn = psycopg.connect(
                self.location.url, autocommit=True, application_name="tui-desk watch", connect_timeout=10
            )
            self._conn.execute(f"LISTEN {CHANNEL}")
            return False
        seen = False
        for _ in self._conn.notifies(timeout=self.wait_s, stop_after=1):
            seen = True
        if seen:  # take what else arrived meanwhile, without waiting
            for _ in self._conn.notifies(timeout=0):
                pass
        return seen

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def data_version(db: pw.Database) -> int:
    """Moves on whenever a write transaction starts anywhere on the server: cheap change detection."""
    return int(run(db, "SELECT txid_snapshot_xmax(txid_current_snapshot())").fetchone()[0])


# -- attachments inside the database ------------------------------------------------------------------


class DatabaseBlobs(BlobFolder):
    """Attachment contents in ``blob_content`` by their SHA-256: every host sees them, no shared folder."""

    def __init__(self, db: pw.Database, location: PostgresUrl, *, max_bytes: int) -> None:
        super().__init__(Path(tempfile.gettempdir()), max_bytes=max_bytes)
        self.db = db
        self.location = location
        self._cache: Path | None = None

    def ingest(self, source: Path, created: list[Path] | None = None) -> AttachmentFile:
        """Read ``source`` (hashing what is read) into the database, inside the caller's write transaction."""
        reader = self._open_checked(source)
        digest = hashlib.sha256()
        chunks = []
        size = 0
        with reader:
            while chunk := self._read_chunk(reader, source):
                size += len(chunk)
                if size > self.max_bytes:
                    raise DeskError(f"attachment {source}: grew over the limit while being read")
                digest.update(chunk)
                chunks.append(chunk)
        sha = digest.hexdigest()
        run(
            self.db,
            f"INSERT INTO {BLOB_TABLE} (sha256, content) VALUES (?, ?) ON CONFLICT DO NOTHING",
            (sha, b"".join(chunks)),
        )
        return AttachmentFile(name=source.name, size=size, sha256=sha)

    def put(self, reader, sha256: str, size: int, created: list[Path]) -> None:
        """Keep the content ``reader`` gives under ``sha256`` (an archive's blob being restored), refused
        unless it is exactly the ``size`` bytes that hash to ``sha256``."""
        if not re.fullmatch(r"[0-9a-f]{64}", sha256):
            raise DeskError(f"attachment content named {sha256[:70]!r} is not named by a SHA-256")
        content = reader.read(size + 1)
        if len(content) != size or hashlib.sha256(content).hexdigest() != sha256:
            raise DeskError(f"attachment content {sha256[:16]}… does not match its SHA-256 and size")
        run(
            self.db,
            f"INSERT INTO {BLOB_TABLE} (sha256, content) VALUES (?, ?) ON CONFLICT DO NOTHING",
            (sha256, content),
        )

    @staticmethod
    def discard(created: list[Path]) -> None:
        created.clear()  # the rolled-back transaction took the content away

    def path_of(self, sha256: str) -> Path:
        """A private file with the content, for opening it in another program."""
        if self._cache is None:
            self._cache = Path(tempfile.mkdtemp(prefix="tui-desk-attachments-"))
        path = self._cache / sha256
        if not path.exists():
            row = run(self.db, f"SELECT content FROM {BLOB_TABLE} WHERE sha256 = ?", (sha256,)).fetchone()
            if row is None:
                return path
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as out:
                out.write(bytes(row[0]))
        return path

    def content(self, sha256: str) -> bytes | None:
        row = run(self.db, f"SELECT content FROM {BLOB_TABLE} WHERE sha256 = ?", (sha256,)).fetchone()
        return bytes(row[0]) if row else None


def make_blobs(location: PostgresUrl, db: pw.Database, *, max_bytes: int) -> DatabaseBlobs:
    return DatabaseBlobs(db, location, max_bytes=max_bytes)


def blob_problems(con, sizes: dict[str, int | None]) -> list[tuple[str, str]]:
    """(sha, what is wrong) for each attachment content missing or altered in the database."""
    wanted = [sha for sha, size in sorted(sizes.items()) if size is not None and isinstance(sha, str)]
    found = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        marks = ", ".join("?" * len(chunk))
        for sha, length, actual in con.execute(
            f"SELECT sha256, length(content), encode(sha256(content), 'hex') FROM {BLOB_TABLE} "
            f"WHERE sha256 IN ({marks})",
            chunk,
        ).fetchall():
            found[sha] = (length, actual)
    problems = []
    for sha in wanted:
        if sha not in found:
            problems.append((sha, "is missing from the database"))
        elif found[sha][1] != sha or found[sha][0] != sizes[sha]:
            problems.append((sha, "was altered (it no longer hashes to its name)"))
    return problems


# -- verify's own connection ------------------------------------------------------------------------


class ReadConnection:
    """verify's and seal's read-only connection, with the ``execute`` of sqlite3 (``?`` placeholders)."""

    def __init__(self, location: PostgresUrl) -> None:
        try:
            self._conn = psycopg.connect(
                location.url,
                autocommit=True,
                options="-c default_transaction_read_only=on",
                application_name="tui-desk verify",
                connect_timeout=CONNECT_TIMEOUT_S,
            )
        except psycopg.Error as err:
            raise DeskError(explain_error(err, location)) from None

    def execute(self, sql: str, params: tuple | list = ()):
        if sql.strip().upper() == "BEGIN":  # one snapshot for everything read after it
            sql = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
        if params:
            return self._conn.execute(_pg(sql), params)
        return self._conn.execute(sql)

    def close(self) -> None:
        self._conn.close()


def connect_readonly(location: PostgresUrl) -> ReadConnection:
    return ReadConnection(location)


def integrity_problems(con, location: PostgresUrl) -> list[str]:
    """The server keeps its own pages whole; nothing here to check beyond reading the rows."""
    return []


def explain_error(err: Exception, location, *, read_only: bool = False) -> str:
    """A one-line message for a low-level database failure."""
    orig = getattr(err, "orig", None) or err
    text = (str(err).strip().splitlines() or [type(err).__name__])[0]
    if isinstance(orig, psycopg.errors.ReadOnlySqlTransaction):
        return f"the store {location} is open read-only; nothing was changed"
    if isinstance(orig, psycopg.errors.InsufficientPrivilege):
        return f"the store {location} refused it (this database role may not do that): {text}"
    if isinstance(orig, psycopg.errors.LockNotAvailable):
        return f"the store {location} is busy (a ticket is locked by another writer); try again"
    if isinstance(orig, psycopg.errors.InvalidCatalogName):
        return f"the database of {location} does not exist; create it first (see the README, PostgreSQL)"
    if isinstance(orig, psycopg.OperationalError):
        return f"cannot reach the store {location}: {text}"
    return f"store error on {location}: {text}"


def current_role(db: pw.Database) -> str:
    """The database role this connection acts as: the agent's name with ``[store] identity = "database"``."""
    return run(db, "SELECT current_user").fetchone()[0]


def roles_sql(dbname: str) -> str:
    """The SQL for the three roles: an owner who migrates, agents who add evidence, supervisors who read.

    Tables come from the models: evidence (``APPEND_ONLY_TABLES``) is insert-only for agents, ``meta``
    read-only, every other table (a new model's included) theirs to work; the ticket's delete guard and
    the evidence triggers refuse what the grants would allow.
    """
    from tui_desk.store.models import ALL_MODELS

    evidence_tables = _evidence_tables(None)
    evidence = ", ".join(evidence_tables)
    tables = [m._meta.table_name for m in ALL_MODELS]
    working = ", ".join(t for t in [*tables, "ticket_search", STALE_TABLE] if t not in evidence_tables and t != "meta")
    return f"""-- tui-desk roles for the PostgreSQL store "{dbname}" (run as a superuser; change names to taste).
-- The owner creates and migrates the schema: run any tui-desk command once as this role first.
CREATE ROLE tui_desk_owner LOGIN;
CREATE DATABASE "{dbname}" OWNER tui_desk_owner;
\\connect "{dbname}"
CREATE EXTENSION IF NOT EXISTS unaccent;
CREATE EXTENSION IF NOT EXISTS pg_trgm;
ALTER SCHEMA public OWNER TO tui_desk_owner;

-- Agents: add evidence (never update or delete it), work tickets, drafts and the outbox.
CREATE ROLE tui_desk_agents NOLOGIN;
GRANT CONNECT ON DATABASE "{dbname}" TO tui_desk_agents;
GRANT USAGE ON SCHEMA public TO tui_desk_agents;
-- Supervisors: read everything, change nothing.
CREATE ROLE tui_desk_supervisors NOLOGIN;
GRANT CONNECT ON DATABASE "{dbname}" TO tui_desk_supervisors;
GRANT USAGE ON SCHEMA public TO tui_desk_supervisors;

-- Once the owner has opened the store (the tables exist), as tui_desk_owner:
SET ROLE tui_desk_owner;
GRANT SELECT, INSERT ON {evidence} TO tui_desk_agents;
GRANT SELECT, INSERT, UPDATE, DELETE ON {working} TO tui_desk_agents;
GRANT SELECT ON meta TO tui_desk_agents;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO tui_desk_agents;
GRANT SELECT ON ALL TABLES IN SCHEMA public TO tui_desk_supervisors;
RESET ROLE;

-- With [store] identity = "database": the server also refuses evidence that an agent's role writes under
-- another name (the program's own entries are the agent's or "system"'s).
SET ROLE tui_desk_owner;
CREATE OR REPLACE FUNCTION tui_desk_agent_is_role() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
  IF NEW.agent <> current_user AND NEW.agent <> 'system'
     AND pg_has_role(current_user, 'tui_desk_agents', 'MEMBER')
     AND NOT pg_has_role(current_user, 'tui_desk_owner', 'MEMBER') THEN
    RAISE EXCEPTION 'role % may not write as %', current_user, NEW.agent USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER log_entry_agent_is_role BEFORE INSERT ON log_entry
  FOR EACH ROW EXECUTE FUNCTION tui_desk_agent_is_role();
CREATE TRIGGER status_change_agent_is_role BEFORE INSERT ON status_change
  FOR EACH ROW EXECUTE FUNCTION tui_desk_agent_is_role();
RESET ROLE;

-- One login per person (with [store] identity = "database" the role's name is the agent's name):
-- CREATE ROLE ana LOGIN IN ROLE tui_desk_agents;
-- CREATE ROLE sam LOGIN IN ROLE tui_desk_supervisors;
-- Passwords: ALTER ROLE ana PASSWORD '…'; then ~/.pgpass or PGPASSWORD on the agent's host.
"""
