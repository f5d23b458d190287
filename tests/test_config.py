"""Settings: file, environment overrides, the token rule, and one-line errors that name the key."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from bot.config import SettingsError, load_settings, load_token
from tests.conftest import ROOT

TOKEN = "123456:TEST-fake-token-abcdefghijklmnopqrstuv"


def test_repository_settings_file_loads_and_documents_every_key() -> None:
    settings = load_settings(ROOT / "settings.toml", environ={})
    # No database.url in the file: rangkul.db next to it, whatever the working directory.
    assert settings.database.url == f"sqlite+aiosqlite:///{ROOT.resolve() / 'rangkul.db'}"
    assert settings.locale.default == "id"
    assert settings.election.date == dt.date(2029, 2, 14)
    lines = (ROOT / "settings.toml").read_text(encoding="utf-8").splitlines()
    for index, line in enumerate(lines):
        if "=" in line and not line.lstrip().startswith("#"):
            assert lines[index - 1].lstrip().startswith("#"), f"undocumented key: {line}"


def test_environment_overrides_any_key_with_toml_values() -> None:
    environ = {
        "RANGKUL_DATABASE__URL": "postgresql+asyncpg://u@db/rangkul",
        "RANGKUL_ROLES__BOOTSTRAP_ADMINS": "[11, 22]",
        "RANGKUL_ELECTION__DATE": "2029-04-17",
        "RANGKUL_ELECTION__NAME": "Pilkada Kalimantan Selatan",
        "RANGKUL_TELEGRAM__STARTUP_ATTEMPTS": "3",
    }
    settings = load_settings(ROOT / "settings.toml", environ=environ)
    assert settings.database.url == "postgresql+asyncpg://u@db/rangkul"
    assert settings.roles.bootstrap_admins == [11, 22]
    assert settings.election.date == dt.date(2029, 4, 17)
    assert settings.election.name == "Pilkada Kalimantan Selatan"
    assert settings.telegram.startup_attempts == 3
    assert load_settings(None, environ={"RANGKUL_ROLES__BOOTSTRAP_ADMINS": "5, 6"}).roles.bootstrap_admins == [5, 6]


def test_config_file_from_option_or_environment(tmp_path: Path) -> None:
    prod = tmp_path / "prod.toml"
    prod.write_text('[election]\nname = "Pemilu Prod"\n', encoding="utf-8")
    assert load_settings(prod, environ={}).election.name == "Pemilu Prod"
    assert load_settings(None, environ={"RANGKUL_CONFIG": str(prod)}).election.name == "Pemilu Prod"
    with pytest.raises(SettingsError, match="cannot read settings file"):
        load_settings(tmp_path / "missing.toml", environ={})


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("[election]\ndate = \n", r"not valid TOML: .*line 2.* in `date =`"),
        ('[election]\ndate = "besok"\n', r"election\.date: "),
        ("[electoin]\nname = 1\n", r"electoin: unknown key"),
        ('[locale]\ntimezone = "Asia/Banjar"\n', r"locale\.timezone: unknown time zone"),
        ('[database]\nurl = "sqlite:///x.db"\n', r"database\.url: must start with sqlite\+aiosqlite://"),
        ('[webhook]\nsecret_token = "a b"\n', r"webhook\.secret_token: must be 1-256 characters"),
    ],
)
def test_malformed_settings_name_the_key(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "settings.toml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(SettingsError, match=message) as error:
        load_settings(path, environ={})
    assert "\n" not in str(error.value)


def test_environment_errors_name_the_variable() -> None:
    with pytest.raises(SettingsError, match="RANGKUL_ROLES__BOOTSTRAP_ADMINS"):
        load_settings(None, environ={"RANGKUL_ROLES__BOOTSTRAP_ADMINS": "admin"})


def test_token_only_from_environment_and_checked() -> None:
    assert load_token({"RANGKUL_BOT_TOKEN": TOKEN}).get_secret_value() == TOKEN
    with pytest.raises(SettingsError, match="RANGKUL_BOT_TOKEN is not set"):
        load_token({})
    with pytest.raises(SettingsError, match="does not look like a bot token"):
        load_token({"RANGKUL_BOT_TOKEN": "not-a-token"})
    assert "token" not in load_settings(ROOT / "settings.toml", environ={}).model_dump()["telegram"]


def test_relative_paths_in_a_settings_file_are_read_from_its_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    etc = tmp_path / "etc" / "rangkul"
    etc.mkdir(parents=True)
    config = etc / "settings.toml"
    config.write_text(
        '[templates]\ndir = "pesan"\n[database]\nurl = "sqlite+aiosqlite:///data/rangkul.db?timeout=5"\n', "utf-8"
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    settings = load_settings(config, environ={})
    assert settings.templates.dir == etc / "pesan"
    assert settings.database.url == f"sqlite+aiosqlite:///{etc / 'data' / 'rangkul.db'}?timeout=5"
    # A relative path given with --config relative to the working directory resolves the same way.
    assert load_settings(Path("../etc/rangkul/settings.toml"), environ={}).templates.dir == etc / "pesan"
    # Absolute paths, PostgreSQL URLs and environment values are taken as they are.
    config.write_text('[templates]\ndir = "/srv/pesan"\n[database]\nurl = "postgresql+asyncpg://u@db/r"\n', "utf-8")
    settings = load_settings(config, environ={"RANGKUL_LOCALE__DEFAULT": "en"})
    assert (settings.templates.dir, settings.database.url) == (Path("/srv/pesan"), "postgresql+asyncpg://u@db/r")


def test_without_a_database_setting_every_folder_finds_the_same_database(tmp_path: Path) -> None:
    """The shipped settings leave database.url unset: `rangkul db upgrade` from one folder and `rangkul db current`
    from another must see one database beside the settings file, not make a second empty one."""
    import subprocess
    import sys

    etc = tmp_path / "etc"
    etc.mkdir()
    (etc / "settings.toml").write_text('[locale]\ndefault = "id"\n', "utf-8")
    for name in ("a", "b"):
        (tmp_path / name).mkdir()

    def rangkul(folder: str, *argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "bot", *argv, "--config", str(etc / "settings.toml")],
            cwd=tmp_path / folder, capture_output=True, text=True, timeout=120,
        )  # fmt: skip

    assert rangkul("a", "db", "upgrade").returncode == 0
    current = rangkul("b", "db", "current")
    assert current.returncode == 0 and current.stdout.strip() == "pending migrations: none", current
    assert (etc / "rangkul.db").exists()
    assert not (tmp_path / "a" / "rangkul.db").exists() and not (tmp_path / "b" / "rangkul.db").exists()


def test_a_database_left_in_the_working_directory_is_pointed_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A deployment from before the default moved next to the settings file: ./rangkul.db exists, the new place does
    not. The start says which file is used and how to keep the old one, rather than quietly begin empty."""
    from bot.cli import warn_about_settings

    etc, var = tmp_path / "etc", tmp_path / "var"
    etc.mkdir()
    var.mkdir()
    (etc / "settings.toml").write_text('[locale]\ndefault = "id"\n', "utf-8")
    (var / "rangkul.db").write_bytes(b"")
    monkeypatch.chdir(var)
    settings = load_settings(etc / "settings.toml", environ={})
    with caplog.at_level("WARNING"):
        warn_about_settings(settings)
    [moved] = [r.getMessage() for r in caplog.records if "does not exist yet" in r.getMessage()]
    assert str(etc / "rangkul.db") in moved and f"sqlite+aiosqlite:///{var / 'rangkul.db'}" in moved
    caplog.clear()
    (etc / "rangkul.db").write_bytes(b"")  # the new place is in use: nothing to say
    with caplog.at_level("WARNING"):
        warn_about_settings(settings)
    assert not [r for r in caplog.records if "does not exist yet" in r.getMessage()]


def test_without_a_templates_setting_the_shipped_templates_are_used(tmp_path: Path) -> None:
    config = tmp_path / "settings.toml"
    config.write_text("[election]\nname = 'Pemilu'\n", "utf-8")
    assert load_settings(config, environ={}).templates.dir == ROOT / "templates"
    assert load_settings(ROOT / "settings.toml", environ={}).templates.dir == ROOT / "templates"


def test_webhook_listens_on_loopback_by_default() -> None:
    assert load_settings(ROOT / "settings.toml", environ={}).webhook.listen == "127.0.0.1"
