"""The `rangkul` command's subcommands other than `run` (which the end-to-end tests start)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main
from tests.conftest import ROOT


def test_templates_check_passes_for_the_shipped_templates(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["templates", "check", "--config", str(ROOT / "settings.toml")]) == 0
    assert "templates OK" in capsys.readouterr().out


def test_templates_check_names_each_problem(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "id").mkdir()
    (tmp_path / "id" / "rusak.html").write_text('{#---\ntitle = "Rusak"\n---#}\nHalo {{ figure.nama }}', "utf-8")
    (tmp_path / "id" / "tag.html").write_text('{#---\ntitle = "Tag"\n---#}\n<div>{{ figure.name }}</div>', "utf-8")
    monkeypatch.setenv("RANGKUL_TEMPLATES__DIR", str(tmp_path))
    assert main(["templates", "check"]) == 1
    out = capsys.readouterr().out
    assert "id/rusak.html" in out
    assert "figure.nama" in out
    assert "id/tag.html" in out
    assert "div" in out


def test_db_upgrade_then_nothing_pending(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("RANGKUL_DATABASE__URL", f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}")
    assert main(["db", "current"]) == 0
    assert "pending migrations: 0001" in capsys.readouterr().out
    assert main(["db", "upgrade"]) == 0
    assert main(["db", "current"]) == 0
    assert "pending migrations: none" in capsys.readouterr().out


def test_bad_settings_exit_1_with_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text("[broadcast]\nrate_per_second = 0\n", "utf-8")
    assert main(["templates", "check", "--config", str(broken)]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("rangkul: settings error in")
    assert "broadcast.rate_per_second" in err
    assert "\n" not in err


def test_templates_check_from_another_folder_uses_the_shipped_templates(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("RANGKUL_CONFIG", raising=False)
    assert main(["templates", "check"]) == 0
    assert "templates OK" in capsys.readouterr().out


def test_templates_check_refuses_a_folder_without_templates(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("RANGKUL_TEMPLATES__DIR", str(tmp_path))
    assert main(["templates", "check"]) == 1
    out = capsys.readouterr().out.strip()
    assert out == (
        f"no message templates in {tmp_path / 'id'}: point templates.dir at a folder holding id/*.html, "
        "or leave it unset to use the templates that ship with Rangkul"
    )


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        (
            {"RANGKUL_TEMPLATES__DIR": "/nonexistent/templates"},
            "rangkul: no message templates in /nonexistent/templates/id: point templates.dir at a folder",
        ),
        (
            {"RANGKUL_WEBHOOK__URL": "https://rangkul.example.go.id/telegram"},
            "rangkul: webhook.secret_token is empty: set RANGKUL_WEBHOOK__SECRET_TOKEN",
        ),
    ],
)
def test_run_refuses_to_start_with_one_line(
    env: dict[str, str],
    expected: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RANGKUL_BOT_TOKEN", "123456:TEST-fake-token-abcdefghijklmnopqrstuv")
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    args = ["run", "--webhook"] if "RANGKUL_WEBHOOK__URL" in env else ["run"]
    assert main(args) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith(expected)
    assert "\n" not in err
