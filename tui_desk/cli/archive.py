"""Moving whole stores: ``export --archive FILE`` and ``import FILE`` of an archive (lossless, every digest kept)."""

from __future__ import annotations

import sys
from pathlib import Path

from tui_desk.domain.errors import DeskError


def cmd_export_archive(ctx) -> int:
    from tui_desk.store.archive import write_archive

    a = ctx.args
    if a.status or a.since or a.log or a.format != "csv" or a.out:
        raise DeskError("--archive writes the whole store; leave out --format, --status, --since, --log and --out")
    store = ctx.store()
    summary = write_archive(store, Path(a.archive).expanduser())
    print(
        f"archived {summary.rows.get('ticket', 0)} tickets, {summary.rows.get('log_entry', 0)} log entries and "
        f"{summary.blobs} attachment file(s) to {summary.path} (seal digest {summary.seal['log_entry']['digest']})",
        file=sys.stderr,
    )
    return 0


def cmd_import_archive(ctx, path: Path) -> int:
    a = ctx.args
    if a.map or a.status_map or a.dayfirst or a.monthfirst or a.dry_run or a.skip_bad:
        raise DeskError("an archive is restored as it is: sheet options (--map, --dry-run, …) do not apply")
    return restore_and_report(ctx, ctx.store(), path)


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
