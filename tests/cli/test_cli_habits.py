"""Command-line habits: global options after the command, help with examples, JSON statuses and errors,
shell completion, --log with tracebacks, --demo, and text that fits 80 columns."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import shutil
import subprocess

import pytest

from tests.conftest import TUI_DESK, workers_done


def run(*args: str, env: dict | None = None, input: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [TUI_DESK, *args], capture_output=True, text=True, env={**os.environ, **(env or {})}, input=input, timeout=120
    )


def test_global_options_after_the_command(cli, db_path, tmp_path):
    made = json.loads(
        run("new", "--customer", "Ana", "--subject", "Lamp", "--json", "--db", str(db_path), "--agent", "ben").stdout
    )
    assert made["created_by"] == "ben"
    listed = run("list", "--db", str(db_path), "--json")
    assert [t["case_number"] for t in json.loads(listed.stdout)] == [made["case_number"]]
    refused = run("assign", made["case_number"], "ana", "--db", str(db_path), "--read-only")
    assert refused.returncode == 1 and "read-only" in refused.stderr
    # Given before the command and not after, it is not undone by the command's parser.
    assert json.loads(run("--db", str(db_path), "list", "--json").stdout)[0]["case_number"] == made["case_number"]
    config = tmp_path / "other.toml"
    config.write_text('prefix = "GTB"\n')
    shown = json.loads(run("config", "--json", "--config", str(config)).stdout)
    assert shown["path"] == str(config) and shown["values"]["prefix"] == "GTB"


def test_demo_takes_agent_after_the_command_and_demo_reaches_its_store(tmp_path):
    built = run("demo", "--no-open", "--tickets", "40", "--agent", "ben")
    assert built.returncode == 0, built.stderr
    assert "tui-desk --demo" in built.stdout  # how to reach it
    for args in (("--demo", "list", "--json"), ("list", "--demo", "--json")):
        assert len(json.loads(run(*args).stdout)) == 40
    both = run("list", "--demo", "--db", str(tmp_path / "x.db"))
    assert both.returncode == 1 and "--demo and --db" in both.stderr


def test_every_command_has_a_description_and_an_example(monkeypatch):
    from tui_desk.cli import build_parser

    monkeypatch.setenv("COLUMNS", "80")
    commands = next(a for a in build_parser()._actions if a.dest == "command").choices
    assert len(commands) > 20
    # What `--help` prints is its parser's help: one command through the real program (34 took 17 s),
    # every command's from the parser.
    assert run("import", "--help", env={"COLUMNS": "80"}).stdout == commands["import"].format_help()
    for name, command in commands.items():
        out = command.format_help()
        lines = out.splitlines()
        description = lines[lines.index("") + 1] if "" in lines else ""
        assert description and not description.startswith(("positional", "options")), (name, out)
        assert "example" in out and "tui-desk " in out.split("example", 1)[1], (name, out)


def test_json_status_is_label_and_slug_and_options_take_either(cli):
    case = cli.json("new", "--customer", "Ana", "--subject", "Lamp")["case_number"]
    moved = cli.json("status", case, "waiting-buyer")
    assert (moved["status"], moved["status_slug"]) == ("Waiting on Buyer", "waiting-buyer")
    shown = cli.json("show", case)
    assert (shown["status"], shown["status_slug"]) == ("Waiting on Buyer", "waiting-buyer")
    for status in ("Waiting on Buyer", "waiting-buyer"):
        rows = cli.json("list", "--status", status)
        assert [(r["case_number"], r["status_slug"]) for r in rows] == [(case, "waiting-buyer")]


def test_json_errors_on_stderr_with_the_exit_status_unchanged(cli):
    missing = cli.run("show", "TD-REF-2026-99999", "--json")
    assert missing.returncode == 1 and missing.stdout == ""
    assert json.loads(missing.stderr) == {"error": "no ticket 'TD-REF-2026-99999'"}
    malformed = cli.run("list", "--bogus", "--json")
    assert malformed.returncode == 2 and "unrecognized arguments: --bogus" in json.loads(malformed.stderr)["error"]
    plain = cli.run("show", "TD-REF-2026-99999")
    assert plain.returncode == 1 and plain.stderr.startswith("tui-desk: error: no ticket")


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_shell_completion(shell, tmp_path):
    done = run("completion", shell)
    assert done.returncode == 0, done.stderr
    script = done.stdout
    for word in ("overdue", "export-case", "--assignee", "completion"):
        assert word in script, (shell, word)
    program = shutil.which(shell)
    if program is None or shell == "fish":
        return
    path = tmp_path / f"completion.{shell}"
    path.write_text(script)
    checked = subprocess.run([program, "-n", str(path)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr  # the script parses


def test_bash_completion_completes_commands_and_options(tmp_path):
    bash = shutil.which("bash")
    if bash is None:
        pytest.skip("needs bash")
    script = tmp_path / "c.bash"
    script.write_text(run("completion", "bash").stdout)

    def complete(line: str) -> list[str]:
        words = line.split(" ")
        probe = (
            f"source {script}; COMP_WORDS=({' '.join(repr(w) for w in words)}); COMP_CWORD={len(words) - 1}; "
            f"COMP_LINE={line!r}; COMP_POINT={len(line)}; _shtab_tui_desk; printf '%s\\n' \"${{COMPREPLY[@]}}\""
        )
        out = subprocess.run([bash, "-c", probe], capture_output=True, text=True)
        return out.stdout.split()

    assert "overdue" in complete("tui-desk ove")
    assert "--assignee" in complete("tui-desk list --assi")


def test_log_file_keeps_refusals_and_store_errors_with_tracebacks(cli, db_path, tmp_path):
    log = tmp_path / "desk.log"
    cli.ok("new", "--customer", "Ana", "--subject", "Lamp")
    cli.run("show", "TD-REF-2026-99999", "--log", str(log))
    assert "refused: no ticket 'TD-REF-2026-99999'" in log.read_text()
    assert oct(log.stat().st_mode & 0o777) == "0o600"
    # A damaged store: the command says one line, the log keeps the traceback.
    with db_path.open("r+b") as f:
        f.seek(4096)
        f.write(b"\xff" * 8192)
    err = cli.run("list", TUI_DESK_LOG=str(log))
    assert err.returncode == 1 and "Traceback" not in err.stderr
    text = log.read_text()
    assert "ERROR tui_desk.store" in text and "Traceback (most recent call last)" in text, text


@pytest.fixture
def log_to(tmp_path):
    from tui_desk.cli import errorlog

    before = list(logging.getLogger("tui_desk").handlers)
    path = tmp_path / "console.log"
    errorlog.start(str(path))
    yield path
    root = logging.getLogger("tui_desk")
    for handler in root.handlers[len(before) :]:
        handler.close()
        root.removeHandler(handler)


def test_a_console_worker_error_is_logged_with_its_traceback(store, log_to):
    asyncio.run(_worker_error_is_logged(store, log_to))


async def _worker_error_is_logged(store, log_to) -> None:
    from tui_desk.tui.app import DeskApp

    def broken() -> None:
        raise ZeroDivisionError("the worker fell over")

    app = DeskApp(store, timers=False, live=False)
    async with app.run_test(size=(100, 30)) as pilot:
        app.run_db(broken)
        for _ in range(300):  # at most 30 s on a loaded machine
            await pilot.pause(0.1)
            if "the worker fell over" in log_to.read_text():
                break
        await workers_done(app)  # let the console finish what it builds while idle before it closes
        await pilot.pause(0.3)
    text = log_to.read_text()
    assert "ERROR tui_desk.console" in text and "worker" in text
    assert "Traceback (most recent call last)" in text and "ZeroDivisionError: the worker fell over" in text


def test_overdue_workload_and_report_fit_80_columns(cli, db_path):
    built = run(
        "demo", "--no-open", "--tickets", "400", "--db", str(db_path), env={"TUI_DESK_NOW": cli.now.isoformat()}
    )
    assert built.returncode == 0, built.stderr
    for command in ("overdue", "workload", "report"):
        out = cli.ok(command).stdout
        lines = out.splitlines()
        assert len(lines) > 3, command
        widest = max(lines, key=len)
        assert len(widest) <= 80, f"{command}: {len(widest)} columns: {widest!r}"
