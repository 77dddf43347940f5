"""The lossless archive: a whole store in one zip file, and back again with every digest as it was.

The zip holds ``tui-desk-archive.json`` (the manifest: format, when, the schema version, each table's
columns and row count, and the running digests a seal computes over the archived rows),
``tables/<table>.jsonl`` (one JSON array per row, values exactly as stored: times as their stored
text) and ``blobs/<sha256>`` (each attachment's content). Drafts are not evidence and stay out.

Restoring into an empty store puts every row back with its id: the chains (bound to their ticket's id
and case number), the final digests and the store-wide seal come out the same, and the store keeps its
identity (``store_id``), so seals made before still check. Every entry goes in through the log's
writer (store/log.py ``RestoreBatch``), which recomputes its digest and refuses a row that does not
match. Into a store that already has tickets, an archive whose case numbers collide is refused; one
that does not is merged under new ids, its chains re-bound to them (so their digests are new).

Only Peewee and the DB-API are used here (the SQL text is built from the models, with the database's
own parameter mark), so another backend can use the same reader and writer.
"""

from __future__ import annotations

import io
import json
import os
import re
import stat
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import peewee as pw

from tui_desk.domain import limits
from tui_desk.domain.errors import DeskError
from tui_desk.domain.evidence import GENESIS, genesis
from tui_desk.domain.text import printable
from tui_desk.store import log, schema, seal, zips
from tui_desk.store.attachments import BlobFolder
from tui_desk.store.models import ALL_MODELS, Blob, CaseSequence, Draft, Meta, Ticket
from tui_desk.store.private import private_file

FORMAT = "tui-desk-archive/1"
MANIFEST = "tui-desk-archive.json"
# Every table of the store but the drafts (not evidence, and they go stale), in ALL_MODELS' order: parents
# first, as they are restored. A table a later schema adds is carried without a change here.
TABLES: dict[str, type[pw.Model]] = {m._meta.table_name: m for m in ALL_MODELS if m is not Draft}
_NOT_CARRIED = ("schema_version",)  # meta keys the receiving store sets itself
_SEALED = {  # the columns the seal (store/seal.py) folds in, per table, in its order
    "status_change": ("id", "ticket_id", "entry_id", "at", "from_status", "to_status", "agent", "note"),
    "timer_event": (
        "id",
        "ticket_id",
        "action",
        "period_started_at",
        "slot",
        "due_at",
        "applied_at",
        "outcome",
        "entry_id",
    ),
}
BATCH = 5000
_CHUNK = 1 << 20


def columns_of(model: type[pw.Model]) -> list[str]:
    return [f.column_name for f in model._meta.sorted_fields]


def _plain(value: object) -> object:
    if isinstance(value, Decimal):
        return {"decimal": str(value)}
    if isinstance(value, (bytes, memoryview)):
        return {"bytes": bytes(value).hex()}
    return value


def _stored(value: object) -> object:
    if isinstance(value, dict):
        if "decimal" in value:
            return Decimal(value["decimal"])
        if "bytes" in value:
            return bytes.fromhex(value["bytes"])
        raise DeskError("the archive holds a value of an unknown type")
    return value


@dataclass
class ArchiveSummary:
    path: Path
    rows: dict[str, int] = field(default_factory=dict)
    blobs: int = 0
    seal: dict = field(default_factory=dict)


# -- writing ----------------------------------------------------------------------------------


def _order(model: type[pw.Model]) -> list[pw.Field]:
    pk = model._meta.primary_key
    if isinstance(pk, pw.CompositeKey):
        return [model._meta.fields[name] for name in pk.field_names]
    return [pk]


def _raw_rows(db: pw.Database, model: type[pw.Model]) -> Iterator[tuple]:
    """Every row of ``model`` as the database holds it (no field conversion), in key order."""
    query = model.select(*model._meta.sorted_fields).order_by(*_order(model))
    if model is Meta:
        query = query.where(Meta.key.not_in(_NOT_CARRIED))
    cursor = db.execute(query)
    while batch := cursor.fetchmany(BATCH):
        yield from batch


