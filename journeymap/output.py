"""The one module that writes files.

Renders happen in memory first; files are written to temporary names and
renamed into place only when every one of them is ready, so a failure never
leaves half a set of outputs (or half a file) on disk.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

from .errors import JourneyError

__all__ = ["write_files"]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_files(files: Mapping[Path, bytes]) -> list[Path]:
    """Write every file or none."""
    # mkstemp creates files readable by their owner only; a map is meant to be shared
    # (served by a web server, opened by a colleague), so give it the usual permissions.
    mode = 0o666 & ~_umask()
    staged: list[tuple[str, Path]] = []
    try:
        for path, data in files.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
            staged.append((tmp, path))
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.chmod(tmp, mode)
        for tmp, path in staged:
            os.replace(tmp, path)
    except OSError as exc:
        for tmp, _ in staged:
            if os.path.exists(tmp):
                os.unlink(tmp)
        raise JourneyError(f"cannot write {exc.filename or ''}: {exc.strerror}") from None
    return [path for _, path in staged]
