"""Attachment files: copied into a content-addressed folder beside the store, named by their SHA-256."""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tui_desk.domain.errors import DeskError

_CHUNK = 1 << 20
DEFAULT_MAX_BYTES = 25 * 1024 * 1024  # [attachments] max_mb in config.toml


@dataclass(frozen=True)
class AttachmentFile:
    name: str
    size: int
    sha256: str


class BlobFolder:
    """``<store>.files/ab/abcdef…``: the same content is kept once, whatever its name."""

    def __init__(self, root: Path, *, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.root = root
        self.max_bytes = max_bytes

    def check(self, source: Path) -> None:
        """Refuse before anything is opened: only a regular file, and not over the size limit.

        A device (``/dev/zero``) or a FIFO would never end or would block; ``os.stat`` tells without
        reading, and ``ingest`` checks the opened descriptor again (the path may change in between).
        """
        try:
            info = os.stat(source)
        except FileNotFoundError:
            raise DeskError(f"attachment {source}: no such file") from None
        except OSError as err:
            raise DeskError(f"attachment {source}: cannot read it ({err.strerror})") from None
        self._check_stat(source, info)

    def _check_stat(self, source: Path, info: os.stat_result) -> None:
        if stat.S_ISDIR(info.st_mode):
            raise DeskError(f"attachment {source}: is a folder, not a file")
        if not stat.S_ISREG(info.st_mode):
            raise DeskError(f"attachment {source}: not a regular file (a device, FIFO or socket); attach a file")
        if info.st_size > self.max_bytes:
            raise DeskError(
                f"attachment {source}: {info.st_size / 1048576:.1f} MB is over the limit of "
                f"{self.max_bytes / 1048576:g} MB ([attachments] max_mb in config.toml)"
            )

    def path_of(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256

    def ingest(self, source: Path, created: list[Path] | None = None) -> AttachmentFile:
        """Copy ``source`` in (hashing as it copies, so what is hashed is what is kept).

        ``created`` collects the folders and file this call made, so a write refused or rolled back
        afterwards can take them away again (``discard``).
        """
        reader = self._open_checked(source)
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
                        if size + len(chunk) > self.max_bytes:  # it grew while we read it
                            raise DeskError(f"attachment {source}: grew over the limit while being read")
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

    def _open_checked(self, source: Path):
        """``source`` opened for reading, once it is known to be a regular file within the limit."""
        self.check(source)
        try:
            # O_NONBLOCK: a FIFO swapped in after the check opens at once, and fstat refuses it.
            fd = os.open(source, os.O_RDONLY | os.O_NONBLOCK)
        except OSError as err:
            raise DeskError(f"attachment {source}: cannot read it ({err.strerror})") from None
        reader = os.fdopen(fd, "rb")
        try:
            self._check_stat(source, os.fstat(fd))
        except DeskError:
            reader.close()
            raise
        return reader

    @staticmethod
    def _read_chunk(reader, source: Path) -> bytes:
        return _read(reader, source)

    def put(self, reader, sha256: str, size: int, created: list[Path]) -> None:
        """Keep the content ``reader`` gives as the file named ``sha256`` (an archive's blob being restored).

        It is hashed as it is written and refused unless it is exactly the ``size`` bytes that hash to
        ``sha256``; a file already there under that name is kept. ``created`` collects what this made.
        """
        if not re.fullmatch(r"[0-9a-f]{64}", sha256):
            raise DeskError(f"attachment content named {sha256[:70]!r} is not named by a SHA-256")
        final = self.path_of(sha256)
        if final.is_file() and final.stat().st_size == size:
            return
        for folder in (self.root, final.parent):
            if not folder.exists():
                folder.mkdir(mode=0o700, parents=True)
                created.append(folder)
        digest = hashlib.sha256()
        written = 0
        fd, temp = tempfile.mkstemp(dir=final.parent, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as writer:
                while chunk := reader.read(_CHUNK):
                    written += len(chunk)
                    if written > size:
                        break
                    digest.update(chunk)
                    writer.write(chunk)
                writer.flush()
                os.fsync(writer.fileno())
            if written != size or digest.hexdigest() != sha256:
                raise DeskError(f"attachment content {sha256[:16]}… does not match its SHA-256 and size")
            os.replace(temp, final)
            created.append(final)
        except BaseException:
            if os.path.exists(temp):
                os.unlink(temp)
            raise

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
