"""The one module that writes files.

Renders happen in memory first; files are written to temporary names and
renamed into place only when every one of them is ready, so a failure never
leaves half a set of outputs (or half a file) on disk.
"""

from __future__ import annotations

import os
import signal
import tempfile
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

from .errors import JourneyError

__all__ = ["write_files"]

# Signals a user or a supervisor sends to stop a run; SIGKILL cannot be caught.
_STOPS = tuple(
    s for s in (signal.SIGINT, signal.SIGTERM, getattr(signal, "SIGHUP", None)) if s is not None
)


class _Stopped(BaseException):
    """A stop signal arrived while files were being staged."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_files(files: Mapping[Path, bytes]) -> list[Path]:
    """Write every file or none.

    Every destination is checked before anything is written (a folder where a
    file should go, a parent that is a file), the data goes to temporary files
    beside the destinations, and only then are they renamed into place, with
    the stop signals held back so that Ctrl-C or a SIGTERM cannot leave half
    the set renamed. A stop while staging removes the temporary files, then
    stops the process as the signal asked.
    """
    _check_destinations(files)
    # mkstemp creates files readable by their owner only; a map is meant to be shared
    # (served by a web server, opened by a colleague), so give it the usual permissions.
    mode = 0o666 & ~_umask()
    staged: list[tuple[str, Path]] = []
    renamed = False
    try:
        with _stops_raise():
            for path, data in files.items():
                path.parent.mkdir(parents=True, exist_ok=True)
                fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
                staged.append((tmp, path))
                with os.fdopen(fd, "wb") as fh:
                    fh.write(data)
                os.chmod(tmp, mode)
            # Held inside the handlers' reach: a signal that comes during the renames
            # is delivered once they are done, and then stops the process.
            with _stops_held():
                for tmp, path in staged:
                    os.replace(tmp, path)
                renamed = True
    except OSError as exc:
        raise JourneyError(f"cannot write {exc.filename or ''}: {exc.strerror}") from None
    except _Stopped as stop:
        _remove(staged)
        signal.signal(stop.signum, signal.SIG_DFL)
        os.kill(os.getpid(), stop.signum)
        raise KeyboardInterrupt from None  # pragma: no cover - the signal ends the process
    finally:
        if not renamed:
            _remove(staged)
    return [path for _, path in staged]


def _check_destinations(files: Mapping[Path, bytes]) -> None:
    """Refuse the whole set if any one file cannot be put where it should go."""
    for path in files:
        if path.is_dir():
            raise JourneyError(f"cannot write {path}: a folder is in the way")
        for parent in path.parents:
            if parent.exists():
                if not parent.is_dir():
                    raise JourneyError(f"cannot write {path}: {parent} is not a folder")
                if not os.access(parent, os.W_OK | os.X_OK):
                    raise JourneyError(f"cannot write {path}: {parent} is not writable")
                break


def _remove(staged: list[tuple[str, Path]]) -> None:
    for tmp, _ in staged:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        except OSError:  # pragma: no cover - nothing more can be done
            pass


@contextmanager
def _stops_raise() -> Iterator[None]:
    """Turn stop signals into an exception, so that staged files get removed.

    Python turns only SIGINT into an exception by itself; SIGTERM and SIGHUP
    would end the process on the spot, leaving the temporary files.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum: int, frame: FrameType | None) -> None:
        raise _Stopped(signum)

    saved = {s: signal.signal(s, stop) for s in _STOPS}
    try:
        yield
    finally:
        for s, handler in saved.items():
            signal.signal(s, handler)


@contextmanager
def _stops_held() -> Iterator[None]:
    """Hold stop signals back while the files are renamed: the set lands whole."""
    if not hasattr(signal, "pthread_sigmask"):  # pragma: no cover - not on POSIX
        yield
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, _STOPS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)
