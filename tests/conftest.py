"""Shared fixtures: a fixed clock, a real store in tmp_path, and the real ``tui-desk`` command."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pg_server import PostgresServer, find_bindir

from tui_desk.domain.clock import FixedClock
from tui_desk.store import Store, core
from tui_desk.store.backend import PostgresUrl

pytest_plugins = ["tests.mail.servers"]  # the SMTP and IMAP servers the mail tests start

NOW = datetime(2026, 11, 15, 14, 30, tzinfo=UTC)
TUI_DESK = str(Path(sys.executable).with_name("tui-desk"))
# The sample sheets, for every test folder: tests/data/sheets beside this file.
SHEETS_DATA = Path(__file__).parent / "data" / "sheets"


def pytest_addoption(parser):
    parser.addoption("--run-slow", action="store_true", help="also run long soaks and big-store tests")


BACKENDS = ("sqlite", "postgresql")


def pytest_configure(config):
    config.addinivalue_line("markers", "backends: run on both backends (the db_path fixture is parametrised)")
    config.addinivalue_line("markers", "sqlite_only: a test of SQLite's own behaviour, in a both-backends module")
    config.addinivalue_line("markers", "postgres_only: a test of PostgreSQL's own behaviour")


def pytest_generate_tests(metafunc):
    """Tests marked ``backends`` (a module's ``pytestmark``) run once per backend: ``db_path`` is then an
    SQLite file or a database on the session's PostgreSQL server. Other tests keep SQLite and their names."""
    if "backend_name" not in metafunc.fixturenames:
        return
    definition = metafunc.definition
    if definition.get_closest_marker("postgres_only"):
        names = ["postgresql"]
    elif definition.get_closest_marker("backends") and not definition.get_closest_marker("sqlite_only"):
        names = list(BACKENDS)
    else:
        return
    metafunc.parametrize("backend_name", names, indirect=True)


@pytest.fixture
def backend_name(request) -> str:
    return getattr(request, "param", "sqlite")


@pytest.fixture(scope="session")
def pg_server():
    """One PostgreSQL server per test session (per xdist worker), started here and stopped after."""
    bindir = find_bindir()
    if bindir is None:
        pytest.skip("PostgreSQL is not installed here (no initdb/pg_ctl; apt-get install postgresql)")
    server = PostgresServer(bindir)
    try:
        server.start()
    except Exception as err:  # noqa: BLE001 - said in the skip reason
        server.stop()
        pytest.skip(f"could not start a PostgreSQL server: {err}")
    yield server
    server.stop()


def pytest_collection_modifyitems(config, items):
    if config.getoption("--run-slow"):
        return
    skip = pytest.mark.skip(reason="slow: run with --run-slow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def isolated_env(tmp_path_factory, monkeypatch):
    """No test reads or writes the real user's config or data folders."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    monkeypatch.setenv("XDG_STATE_HOME", str(home / ".local" / "state"))
    monkeypatch.setenv("TUI_DESK_CONFIG", str(home / "config.toml"))
    for name in ("TUI_DESK_DB", "TUI_DESK_AGENT", "TUI_DESK_NOW", "TUI_DESK_READ_ONLY"):
        monkeypatch.delenv(name, raising=False)
    return home


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def db_path(tmp_path, backend_name, request):
    """The store: ``desk.db`` in tmp_path, or (in a both-backends test) a fresh PostgreSQL database."""
    if backend_name == "sqlite":
        yield tmp_path / "desk.db"
        return
    server = request.getfixturevalue("pg_server")
    url = server.new_store()
    yield PostgresUrl(url)
    server.drop_database(url)


@pytest.fixture
def store(db_path, clock) -> Store:
    s = Store(db_path, clock=clock, agent="ana")
    yield s
    s.close()


class CLI:
    """Runs the installed ``tui-desk`` script against one store, with a frozen clock."""

    def __init__(self, db: Path, now: datetime = NOW) -> None:
        self.db = db
        self.now = now
        self.agent = "ana"

    def env(self, **extra: str) -> dict[str, str]:
        env = dict(os.environ)
        env["TUI_DESK_NOW"] = self.now.isoformat()
        env["TUI_DESK_AGENT"] = self.agent
        env.update(extra)
        return env

    def run(self, *args: str, input: str | None = None, db: Path | None = None, **env: str):
        return subprocess.run(
            [TUI_DESK, "--db", str(db or self.db), *args],
            input=input,
            capture_output=True,
            text=True,
            env=self.env(**env),
            timeout=120,
        )

    def ok(self, *args: str, **kw) -> subprocess.CompletedProcess:
        result = self.run(*args, **kw)
        assert result.returncode == 0, f"tui-desk {' '.join(args)} failed: {result.stderr}"
        return result

    def json(self, *args: str, **kw):
        return json.loads(self.ok(*args, "--json", **kw).stdout)

    def fails(self, *args: str, **kw) -> str:
        """Run a command that must be refused: exit 1, one line on stderr, no traceback."""
        result = self.run(*args, **kw)
        assert result.returncode != 0, f"tui-desk {' '.join(args)} should have failed: {result.stdout}"
        err = result.stderr.strip()
        assert "Traceback" not in err, err
        assert len(err.splitlines()) == 1, err
        return err


@pytest.fixture
def cli(db_path) -> CLI:
    return CLI(db_path)


class BuiltStores:
    """Stores built once per test session (per xdist worker) by the real ``tui-desk`` command, each test
    starting from its own copy: a fixture that makes a case with six commands runs them once per backend,
    not once per test. A copy is the store file with its attachment folder (modes kept) on SQLite, and a
    database made from the built one as its template on PostgreSQL."""

    def __init__(self, request, root: Path) -> None:
        self._request, self._root = request, root
        self._built: dict[tuple[str, bool], tuple[object, object]] = {}

    def copy(self, cli: CLI, name: str, make):
        """The store ``make(cli, folder)`` builds, at ``cli.db``; returns what ``make`` returned."""
        postgres = isinstance(cli.db, PostgresUrl)
        key = (name, postgres)
        if key not in self._built:
            folder = self._root / f"{name}-{'pg' if postgres else 'sqlite'}"
            folder.mkdir()
            source = PostgresUrl(self._server().new_store()) if postgres else folder / "desk.db"
            self._built[key] = (source, make(CLI(source, cli.now), folder))
        source, made = self._built[key]
        opened = str(cli.db.resolve()) in {where for where, _ in core._DATABASES} if postgres else cli.db.exists()
        assert not opened, f"{cli.db} was opened before the built store {name!r} was copied there: ask for it first"
        if postgres:
            server, target = self._server(), cli.db.url.rsplit("/", 1)[1]
            server.sql(f'DROP DATABASE "{target}" WITH (FORCE)')
            server.sql(f'CREATE DATABASE "{target}" TEMPLATE "{source.url.rsplit("/", 1)[1]}"')
        else:
            for path in source.parent.iterdir():
                if path.name.startswith(source.name):  # desk.db, its -wal/-shm if any, desk.db.files
                    to = cli.db.with_name(cli.db.name + path.name[len(source.name) :])
                    if path.is_dir():
                        shutil.copytree(path, to, dirs_exist_ok=True)
                    else:
                        shutil.copy2(path, to)
        return made

    def _server(self):
        return self._request.getfixturevalue("pg_server")


@pytest.fixture(scope="session")
def built_stores(request, tmp_path_factory) -> BuiltStores:
    return BuiltStores(request, tmp_path_factory.mktemp("built"))


async def workers_done(app) -> None:
    """Wait for the app's workers to finish. A worker cancelled because a newer one superseded it
    (a reload, a search) is how the console works, not a failure: wait for the others again."""
    from textual.worker import WorkerCancelled

    for _ in range(20):
        try:
            await app.workers.wait_for_complete()
            return
        except WorkerCancelled:
            continue


class _RawPostgres:
    """What a test does with ``sqlite3.connect(db)``, on a PostgreSQL store: ``execute`` with ``?``
    placeholders, autocommit, and the server's refusals raised as sqlite3's (so one ``pytest.raises``
    serves both backends)."""

    def __init__(self, url: str) -> None:
        import psycopg

        self._psycopg = psycopg
        self._conn = psycopg.connect(url, autocommit=True)

    def execute(self, sql: str, params=()):
        import sqlite3

        try:
            if params:
                return self._conn.execute(sql.replace("%", "%%").replace("?", "%s"), params)
            return self._conn.execute(sql)
        except self._psycopg.IntegrityError as err:
            raise sqlite3.IntegrityError(str(err)) from None
        except self._psycopg.Error as err:
            raise sqlite3.DatabaseError(str(err)) from None

    def commit(self) -> None:
        pass

    def close(self) -> None:
        self._conn.close()


def raw_connect(db):
    """A connection past the program, as an attacker (or a test) opens the store: sqlite3 or psycopg."""
    import sqlite3

    if isinstance(db, PostgresUrl):
        return _RawPostgres(db.url)
    return sqlite3.connect(db)
