"""User errors.

Everything a user can get wrong (a journey file, an option, a path) raises
:class:`JourneyError`, so the CLI can turn it into ``FILE:LINE:COLUMN: message``
lines and exit status 1 without ever showing a traceback.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

__all__ = ["JourneyError", "Problem", "did_you_mean"]


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
            self.problems: tuple[Problem, ...] = ()
            text = problems
        else:
            self.problems = tuple(problems)
            text = "\n".join(str(p) for p in self.problems)
        super().__init__(text)


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """A ' (did you mean 'x'?)' suffix for a misspelt id or key, or ''."""
    matches = difflib.get_close_matches(word, sorted(set(candidates)), n=1, cutoff=0.6)
    return f" (did you mean '{matches[0]}'?)" if matches else ""
