"""Session data is private: directories 0700, files 0600, whatever the umask says."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO


def private_dir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(path, 0o700)
    return path


def private_file(path: Path) -> Path:
    """Create `path` if missing with 0600 and force 0600 if it exists."""
    fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
    os.close(fd)
    os.chmod(path, 0o600)
    return path


def write_private(path: Path, data: bytes) -> None:
    """Write atomically (temp file + rename) with 0600 from the first byte."""
    with private_output(path) as fh:
        fh.write(data)


@contextmanager
def private_output(path: Path) -> Iterator[BinaryIO]:
    """A file to write `path` through, piece by piece: 0600 from the first byte, in place
    (by rename) only once everything was written; a failure leaves no partial file."""
    if not path.parent.exists():
        private_dir(path.parent)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
