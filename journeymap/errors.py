"""User errors.

Everything a user can get wrong (a journey file, an option, a path) raises
:class:`JourneyError`, so the CLI can turn it into ``FILE:LINE:COLUMN: message``
lines and exit status 1 without ever showing a traceback.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

__all__ = ["JourneyError", "Problem", "UsageError", "did_you_mean", "suggestion_budget"]


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with an input, pinned to a place a text editor can jump to."""

    file: str
    line: int
    column: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}: {self.message}"


class JourneyError(Exception):
    """Base class of every error caused by the user's input.

    It carries all the problems found at once: users fix a file in one pass
    instead of re-running the tool once per mistake.
    """

    def __init__(self, problems: Sequence[Problem] | str) -> None:
        if isinstance(problems, str):
            self.problems: list[Problem] = []
            text = problems
        else:
            self.problems = list(problems)
            text = "\n".join(str(p) for p in self.problems)
        super().__init__(text)


class UsageError(JourneyError):
    """The request is wrong, not the file: an option value that fits no journey.

    The CLI exits with status 2 for these, as for any other wrong usage.
    """


# Comparisons left for suggestions, while a file is checked (see suggestion_budget).
_BUDGET: ContextVar[list[int] | None] = ContextVar("suggestion_budget", default=None)


@contextmanager
def suggestion_budget(comparisons: int) -> Iterator[None]:
    """Bound the work of every :func:`did_you_mean` inside, together.

    Each suggestion compares the word with every candidate: a file with
    thousands of misspelt ids among thousands of ids would take minutes
    (4,000 took 50 s). Past the budget, problems come without a suggestion;
    the order of checks is fixed, so which ones get one is too.
    """
    token = _BUDGET.set([comparisons])
    try:
        yield
    finally:
        _BUDGET.reset(token)


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """A ' (did you mean 'x'?)' suffix for a misspelt id or key, or ''."""
    pool = (
        candidates if isinstance(candidates, list | tuple | set | frozenset) else list(candidates)
    )
    budget = _BUDGET.get()
    if budget is not None:
        if budget[0] < len(pool):
            return ""
        budget[0] -= len(pool)
    # Ties between equally close candidates are broken by the candidate itself,
    # so the order of ``pool`` never changes the answer.
    matches = difflib.get_close_matches(word, pool, n=1, cutoff=0.6)
    return f" (did you mean '{matches[0]}'?)" if matches else ""
