"""PostgreSQL's own behaviour (backend-specific tests, named as such): URLs, server-side guards and roles,
LISTEN/NOTIFY, attachments in the database, moving a SQLite store over."""

from __future__ import annotations

import json
import subprocess

import pytest
from conftest import NOW, TUI_DESK, raw_connect

from tui_desk.domain.errors import DeskError
from tui_desk.store import Store, TicketFilter
from tui_desk.store.backend import PostgresUrl, parse_location
from tui_desk.store.verify import verify_store

postgres_only = pytest.mark.postgres_only
WORDS = ("alpha", "bravo", "charlie", "delta", "echo")


def test_postgres_url_with_a_password_is_refused_before_connecting(cli):
    err = cli.fails("list", db="postgresql://ana:secret@127.0.0.1:1/desk")
    assert "holds a password" in err and "PGPASSWORD" in err and "secret" not in err


def test_postgres_url_forms():
    url = parse_location("postgresql://ana@db.example:6543/desk")
    assert isinstance(url, PostgresUrl) and (url.user, url.host, url.port, url.dbname) == (
        "ana",
        "db.example",
        6543,
        "desk",
    )
    with pytest.raises(DeskError, match="names no database"):
        parse_location("postgresql://ana@db.example:6543/")


def test_postgres_unreachable_server_is_one_line(cli):
    err = cli.fails("list", db="postgresql://ana@127.0.0.1:1/desk")
    assert "cannot reach the store postgresql://ana@127.0.0.1:1/desk" in err


@postgres_only
def test_postgres_guards_are_server_triggers_and_verify_compares_their_sql(store, db_path, cli):
    t = store.create_ticket(customer="Ana", subject="Kettle")
    store.add_entry(t.case_number, channel="email", summary="It leaks")
    assert verify_store(store).ok
    raw = raw_connect(db_path)
    for sql in ("UPDATE log_entry SET summary = 'x'", "DELETE FROM ticket", "TRUNCATE log_entry CASCADE"):
        with pytest.raises(Exception, match="append-only|never deleted"):
            raw.execute(sql)
    # A guard made harmless (the function returns instead of refusing), one disabled, one dropped.
    raw.execute(
        "CREATE OR REPLACE FUNCTION tui_desk_refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$"
    )
    raw.execute("ALTER TABLE status_change DISABLE TRIGGER status_change_no_update")
    raw.execute("DROP TRIGGER blob_no_delete ON blob")
    raw.execute(
        "CREATE TRIGGER log_entry_shadow BEFORE INSERT ON log_entry FOR EACH ROW EXECUTE FUNCTION tui_desk_refuse()"
    )
    raw.close()
    out = cli.run("verify").stdout
    assert "append-only guards were removed: blob_no_delete" in out
    assert "replaced (their SQL differs): tui_desk_refuse(), status_change_no_update" in out
    assert "triggers the program never made act on evidence tables: log_entry_shadow" in out


@postgres_only
def test_postgres_attachments_live_in_the_database(store, db_path, cli, tmp_path):
    t = store.create_ticket(customer="Ana", subject="Kettle")
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(b"\xff\xd8 a photo")
    store.add_entry(t.case_number, channel="email", summary="Photo", attachments=[photo])
    photo.unlink()
    sha = store.entries(store.get(t.case_number))[1].attachment_list[0].sha256
    assert store.blobs.path_of(sha).read_bytes() == b"\xff\xd8 a photo"  # for opening in another program
    assert cli.ok("verify").returncode == 0
    raw = raw_connect(db_path)
    raw.execute("DROP TRIGGER blob_content_no_update ON blob_content")
    raw.execute("UPDATE blob_content SET content = 'altered'::bytea")
    raw.close()
    out = cli.run("verify").stdout
    assert f"attachment content {sha[:16]}… was altered" in out


@postgres_only
def test_postgres_listen_notify_tells_a_watch_of_another_hosts_commit(store, db_path, cli):
    watch = store.change_watch()
    try:
        assert watch.changed() is False  # connects and LISTENs
        assert watch.changed() is False  # nothing committed meanwhile
        cli.ok("new", "--customer", "Ben", "--subject", "From another host")
        assert watch.changed() is True  # the notification was waiting: no poll interval to sit out
        assert watch.changed() is False
    finally:
        watch.close()


