"""A private folder for the files an export is made in (the file itself and xlsxwriter's parts), so that personal
data does not outlive a crash on the server's disk.

Each export works in a folder of its own under `<temp dir>/rangkul-exports-<uid>/` (readable by this user only),
holds it locked while it works, and removes it when it ends, sent or not. A process killed in the middle (kill -9,
a power cut) cannot; the next `rangkul run` or `rangkul export` removes every folder nobody holds, also when the
new process has the old one's id (a container's PID 1).
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import shutil
import stat
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

logger = logging.getLogger(__name__)


def root() -> Path | None:
    """The exports' folder; None when something else holds its name (another user's folder, a link): the temp
    folder itself is used then, in a fresh private folder per export, and leftovers are not cleared."""
    path = Path(tempfile.gettempdir()) / f"rangkul-exports-{os.getuid()}"
    with contextlib.suppress(FileExistsError):
        path.mkdir(mode=0o700)
    found = path.lstat()
    if not stat.S_ISDIR(found.st_mode) or found.st_uid != os.getuid() or stat.S_IMODE(found.st_mode) & 0o077:
        logger.error("%s is not a private folder of this user: exports are made in the temp folder itself", path)
        return None
    return path


# Held locked (flock) by the process exporting in the folder: the kernel lets it go when the process ends in any
# way, so a folder whose lock can be taken is a leftover, whatever became of its process id.
LOCK_NAME = ".in-use"
# A folder without its lock file is being made (or its maker died in that instant): left alone this long.
UNLOCKED_GRACE_SECONDS = 60


@contextlib.contextmanager
def folder() -> Iterator[Path]:
    """A new empty folder (readable by this user only), removed with everything in it when the block ends."""
    path = Path(tempfile.mkdtemp(prefix=f"{os.getpid()}-", dir=root()))
    lock = os.open(path / LOCK_NAME, os.O_CREAT | os.O_RDWR, 0o600)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)
        os.close(lock)


def _left_over(child: Path) -> bool:
    try:
        lock = os.open(child / LOCK_NAME, os.O_RDWR)
    except FileNotFoundError:
        return time.time() - child.lstat().st_mtime > UNLOCKED_GRACE_SECONDS
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False  # an export is being made in it
    finally:
        os.close(lock)
    return True


def clear_leftovers() -> int:
    """Remove the folders of exports whose process is gone; how many."""
    removed, where = 0, root()
    for child in where.iterdir() if where is not None else ():
        if child.is_dir() and not child.is_symlink() and _left_over(child):
            shutil.rmtree(child, ignore_errors=True)
            removed += 1
    if removed:
        logger.warning("removed %d export folder(s) left by a process that ended in the middle of an export", removed)
    return removed
