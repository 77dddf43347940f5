"""``tui-desk config``: the file's path, the effective values, and one-line errors naming a bad key."""

import tomllib

import pytest


def test_config_prints_path_and_defaults(cli, isolated_env):
    out = cli.ok("config").stdout
    assert out.splitlines()[0] == f"# config file: {isolated_env / 'config.toml'} (not present: all defaults)"
    values = tomllib.loads(out)
    assert values["timers"] == {
        "reminder_days": 3,
        "max_reminders": 3,
        "close_after_days": 30,
        "resolved_close_days": 7,
        "sweep_interval_seconds": 60.0,
    }
    assert set(values["templates"]) == {"reminder", "auto_close", "resolved_close", "acknowledgement"}
    assert values["prefix"] == "TD" and values["kinds"] == {"refund": "REF", "support": "SUP"}


def test_config_shows_the_files_values_and_its_output_reads_back(cli, isolated_env):
    path = isolated_env / "config.toml"
    path.write_text(
        'prefix = "GTB"\n[timers]\nreminder_days = 2\nmax_reminders = 5\nclose_after_days = 14.5\n'
        'sweep_interval_seconds = 15\n[templates]\nreminder = "Hi, {case_number}: {days_left} days left"\n'
    )
    data = cli.json("config")
    assert data["path"] == str(path) and data["exists"] is True
    timers = data["values"]["timers"]
    assert (timers["reminder_days"], timers["max_reminders"], timers["close_after_days"]) == (2, 5, 14.5)
    assert timers["sweep_interval_seconds"] == 15
    assert data["values"]["templates"]["reminder"] == "Hi, {case_number}: {days_left} days left"
    assert data["values"]["prefix"] == "GTB"
    # What `config` prints is a valid config file meaning the same thing.
    path.write_text(cli.ok("config").stdout)
    assert cli.json("config")["values"] == data["values"]


@pytest.mark.parametrize(
    ("toml", "key"),
    [
        ("[timers]\nreminder_days = -1\n", "timers.reminder_days"),
        ("[timers]\nreminder_days = 0\n", "timers.reminder_days"),
        ('[timers]\nclose_after_days = "30"\n', "timers.close_after_days"),
        ("[timers]\nclose_after_days = 1e9\n", "timers.close_after_days"),
        ("[timers]\nmax_reminders = 2.5\n", "timers.max_reminders"),
        ("[timers]\nmax_reminders = true\n", "timers.max_reminders"),
        ("[timers]\nresolved_close_days = -7\n", "timers.resolved_close_days"),
        ("[timers]\nsweep_interval_seconds = 0\n", "timers.sweep_interval_seconds"),
        ("[timers]\nremind_days = 3\n", "timers.remind_days"),
        ("timers = 5\n", "timers"),
        ('[templates]\nreminder = "Hello {name}"\n', "templates.reminder"),
        ('[templates]\nauto_close = "Closed {case_number"\n', "templates.auto_close"),
        ('[templates]\nresolved_close = "{days_left:d.2}"\n', "templates.resolved_close"),
        ('[templates]\nreminder = ""\n', "templates.reminder"),
        ('[templates]\nfarewell = "Bye"\n', "templates.farewell"),
        ('templates = "x"\n', "templates"),
    ],
)
def test_invalid_values_get_a_one_line_error_naming_the_key(cli, isolated_env, toml, key):
    (isolated_env / "config.toml").write_text(toml)
    err = cli.fails("config")
    assert err.startswith("tui-desk: error: config: ") and key in err


def test_unreadable_toml_is_a_one_line_error(cli, isolated_env):
    (isolated_env / "config.toml").write_text("[timers\nreminder_days = 3\n")
    assert "not valid TOML" in cli.fails("config")
