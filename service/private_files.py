"""Owner-only folders and files under var/: the SQLite database, the secret key and the
`.eml` outbox hold tokens and answers, so nothing there is readable by other users, whatever
the umask."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

DIR_MODE = 0o700
FILE_MODE = 0o600


def private_dir(path: Path) -> Path:
    """`path` and any missing parents, created owner-only; an existing folder keeps its mode."""
    missing = []
    folder = path
    while not folder.exists() and folder != folder.parent:
        missing.append(folder)
        folder = folder.parent
    for folder in reversed(missing):
        folder.mkdir(mode=DIR_MODE, exist_ok=True)  # exist_ok: another process made it first
    return path


def touch_private(path: Path) -> None:
    """Create `path` empty and owner-only unless it exists (files made beside it, such as
    SQLite's -wal and -shm, take its mode)."""
    private_dir(path.parent)
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, FILE_MODE))


def write_private(path: Path, data: bytes) -> None:
    """A new owner-only file; never overwrites."""
    private_dir(path.parent)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)


def publish_once(path: Path, data: bytes) -> None:
    """Put `data` at `path` unless a file is already there, so that when several processes
    race, exactly one wins and every reader sees a whole file: it is written and synced under
    a temporary name in the same folder, then hard-linked into place, which fails if the name
    is taken."""
    folder = private_dir(path.parent)
    fd, temporary = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.")  # mode 0600
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(temporary, path)
        except FileExistsError:
            return  # another process's file won
    finally:
        os.unlink(temporary)
    # The new name itself must survive a crash.
    folder_fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(folder_fd)
    finally:
        os.close(folder_fd)
