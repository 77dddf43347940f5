"""Sheet commands: ``import FILE`` (CSV, XLSX or our JSON) and ``export`` (CSV or JSON, per ticket or per entry)."""

from __future__ import annotations

import argparse
import contextlib
import functools
import sys
from pathlib import Path

from tui_desk.domain.dates import parse_when
from tui_desk.domain.errors import DeskError
from tui_desk.domain.statuses import parse_status
from tui_desk.domain.text import clip, printable, printable_json
from tui_desk.store.private import private_file

PROGRESS_MIN_BYTES = 256 * 1024  # about 2,000 rows of a usual case log
PREVIEW_ROWS = 20


def register(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser("import", help="import a case-log sheet (CSV, XLSX, a JSON export) or an archive")
    p.add_argument(
        "file",
        help="the sheet: .csv (any delimiter), .xlsx, .xls, .ods, .json from `export --format json`, "
        "or an archive from `export --archive`",
    )
    p.add_argument(
        "--map",
        action="append",
        default=[],
        metavar='"COLUMN=FIELD"',
        help='read this column as this field ("Ref No=case_number"; FIELD - ignores it)',
    )
    p.add_argument(
        "--status-map",
        action="append",
        default=[],
        metavar='"WORD=STATUS"',
        help='read this sheet status word as this status ("Parked=waiting-us")',
    )
    order = p.add_mutually_exclusive_group()
    order.add_argument("--dayfirst", action="store_true", help="read 03/04/2023 as 3 April")
    order.add_argument("--monthfirst", action="store_true", help="read 03/04/2023 as March 4")
    p.add_argument("--kind", default="refund", help="kind for rows that do not say (default refund)")
    p.add_argument("--dry-run", action="store_true", help="check everything and show what would be created")
    p.add_argument("--skip-bad", action="store_true", help="skip bad rows instead of stopping (needs --report)")
    p.add_argument("--report", metavar="FILE", help="write the skipped rows here (CSV: line, reason)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(handler=cmd_import)

    p = commands.add_parser("export", help="export tickets for a spreadsheet (CSV) or a script (JSON)")
    p.add_argument("--format", choices=("csv", "json"), default="csv")
    p.add_argument("--status", action="append", default=[], help="only this status (repeatable)")
    p.add_argument("--since", metavar="WHEN", help="only tickets with an action at or after WHEN")
    p.add_argument("--log", action="store_true", help="one row per log entry (every entry) instead of per ticket")
    p.add_argument("--out", metavar="FILE", help="write here instead of standard output")
    p.add_argument(
        "--archive",
        metavar="FILE",
        help="write the whole store to one zip (every entry, digest, attachment; drafts excluded), for `import`",
    )
    p.set_defaults(handler=cmd_export)


def _read_records(ctx, path: Path, options, stack: contextlib.ExitStack):
    """The file's records, and the ``Share`` of them a helper process holds (None for a small file or a
    PostgreSQL store): the last part, read (a case sheet) or only checked (another layout) over there."""
    from tui_desk.sheets.columns import map_columns, parse_map_option
    from tui_desk.sheets.reader import read_json, read_sheet
    from tui_desk.sheets.rows import one_row_per_ticket, records_from_json, records_from_sheet

    if path.suffix.lower() == ".json":
        if ctx.args.map:
            raise DeskError("--map is for sheets; a JSON export names its fields")
        data = read_json(path)
        return _shared(ctx, records_from_json(data, options), stack)
    overrides = parse_map_option(ctx.args.map)
    sheet = read_sheet(path, known=frozenset(overrides))
    mapping = map_columns(sheet.headers, overrides)
    if not (one_row_per_ticket(mapping) and _helped(ctx, len(sheet.rows))):
        return _shared(ctx, records_from_sheet(sheet, mapping, options), stack)
    from tui_desk.sheets.rows import fingerprint, identity_of
    from tui_desk.store.imports import Share, Summary, helper_split

    split = helper_split(len(sheet.rows))
    identities: dict[str, int] = {}  # counted on from this process's rows to the helper's

    def renumber(share: Share) -> None:
        for place, identity in share.fingerprinted:
            made = fingerprint(identity, identities)
            if isinstance(share.items[place], Summary):
                share.items[place].fingerprint = made

    share = stack.enter_context(
        Share(
            ctx.db_path,
            ctx.config,
            ctx.clock.now(),
            lambda: records_from_sheet(sheet, mapping, options, part=slice(split, None)),
            len(sheet.rows) - split,
            identity=identity_of,
            renumber=renumber,
        )
    )
    return records_from_sheet(sheet, mapping, options, part=slice(0, split), identities=identities), share


def _helped(ctx, records: int) -> bool:
    """A helper process takes a share of this import (store/staging.py)."""
    from tui_desk.store import staging
    from tui_desk.store.imports import HELPER_MIN

    return records >= HELPER_MIN and staging.usable(ctx.db_path)


def _shared(ctx, records: list, stack: contextlib.ExitStack):
    """``records``, less the last part when a helper process checks and builds that part (``Share``)."""
    if not _helped(ctx, len(records)):
        return records, None
    from tui_desk.store.imports import Share, helper_split

    split = helper_split(len(records))
    rest = len(records) - split
    share = stack.enter_context(Share(ctx.db_path, ctx.config, ctx.clock.now(), lambda: records[split:], rest))
    return records[:split], share


class ImportProgress:
    """A rich progress bar on stderr while a big file is read and imported, when stderr is a terminal."""

    def __init__(self, path: Path) -> None:
        self.bar = None
        try:
            big = path.stat().st_size >= PROGRESS_MIN_BYTES
        except OSError:
            big = False
        if not (big and sys.stderr.isatty()):
            return
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self.bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=Console(stderr=True),
            transient=True,
        )
        self.task = self.bar.add_task(f"reading {path.name}", total=None)
        self.bar.start()

    def importing(self, total: int):
        """Switch to counting rows written; returns the callback for import_tickets (or None)."""
        if self.bar is None:
            return None
        self.bar.update(self.task, description="importing", total=total, completed=0)
        return lambda n: self.bar.advance(self.task, n)

    def stop(self) -> None:
        if self.bar is not None:
            self.bar.stop()


def cmd_import(ctx) -> int:
    from tui_desk.sheets.dates import DateOrder
    from tui_desk.sheets.rows import ReadOptions
    from tui_desk.store.imports import import_tickets

    a = ctx.args
    from tui_desk.store.archive import is_archive

    ctx.refuse_read_only("import --dry-run (it checks inside a write that is rolled back)" if a.dry_run else "import")
    if is_archive(Path(a.file)):
        from tui_desk.cli.archive import cmd_import_archive

        return cmd_import_archive(ctx, Path(a.file))
    if a.skip_bad and not a.report:
        raise DeskError("--skip-bad needs --report FILE to list the skipped rows")
    report_path = ctx.output_path(a.report) if a.report else None
    status_map = {}
    for item in a.status_map:
        word, sep, target = item.rpartition("=")
        if not sep or not word.strip():
            raise DeskError(f'--status-map {item!r} must look like "WORD=STATUS"')
        status_map[" ".join(word.lower().split())] = parse_status(target)
    path = Path(a.file)
    config = ctx.config
    options = ReadOptions(
        source=path.name,
        order=DateOrder.DAY_FIRST if a.dayfirst else DateOrder.MONTH_FIRST if a.monthfirst else DateOrder.AUTO,
        tz=config.tz,
        status_map=status_map,
        kinds=dict(config.kinds),
        default_kind=a.kind.strip().lower(),
    )
    config.kind_code(options.default_kind)
    progress = ImportProgress(path)
    # The report is opened before anything is committed: a report that cannot be written stops the import. A
    # helper process (``share``) is let go after the commit.
    with _report(report_path) as report, _without_cycle_collection(), contextlib.ExitStack() as stack:
        try:
            records, share = _read_records(ctx, path, options, stack)
            store = ctx.store()
            advance = progress.importing(len(records) + (share.size if share else 0))
            outcome = import_tickets(
                store, records, skip_bad=a.skip_bad, dry_run=a.dry_run, progress=advance, share=share
            )
        finally:
            progress.stop()
        report(outcome.bad)
        data = {
            "file": str(path),
            "dry_run": outcome.dry_run,
            "created": len(outcome.created),
            "entries": outcome.entries,
            "already_imported": len(outcome.existing),
            "skipped_bad": len(outcome.bad),
            "cases": [number for _, number in outcome.created],
            "bad_rows": [{"line": b.line, "reason": b.reason} for b in outcome.bad],
        }
        ctx.emit(data, functools.partial(_import_text, outcome, path, records))
        del records, outcome, data  # freed before the collector is back on, which would walk them all once more
    return 0


@contextlib.contextmanager
def _without_cycle_collection():
    """Python's cycle collector off while a sheet becomes records and rows: they are hundreds of thousands of
    objects that live until the end, and a collection walks them all again and again (a third of reading a
    100,000-row sheet). Nothing here makes cycles that must be freed early; it is back on afterwards. Free the
    records inside the block: the first collection after it walks every object made meanwhile that still lives
    (0.3 s for a 100,000-row import's)."""
    import gc

    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


@contextlib.contextmanager
def _report(path: Path | None):
    """``--report FILE`` opened (owner-only) up front; yields the function that writes the skipped rows."""
    import csv

    if path is None:
        yield lambda bad: None
        return

    def write(bad) -> None:
        writer = csv.writer(out)
        writer.writerow(["line", "reason"])
        for row in bad:
            writer.writerow([row.line, row.reason])

    try:
        with private_file(path) as out:
            yield write
    except OSError as err:
        raise DeskError(f"cannot write the report {str(path)!r}: {err.strerror}") from None


def _import_text(outcome, path: Path, records) -> str:
    verb = "would create" if outcome.dry_run else "created"
    lines = [
        f"{path.name}: {verb} {len(outcome.created)} tickets with {outcome.entries} log entries; "
        f"{len(outcome.existing)} already imported; {len(outcome.bad)} bad rows skipped"
    ]
    if outcome.existing:  # a change made in the sheet since is not applied: say so where it is seen
        lines.append(
            "  rows already imported are left as the store has them: an import never changes a ticket "
            "(edit it, or log what changed)"
        )
    if outcome.dry_run:
        by_line = {getattr(r, "line", None): r for r in records if hasattr(r, "subject")}
        for line, number in outcome.created[:PREVIEW_ROWS]:
            r = by_line.get(line)
            if r is None:  # a row the helper process read (the sheet's last part): its number only
                lines.append(f"  line {line:<6} {number}")
                continue
            lines.append(
                f"  line {line:<6} {number:<20} {r.status.label:<17} "
                f"{clip(printable(r.customer, one_line=True), 24):<24} {clip(printable(r.subject, one_line=True), 40)}"
            )
        if len(outcome.created) > PREVIEW_ROWS:
            lines.append(f"  … and {len(outcome.created) - PREVIEW_ROWS} more")
    for bad in outcome.bad[:PREVIEW_ROWS]:
        lines.append(f"  skipped line {bad.line}: {printable(bad.reason, one_line=True)}")
    return "\n".join(lines)


class _OnTerminal:
    """Standard output when it is a terminal: the export as a person reads it there, each control character a
    visible escape (``domain.text.printable``; JSON stays JSON, ``printable_json``), so customer text cannot
    drive the terminal (set its clipboard, recolour it). A file (``--out``) or a pipe gets it as stored."""

    def __init__(self, out, *, json: bool) -> None:
        self.out = out
        self.shown = printable_json if json else printable  # (a CSV row's CRLF shown as a line end)

    def write(self, text: str) -> int:
        return self.out.write(self.shown(text))


def cmd_export(ctx) -> int:
    from tui_desk.sheets.exporter import ExportFilter, iter_export, write_csv, write_json

    a = ctx.args
    if a.archive:
        from tui_desk.cli.archive import cmd_export_archive

        return cmd_export_archive(ctx)
    flt = ExportFilter(
        statuses=tuple(parse_status(s) for s in a.status),
        since=parse_when(a.since, ctx.clock.now(), ctx.config.tz) if a.since else None,
    )
    store = ctx.store()
    write = write_json if a.format == "json" else write_csv
    rows = iter_export(store, flt, log=a.log)
    if not a.out:
        out = _OnTerminal(sys.stdout, json=a.format == "json") if sys.stdout.isatty() else sys.stdout
        write(out, rows, log=a.log)
        return 0
    out_path = ctx.output_path(a.out)
    # A BOM tells Excel the CSV is UTF-8; our import reads it either way.
    encoding = "utf-8-sig" if a.format == "csv" else "utf-8"
    try:
        with private_file(out_path, encoding=encoding) as out:
            count = write(out, rows, log=a.log)
    except OSError as err:
        raise DeskError(f"cannot write {str(out_path)!r}: {err.strerror}") from None
    what = "log entries" if a.log and a.format == "csv" else "tickets"
    print(f"exported {count} {what} to {out_path}", file=sys.stderr)
    return 0
