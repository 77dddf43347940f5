"""The ``tui-desk`` command: global options, one module per group of commands, one-line errors."""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Callable
from pathlib import Path

import platformdirs

from tui_desk import __version__
from tui_desk.cli import errorlog
from tui_desk.config import APP_NAME, Config, load_config
from tui_desk.domain.clock import clock_from_env
from tui_desk.domain.errors import DeskError
from tui_desk.domain.text import printable_json
from tui_desk.store import TicketChanged
from tui_desk.store.backend import driver_errors, module_for, parse_location


class Context:
    """What every command needs: the parsed options and, opened on first use, the store."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self._store = None
        self._config: Config | None = None
        self._clock = None

    @property
    def clock(self):
        if self._clock is None:
            self._clock = clock_from_env()
        return self._clock

    @property
    def config(self) -> Config:
        if self._config is None:
            self._config = load_config()
        return self._config

    @property
    def db_path(self):
        """The store's location: a ``Path`` (SQLite) or a ``PostgresUrl``."""
        return store_path(self.args.db, lambda: self.config.store_url)

    @property
    def read_only(self) -> bool:
        return bool(self.args.read_only) or os.environ.get("TUI_DESK_READ_ONLY", "") not in ("", "0")

    def output_path(self, name: str) -> Path:
        """A file a command writes (``--out``, ``--report``); read-only, never one in the store's folder."""
        path = Path(name).expanduser()
        if self.read_only:
            folder = self.db_path.resolve().parent
            if path.resolve().parent == folder:
                raise DeskError(
                    f"read-only: {path} is in the store's folder {folder}, where nothing is written; write it elsewhere"
                )
        return path

    def refuse_read_only(self, what: str) -> None:
        """Refuse a command that writes to the store before it reads anything, when read-only."""
        if self.read_only:
            raise DeskError(f"read-only: {what} writes to the store {self.db_path}; nothing was changed")

    def store(self, *, path: Path | None = None, create: bool = True):
        from tui_desk.store import Store

        if self._store is None:
            self._store = Store(
                path or self.db_path,
                config=self.config,
                clock=self.clock,
                agent=self.args.agent,
                read_only=self.read_only,
                create=create,
            )
        return self._store

    def emit(self, data, text: str | Callable[[], str]) -> None:
        """Print ``data`` as JSON with ``--json`` (on a terminal, with no character that drives it), else the
        human text."""
        if getattr(self.args, "json", False):
            shown = json.dumps(data, ensure_ascii=False, indent=2)
            print(printable_json(shown) if sys.stdout.isatty() else shown)
        else:
            print(text() if callable(text) else text)


def store_path(option: str | None, configured: Callable[[], str | None] = lambda: None):
    """``--db``, else ``TUI_DESK_DB``, else ``[store] url``, else ``desk.db`` in the platformdirs user data
    directory: a path (an SQLite file) or a ``postgresql://USER@HOST:PORT/DBNAME`` URL."""
    from tui_desk.store.backend import parse_location

    if option is not None and not option.strip():
        # `--db "$UNSET"` in a script must not quietly fall through to the user's real store.
        raise DeskError("--db is empty; give the store's path")
    chosen = option or os.environ.get("TUI_DESK_DB") or configured()
    if chosen:
        return parse_location(chosen)
    folder = Path(platformdirs.user_data_dir(APP_NAME))
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    return folder / "desk.db"


INT64_MAX = 2**63 - 1  # SQLite's INTEGER: a larger number cannot be stored or compared


