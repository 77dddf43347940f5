"""Attachment files: copied into a content-addressed folder beside the store, named by their SHA-256."""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tui_desk.domain.errors import DeskError

_CHUNK = 1 << 20


@dataclass(frozen=True)
class AttachmentFile:
    name: str
    size: int
    sha256: str


class BlobFolder:
    """``<store>.files/ab/abcdef…``: the same content is kept once, whatever its name."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path_of(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256

    def ingest(self, source: Path, created: list[Path] | None = None) -> AttachmentFile:
        """Copy ``source`` in (hashing as it copies, so what is hashed is what is kept).

        ``created`` collects the folders and file this call made, so a write refused or rolled back
        afterwards can take them away again (``discard``).
        """
        if not source.exists():
            raise DeskError(f"attachment {source}: no such file")
        if source.is_dir():
            raise DeskError(f"attachment {source}: is a folder, not a file")
        try:
            reader = source.open("rb")
        except OSError as err:
            raise DeskError(f"attachment {source}: cannot read it ({err.strerror})") from None
        made = created if created is not None else []
        try:
            if not self.root.exists():
                self.root.mkdir(mode=0o700, parents=True)
                made.append(self.root)
            digest = hashlib.sha256()
            size = 0
            fd, temp = tempfile.mkstemp(dir=self.root, prefix=".incoming-")
            try:
                with reader, os.fdopen(fd, "wb") as writer:
                    while chunk := _read(reader, source):
                        digest.update(chunk)
                        writer.write(chunk)
                        size += len(chunk)
                    writer.flush()
                    os.fsync(writer.fileno())
                sha = digest.hexdigest()
                final = self.path_of(sha)
                if not final.parent.exists():
                    final.parent.mkdir(mode=0o700)
                    made.append(final.parent)
                if final.exists():
                    os.unlink(temp)
                else:
                    os.replace(temp, final)
                    made.append(final)
            except BaseException:
                if os.path.exists(temp):
                    os.unlink(temp)
                raise
        except OSError as err:
            raise DeskError(f"attachment {source}: cannot store it ({err.strerror})") from None
        return AttachmentFile(name=source.name, size=size, sha256=sha)

    @staticmethod
    def discard(created: list[Path]) -> None:
        """Remove what ``ingest`` made for a write that did not happen (newest first; a folder only if empty)."""
        for path in reversed(created):
            with contextlib.suppress(OSError):
                if path.is_dir():
                    path.rmdir()
                else:
                    path.unlink()
        created.clear()


def _read(reader, source: Path) -> bytes:
    """The next chunk; a failing read is the file's fault (say so), not the store's."""
    try:
        return reader.read(_CHUNK)
    except OSError as err:
        raise DeskError(f"attachment {source}: cannot read it ({err.strerror})") from None