@postgres_only
def test_postgres_console_shows_another_hosts_change(db_path, clock):
    import asyncio

    from tests.conftest import workers_done
    from tui_desk.tui.app import DeskApp

    store = Store(db_path, clock=clock, agent="ana")
    case = store.create_ticket(customer="Ana", subject="Kettle").case_number

    async def scenario() -> None:
        app = DeskApp(store, timers=False)
        async with app.run_test(size=(100, 30)) as pilot:
            await workers_done(app)
            app.open_ticket(case)
            for _ in range(50):
                await pilot.pause(0.1)
                if getattr(app.screen, "view", None) is not None:
                    break
            before = len(app.screen.view.entries)
            subprocess.run(
                [TUI_DESK, "--db", str(db_path), "--agent", "ben", "assign", case, "ben"],
                check=True,
                capture_output=True,
                env={"TUI_DESK_NOW": NOW.isoformat(), "PATH": "/usr/bin:/bin"},
            )
            for _ in range(30):
                await pilot.pause(0.1)
                if len(app.screen.view.entries) > before:
                    break
            assert len(app.screen.view.entries) == before + 1
            assert app.screen.ticket.assignee == "ben"

    asyncio.run(scenario())


@postgres_only
def test_postgres_roles_sql_runs_and_agents_cannot_rewrite_evidence(db_path, pg_server, cli, tmp_path):
    cli.ok("new", "--customer", "Ana", "--subject", "Kettle")  # the owner (here the superuser) made the store
    name = db_path.dbname
    sql = cli.ok("pg-roles", "--database", name).stdout
    assert "CREATE ROLE tui_desk_agents" in sql and "GRANT SELECT, INSERT ON log_entry" in sql
    import psycopg

    # As the README says: the superuser part, then the owner's (here the superuser does it all).
    skip = ("CREATE DATABASE", "SET ROLE", "RESET ROLE", "ALTER SCHEMA")
    statements, current = [], []
    for line in sql.splitlines():
        if not current and (not line.strip() or line.startswith("--") or line.startswith("\\")):
            continue
        current.append(line)
        if line.rstrip().endswith(";") and "\n".join(current).count("$$") % 2 == 0:
            statements.append("\n".join(current).rstrip().rstrip(";"))
            current = []
    with psycopg.connect(pg_server.url(name), autocommit=True) as conn:
        for statement in statements:
            if not statement.startswith(skip):
                conn.execute(statement)
        conn.execute("CREATE ROLE ben LOGIN IN ROLE tui_desk_agents")
        conn.execute("CREATE ROLE sam LOGIN IN ROLE tui_desk_supervisors")
    agent = PostgresUrl(pg_server.url(name, user="ben"))
    config = tmp_path / "config.toml"
    config.write_text('[store]\nidentity = "database"\n')
    env = {"TUI_DESK_CONFIG": str(config)}
    case = "TD-REF-2026-00001"
    cli.ok("log", case, "--channel", "email", "--summary", "Ben wrote", db=str(agent), TUI_DESK_AGENT="", **env)
    entries = cli.json("show", case)["log"]
    assert entries[-1]["agent"] == "ben"  # the database role, not the OS login or TUI_DESK_AGENT
    err = cli.fails("log", case, "--channel", "note", "--summary", "as ana", db=str(agent), TUI_DESK_AGENT="ana", **env)
    assert "identity" in err and "'ben'" in err
    with psycopg.connect(agent.url, autocommit=True) as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="may not write as ana"):
            conn.execute(  # past the program: an entry in a colleague's name is refused by the server
                "INSERT INTO log_entry (ticket_id, seq, kind, at, logged_at, channel, direction, sender, "
                "sender_name, agent, summary, body, digest) SELECT ticket_id, 99, kind, at, logged_at, channel, "
                "direction, sender, sender_name, 'ana', 'forged', body, 'x' FROM log_entry LIMIT 1"
            )
        with pytest.raises(psycopg.Error):
            conn.execute("UPDATE log_entry SET summary = 'x'")
        with pytest.raises(psycopg.Error):
            conn.execute("DROP TRIGGER log_entry_no_update ON log_entry")
    supervisor = pg_server.url(name, user="sam")
    err = cli.fails("log", case, "--channel", "note", "--summary", "no", db=supervisor)
    assert "refused" in err or "permission denied" in err
    assert cli.json("show", case, db=supervisor)["case_number"] == case


