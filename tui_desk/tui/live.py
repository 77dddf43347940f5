"""Noticing changes other consoles and the CLI commit, through SQLite's ``PRAGMA data_version``.

``data_version`` only means something on a connection that stays open (a fresh connection always
starts from the same value), so the watch keeps one read-only connection of its own. It is used by
one poll at a time (the poll re-arms itself after each run), never concurrently.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path


class ChangeWatch:
    """``changed()`` is True when someone committed to the store since the previous call."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._conn: sqlite3.Connection | None = None
        self._version: int | None = None

    def changed(self) -> bool:
        if self._conn is None:
            self._conn = sqlite3.connect(
                f"file:{self.path}?mode=ro", uri=True, check_same_thread=False, timeout=2.0
            )
        version = self._conn.execute("PRAGMA data_version").fetchone()[0]
        previous, self._version = self._version, version
        return previous is not None and version != previous

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
