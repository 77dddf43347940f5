"""Evidence commands: ``verify`` (every hash chain, guard and attachment file; against a seal), ``seal``
(the store-wide seal, to keep outside the store) and ``export-case`` (a case file)."""

from __future__ import annotations

import argparse
import os
import stat
import sys
from pathlib import Path

from tui_desk.domain.errors import DeskError
from tui_desk.store.private import private_file

FORMATS = ("md", "html")


def register(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser(
        "verify", help="check every case's hash chain and attachment files; exit 1 naming what was altered"
    )
    p.add_argument("case", nargs="?", help="only this case (default: the whole store)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument(
        "--against",
        metavar="FILE",
        help="also prove that nothing recorded up to this seal (from `tui-desk seal`) was removed, moved or changed",
    )
    p.set_defaults(handler=cmd_verify)

    p = commands.add_parser(
        "seal", help="write the store-wide seal (a running SHA-256 over every log entry) to keep outside the store"
    )
    p.add_argument("--out", metavar="FILE", help="write here, owner-only (default: standard output)")
    p.set_defaults(handler=cmd_seal)

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


def _read_seal(name: str) -> dict:
    from tui_desk.store import seal

    path = Path(name).expanduser()
    try:
        # A seal is a small regular file: never follow a FIFO or a device into a read that does not end.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        with os.fdopen(fd, "rb") as reader:
            if not stat.S_ISREG(os.fstat(reader.fileno()).st_mode):
                raise DeskError(f"the seal {path} is not a regular file")
            raw = reader.read(64 << 20)
    except OSError as err:
        raise DeskError(f"cannot read the seal {path}: {err.strerror}") from None
    try:
        return seal.read(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise DeskError(f"the seal {path} is not a tui-desk seal (not UTF-8 text)") from None
    except seal.SealError as err:
        raise DeskError(f"the seal {path}: {err}") from None


def cmd_verify(ctx) -> int:
    from tui_desk.store.verify import verify_path

    against = _read_seal(ctx.args.against) if ctx.args.against else None
    if ctx.args.case and against is not None:
        raise DeskError("--against checks the whole store; leave out the case")
    path = ctx.db_path
    if not path.exists():
        raise DeskError(f"no store at {path}")
    if path.is_file() and path.stat().st_size == 0:
        raise DeskError(f"{path} holds no tui-desk store (the file is empty); nothing to check")
    report = verify_path(path, ctx.args.case, against=against)
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
            if against is not None:
                print(
                    f"ok: the seal of {against.get('made_at')} ({against['entries']} entries up to entry id "
                    f"{against['last_entry_id']}) holds: nothing it covers was removed, moved or changed"
                )
            if ctx.args.case and report.cases:
                print(f"final digest of {report.cases[0].case_number}: {report.cases[0].head}")
    if report.ok:
        return 0
    cases = {p.case_number for p in report.problems if p.case_number}
    damaged = any(p.what == "integrity" for p in report.problems)
    print(
        f"tui-desk: verify found {len(report.problems)} problem(s)"
        + (f" in {len(cases)} case(s)" if cases else "")
        + ("; the store file is damaged (restore a backup)" if damaged else ""),
        file=sys.stderr,
    )
    return 1


def cmd_seal(ctx) -> int:
    import json

    from tui_desk.store import schema, seal
    from tui_desk.store.backend import driver_errors
    from tui_desk.store.verify import connect

    path = ctx.db_path
    if not path.exists() or (path.is_file() and path.stat().st_size == 0):
        raise DeskError(f"no store at {path}" if not path.exists() else f"{path} holds no tui-desk store")
    if not ctx.read_only:
        ctx.store()  # opening migrates an older store: its identity and bound chains start from here
    con = connect(path)
    try:
        con.execute("BEGIN")  # one snapshot
        meta = dict(con.execute("SELECT key, value FROM meta").fetchall())
        bound = meta.get(schema.CHAIN_BOUND_FROM)
        data = seal.make(
            con,
            made_at=_now(ctx),
            store_id=meta.get(schema.STORE_ID),
            bound_from=int(bound) if isinstance(bound, str) and bound.isdigit() else None,
        )
    except driver_errors() as err:  # a damaged store: say so in one line
        raise DeskError(f"cannot seal {path}: {err}; run tui-desk verify") from None
    finally:
        con.close()
    text = json.dumps(data, indent=1) + "\n"
    if not ctx.args.out:
        sys.stdout.write(text)
        return 0
    out = _write_private(ctx.output_path(ctx.args.out), text)
    print(
        f"seal written to {out}: {data['entries']} entries up to entry id {data['last_entry_id']}, "
        f"digest {data['digest']}"
    )
    return 0


def _now(ctx):
    from tui_desk.domain.clock import to_utc

    return to_utc(ctx.clock.now())


def _write_private(out: Path, text: str) -> Path:
    """Write ``text`` to ``out`` owner-only (0600), atomically (store/private.py): never half a file."""
    if not out.parent.is_dir():
        raise DeskError(f"the folder {out.parent} does not exist")
    if out.is_dir():
        raise DeskError(f"{out} is a folder; give a file name")
    try:
        with private_file(out, newline="\n") as writer:
            writer.write(text)
    except OSError as err:
        raise DeskError(f"cannot write {out}: {err.strerror}") from None
    return out


def cmd_export_case(ctx) -> int:
    from tui_desk.reporting.casefile import export_case

    a = ctx.args
    fmt = a.format or ("html" if a.out and Path(a.out).suffix.lower() in (".html", ".htm") else "md")
    store = _open_read_only(ctx)
    text = export_case(store, a.case, fmt)
    if not a.out:
        sys.stdout.write(text)
        return 0
    out = _write_private(ctx.output_path(a.out), text)
    ticket = store.get(a.case)
    print(f"{ticket.case_number}: case file written to {out} (final digest {ticket.log_head})")
    return 0