class _Sealing:
    """The seal's running digests (store/seal.py), computed over the rows as they are archived."""

    def __init__(self) -> None:
        self.states = {name: seal.Running() for name in ("log_entry", *_SEALED)}
        self.case_numbers: dict[int, str] = {}

    def row(self, table: str, columns: list[str], row: tuple) -> None:
        if table == "ticket":
            self.case_numbers[row[columns.index("id")]] = row[columns.index("case_number")]
            return
        if table == "log_entry":
            at = {c: row[i] for i, c in enumerate(columns)}
            values = [at["id"], at["ticket_id"], self.case_numbers.get(at["ticket_id"]), at["seq"], at["digest"]]
        elif table in _SEALED:
            values = [row[columns.index(c)] for c in _SEALED[table]]
        else:
            return
        state = self.states[table]
        state.digest = seal.step(state.digest, values)
        state.rows += 1
        state.last_id = values[0]
        if table == "log_entry" and state.rows % seal.CHECKPOINT == 0:
            state.checkpoints.append([state.last_id, state.rows, state.digest])

    def to_json(self) -> dict:
        return {name: state.to_json() for name, state in self.states.items()}


def write_archive(store, path: Path, *, progress: Callable[[int], None] | None = None) -> ArchiveSummary:
    """Write the whole store (drafts aside) to the zip ``path``, owner-only, from one snapshot."""
    path = Path(path)
    if path.is_dir():
        raise DeskError(f"{path} is a folder; give the archive a file name")
    if not path.parent.is_dir():
        raise DeskError(f"the folder {path.parent} does not exist")
    summary = ArchiveSummary(path)
    sealing = _Sealing()
    try:
        with private_file(path, binary=True) as out, store.reading(), store.backend.snapshot(store.db):
            version = schema.stored_version(store.db)
            with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
                tables = {}
                for table, model in TABLES.items():
                    columns = columns_of(model)
                    count = 0
                    with zf.open(f"tables/{table}.jsonl", "w", force_zip64=True) as member:
                        text = io.TextIOWrapper(member, encoding="utf-8", newline="\n")
                        for row in _raw_rows(store.db, model):
                            sealing.row(table, columns, row)
                            text.write(json.dumps([_plain(v) for v in row], ensure_ascii=False) + "\n")
                            count += 1
                            if progress and count % BATCH == 0:
                                progress(BATCH)
                        text.flush()
                        text.detach()
                    tables[table] = {"columns": columns, "rows": count}
                    summary.rows[table] = count
                summary.blobs = _write_blobs(store, zf)
                meta = {key: value for key, value in _raw_rows(store.db, Meta) if not key.startswith("import:")}
                summary.seal = sealing.to_json()
                manifest = {
                    "format": FORMAT,
                    "made_at": store.now().isoformat(),
                    "schema_version": version,
                    "store_id": meta.get(schema.STORE_ID),
                    "chain_bound_from": _int_or_none(meta.get(schema.CHAIN_BOUND_FROM)),
                    "tables": tables,
                    "blobs": summary.blobs,
                    "seal": summary.seal,
                }
                zf.writestr(MANIFEST, json.dumps(manifest, indent=1))
    except OSError as err:
        raise DeskError(f"cannot write the archive {path}: {err.strerror or err}") from None
    return summary


def _int_or_none(value: object) -> int | None:
    return int(value) if isinstance(value, str) and value.isdigit() else None


def _write_blobs(store, zf: zipfile.ZipFile) -> int:
    """Each attachment's content, checked against its SHA-256 as it is copied (a damaged file is refused)."""
    import hashlib

    count = 0
    for (sha,) in store.db.execute(Blob.select(Blob.sha256).order_by(Blob.sha256)):
        source = store.blobs.path_of(sha)
        digest = hashlib.sha256()
        try:
            with source.open("rb") as reader, zf.open(f"blobs/{sha}", "w", force_zip64=True) as member:
                while chunk := reader.read(_CHUNK):
                    digest.update(chunk)
                    member.write(chunk)
        except FileNotFoundError:
            missing = f"attachment file {sha[:16]}… is missing from {store.blobs.root}; run tui-desk verify"
            raise DeskError(missing) from None
        if digest.hexdigest() != sha:
            raise DeskError(f"attachment file {sha[:16]}… no longer hashes to its name; run tui-desk verify")
        count += 1
    return count


# -- reading ----------------------------------------------------------------------------------


def is_archive(path: Path) -> bool:
    """Is ``path`` a tui-desk archive (a zip with our manifest), rather than a sheet?

    Only a regular file is opened (a FIFO or a device would never end or never begin); a zip with more
    members than any archive may have is refused before its directory is read."""
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            return False
    except OSError:
        return False
    zf = zips.open_zip(path, max_members=limits.MAX_ARCHIVE_MEMBERS, what="archive") if _is_zip(path) else None
    if zf is None:
        return False
    with zf:
        return MANIFEST in zf.namelist()


