"""Moving and keeping whole stores: ``export --archive FILE`` and ``import FILE`` of an archive (lossless, every
digest kept), ``backup DEST`` while consoles work and ``restore SRC``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tui_desk.domain.errors import DeskError


def register(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser(
        "backup", help="copy the store and its attachments to DEST while consoles keep working (then verify it)"
    )
    p.add_argument(
        "dest", help="the backup file to write (its attachments go to DEST.files; PostgreSQL: one archive file)"
    )
    p.add_argument("--force", action="store_true", help="replace DEST if it exists")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(handler=cmd_backup)

    p = commands.add_parser("restore", help="put a backup back as the store, once verify passes on it")
    p.add_argument("src", help="the backup file (from `tui-desk backup`), with SRC.files beside it, or an archive")
    p.add_argument("--db", dest="restore_db", metavar="PATH|URL", help="the store to restore into (default: the store)")
    p.add_argument(
        "--force", action="store_true", help="replace an SQLite store that holds tickets (never a PostgreSQL one)"
    )
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(handler=cmd_restore)


def _copied_json(copied) -> dict:
    kept = {"replaced_store_kept_as": str(copied.kept), "replaced_tickets": copied.kept_tickets} if copied.kept else {}
    return {
        "path": str(copied.path),
        "tickets": copied.tickets,
        "entries": copied.entries,
        "attachment_files": copied.blobs,
        "attachment_bytes": copied.blob_bytes,
        "seal_digest": copied.seal_digest,
        "verify_ok": not copied.problems,
        "problems": copied.problems,
        **kept,
    }


def cmd_backup(ctx) -> int:
    """An SQLite store: a copy of the file (and its attachments). A PostgreSQL store: its lossless archive,
    read in one snapshot (store/backup.py ``backup_archive``). Either way checked by verify."""
    from tui_desk.store.backup import backup, backup_archive

    dest = Path(ctx.args.dest).expanduser()
    if isinstance(ctx.db_path, Path):
        copied = backup(ctx.db_path, dest, force=ctx.args.force)
        what = "attachment file(s)"
    else:
        copied = backup_archive(ctx.store(create=False), dest, force=ctx.args.force)
        what = "attachment(s) in the archive"
    ctx.emit(
        _copied_json(copied),
        lambda: (
            f"backed up {ctx.db_path} to {copied.path}: {copied.tickets} tickets, {copied.entries} log entries, "
            f"{copied.blobs} {what} ({copied.blob_bytes} bytes); seal digest {copied.seal_digest}; "
            + ("verify: ok" if not copied.problems else f"verify found {len(copied.problems)} problem(s)")
        ),
    )
    return 0 if not copied.problems else 1


def cmd_restore(ctx) -> int:
    """An SQLite backup file into an SQLite store: the file copied back (``--force`` replaces a store with
    tickets). An archive (a PostgreSQL store's backup), or anything into a PostgreSQL store: restored into
    an empty store only, through the archive (store/backup.py ``restore_into_empty``)."""
    from tui_desk.cli import store_path
    from tui_desk.store.archive import is_archive
    from tui_desk.store.backup import restore, restore_into_empty, what_was_there

    source = Path(ctx.args.src).expanduser()
    target = store_path(ctx.args.restore_db) if ctx.args.restore_db is not None else ctx.db_path
    if isinstance(target, Path) and not is_archive(source):
        copied = restore(source, target, now=ctx.clock.now(), force=ctx.args.force)
    else:
        copied = restore_into_empty(source, ctx.store(path=target), force=ctx.args.force)
    ctx.emit(
        _copied_json(copied),
        lambda: (
            f"restored {ctx.args.src} into {copied.path}: {copied.tickets} tickets, {copied.entries} log entries, "
            f"{copied.blobs} attachment file(s) ({copied.blob_bytes} bytes); seal digest {copied.seal_digest}; "
            + ("verify: ok" if not copied.problems else f"verify found {len(copied.problems)} problem(s)")
            + (
                f"; the store it replaced ({what_was_there(copied.kept_tickets)}) is kept as {copied.kept}"
                if copied.kept
                else ""
            )
        ),
    )
    return 0 if not copied.problems else 1


def cmd_export_archive(ctx) -> int:
    from tui_desk.store.archive import write_archive

    a = ctx.args
    if a.status or a.since or a.log or a.format != "csv" or a.out:
        raise DeskError("--archive writes the whole store; leave out --format, --status, --since, --log and --out")
    store = ctx.store()
    summary = write_archive(store, ctx.output_path(a.archive))
    print(
        f"archived {summary.rows.get('ticket', 0)} tickets, {summary.rows.get('log_entry', 0)} log entries and "
        f"{summary.blobs} attachment file(s) to {summary.path} (seal digest {summary.seal['log_entry']['digest']})",
        file=sys.stderr,
    )
    return 0


def cmd_import_archive(ctx, path: Path) -> int:
    a = ctx.args
    if a.map or a.status_map or a.dayfirst or a.monthfirst or a.skip_bad:
        raise DeskError("an archive is restored as it is: sheet options (--map, --skip-bad, …) do not apply")
    if a.dry_run:
        return _dry_run(ctx, path)
    return restore_and_report(ctx, ctx.store(), path)


def _dry_run(ctx, path: Path) -> int:
    """Restore the archive inside a transaction that is rolled back: what a restore would make, nothing written."""
    from tui_desk.store.archive import restore_archive

    outcome = restore_archive(ctx.store(), path, dry_run=True)
    data = {
        "file": str(path),
        "archive": True,
        "dry_run": True,
        "merged": outcome.merged,
        "tickets": outcome.tickets,
        "entries": outcome.entries,
        "attachments": outcome.blobs,
    }
    ctx.emit(
        data,
        f"{path.name}: would restore {outcome.tickets} tickets with {outcome.entries} log entries and "
        f"{outcome.blobs} attachment file(s)"
        + (" under new ticket ids (merged)" if outcome.merged else "")
        + "; every entry's digest checks and no case number collides; nothing was written (dry run)",
    )
    return 0


def restore_and_report(ctx, store, path: Path, *, shown_as: str | None = None) -> int:
    """Restore the archive at ``path`` into ``store``, verify it, compare the seal; print what happened."""
    from tui_desk.store import seal
    from tui_desk.store.archive import restore_archive
    from tui_desk.store.verify import connect, verify_path

    outcome = restore_archive(store, path)
    report = verify_path(store.path)
    same = None
    if not outcome.merged:
        con = connect(store.path)
        try:
            now = seal.compute(con)
        finally:
            con.close()
        same = all(
            now[name].digest == state.get("digest") and now[name].rows == state.get("rows")
            for name, state in outcome.seal.items()
        )
    data = {
        "file": str(path),
        "archive": True,
        "merged": outcome.merged,
        "tickets": outcome.tickets,
        "entries": outcome.entries,
        "attachments": outcome.blobs,
        "verify_ok": report.ok,
        "same_seal": same,
    }

    def text() -> str:
        lines = [
            f"{shown_as or path.name}: restored {outcome.tickets} tickets with {outcome.entries} log entries and "
            f"{outcome.blobs} attachment file(s)"
        ]
        if outcome.merged:
            lines.append("  merged under new ticket ids: their chains are bound to the new ids, so the digests are new")
        elif same:
            lines.append("  every digest is as archived: the store-wide seal matches the archive's")
        lines.append("  verify: ok" if report.ok else f"  verify found {len(report.problems)} problem(s)")
        lines += [f"  {p.line()}" for p in report.problems[:10]]
        return "\n".join(lines)

    ctx.emit(data, text)
    return 0 if report.ok and same is not False else 1