@postgres_only
def test_postgres_copy_store_from_sqlite_keeps_every_digest(db_path, tmp_path, clock):
    source = tmp_path / "desk.db"
    s = Store(source, clock=clock, agent="ana")
    photo = tmp_path / "label.pdf"
    photo.write_bytes(b"%PDF label")
    numbers = []
    for i in range(5):
        t = s.create_ticket(customer=f"C{i}", subject=f"Parcel {i}", email=f"c{i}@example.com")
        s.add_entry(t.case_number, channel="email", summary=f"photo {WORDS[i]}", attachments=[photo] if i == 2 else [])
        numbers.append(t.case_number)
    s.close()
    seal = subprocess.run([TUI_DESK, "--db", str(source), "seal"], capture_output=True, text=True, check=True).stdout
    (tmp_path / "seal.json").write_text(seal)
    env = {"TUI_DESK_NOW": NOW.isoformat(), "PATH": "/usr/bin:/bin", "TUI_DESK_AGENT": "ana"}
    run = subprocess.run(
        [TUI_DESK, "--db", str(source), "copy-store", "--to", str(db_path), "--json"],
        capture_output=True,
        text=True,
        env=env,
    )
    assert run.returncode == 0, run.stderr
    data = json.loads(run.stdout)
    assert data["same_seal"] and data["verify_ok"] and data["tickets"] == 5
    # The SQLite store's seal verifies against the PostgreSQL store: nothing removed, moved or changed.
    against = subprocess.run(
        [TUI_DESK, "--db", str(db_path), "verify", "--against", str(tmp_path / "seal.json")],
        capture_output=True,
        text=True,
        env=env,
    )
    assert against.returncode == 0, against.stdout + against.stderr
    target = Store(db_path, clock=clock, agent="ana")
    assert [t.case_number for t in target.list_tickets(TicketFilter())] == numbers
    assert [t.case_number for t in target.list_tickets(TicketFilter(search="photo charlie"))] == [numbers[2]]
    new = target.create_ticket(customer="After", subject="the move")  # the id sequences moved past the copy
    assert new.case_number == "TD-REF-2026-00006"
    att = target.entries(target.get(numbers[2]))[1].attachment_list[0]
    assert target.blobs.content(att.sha256) == b"%PDF label"
    again = subprocess.run(
        [TUI_DESK, "--db", str(source), "copy-store", "--to", str(db_path)], capture_output=True, text=True, env=env
    )
    assert again.returncode == 1 and "already holds tickets" in again.stderr


@postgres_only
def test_postgres_a_schema_4_store_gets_fragments_and_mail(db_path, clock):
    """A PostgreSQL store made before search fragments (5) and mail (6) is migrated on open."""
    from tui_desk.store.schema import SCHEMA_VERSION

    s = Store(db_path, clock=clock, agent="ana")
    t = s.create_ticket(customer="Jürgen", subject="Größe falsch")
    s.close()
    raw = raw_connect(db_path)
    raw.execute("ALTER TABLE ticket_search DROP COLUMN folded")
    raw.execute("DROP TABLE search_stale")
    raw.execute("DROP TABLE inbound_message")
    raw.execute("ALTER TABLE ticket DROP COLUMN seller_email, DROP COLUMN partner_email")
    for column in ("kind", "entry_id", "message_id", "attempts", "claimed_until", "claimed_by", "bounced_at"):
        raw.execute(f"ALTER TABLE outbox_message DROP COLUMN {column}")
    raw.execute("UPDATE meta SET value = '4' WHERE key = 'schema_version'")
    raw.close()
    s = Store(db_path, clock=clock, agent="ana")
    assert [x.case_number for x in s.list_tickets(TicketFilter(search="grosse jurgen"))] == [t.case_number]
    assert [x.case_number for x in s.list_tickets(TicketFilter(search="össe"))] == [t.case_number]
    s.create_ticket(customer="Ed", subject="Ölwechsel", email="ed@example.com")
    assert [x.subject for x in s.list_tickets(TicketFilter(search="olwech"))] == ["Ölwechsel"]
    s.close()
    raw = raw_connect(db_path)
    assert raw.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone() == (str(SCHEMA_VERSION),)
    assert raw.execute("SELECT count(*) FROM outbox_message WHERE kind IS NULL").fetchone() == (0,)
    raw.close()