def _is_zip(path: Path) -> bool:
    try:
        return zipfile.is_zipfile(path)
    except OSError:
        return False


_NOTHING = "nothing was imported"
_BLOB_MEMBER = re.compile(r"blobs/[0-9a-f]{64}")


class ArchiveReader:
    """An archive opened for reading: its directory and manifest checked against each other and the limits
    (domain/limits.py) before anything else is unpacked, its tables streamed row by row as dicts."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        name = self.path.name
        self.zip = zips.open_zip(self.path, max_members=limits.MAX_ARCHIVE_MEMBERS, what="archive")
        if self.zip is None:
            raise DeskError(f"{name} is not a tui-desk archive (not a zip)")
        try:
            zips.check_sizes(self.zip, self.path, max_total=limits.MAX_ARCHIVE_UNPACKED, what="archive")
            self.members = self._members()
            info = self.members.get(MANIFEST)
            if info is None:
                raise DeskError(f"{name} is not a tui-desk archive (no {MANIFEST})")
            if info.file_size > limits.MAX_ARCHIVE_MANIFEST:
                raise DeskError(
                    f"{name}: its manifest unpacks to {info.file_size / 1e6:,.0f} MB, over the limit of "
                    f"{limits.MAX_ARCHIVE_MANIFEST / 1e6:,.0f} MB; it is not a tui-desk archive"
                )
            try:
                self.manifest = json.loads(self.zip.read(MANIFEST))
            except (*zips.READ_ERRORS, ValueError, RecursionError) as err:
                raise DeskError(f"{name} is not a tui-desk archive (its manifest: {err})") from None
            self._check()
        except BaseException:
            self.zip.close()
            raise

    def _members(self) -> dict[str, zipfile.ZipInfo]:
        """The members by name: each one a name an archive has (no path that could lead elsewhere), once."""
        members: dict[str, zipfile.ZipInfo] = {}
        for info in self.zip.infolist():
            member = info.filename
            shown = printable(member[:80], one_line=True)
            if member.startswith(("/", "\\")) or "\\" in member or ".." in member.split("/") or ":" in member:
                raise DeskError(
                    f"{self.path.name}: the member {shown!r} points outside the archive; nothing was imported"
                )
            if member in members:
                raise DeskError(f"{self.path.name} holds the member {shown!r} twice; nothing was imported")
            members[member] = info
        return members

    def _check(self) -> None:
        m = self.manifest
        name = self.path.name
        if not isinstance(m, dict) or m.get("format") != FORMAT:
            raise DeskError(f"{name} is not a tui-desk archive (no format {FORMAT!r})")
        version = m.get("schema_version")
        if not isinstance(version, int) or version > schema.SCHEMA_VERSION:
            raise DeskError(
                f"{name} is from a newer tui-desk (schema {version}; this version knows up to "
                f"{schema.SCHEMA_VERSION}); upgrade tui-desk to import it"
            )
        tables = m.get("tables")
        if not isinstance(tables, dict):
            raise DeskError(f"{name} is not a complete tui-desk archive (no tables)")
        for table, info in tables.items():
            model = TABLES.get(table)
            if model is None:
                raise DeskError(f"{name} holds a table this version does not know: {table!r}")
            columns = info.get("columns") if isinstance(info, dict) else None
            if not isinstance(columns, list) or not set(columns) <= set(columns_of(model)):
                raise DeskError(f"{name}: the {table} table has columns this version does not know")
            if not isinstance(info.get("rows"), int) or isinstance(info.get("rows"), bool):
                raise DeskError(f"{name}: the manifest gives no row count for the {table} table")
            if f"tables/{table}.jsonl" not in self.members:
                raise DeskError(f"{name} is not a complete tui-desk archive (tables/{table}.jsonl is missing)")
        # Every member is one the manifest names: itself, its tables, and as many blobs as it counts.
        expected = {MANIFEST, *(f"tables/{table}.jsonl" for table in tables)}
        blobs = 0
        for member in self.members:
            if member in expected:
                continue
            if not _BLOB_MEMBER.fullmatch(member):
                shown = printable(member[:80], one_line=True)
                raise DeskError(f"{name}: the member {shown!r} is not part of a tui-desk archive; nothing was imported")
            blobs += 1
        if blobs != m.get("blobs"):
            raise DeskError(
                f"{name} holds {blobs} attachment content(s), but its manifest says {m.get('blobs')!r}; "
                "nothing was imported"
            )

    def columns(self, table: str) -> list[str]:
        info = self.manifest["tables"].get(table)
        return list(info["columns"]) if info else []

    def rows(self, table: str) -> Iterator[dict]:
        """The table's rows; each line is read with a bound (``MAX_ARCHIVE_ROW``), and a table holding other
        than the manifest's count of rows is refused once read through."""
        columns = self.columns(table)
        if not columns:
            return
        member = f"tables/{table}.jsonl"
        expected = self.manifest["tables"][table]["rows"]
        number = 0
        try:
            with self.zip.open(member) as raw, io.BufferedReader(raw, _CHUNK) as lines:
                while line := lines.readline(limits.MAX_ARCHIVE_ROW + 1):
                    number += 1
                    if len(line) > limits.MAX_ARCHIVE_ROW:
                        raise DeskError(
                            f"{self.path.name}: {member} line {number} is over "
                            f"{limits.MAX_ARCHIVE_ROW / 1e6:,.0f} MB, the limit for one row"
                        )
                    try:
                        values = json.loads(line)
                    except (ValueError, RecursionError):
                        raise DeskError(f"{self.path.name}: {member} line {number} is not JSON") from None
                    if not isinstance(values, list) or len(values) != len(columns):
                        raise DeskError(f"{self.path.name}: {member} line {number} is not a {table} row")
                    yield dict(zip(columns, map(_stored, values), strict=True))
        except zips.READ_ERRORS as err:
            raise DeskError(f"{self.path.name}: {member} is damaged ({err}); nothing was imported") from None
        if number != expected:
            raise DeskError(
                f"{self.path.name}: {member} holds {number} rows, but the manifest says {expected}; {_NOTHING}"
            )

    def blob(self, sha256: str, size: object):
        """The content of attachment ``sha256``, which its blob row says is ``size`` bytes: refused unless
        the member is exactly that size (the directory's) and within ``MAX_ARCHIVE_BLOB``."""
        info = self.members.get(f"blobs/{sha256}") if isinstance(sha256, str) else None
        if info is None:
            raise DeskError(f"{self.path.name} lacks the content of attachment {str(sha256)[:16]}…") from None
        if not isinstance(size, int) or isinstance(size, bool) or size != info.file_size:
            raise DeskError(
                f"{self.path.name}: attachment content {sha256[:16]}… unpacks to {info.file_size} bytes, but its "
                f"row says {size!r}; nothing was imported"
            )
        if size > limits.MAX_ARCHIVE_BLOB:
            raise DeskError(
                f"{self.path.name}: attachment content {sha256[:16]}… is {size / 1e6:,.0f} MB, over the limit "
                f"of {limits.MAX_ARCHIVE_BLOB / 1e6:,.0f} MB for one attachment"
            )
        return self.zip.open(info)

    def close(self) -> None:
        self.zip.close()


