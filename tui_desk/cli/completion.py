"""``tui-desk completion bash|zsh|fish``: a completion script for the shell, made by ``shtab`` from the parser."""

from __future__ import annotations

import argparse
import sys

SHELLS = ("bash", "zsh", "fish")


def register(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser("completion", help="print a shell completion script (bash, zsh or fish)")
    p.add_argument("shell", choices=SHELLS, help="the shell to complete for")
    p.set_defaults(handler=cmd_completion)


def cmd_completion(ctx) -> int:
    import shtab

    from tui_desk.cli import build_parser

    parser = build_parser()
    for action in parser._actions:  # files for the options that take paths
        if action.dest in ("db", "config", "log_file"):
            action.complete = shtab.FILE
    sys.stdout.write(shtab.complete(parser, shell=ctx.args.shell))
    return 0
