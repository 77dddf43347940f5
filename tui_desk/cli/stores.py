"""Where the store lives: ``copy-store --to URL`` (a whole store into an empty one, every digest kept) and
``pg-roles`` (the SQL for a PostgreSQL store's owner, agents and supervisors)."""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

from tui_desk.domain.errors import DeskError


def register(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser(
        "copy-store",
        help="copy the whole store (--db) into an empty one, e.g. a PostgreSQL database, keeping every digest",
    )
    p.add_argument("--to", required=True, metavar="PATH|URL", help="the empty store to fill (postgresql://… or a file)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(handler=cmd_copy_store)

    p = commands.add_parser(
        "pg-roles", help="print the SQL for a PostgreSQL store's roles: owner, agents (append-only), supervisors"
    )
    p.add_argument("--database", metavar="NAME", help="the database's name (default: --db's, else desk)")
    p.set_defaults(handler=cmd_pg_roles)


def cmd_copy_store(ctx) -> int:
    """Through the lossless archive (store/archive.py): written to a private temporary file, restored into
    the target (which must hold no tickets), then verified and its seal compared with the source's."""
    from tui_desk.cli.archive import restore_and_report
    from tui_desk.store import Store
    from tui_desk.store.archive import write_archive
    from tui_desk.store.backend import parse_location
    from tui_desk.store.models import Ticket

    source = ctx.store(create=False)
    target_location = parse_location(ctx.args.to)
    if str(target_location.resolve()) == str(source.path.resolve()):
        raise DeskError("--to names the store being copied; give another store")
    target = Store(target_location, config=ctx.config, clock=ctx.clock, agent=ctx.args.agent)
    with target.reading():
        if Ticket.select().exists():
            raise DeskError(f"the store {target_location} already holds tickets; copy-store fills an empty store only")
    folder = tempfile.mkdtemp(prefix="tui-desk-copy-")
    archive = Path(folder) / "store.zip"
    try:
        write_archive(source, archive)
        return restore_and_report(ctx, target, archive, shown_as=f"{source.path} → {target_location}")
    finally:
        if archive.exists():
            os.unlink(archive)
        os.rmdir(folder)


def cmd_pg_roles(ctx) -> int:
    from tui_desk.store.backend import PostgresUrl, is_url
    from tui_desk.store.postgres import roles_sql

    name = ctx.args.database
    if name is None:
        chosen = ctx.args.db or os.environ.get("TUI_DESK_DB") or ctx.config.store_url or ""
        name = PostgresUrl(chosen).dbname if is_url(chosen) else "desk"
    if not name or '"' in name or "\\" in name:
        raise DeskError(f"database name {name!r} cannot be written into the SQL; pick a plain name")
    print(roles_sql(name), end="")
    return 0
