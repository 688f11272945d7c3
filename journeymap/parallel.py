"""One part of a big analysis computed in a second process while the first goes on.

The analysis of a journey of 100,000 touchpoints spends about two seconds on the
time to each outcome and four on everything else, in pure Python and numpy
calls that hold the GIL: threads would take turns, not work side by side. A
forked child starts with everything already in memory (the journey, the flow,
the solved chain: no pickling of gigabytes, no re-loading), computes one
function and sends back its small result. The caller gets exactly the value it
would have computed itself, so output is byte-identical either way.

It stays in one process where forking is unsafe or not worth it: off Linux,
with other Python threads running (a fork copies only the calling thread, and
a lock another thread held stays locked in the child), with a single CPU, and
for small work. If the child fails in any way (an exception, killed, a result
that does not arrive), the caller computes the value itself: the user sees the
same error, with the same message, as without the second process.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import signal
import sys
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

__all__ = ["Pending", "beside"]

T = TypeVar("T")


class Pending(Generic[T]):
    """A value being computed beside the caller; :meth:`result` waits for it."""

    def __init__(self, fn: Callable[[], T], child: tuple[int, int] | None) -> None:
        self._fn = fn
        self._child = child  # (pid, read end of the pipe) until received or cancelled
        self._forked = child is not None
        self._done = False
        self._value: T | None = None

    @property
    def forked(self) -> bool:
        """Whether a second process computes (or computed) it, for tests and benchmarks."""
        return self._forked

    def result(self) -> T:
        if not self._done:
            self._value = self._receive() if self._child is not None else self._fn()
            self._done = True
        return self._value  # type: ignore[return-value]

    def _receive(self) -> T:
        assert self._child is not None
        pid, fd = self._child
        self._child = None
        with os.fdopen(fd, "rb") as pipe:
            data = pipe.read()
        _reap(pid)
        if data:
            # Our own child's bytes, written by the code below: not untrusted input.
            ok, value = pickle.loads(data)
            if ok:
                return value  # type: ignore[no-any-return]
        return self._fn()  # it failed: compute here, raising here what it raised there

    def cancel(self) -> None:
        """Stop and reap the child, if any: the caller no longer needs the value."""
        if self._child is not None:
            pid, fd = self._child
            self._child = None
            os.close(fd)
            os.kill(pid, signal.SIGKILL)  # unreaped, an ended child is still there to kill
            _reap(pid)


def beside(fn: Callable[[], T], *, worth: bool = True) -> Pending[T]:
    """``fn()`` computed in a forked child when ``worth`` it and safe; else on demand.

    ``fn`` must not write files or print, and must leave nothing behind that
    the caller needs but its return value, which must pickle.
    """
    if not (worth and _can_fork()):
        return Pending(fn, None)
    try:
        read, write = os.pipe()
    except OSError:  # out of descriptors: one process it is
        return Pending(fn, None)
    try:
        pid = os.fork()
    except OSError:  # no memory or no process left for a child (ENOMEM, EAGAIN)
        os.close(read)
        os.close(write)
        return Pending(fn, None)
    if pid == 0:  # pragma: no cover - the child; its work is checked by the parent's tests
        os.close(read)
        try:
            try:
                payload = pickle.dumps((True, fn()), protocol=pickle.HIGHEST_PROTOCOL)
            except BaseException:
                payload = pickle.dumps((False, None))
            with os.fdopen(write, "wb") as pipe:
                pipe.write(payload)
        finally:
            # No atexit handlers, no flushing of the parent's buffered output twice.
            os._exit(0)
    os.close(write)
    return Pending(fn, (pid, read))


def _reap(pid: int) -> None:
    """Wait for the child, unless the host program reaps children itself (SIGCHLD ignored)."""
    with contextlib.suppress(ChildProcessError):  # already reaped for us
        os.waitpid(pid, 0)


def _can_fork() -> bool:
    if not sys.platform.startswith("linux") or threading.active_count() != 1:
        return False
    try:
        return len(os.sched_getaffinity(0)) > 1
    except OSError:  # pragma: no cover - sched_getaffinity exists on Linux
        return False
