"""Evidence commands: ``verify`` (check every hash chain and attachment file) and ``export-case`` (a case file)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from tui_desk.domain.errors import DeskError

FORMATS = ("md", "html")


def register(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser(
        "verify", help="check every case's hash chain and attachment files; exit 1 naming what was altered"
    )
    p.add_argument("case", nargs="?", help="only this case (default: the whole store)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(handler=cmd_verify)

    p = commands.add_parser("export-case", help="write a self-contained case file for a third party")
    p.add_argument("case")
    p.add_argument("--out", metavar="FILE", help="write here (default: standard output)")
    p.add_argument("--format", choices=FORMATS, help="md or html (default: from --out's suffix, else md)")
    p.set_defaults(handler=cmd_export_case)


def _open_read_only(ctx):
    """Evidence is checked without writing: no schema migration, no lock taken on the store."""
    from tui_desk.store import Store, schema

    store = Store(ctx.db_path, config=ctx.config, clock=ctx.clock, agent=ctx.args.agent, read_only=True)
    with store.reading():
        empty = schema.stored_version(store.db) is None
    if empty:
        raise DeskError(f"{store.path} holds no tui-desk store (the file is empty); nothing to check")
    return store


def cmd_verify(ctx) -> int:
    from tui_desk.store.verify import verify_store

    store = _open_read_only(ctx)
    report = verify_store(store, ctx.args.case)
    if ctx.args.json:
        ctx.emit(report.to_json(), "")
    else:
        for problem in report.problems:
            print(problem.line())
        if report.ok:
            print(
                f"ok: {len(report.cases)} case(s), {report.entries} entries, {report.attachments} attachment(s); "
                "every chain intact and every attachment file matches its SHA-256"
            )
            if ctx.args.case and report.cases:
                print(f"final digest of {report.cases[0].case_number}: {report.cases[0].head}")
    if report.ok:
        return 0
    cases = {p.case_number for p in report.problems if p.case_number}
    print(
        f"tui-desk: verify found {len(report.problems)} problem(s)" + (f" in {len(cases)} case(s)" if cases else ""),
        file=sys.stderr,
    )
    return 1


def cmd_export_case(ctx) -> int:
    from tui_desk.reporting.casefile import export_case

    a = ctx.args
    fmt = a.format or ("html" if a.out and Path(a.out).suffix.lower() in (".html", ".htm") else "md")
    store = _open_read_only(ctx)
    text = export_case(store, a.case, fmt)
    if not a.out:
        sys.stdout.write(text)
        return 0
    out = Path(a.out).expanduser()
    if not out.parent.is_dir():
        raise DeskError(f"the folder {out.parent} does not exist")
    if out.is_dir():
        raise DeskError(f"{out} is a folder; give a file name")
    temp = out.with_name(f".{out.name}.tmp{os.getpid()}")
    try:
        # Owner-only like the store: a case file holds customer data until someone chooses to share it.
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as writer:
            writer.write(text)
        os.replace(temp, out)
    except OSError as err:
        temp.unlink(missing_ok=True)
        raise DeskError(f"cannot write {out}: {err.strerror}") from None
    ticket = store.get(a.case)
    print(f"{ticket.case_number}: case file written to {out} (final digest {ticket.log_head})")
    return 0
