"""One writer per data dir: an advisory lock (`fcntl.flock`) on `<data_dir>/store.lock`.

Held while a process writes the store (ingest, remove, repair) and for the whole life of `dossier
serve`, whose Library tab writes through the same process. A second process that wants to write gets
`StoreInUse` ("store in use by pid N; ...") instead of interleaving its writes with the holder's: the
embedded Chroma store is not made for two writing processes, and the catalog's interrupted-write journal
and the BM25 files are per data dir. Reading (search, sources, ask) takes no lock.

The lock is re-entrant within a process (the server's own ingests run under the lock `serve` holds) and
is released by the kernel when the process dies, kill -9 included: a stale lock file never blocks anyone.
"""
from __future__ import annotations

import fcntl
import os
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from .errors import StoreInUse

LOCK_NAME = "store.lock"

_guard = threading.Lock()
_held: dict[str, list[int]] = {}  # lock path -> [fd, depth]


def lock_path(data_dir: Path) -> Path:
    return Path(data_dir) / LOCK_NAME


def holder(data_dir: Path) -> tuple[int | None, str]:
    """(pid, what) written by the process holding the lock; (None, "") when unknown."""
    try:
        first, _, rest = lock_path(data_dir).read_text(encoding="utf-8").partition("\n")
        return int(first), rest.strip()
    except (OSError, ValueError):
        return None, ""


def acquire(data_dir: Path, what: str) -> None:
    """Take the lock (or deepen this process's hold on it); StoreInUse when another process holds it."""
    path = lock_path(data_dir)
    key = str(path.resolve())
    with _guard:
        if key in _held:
            _held[key][1] += 1
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            pid, _ = holder(data_dir)
            who = f"pid {pid}" if pid else "another process"
            raise StoreInUse(f"store in use by {who}; use the app/API or --chroma-url") from None
        except OSError:
            os.close(fd)
            raise
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n{what}\n".encode(), 0)
        _held[key] = [fd, 1]


def release(data_dir: Path) -> None:
    key = str(lock_path(data_dir).resolve())
    with _guard:
        entry = _held.get(key)
        if entry is None:
            return
        entry[1] -= 1
        if entry[1] > 0:
            return
        del _held[key]
        fd = entry[0]
        try:
            os.ftruncate(fd, 0)  # no stale pid for the next reader of the file
        finally:
            os.close(fd)  # closing the descriptor releases the flock


def held_here(data_dir: Path) -> bool:
    with _guard:
        return str(lock_path(data_dir).resolve()) in _held


@contextmanager
def store_lock(data_dir: Path, what: str) -> Iterator[None]:
    acquire(data_dir, what)
    try:
        yield
    finally:
        release(data_dir)
