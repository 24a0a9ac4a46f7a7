"""Settings declared once: parsed from the environment, and `obsession settings` shows them without secrets."""
import dataclasses

import pytest

from bot.cli import main
from tracker.errors import ConfigError
from tracker.settings import SETTINGS, Settings


def test_one_field_per_declaration():
    assert [f.name for f in dataclasses.fields(Settings)] == [s.attr for s in SETTINGS]
    assert len({s.name for s in SETTINGS}) == len(SETTINGS)


def test_values_are_parsed_by_kind():
    s = Settings.from_env({"SMTP_PORT": "2525", "SMTP_STARTTLS": "yes", "SLACK_ALLOWED_TEAM_IDS": " T1, ,T2 ",
                           "PUBLIC_BASE_URL": "https://tracker.example.gov.uk/", "OBSESSION_CONFIG": "x.toml"},
                          dotenv=False)
    assert s.smtp_port == 2525 and s.smtp_starttls is True and s.smtp_ssl is False
    assert s.slack_allowed_team_ids == ("T1", "T2")
    assert s.public_base_url == "https://tracker.example.gov.uk" and s.config_path == "x.toml"
    assert s.database_url == "sqlite:///data/obsessions.db" and s.mail_from == "tracker@localhost"


@pytest.mark.parametrize("env, message", [
    ({"SMTP_PORT": "twenty"}, "setting SMTP_PORT='twenty' is not a whole number"),
    ({"SMTP_SSL": "maybe"}, "setting SMTP_SSL='maybe' is not true or false; use 1/0, true/false or yes/no"),
    ({"PUBLIC_BASE_URL": "tracker.example"}, "setting PUBLIC_BASE_URL='tracker.example' must start with https://"),
    ({"ARCHIVE_BASIC_AUTH": "admin"}, "setting ARCHIVE_BASIC_AUTH must be user:password (both parts non-empty)"),
    ({"ARCHIVE_BASIC_AUTH": ":pw"}, "setting ARCHIVE_BASIC_AUTH must be user:password"),
])
def test_bad_values_name_the_setting(env, message):
    with pytest.raises(ConfigError) as e:
        Settings.from_env(env, dotenv=False)
    assert message in str(e.value)


def test_secrets_stay_out_of_repr():
    s = Settings.from_env({"SLACK_BOT_TOKEN": "xoxb-secret-1", "SMTP_PASSWORD": "pw-secret-2"}, dotenv=False)
    assert "secret-1" not in repr(s) and "secret-2" not in repr(s)


def test_settings_command_shows_values_not_secrets(monkeypatch, tmp_path, capsys):
    monkeypatch.chdir(tmp_path)     # no .env or obsession.toml here
    for s in SETTINGS:
        monkeypatch.delenv(s.name, raising=False)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/x.db")
    monkeypatch.setenv("SMTP_HOST", "mail.example.gov.uk")
    monkeypatch.setenv("SMTP_PASSWORD", "hunter2-smtp")
    monkeypatch.setenv("ARCHIVE_TOKEN", "tok-archive-9")
    monkeypatch.setenv("SLACK_API_URL", "https://bot:apipass@slack.example/api/")
    assert main(["settings"]) == 0
    out = capsys.readouterr().out
    rows = {line.split()[0]: line for line in out.splitlines()[1:]}
    assert set(rows) == {s.name for s in SETTINGS}
    assert "hunter2-smtp" not in out and "tok-archive-9" not in out and "apipass" not in out
    assert rows["SMTP_PASSWORD"].split()[1:3] == ["set", "Password"]
    assert rows["ARCHIVE_TOKEN"].split()[1] == "set"
    assert rows["SLACK_BOT_TOKEN"].split()[1:3] == ["not", "set"]
    assert rows["SMTP_HOST"].split()[1] == "mail.example.gov.uk"
    assert "https://bot:***@slack.example/api/" in rows["SLACK_API_URL"]
    assert "Mail server; empty writes mail to the outbox instead." in rows["SMTP_HOST"]


def test_settings_command_prints_env_example(monkeypatch, tmp_path, capsys):
    from pathlib import Path

    committed = (Path(__file__).resolve().parent.parent / ".env.example").read_text(encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert main(["settings", "--env-example"]) == 0
    assert capsys.readouterr().out == committed
