"""The exports' private folder: what a process killed in the middle of an export leaves is removed at the next
start, and nothing of a live process is touched."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import pytest

from bot import scratch

HOLDER = textwrap.dedent(
    """
    import sys, time
    from bot import scratch
    with scratch.folder() as folder:
        (folder / "export.xlsx").write_bytes(b"personal data")
        print(folder, flush=True)
        time.sleep(60)
    """
)


def test_a_killed_exports_folder_goes_at_the_next_start_and_a_live_one_stays() -> None:
    process = subprocess.Popen([sys.executable, "-c", HOLDER], stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    folder = Path(process.stdout.readline().strip())
    try:
        assert (folder / "export.xlsx").exists()
        assert scratch.clear_leftovers() == 0 or folder.exists(), "a live process's folder stays"
        assert folder.exists()
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    assert folder.exists(), "killed mid-export: the folder is still there"
    with scratch.folder() as own:
        assert scratch.clear_leftovers() >= 1
        assert own.exists(), "this process's own folder stays"
    assert not folder.exists() and not own.exists()


def test_the_folder_is_private() -> None:
    root = scratch.root()
    assert root is not None
    mode = stat.S_IMODE(root.stat().st_mode)
    assert mode & 0o077 == 0, oct(mode)
    assert root.stat().st_uid == os.getuid()
    with scratch.folder() as folder:
        assert folder.parent == root and stat.S_IMODE(folder.stat().st_mode) == 0o700


def test_a_folder_of_that_name_open_to_others_is_not_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    (tmp_path / f"rangkul-exports-{os.getuid()}").mkdir(mode=0o777)
    os.chmod(tmp_path / f"rangkul-exports-{os.getuid()}", 0o777)
    assert scratch.root() is None
    with scratch.folder() as folder:
        assert folder.parent == tmp_path and stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert scratch.clear_leftovers() == 0


def test_a_leftover_with_the_new_processs_own_id_goes_too() -> None:
    """In a container the bot is PID 1 again after a restart: a folder named after the dead process's id, which is
    now ours, must still go. Only a folder whose lock is held (an export under way) stays."""
    root = scratch.root()
    assert root is not None
    leftover = root / f"{os.getpid()}-left"
    leftover.mkdir(mode=0o700)
    (leftover / scratch.LOCK_NAME).touch()
    (leftover / "export.csv").write_text("personal data")
    with scratch.folder() as busy:
        assert scratch.clear_leftovers() >= 1
        assert busy.exists()
    assert not leftover.exists()
