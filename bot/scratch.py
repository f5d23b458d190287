"""A private folder for the files an export is made in (the file itself and xlsxwriter's parts), so that personal
data does not outlive a crash on the server's disk.

Each export works in a folder of its own under `<temp dir>/rangkul-exports-<uid>/` (readable by this user only),
named after the process, and removes it when it ends, sent or not. A process killed in the middle (kill -9, a
power cut) cannot; the next `rangkul run` or `rangkul export` removes the folders of processes that are gone.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import stat
import tempfile
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


@contextlib.contextmanager
def folder() -> Iterator[Path]:
    """A new empty folder (readable by this user only), removed with everything in it when the block ends."""
    path = Path(tempfile.mkdtemp(prefix=f"{os.getpid()}-", dir=root()))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def clear_leftovers() -> int:
    """Remove the folders of exports whose process is gone; how many."""
    removed, where = 0, root()
    for child in where.iterdir() if where is not None else ():
        pid = child.name.split("-", 1)[0]
        if pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid)):
            shutil.rmtree(child, ignore_errors=True)
            removed += 1
    if removed:
        logger.warning("removed %d export folder(s) left by a process that ended in the middle of an export", removed)
    return removed
