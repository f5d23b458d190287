"""A non-editable install (a wheel) holds every module and the message templates, and runs from any folder."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import ROOT


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "-w", str(out), "."],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    [built] = out.glob("rangkul-*.whl")
    return built


def test_wheel_holds_every_module_and_template(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    modules = {str(path.relative_to(ROOT)) for path in (ROOT / "bot").rglob("*.py")}
    assert modules - names == set()
    templates = {f"bot/{path.relative_to(ROOT)}" for path in (ROOT / "templates").rglob("*.html")}
    assert templates and templates - names == set()
    assert "models.py" in names
    assert any(name.startswith("bot/locale/id/") for name in names)


def test_installed_wheel_uses_its_own_templates_from_another_folder(wheel: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = subprocess.run(
        [sys.executable, "-m", "bot", "templates", "check"],
        cwd=elsewhere,
        env={"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "templates OK" in result.stdout
    probe = subprocess.run(
        [sys.executable, "-c", "from bot.config import Settings; print(Settings().templates.dir)"],
        cwd=elsewhere,
        env={"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert Path(probe.stdout.strip()) == site / "bot" / "templates"
