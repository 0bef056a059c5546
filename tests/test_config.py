"""Settings come from defaults, then OCOP_* variables, then create_app's mapping; the README's
table lists every one of them with its default."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from trace_service import create_app
from trace_service.config import SETTINGS, ConfigError, load_settings

README = Path(__file__).resolve().parent.parent / "README.md"


def test_defaults_apply_when_nothing_is_set(monkeypatch):
    for setting in SETTINGS:
        monkeypatch.delenv(setting.env, raising=False)
    assert load_settings() == {s.name: s.default for s in SETTINGS}


def test_environment_overrides_defaults_and_the_mapping_overrides_both(monkeypatch):
    monkeypatch.setenv("OCOP_PAGE_SIZE_MAX", "50")
    monkeypatch.setenv("OCOP_SQL_ECHO", "yes")
    settings = load_settings({"PAGE_SIZE_DEFAULT": 7})
    assert settings["PAGE_SIZE_MAX"] == 50
    assert settings["SQL_ECHO"] is True
    assert settings["PAGE_SIZE_DEFAULT"] == 7


@pytest.mark.parametrize(
    "name, raw",
    [
        ("OCOP_PAGE_SIZE_MAX", "lots"),
        ("OCOP_PAGE_SIZE_MAX", "0"),
        ("OCOP_SQL_ECHO", "maybe"),
        ("OCOP_TOKEN_TTL_DAYS", "-1"),
        ("OCOP_DATABASE_REPLICA_MAX_LAG_SECONDS", "0"),
        ("OCOP_DATABASE_REPLICA_URL", "sqlite:///replica.sqlite3"),
        ("OCOP_DATABASE_REPLICA_URL", "mysql+pymysql://ocop:secret@db2/ocop"),
    ],
)
def test_a_bad_setting_stops_start_up_with_its_name(monkeypatch, name, raw):
    monkeypatch.setenv(name, raw)
    with pytest.raises(ConfigError, match=name):
        load_settings()


def test_the_default_database_is_an_sqlite_file_in_the_instance_folder(monkeypatch, tmp_path):
    monkeypatch.delenv("OCOP_DATABASE_URL", raising=False)
    app = create_app()
    assert app.config["DATABASE_URL"].startswith("sqlite:///")
    assert app.config["DATABASE_URL"].endswith("/instance/ocop.sqlite3")


def test_a_replica_that_is_not_postgresql_is_refused_at_start_up(monkeypatch, tmp_path):
    """Only a PostgreSQL standby can be a replica (and be opened read-only): an SQLite file
    would be a second, writable database nobody keeps up to date."""
    monkeypatch.delenv("OCOP_DATABASE_REPLICA_URL", raising=False)
    replica = tmp_path / "replica.sqlite3"
    config = {"DATABASE_URL": f"sqlite:///{tmp_path / 'ocop.sqlite3'}"}
    with pytest.raises(ConfigError, match=r"OCOP_DATABASE_REPLICA_URL: .*PostgreSQL") as refused:
        create_app(config | {"DATABASE_REPLICA_URL": f"sqlite:///{replica}"})
    assert "'sqlite' URL" in str(refused.value)
    assert not replica.exists() and not list(tmp_path.iterdir())  # nothing opened or made
    with pytest.raises(ConfigError, match="'mysql' URL") as refused:
        create_app(config | {"DATABASE_REPLICA_URL": "mysql://ocop:s3cret@db2/ocop"})
    assert "s3cret" not in str(refused.value)  # the URL's password is never repeated
    monkeypatch.setenv("OCOP_DATABASE_REPLICA_URL", "postgresql+psycopg://ocop@db2:5432/ocop")
    assert load_settings()["DATABASE_REPLICA_URL"].endswith("@db2:5432/ocop")


def _readme_table() -> dict[str, str]:
    rows = re.findall(r"^\| `(OCOP_[A-Z_]+)` \| `([^`]*)` \|", README.read_text(), re.MULTILINE)
    return dict(rows)


def test_the_readme_lists_every_setting_with_its_default():
    def shown(value: object) -> str:
        if isinstance(value, bool):
            return str(value).lower()
        return "(empty)" if value == "" else str(value)

    assert _readme_table() == {s.env: shown(s.default) for s in SETTINGS}


def test_the_readme_has_one_command_under_run_and_one_under_test():
    text = README.read_text()
    for heading in ("Run", "Test"):
        section = re.search(rf"^## {heading}\n(.*?)(?=^## )", text, re.MULTILINE | re.DOTALL)
        assert section, f"no '## {heading}' heading"
        blocks = re.findall(r"```sh\n(.*?)```", section.group(1), re.DOTALL)
        assert len(blocks) == 1, f"'{heading}' must hold exactly one shell block"
        command = blocks[0].strip()
        assert "\n" not in command
        assert (README.parent / command.removeprefix("./")).exists()


def test_maximum_yields_can_be_set_per_process(monkeypatch):
    from decimal import Decimal

    from trace_service.trace.rules import max_yields

    monkeypatch.setenv("OCOP_MAX_YIELDS", '{"roasting": 0.95}')
    yields = max_yields(load_settings()["MAX_YIELDS"])
    assert yields["roasting"] == Decimal("0.95") and yields["drying"] == Decimal("0.60")
    monkeypatch.setenv("OCOP_MAX_YIELDS", '{"roasting": "high"}')
    with pytest.raises(ConfigError, match="OCOP_MAX_YIELDS"):
        load_settings()
