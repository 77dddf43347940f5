"""Fetching: each new message of an IMAP folder or a Maildir through intake, then marked handled, never deleted.

A message whose intake fails (the store busy, a bug) is left unmarked and tried on the next fetch; it
never stops the messages after it.
"""

from __future__ import annotations

import imaplib
import os
import ssl
from pathlib import Path

from tui_desk.config import ImapConfig
from tui_desk.domain.errors import DeskError
from tui_desk.mail.intake import receive


def receive_safely(store, raw: bytes, source: str) -> tuple[dict, bool]:
    """``receive``, with a failure reported instead of raised; (result, handled)."""
    try:
        return {**receive(store, raw), "source": source}, True
    except Exception as err:  # noqa: BLE001 - one bad message must not stop the others
        text = str(err) if isinstance(err, DeskError) else f"{type(err).__name__}: {err}"
        return {"source": source, "outcome": "error", "error": text}, False


# -- Maildir -------------------------------------------------------------------------------------


def fetch_maildir(store, folder: Path) -> list[dict]:
    """Every message in ``new/`` and every unseen one in ``cur/``; handled ones move to ``cur/`` seen (S)."""
    folder = Path(folder)
    if not all((folder / sub).is_dir() for sub in ("new", "cur", "tmp")):
        raise DeskError(f"{folder} is not a Maildir (it needs new/, cur/ and tmp/)")
    results = []
    waiting = [(folder / "new" / name, "") for name in sorted(os.listdir(folder / "new"))]
    for name in sorted(os.listdir(folder / "cur")):
        unique, _, info = name.partition(":2,")
        if "S" not in info:
            waiting.append((folder / "cur" / name, info))
    for path, flags in waiting:
        if path.name.startswith("."):
            continue
        try:
            raw = path.read_bytes()
        except OSError as err:
            results.append({"source": str(path), "outcome": "error", "error": err.strerror})
            continue
        result, handled = receive_safely(store, raw, str(path))
        results.append(result)
        if handled:
            unique = path.name.partition(":2,")[0]
            seen = "".join(sorted(set(flags) | {"S"}))
            os.replace(path, folder / "cur" / f"{unique}:2,{seen}")
    return results


# -- IMAP ----------------------------------------------------------------------------------------


def _connect(imap: ImapConfig, password: str | None) -> imaplib.IMAP4:
    if imap.security == "ssl":
        conn = imaplib.IMAP4_SSL(imap.host, imap.port, ssl_context=ssl.create_default_context(), timeout=30)
    else:
        conn = imaplib.IMAP4(imap.host, imap.port, timeout=30)
        if imap.security == "starttls":
            conn.starttls(ssl_context=ssl.create_default_context())
    conn.login(imap.user, password or "")
    return conn


def fetch_imap(store, imap: ImapConfig) -> list[dict]:
    """Every message of the folder without our keyword: through intake, then given the keyword (and
    \\Seen), and moved to ``move_to`` if set."""
    password = imap.password()
    try:
        conn = _connect(imap, password)
    except (imaplib.IMAP4.error, OSError) as err:
        raise DeskError(f"IMAP {imap.host}:{imap.port}: {err}") from None
    results = []
    try:
        status, _ = conn.select(_quoted(imap.folder))
        if status != "OK":
            raise DeskError(f"IMAP {imap.host}: no folder {imap.folder!r}")
        status, data = conn.uid("SEARCH", None, "UNKEYWORD", imap.flag)
        if status != "OK":
            raise DeskError(f"IMAP {imap.host}: the search was refused ({data})")
        status, caps = conn.capability()  # after the login: servers announce more to a logged-in client
        can_move = status == "OK" and b"MOVE" in b" ".join(caps or []).upper().split()
        for uid in (data[0] or b"").split():
            status, parts = conn.uid("FETCH", uid, "(BODY.PEEK[])")
            raw = next((p[1] for p in parts or [] if isinstance(p, tuple) and len(p) > 1), None)
            source = f"imap:{imap.folder}/{uid.decode()}"
            if status != "OK" or raw is None:
                results.append({"source": source, "outcome": "error", "error": "the server did not send it"})
                continue
            result, handled = receive_safely(store, raw, source)
            results.append(result)
            if handled:
                conn.uid("STORE", uid, "+FLAGS", f"({imap.flag} \\Seen)")
                if imap.move_to:
                    conn.uid("MOVE" if can_move else "COPY", uid, _quoted(imap.move_to))
    except imaplib.IMAP4.error as err:
        raise DeskError(f"IMAP {imap.host}: {err}") from None
    finally:
        try:
            conn.logout()
        except (imaplib.IMAP4.error, OSError):
            pass
    return results


def _quoted(name: str) -> str:
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'
