"""``--log FILE`` (or ``TUI_DESK_LOG``): errors with their tracebacks, appended to a file the owner alone reads.

Worker failures in the console, low-level store errors and anything the command line did not expect
are written with the traceback (a toast lasts six seconds; the file keeps it); refusals of bad input
are one line each. The loggers are ``tui_desk.*``; without ``--log`` nothing is written anywhere.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from tui_desk.domain.errors import DeskError

FORMAT = "%(asctime)s %(levelname)s %(name)s [pid %(process)d]: %(message)s"
_log = logging.getLogger("tui_desk.cli")


def start(path: str | None) -> Path | None:
    """Send the ``tui_desk`` loggers to ``path`` (created owner-only), or do nothing without one."""
    if not path:
        return None
    if not path.strip():
        raise DeskError("--log is empty; give the log file's path")
    target = Path(path).expanduser()
    try:
        os.close(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600))  # customer text may appear
        handler = logging.FileHandler(target, encoding="utf-8")
    except OSError as err:
        raise DeskError(f"cannot write the log {target}: {err.strerror}") from None
    handler.setFormatter(logging.Formatter(FORMAT))
    root = logging.getLogger("tui_desk")
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    root.propagate = False
    return target


def refused(err: Exception) -> None:
    """A command refused (bad input, a missing ticket): one line, no traceback."""
    _log.info("refused: %s", err)


def failed(what: str) -> None:
    """Call inside ``except``: an error nobody expected, with its traceback."""
    _log.exception("%s failed", what)
