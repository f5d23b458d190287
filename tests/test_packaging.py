"""A non-editable install (a wheel) holds every module and the message templates, and runs from any folder."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import ROOT


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Built from a copy of the sources: setuptools builds in ./build, and a build/ left in the repository (by an
    earlier run, or a module since deleted) would pass into the wheel and leave the repository changed."""
    out = tmp_path_factory.mktemp("wheel")
    source = tmp_path_factory.mktemp("source") / "rangkul"
    skipped = (".git", ".venv", ".ci-venv", "build", "*.egg-info", "__pycache__", "*.db*", ".*_cache")
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(*skipped))
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "-w", str(out), "."],
        cwd=source,
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
