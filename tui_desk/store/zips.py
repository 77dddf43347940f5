"""Opening a zip from elsewhere (a workbook, an archive) without trusting it.

Before Python's ``zipfile`` reads the directory (all of it, into memory), the zip's end record says how
many members there are and how big the directory is: too many is refused then. Once open, the
directory's sizes are checked against the limits (domain/limits.py) before any member is unpacked; a
member then unpacks to at most the size the directory gives (``zipfile`` stops there and checks the
CRC), so these checks bound what the reading costs.
"""

from __future__ import annotations

import zipfile
import zlib
from pathlib import Path

from tui_desk.domain import limits
from tui_desk.domain.errors import DeskError

_END = b"PK\x05\x06"  # end of central directory record (22 bytes + a comment of up to 65,535)
_END64_LOCATOR = b"PK\x06\x07"
_END64 = b"PK\x06\x06"
# What reading a damaged or altered member raises (a bad CRC, a broken deflate stream, a short file).
READ_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError)


def directory_size(path: Path) -> tuple[int, int] | None:
    """(members, directory bytes) as the end record gives them; None when ``path`` has none (not a zip)."""
    with open(path, "rb") as f:
        f.seek(0, 2)
        size = f.tell()
        start = max(0, size - 22 - 65535)
        f.seek(start)
        tail = f.read()
        # The record is the last one whose comment length reaches the end of the file (a comment may
        # itself hold the record's signature); failing that (bytes after the zip), the last one.
        last = at = tail.rfind(_END)
        while at >= 0 and int.from_bytes(tail[at + 20 : at + 22], "little") != len(tail) - at - 22:
            at = tail.rfind(_END, 0, at)
        at = last if at < 0 else at
        if at < 0 or len(tail) - at < 22:
            return None
        members = int.from_bytes(tail[at + 10 : at + 12], "little")
        directory = int.from_bytes(tail[at + 12 : at + 16], "little")
        if (members == 0xFFFF or directory == 0xFFFFFFFF) and at >= 20 and tail[at - 20 : at - 16] == _END64_LOCATOR:
            f.seek(int.from_bytes(tail[at - 12 : at - 4], "little"))
            record = f.read(56)
            if record[:4] == _END64 and len(record) == 56:
                members = int.from_bytes(record[32:40], "little")
                directory = int.from_bytes(record[40:48], "little")
    return members, directory


def open_zip(path: Path, *, max_members: int, what: str) -> zipfile.ZipFile | None:
    """``path`` opened as a zip once its end record shows at most ``max_members`` members; None if it is
    not a zip. A zip over the limit, or whose directory is larger than that many members need, is refused."""
    path = Path(path)
    try:
        found = directory_size(path)
    except OSError as err:
        raise DeskError(f"cannot read {path.name}: {err.strerror}") from None
    if found is None:
        return None
    members, directory = found
    if members > max_members or directory > max_members * limits.ZIP_DIRECTORY_BYTES_PER_MEMBER:
        shown = f"{members:,} members" if members > max_members else f"a directory of {directory / 1e6:,.0f} MB"
        raise DeskError(
            f"{path.name} has {shown}, over the limit of {max_members:,} members for one {what}; nothing was imported"
        )
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, ValueError, EOFError) as err:
        raise DeskError(f"{path.name} is not a readable zip ({err})") from None
    except OSError as err:
        raise DeskError(f"cannot read {path.name}: {err.strerror}") from None
    if len(zf.infolist()) > max_members:  # the end record undercounted
        zf.close()
        raise DeskError(f"{path.name} has over {max_members:,} members, the limit for one {what}; nothing was imported")
    return zf


def check_sizes(zf: zipfile.ZipFile, path: Path, *, max_total: int, what: str, advice: str = "") -> None:
    """Refuse a zip whose members unpack to more than ``max_total`` together, or one member that squeezes
    too much into too little (a zip bomb), from the directory: before anything is unpacked."""
    members = zf.infolist()
    total = sum(m.file_size for m in members)
    if total > max_total:
        raise DeskError(
            f"{path.name} unpacks to {total / 1e6:,.0f} MB, over the limit of {max_total / 1e6:,.0f} MB "
            f"for one {what}{advice}"
        )
    for m in members:
        if m.file_size >= limits.PACK_RATIO_FROM and m.file_size > limits.MAX_PACK_RATIO * max(m.compress_size, 1):
            raise DeskError(
                f"{path.name}: {m.filename} unpacks to {m.file_size / 1e6:,.0f} MB from "
                f"{m.compress_size / 1e6:,.1f} MB (over {limits.MAX_PACK_RATIO}:1); it is not an ordinary {what}"
            )