# -- restoring --------------------------------------------------------------------------------


@dataclass
class RestoreOutcome:
    tickets: int = 0
    entries: int = 0
    blobs: int = 0
    merged: bool = False  # into a store that had tickets: new ids, chains re-bound
    rows: dict[str, int] = field(default_factory=dict)
    seal: dict = field(default_factory=dict)  # the archive's running digests (to compare with the store's)


@dataclass
class _Case:
    number: str
    count: int
    head: str
    original: log.Chain
    target: log.Chain | None


def restore_archive(
    store, path: Path, *, progress: Callable[[int], None] | None = None, dry_run: bool = False
) -> RestoreOutcome:
    """Rebuild the archived store into ``store``, all or nothing (see the module's docstring). ``dry_run``:
    every check and every row as a restore makes them, then rolled back (attachment files removed again)."""
    reader = ArchiveReader(path)
    created: list = []
    try:
        with store.writing(dry_run=dry_run):
            outcome = _restore(store, reader, created, progress)
        if dry_run:
            BlobFolder.discard(created)
    except zips.READ_ERRORS as err:  # a member that does not unpack to what the directory says
        BlobFolder.discard(created)
        raise DeskError(f"{reader.path.name} is damaged ({err}); nothing was imported") from None
    except BaseException:
        BlobFolder.discard(created)
        raise
    finally:
        reader.close()
    return outcome


