"""Files that hold customer data, written owner-only (0600) whatever the umask, and whole or not at all."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, TextIO


@contextlib.contextmanager
def private_file(
    path: Path, *, encoding: str = "utf-8", newline: str = "", binary: bool = False
) -> Iterator[TextIO | BinaryIO]:
    """A text file to write at ``path``: a 0600 temporary file beside it, renamed over it on success.

    The mode is set on the open descriptor, so a umask of 000 (or 0277) changes nothing, and the
    rename carries it over an existing file. On failure the temporary file goes and ``path`` is as it was.
    ``binary``: a file of bytes (an archive) instead.
    """
    path = Path(path)
    temp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        opened = os.fdopen(fd, "wb") if binary else os.fdopen(fd, "w", encoding=encoding, newline=newline)
        with opened as out:
            yield out
            out.flush()
            os.fsync(out.fileno())  # on disk before it replaces the old file: a crash leaves one or the other
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
