"""A real PostgreSQL server for the tests: ``initdb`` into a temporary folder, ``pg_ctl`` on a free port.

Run as an unprivileged user (``postgres`` when the tests run as root, as in CI), with trust
authentication on 127.0.0.1 and a socket folder of its own, never on the system's port; stopped and
removed afterwards. Each test gets a database of its own (``new_database``).
"""

from __future__ import annotations

import contextlib
import glob
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

SUPERUSER = "postgres"


def find_bindir() -> Path | None:
    """The folder holding initdb and pg_ctl: $TUI_DESK_PG_BINDIR, Debian's /usr/lib/postgresql/N/bin, or PATH."""
    given = os.environ.get("TUI_DESK_PG_BINDIR")
    candidates = [given] if given else []
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    found = shutil.which("initdb")
    if found:
        candidates.append(str(Path(found).parent))
    for folder in candidates:
        if folder and (Path(folder) / "initdb").exists() and (Path(folder) / "pg_ctl").exists():
            return Path(folder)
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PostgresServer:
    """One throw-away server; ``url(dbname)`` is what ``--db`` takes."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.root = Path(tempfile.mkdtemp(prefix="tui-desk-pg-"))
        self.data = self.root / "data"
        self.socket_dir = self.root / "socket"
        self.port = _free_port()
        self._names = itertools.count(1)
        self._template: str | None = None
        self._as: list[str] = []
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root: use its own account
            try:
                pwd.getpwnam(SUPERUSER)
            except KeyError:
                raise RuntimeError("running as root and there is no 'postgres' user to run the server") from None
            self._as = ["runuser", "-u", SUPERUSER, "--"]
            shutil.chown(self.root, SUPERUSER)
        self.socket_dir.mkdir()
        if self._as:
            shutil.chown(self.socket_dir, SUPERUSER)

    def _run(self, *args: str, **kw) -> subprocess.CompletedProcess:
        return subprocess.run([*self._as, *args], check=True, capture_output=True, text=True, timeout=120, **kw)

    def start(self) -> PostgresServer:
        self._run(
            str(self.bindir / "initdb"),
            "-D",
            str(self.data),
            "-U",
            SUPERUSER,
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
            "--no-sync",
        )
        options = (
            f"-p {self.port} -k {self.socket_dir} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200 -c shared_buffers=64MB"
        )
        self._run(
            str(self.bindir / "pg_ctl"),
            "-D",
            str(self.data),
            "-o",
            options,
            "-l",
            str(self.root / "log"),
            "-w",
            "start",
        )
        self._watch_owner()
        return self

    def _watch_owner(self) -> None:
        """Stop the server and remove its folder if this process dies without ``stop`` (a killed test run)."""
        stop = " ".join([*self._as, str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop"])
        script = (
            f"while kill -0 {os.getpid()} 2>/dev/null; do sleep 2; done; {stop} >/dev/null 2>&1; rm -rf {self.root}"
        )
        subprocess.Popen(
            ["sh", "-c", script],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

    def url(self, dbname: str, user: str = SUPERUSER) -> str:
        return f"postgresql://{user}@127.0.0.1:{self.port}/{dbname}"

    def sql(self, statement: str, dbname: str = "postgres") -> None:
        import psycopg

        with psycopg.connect(self.url(dbname), autocommit=True) as conn:
            conn.execute(statement)

    def new_database(self, prefix: str = "desk", *, template: str | None = None) -> str:
        """A fresh database (empty, or a copy of ``template``); its URL."""
        name = f"{prefix}_{os.getpid()}_{next(self._names)}"
        self.sql(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
        return self.url(name)

    def store_template(self) -> str:
        """The name of a database holding a new store's schema, made once: copying it is much faster than
        creating the schema per test. Each copy gets a store id of its own (``new_store``)."""
        if self._template is None:
            from tui_desk.store import Store

            url = self.new_database("template")
            Store(url, agent="ana").close()
            from tui_desk.store import core

            core._DATABASES.clear()  # its connections must go: a template is copied only when unused
            self.sql(
                f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{url.rsplit('/', 1)[1]}'"
            )
            self._template = url.rsplit("/", 1)[1]
        return self._template

    def new_store(self) -> str:
        """A database that already holds an empty tui-desk store of the current schema, with its own id."""
        import uuid

        url = self.new_database(template=self.store_template())
        self.sql(f"UPDATE meta SET value = '{uuid.uuid4().hex}' WHERE key = 'store_id'", url.rsplit("/", 1)[1])
        return url

    def drop_database(self, url: str) -> None:
        name = url.rsplit("/", 1)[1]
        with contextlib.suppress(Exception):
            self.sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)