def _max_id(db: pw.Database, model: type[pw.Model]) -> int:
    return db.execute(model.select(pw.fn.COALESCE(pw.fn.MAX(model._meta.primary_key), 0))).fetchone()[0]


def _restore(store, reader: ArchiveReader, created: list, progress) -> RestoreOutcome:
    db = store.db
    outcome = RestoreOutcome(seal=reader.manifest.get("seal") or {})
    existing = {n for (n,) in db.execute(Ticket.select(Ticket.case_number))}
    if existing:
        clash = sorted({r["case_number"] for r in reader.rows("ticket")} & existing)
        if clash:
            shown = ", ".join(clash[:5]) + (" …" if len(clash) > 5 else "")
            raise DeskError(
                f"{len(clash)} case number(s) of {reader.path.name} are already in the store ({shown}); "
                "nothing was imported (import an archive into an empty store to restore it as it was)"
            )
    outcome.merged = bool(existing)
    # Merged rows keep their order under new ids: each table's ids move past the store's highest.
    offsets = {t: _max_id(db, m) if outcome.merged else 0 for t, m in TABLES.items() if t not in _KEYED}
    archived_from = reader.manifest.get("chain_bound_from")
    # Rows keep their archived ids: bulk_ids keeps other writers out and moves the id sequences past them.
    with store.backend.bulk_ids(db), store.backend.bulk_load(db) as load:
        if not outcome.merged:
            load.defer_indexes("ticket")  # into an empty store: its indexes are made once, at the end
        cases = _restore_tickets(db, reader, offsets, archived_from, outcome, progress)
        _restore_log(store, reader, cases, offsets, created, outcome, progress)
        for table in TABLES:
            if table not in _OWN_WAY:
                _copy_rows(db, reader, table, offsets, outcome)
    _restore_keys(db, reader, outcome.merged, cases)
    return outcome


_KEYED = ("meta", "case_sequence", "blob")  # tables keyed by name or content, not by an id
# Restored by their own steps: the rest are copied row by row, ids moved when merging.
_OWN_WAY = ("meta", "case_sequence", "ticket", "blob", "log_entry", "attachment")


def _pointers(model: type[pw.Model]) -> list[tuple[str, str]]:
    """(column, table it points into) for each of the model's foreign keys (``self`` included)."""
    return [
        (f.column_name, f.rel_model._meta.table_name)
        for f in model._meta.sorted_fields
        if isinstance(f, pw.ForeignKeyField) and f.rel_model._meta.table_name not in _KEYED
    ]


def _moved(table: str, row: dict, offsets: dict[str, int]) -> dict:
    if not any(offsets.values()):
        return row
    row = dict(row)
    if row.get("id") is not None:
        row["id"] += offsets[table]
    for column, target in _pointers(TABLES[table]):
        if row.get(column) is not None:
            row[column] += offsets[target]
    return row


def _restore_tickets(db, reader, offsets, archived_from, outcome, progress) -> dict[int, _Case]:
    cases: dict[int, _Case] = {}
    rows = []
    for row in reader.rows("ticket"):
        old_id, number = row["id"], row["case_number"]
        bound = archived_from is not None and old_id >= archived_from
        original = log.Chain(old_id, log_head=genesis(old_id, number) if bound else GENESIS)
        target = None
        if outcome.merged:
            row = _moved("ticket", row, offsets)
            target = log.Chain(row["id"], log_head=genesis(row["id"], number))
        cases[old_id] = _Case(number, row.get("log_count"), row.get("log_head"), original, target)
        rows.append(row)
        if len(rows) >= BATCH:
            _insert(db, Ticket, rows)
            if progress:
                progress(BATCH)
    _insert(db, Ticket, rows)
    outcome.tickets = len(cases)
    outcome.rows["ticket"] = len(cases)
    return cases


