"""Files: nothing half-written, nothing overwritten by a second process, no output path found bad too late.

* Atomic writes: each writer writes to a temporary file in the target's folder, flushes it to disk
  and renames it over the target (``os.replace`` is atomic on POSIX and Windows).
* :class:`FolderLock`: one process at a time owns an output folder (a run, a report, a study).
* :func:`check_output_file`, :func:`check_output_folder`: output paths checked before any work.
"""

from __future__ import annotations

import os
import platform
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import torch

__all__ = ["FolderInUseError", "FolderLock", "atomic_save", "atomic_write", "atomic_write_text", "check_output_file",
           "check_output_folder"]


def atomic_write(path: str | os.PathLike, write: Callable[[IO[bytes]], Any]) -> Path:
    """Call ``write(handle)`` on a temporary file beside ``path``, then rename it to ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = tempfile.NamedTemporaryFile(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp", delete=False)
    try:
        os.chmod(handle.name, 0o666 & ~_umask())  # mkstemp makes 0600 files; give the usual permissions
        with handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(handle.name, path)
    except BaseException:
        Path(handle.name).unlink(missing_ok=True)
        raise
    return path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_save(obj: Any, path: str | os.PathLike) -> Path:
    """``torch.save(obj, path)``, atomically."""
    return atomic_write(path, lambda handle: torch.save(obj, handle))


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    return atomic_write(path, lambda handle: handle.write(text.encode("utf-8")))


# ------------------------------------------------------------------------------------------ output paths
def check_output_file(path: str | os.PathLike, argument: str = "out") -> Path:
    """Refuse, before any work starts, a file path that cannot be written: an existing folder, a path
    under a file, or a folder without write permission. Returns the path.

    >>> check_output_file("/", "--out")
    Traceback (most recent call last):
    ...
    IsADirectoryError: --out / is a folder; give a file name, e.g. /results.csv
    """
    path = Path(path).expanduser()
    if path.is_dir():
        raise IsADirectoryError(f"{argument} {path} is a folder; give a file name, e.g. {path / 'results.csv'}")
    _check_creatable(path.parent, argument, path)
    return path


def check_output_folder(path: str | os.PathLike, argument: str = "out") -> Path:
    """Refuse, before any work starts, a folder path that cannot be used: an existing file, a path under
    a file, or a place without write permission. Returns the path (the folder is not created).

    >>> check_output_folder("/dev/null/runs", "--out")
    Traceback (most recent call last):
    ...
    NotADirectoryError: --out /dev/null/runs: /dev/null is a file, not a folder
    """
    path = Path(path).expanduser()
    if path.exists() and not path.is_dir():
        raise NotADirectoryError(f"{argument} {path} is a file; give a folder for the outputs")
    _check_creatable(path, argument, path)
    return path


def _check_creatable(folder: Path, argument: str, target: Path) -> None:
    """``folder`` exists as a writable folder, or can be made in its nearest existing ancestor."""
    existing = folder
    while not existing.exists():
        if existing.parent == existing:
            break
        existing = existing.parent
    if not existing.is_dir():
        raise NotADirectoryError(f"{argument} {target}: {existing} is a file, not a folder")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise PermissionError(f"{argument} {target}: cannot write in {existing} (permission denied); choose "
                              "another place")


# ------------------------------------------------------------------------------------------ run folders
class FolderInUseError(RuntimeError):
    """Another process holds the folder's lock."""


LOCK_NAME = ".pushpull-viz.lock"


class FolderLock:
    """Exclusive ownership of an output folder by one process, for as long as the block runs.

    ``with FolderLock(folder):`` creates the folder if needed and holds ``<folder>/.pushpull-viz.lock``
    (an advisory ``flock`` lock, with the owner's pid, host and start time written in it). A second
    process asking for the same folder stops at once with :class:`FolderInUseError`, a one-line message
    naming the folder and the owner. The operating system releases the lock when its owner exits, even
    on ``kill -9``, so a lock left behind by a dead process is stale and is simply taken over. On
    entry, temporary files left by an interrupted atomic write (``.*.tmp``) are removed: the lock
    guarantees no one else is writing them. The same process may take the same folder again (nested).

    Example:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as folder, FolderLock(folder):
        ...     pass
    """

    _held: dict[Path, int] = {}  # folders this process holds, with a nesting count

    def __init__(self, folder: str | os.PathLike, what: str = "run folder") -> None:
        self.folder = Path(folder).expanduser().resolve()
        self.what = what
        self._handle = None

    def __enter__(self) -> FolderLock:
        if self.folder in self._held:
            self._held[self.folder] += 1
            return self
        check_output_folder(self.folder, self.what)
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / LOCK_NAME
        handle = open(path, "a+")  # held open for the lock's lifetime
        try:
            _lock_exclusive(handle)
        except BlockingIOError:
            handle.seek(0)
            owner = handle.read().strip() or "another process"
            handle.close()
            raise FolderInUseError(f"{self.what} {self.folder} is in use by {owner}; wait for it to finish or "
                                   "choose another folder") from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"process {os.getpid()} on {platform.node()} since {time.strftime('%Y-%m-%d %H:%M:%S')}")
        handle.flush()
        self._handle = handle
        self._held[self.folder] = 1
        for leftover in self.folder.glob(".*.tmp"):  # an interrupted atomic write (kill -9); nobody else writes here
            leftover.unlink(missing_ok=True)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._handle is None:
            self._held[self.folder] -= 1
            return
        self._held.pop(self.folder, None)
        (self.folder / LOCK_NAME).unlink(missing_ok=True)
        self._handle.close()  # releases the lock
        self._handle = None


def _lock_exclusive(handle) -> None:
    """Take an exclusive, non-blocking lock on an open file (``BlockingIOError`` if someone holds it)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        import msvcrt

        try:
            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
        except OSError as error:
            raise BlockingIOError(str(error)) from None
        return
    fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