def whole_number(text: str) -> int:
    """An ``int`` option: a whole number from 0 to 2**63 - 1 (a malformed command line otherwise)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 0 <= value <= INT64_MAX:
        raise argparse.ArgumentTypeError(f"{text} is out of range (0 to {INT64_MAX})")
    return value


class _Parser(argparse.ArgumentParser):
    """argparse with the house style for a malformed command line: one line, then exit status 2."""

    json_errors = False  # set by ``main`` when --json is on the command line

    def error(self, message: str):
        text = f"{message} (see `{self.prog} --help`)"
        if _Parser.json_errors:
            self.exit(2, json.dumps({"error": text}, ensure_ascii=False) + "\n")
        self.exit(2, f"tui-desk: error: {text}\n")


# The options every command takes, before or after its name (`tui-desk list --db X` = `tui-desk --db X list`).
GLOBAL_OPTIONS: tuple[tuple[tuple[str, ...], dict], ...] = (
    (
        ("--db",),
        {
            "metavar": "PATH|URL",
            "help": "the store: an SQLite file or postgresql://USER@HOST:PORT/DBNAME "
            "(default: $TUI_DESK_DB, [store] url, or the user data folder)",
        },
    ),
    (("--demo",), {"action": "store_true", "help": "use the demo store that `tui-desk demo` builds (not with --db)"}),
    (("--agent",), {"metavar": "NAME", "help": "who is acting (default: $TUI_DESK_AGENT or your login name)"}),
    (("--read-only",), {"action": "store_true", "help": "open the store read-only (also TUI_DESK_READ_ONLY=1)"}),
    (
        ("--config",),
        {"metavar": "FILE", "help": "the config file (default: $TUI_DESK_CONFIG or the user config folder)"},
    ),
    (
        ("--log",),
        {"metavar": "FILE", "dest": "log_file", "help": "append errors with their tracebacks here (also TUI_DESK_LOG)"},
    ),
)


def _add_global_options(parser: argparse.ArgumentParser, *, top: bool) -> None:
    """The global options on ``parser``; after a command they default to nothing, so they never undo
    one given before it. An option the command has under the same name (``export --log``) stays its own."""
    for flags, options in GLOBAL_OPTIONS:
        if any(flag in parser._option_string_actions for flag in flags):
            continue
        extra = {} if top else {"default": argparse.SUPPRESS}
        parser.add_argument(*flags, **options, **extra)


def build_parser() -> argparse.ArgumentParser:
    from tui_desk.cli import archive, evidence, mail, reports, sheets, stores, tickets, timers
    from tui_desk.cli.help import EXAMPLES, MAIN_EPILOG, describe

    parser = _Parser(
        prog="tui-desk",
        description="A terminal helpdesk console for refund cases and support tickets. "
        "With no command it opens the console on your store.",
        epilog=MAIN_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"tui-desk {__version__}")
    _add_global_options(parser, top=True)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for module in (tickets, timers, mail, sheets, archive, reports, evidence, stores):
        module.register(commands)
    from tui_desk.cli import completion

    completion.register(commands)
    for name, sub in commands.choices.items():
        describe(sub, name, _help_of(commands, name), EXAMPLES.get(name))
        _add_global_options(sub, top=False)
    return parser


def _help_of(commands: argparse._SubParsersAction, name: str) -> str:
    for action in commands._choices_actions:
        if action.dest == name:
            return action.help or ""
    return ""


_RELATIVE_PAST = re.compile(r"^-(\s*\d+\s*(min|m|h|d|w))+$")  # -2h, -1d 2h


def _glue_relative_dates(argv: list[str]) -> list[str]:
    """Let ``--at -2h`` through: argparse would take ``-2h`` for an option, so pass it as ``--at=-2h``."""
    out: list[str] = []
    for arg in argv:
        if out and out[-1].startswith("--") and "=" not in out[-1] and _RELATIVE_PAST.match(arg):
            out[-1] = f"{out[-1]}={arg}"
        else:
            out.append(arg)
    return out


def _refuse_undecodable(args: argparse.Namespace) -> None:
    """Bytes that are not UTF-8 arrive as lone surrogates; they cannot be stored, so say so up front."""
    for name, value in vars(args).items():
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, str) and any("\udc80" <= ch <= "\udcff" for ch in item):
                if name in ("db", "file", "out", "report", "dest", "src", "restore_db", "archive"):
                    continue  # a path we only open may be any bytes; what we store must be UTF-8
                raise DeskError(f"the {name.replace('_', '-')} given is not UTF-8 text; nothing was written")


def main(argv: list[str] | None = None) -> int:
    argv = _glue_relative_dates(sys.argv[1:] if argv is None else argv)
    _Parser.json_errors = "--json" in argv
    parser = build_parser()
    args = parser.parse_args(argv)
    ctx = Context(args)
    handler = getattr(args, "handler", None)
    json_errors = bool(getattr(args, "json", False))
    try:
        errorlog.start(args.log_file or os.environ.get("TUI_DESK_LOG") or None)
        _use_config(args)
        _use_demo(args)
        _refuse_undecodable(args)
        if handler is None:
            return open_console(ctx)
        return handler(ctx) or 0
    except TicketChanged as err:  # --if-version: the ticket moved on; a script can tell this from a mistake
        _say_error(err, json_errors)
        return 3
    except DeskError as err:
        errorlog.refused(err)
        _say_error(err, json_errors)
        return 1
    except driver_errors() as err:
        # A store failure outside the store's own guard (a lazy query read after it): still one line.
        where = parse_location(args.db) if args.db else Path("the store")
        print(f"tui-desk: error: {module_for(where).explain_error(err, where)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("tui-desk: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception:
        errorlog.failed(f"tui-desk {' '.join(argv[:1]) or '(console)'}")
        raise


def _say_error(err: Exception, as_json: bool) -> None:
    """A refusal on standard error: one line, or ``{"error": "..."}`` with ``--json``."""
    if as_json:
        print(json.dumps({"error": str(err)}, ensure_ascii=False), file=sys.stderr)
    else:
        print(f"tui-desk: error: {err}", file=sys.stderr)


def _use_config(args: argparse.Namespace) -> None:
    """``--config FILE``: the file every part reads (the console's too), as ``TUI_DESK_CONFIG`` would."""
    if args.config is not None:
        if not args.config.strip():
            raise DeskError("--config is empty; give the config file's path")
        os.environ["TUI_DESK_CONFIG"] = str(Path(args.config).expanduser())


def _use_demo(args: argparse.Namespace) -> None:
    """``--demo``: the demo store, as if its path were given with ``--db``."""
    if not args.demo:
        return
    if args.db is not None:
        raise DeskError("--demo and --db both name a store; give one")
    from tui_desk.store.demo import demo_path

    args.db = str(demo_path())


def open_console(ctx: Context, **options) -> int:
    """Open the Textual console on the store (the default when no command is given)."""
    try:
        from tui_desk.tui.app import run_console
    except ModuleNotFoundError as err:
        if err.name and err.name.startswith("tui_desk.tui"):
            raise DeskError("the console is not built yet; see `tui-desk --help` for the commands") from None
        raise
    return run_console(ctx, **options)


def entry_point() -> None:
    sys.exit(main())