def _restore_log(store, reader, cases: dict[int, _Case], offsets, created, outcome, progress) -> None:
    db = store.db
    batch = log.RestoreBatch()
    for row in reader.rows("blob"):
        with reader.blob(row["sha256"], row["size"]) as content:
            store.blobs.put(content, row["sha256"], row["size"], created)
        batch.add_blob(row["sha256"], row["size"], row["stored_at"])
        outcome.blobs += 1
    files: dict[int, list[dict]] = {}
    for row in reader.rows("attachment"):
        files.setdefault(row["entry_id"], []).append(row)
    corrected = {r["corrects_id"] for r in reader.rows("log_entry") if r.get("corrects_id") is not None}
    seq_of: dict[int, int] = {}
    for row in reader.rows("log_entry"):
        case = cases.get(row["ticket_id"])
        if case is None:
            raise DeskError(f"{reader.path.name}: log entry {row['id']} belongs to no archived ticket")
        corrects = row.get("corrects_id")
        ids = None
        attached = files.get(row["id"], [])
        if outcome.merged:
            ids = {
                "entry": row["id"] + offsets["log_entry"],
                "corrects": corrects + offsets["log_entry"] if corrects is not None else None,
                "attachments": [f["id"] + offsets["attachment"] for f in attached],
            }
        batch.add(
            case.number,
            case.original,
            row,
            attached,
            corrects_seq=seq_of.get(corrects) if corrects is not None else None,
            target=case.target,
            ids=ids,
        )
        if row["id"] in corrected:
            seq_of[row["id"]] = row["seq"]
        outcome.entries += 1
        if len(batch.entries) >= BATCH:
            batch.insert(db)
            if progress:
                progress(BATCH)
    batch.insert(db)
    outcome.rows["log_entry"] = outcome.entries
    for case in cases.values():
        if case.original.log_count != case.count or case.original.log_head != case.head:
            raise DeskError(
                f"{case.number}: the archive's log (entries up to {case.original.log_count}) does not end where "
                f"the case records it ends (entry {case.count}); the archive was altered or damaged"
            )
    if outcome.merged:
        sql = f"UPDATE {_q(Ticket._meta.table_name)} SET {_q('log_head')} = {db.param} WHERE {_q('id')} = {db.param}"
        db.cursor().executemany(sql, [(c.target.log_head, c.target.id) for c in cases.values()])


def _copy_rows(db, reader, table: str, offsets, outcome) -> None:
    model = TABLES[table]
    rows = []
    count = 0
    for row in reader.rows(table):
        rows.append(_moved(table, row, offsets))
        count += 1
        if len(rows) >= BATCH:
            _insert(db, model, rows)
    _insert(db, model, rows)
    outcome.rows[table] = count


def _restore_keys(db, reader, merged: bool, cases: dict[int, _Case]) -> None:
    """Case sequences (the highest of both) and the store's meta: its identity only into an empty store."""
    for row in reader.rows("case_sequence"):
        key = (CaseSequence.prefix == row["prefix"]) & (CaseSequence.kind_code == row["kind_code"])
        key &= CaseSequence.year == row["year"]
        found = CaseSequence.get_or_none(key)
        if found is None:
            CaseSequence.insert(**row).execute()
        elif found.last < row["last"]:
            CaseSequence.update(last=row["last"]).where(key).execute()
    for row in reader.rows("meta"):
        if row["key"] in (schema.STORE_ID, schema.CHAIN_BOUND_FROM):
            if not merged:
                Meta.update(value=row["value"]).where(Meta.key == row["key"]).execute()
        else:
            Meta.insert(key=row["key"], value=row["value"]).on_conflict_ignore().execute()
    if not merged and reader.manifest.get("chain_bound_from") is None:
        # An archive of a store from before bound chains: none of its tickets is bound, later ones are.
        first = max(cases, default=0) + 1
        Meta.update(value=str(first)).where(Meta.key == schema.CHAIN_BOUND_FROM).execute()


def _q(name: str) -> str:
    return f'"{name}"'


def _insert(db: pw.Database, model: type[pw.Model], rows: list[dict]) -> None:
    """Rows by column name, as stored, in one ``executemany``; columns an older archive lacks get the
    model's default. The list is emptied."""
    if not rows:
        return
    fields = model._meta.sorted_fields
    names = [f.column_name for f in fields]
    defaults = {}
    for f in fields:
        if f.column_name not in rows[0]:
            value = f.default() if callable(f.default) else f.default
            defaults[f.column_name] = f.db_value(value) if value is not None else None
    sql = (
        f"INSERT INTO {_q(model._meta.table_name)} ({', '.join(_q(n) for n in names)}) "
        f"VALUES ({', '.join([db.param] * len(names))})"
    )
    db.cursor().executemany(sql, [tuple(r[n] if n in r else defaults[n] for n in names) for r in rows])
    rows.clear()
