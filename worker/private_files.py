"""Files that hold patient data (decisions, audit events, their checkpoints, exports) are
created readable by their owner only (0600), from the first byte.

The mode is given to ``open(2)`` itself: a file created world-readable and narrowed
afterwards can be opened by another user in between, and keeps that descriptor.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

PRIVATE = 0o600


def open_private(path: Path, append: bool = False) -> BinaryIO:
    """Open ``path`` for writing (truncated, or appended to), created 0600.

    An existing file keeps its inode; if its mode lets anyone else in, it is narrowed to
    0600 through the open descriptor before a byte is written.
    """
    flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if append else os.O_TRUNC)
    fd = os.open(path, flags | getattr(os, "O_CLOEXEC", 0), PRIVATE)
    try:
        if stat.S_IMODE(os.fstat(fd).st_mode) & 0o077:
            os.fchmod(fd, PRIVATE)
        return os.fdopen(fd, "ab" if append else "wb")
    except BaseException:
        os.close(fd)
        raise


def write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` (created 0600) and make it durable."""
    with open_private(path) as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


@contextlib.contextmanager
def private_umask() -> Iterator[None]:
    """Every file (0600) and directory (0700) created within is its owner's alone.

    For code that creates files through plain ``open`` (the audit export and archive):
    the umask applies at creation, as the mode of ``open_private`` does. Process-wide, so
    for the command-line process, not for a server."""
    previous = os.umask(0o077)
    try:
        yield
    finally:
        os.umask(previous)
