"""Whole-process file locks that say who holds them.

The pipeline's run lock and the events consumer's lock are both an ``fcntl`` lock on a
file whose one line names the holder ("process N on host H since T"), so a refusal can
say who is in the way. The kernel drops the lock when its process dies, so a killed run
never leaves one held.
"""

from __future__ import annotations

import fcntl
import os
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["held"]


@contextmanager
def held(path: Path, busy: Callable[[str], Exception], *, wait: float = 0.0) -> Iterator[None]:
    """Hold the lock on ``path`` for the block; when another process holds it (still,
    after waiting up to ``wait`` seconds), raise ``busy(holder_line)``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # Not opened with "w": that would wipe the holder's line before finding it busy.
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    holder = os.pread(fd, 200, 0).decode("utf-8", "replace").strip()
                    raise busy(holder) from None
                time.sleep(min(0.5, max(deadline - time.monotonic(), 0.01)))
        stamp = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
        line = f"process {os.getpid()} on host {socket.gethostname()} since {stamp}\n"
        os.ftruncate(fd, 0)
        os.pwrite(fd, line.encode(), 0)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
