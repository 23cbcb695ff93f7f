"""Checked exercises, in the style of Kaggle Learn's learntools.

A chapter's exercises live in a module next to this one (e.g.
``helpers.exercises.ch01_training_loop``) as :class:`Exercise` objects. In
the notebook the learner writes an answer, then calls::

    ex.q1.check()      # correct / incorrect (with a hint of why) / not attempted
    ex.q1.hint()       # a first hint; hint(2) a stronger one
    ex.q1.solution()   # the reference solution (from the chapter's solution cell)

``check()`` with no argument looks up the answer by name in the notebook
(``ex.q1.answer_name``); ``check(value)`` checks ``value`` directly.

A broken answer never crashes the check: ``None`` or a missing name means
"not attempted"; a wrong type, a function that raises, or a wrong shape gets
a message saying what was expected, without giving the answer away.

Instructors grading with nbgrader set ``HELPERS_GRADING=1``: then a check
that is not correct raises ``AssertionError`` so the grade cell fails, and
``solution()`` refuses to show the answer.

The solutions are written once, in the chapter notebooks' solution cells;
``helpers.exercises.solutions`` copies them into a generated file that
``solution()`` reads.
"""

from __future__ import annotations

import inspect
import os
import sys
import traceback
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from helpers.checks import to_numpy

GRADING_ENV_VAR = "HELPERS_GRADING"
_MISSING = object()

CORRECT, INCORRECT, NOT_ATTEMPTED = "correct", "incorrect", "not attempted"

# What an exercise asks of the learner (book/contributing.md, "Exercises"):
KINDS = {
    "predict": "commit to a number or a choice, then run the experiment that shows who was right",
    "diagnose": "find (or fix) the one thing wrong in a given pipeline, run or plot",
    "experiment": "tune or change something and report a result the check verifies with a run of its own",
    "implement": "write a function the chapter explains",
}


class Incorrect(Exception):
    """Raised by a checker to say why an answer is wrong (the message is shown)."""


@dataclass(frozen=True)
class CheckResult:
    """The outcome of a check: ``status`` is correct, incorrect or not attempted."""

    status: str
    message: str = ""

    @property
    def correct(self) -> bool:
        return self.status == CORRECT

    def __str__(self) -> str:
        icon = {CORRECT: "✓", INCORRECT: "✗", NOT_ATTEMPTED: "…"}[self.status]
        text = f"{icon} {self.status.capitalize()}"
        return f"{text}: {self.message}" if self.message else text


class Exercise:
    """One exercise: a checker, hints from gentle to strong, and the solution.

    ``checker(answer)`` returns nothing when ``answer`` is right and raises
    :class:`Incorrect` with a helpful message when it is wrong. Any other
    exception it raises is reported as the learner's answer failing (for
    example a function that raises when called).
    """

    def __init__(
        self,
        name: str,
        answer_name: str,
        checker: Callable[[Any], None],
        hints: list[str],
        success: str = "",
        chapter: str | None = None,
        kind: str | None = None,
    ):
        if not hints:
            raise ValueError(f"exercise {name!r} needs at least one hint")
        if kind is not None and kind not in KINDS:
            raise ValueError(f"exercise {name!r}: kind must be one of {sorted(KINDS)}, got {kind!r}")
        self.kind = kind
        self.name, self.answer_name, self.checker = name, answer_name, checker
        self.hints, self.success = list(hints), success
        # The chapter whose solution cells hold the answer: by default the one the
        # defining module is named after (helpers.exercises.ch01_training_loop -> 01_training_loop).
        self.chapter = chapter or _chapter_of(sys._getframe(1).f_globals.get("__name__", ""))

    def _lookup(self, depth: int = 2):
        frame = inspect.currentframe()
        for _ in range(depth):
            frame = frame.f_back
        try:
            return frame.f_globals.get(self.answer_name, _MISSING)
        finally:
            del frame

    def check(self, answer=_MISSING) -> None:
        """Say whether ``answer`` (by default, the notebook variable ``answer_name``) is right.

        Prints the verdict; use :meth:`evaluate` to get it as a :class:`CheckResult`.
        """
        if answer is _MISSING:
            answer = self._lookup()
        result = self.evaluate(answer)
        print(f"{self.name}: {result}")
        if os.environ.get(GRADING_ENV_VAR) == "1" and not result.correct:
            raise AssertionError(f"{self.name}: {result}")

    def evaluate(self, answer) -> CheckResult:
        """The verdict on ``answer`` as a :class:`CheckResult`, without printing it."""
        if answer is _MISSING:
            return CheckResult(NOT_ATTEMPTED, f"define `{self.answer_name}` above, then run this cell again")
        if answer is None or answer is Ellipsis:
            return CheckResult(NOT_ATTEMPTED, f"`{self.answer_name}` is still {answer!r}; replace it with your answer")
        try:
            self.checker(answer)
        except NotAttempted as stub:
            return CheckResult(NOT_ATTEMPTED, str(stub))
        except Incorrect as wrong:
            return CheckResult(INCORRECT, str(wrong))
        except Exception as error:  # the learner's code failed inside the checker
            where = traceback.extract_tb(error.__traceback__)[-1]
            return CheckResult(
                INCORRECT,
                f"your answer raised {type(error).__name__}: {error} (line {where.lineno} of {where.name})",
            )
        return CheckResult(CORRECT, self.success)

    def hint(self, level: int = 1) -> str:
        """Print hint number ``level`` (1 is the gentlest)."""
        if not isinstance(level, int) or not 1 <= level <= len(self.hints):
            raise ValueError(f"{self.name} has hints 1 to {len(self.hints)}, got {level!r}")
        text = f"{self.name}, hint {level}/{len(self.hints)}: {self.hints[level - 1]}"
        print(text)
        return text

    @property
    def solution_code(self) -> str:
        """The reference solution: the code of the chapter's solution cell."""
        from helpers.exercises.solutions import lookup

        return lookup(self.chapter, self.answer_name)

    def solution(self) -> str:
        """Print the reference solution (refused while grading, ``HELPERS_GRADING=1``)."""
        if os.environ.get(GRADING_ENV_VAR) == "1":
            message = f"{self.name}: solutions are switched off while grading ({GRADING_ENV_VAR}=1)"
            print(message)
            return message
        print(f"{self.name}, solution:\n{self.solution_code}")
        return self.solution_code

    def __repr__(self) -> str:
        return f"Exercise({self.name!r}, answer_name={self.answer_name!r}, kind={self.kind!r})"


def _chapter_of(module_name: str) -> str:
    """``helpers.exercises.ch01_training_loop`` -> ``01_training_loop`` (else the name unchanged)."""
    last = module_name.rsplit(".", 1)[-1]
    return last[2:] if last.startswith("ch") and last[2:4].isdigit() else last


class NotAttempted(Exception):
    """Raised by a checker when the answer is still the stub (e.g. a function returning None)."""


# --------------------------------------------------------------------------
# Building blocks for checkers: each raises Incorrect with a clear message
# --------------------------------------------------------------------------


def expect_callable(answer, what: str = "a function") -> None:
    if not callable(answer):
        raise Incorrect(f"expected {what}, got a {type(answer).__name__}")


def call_answer(function, *args, **kwargs):
    """Call the learner's function; a ``None`` result means it is still a stub."""
    result = function(*args, **kwargs)
    if result is None or result is Ellipsis:
        raise NotAttempted("your function returns None: fill in its body")
    return result


def expect_number(answer, what: str = "a number") -> float:
    if hasattr(answer, "item") and getattr(answer, "ndim", 1) == 0:
        answer = answer.item()
    if isinstance(answer, bool) or not isinstance(answer, (int, float, np.integer, np.floating)):
        raise Incorrect(f"expected {what}, got {type(answer).__name__}")
    if not np.isfinite(answer):
        raise Incorrect(f"expected a finite number for {what}, got {answer}")
    return float(answer)


def expect_close(value, target, *, rtol: float = 1e-4, atol: float = 1e-6, what: str = "the result") -> None:
    """Compare numbers or arrays (tensors included) without revealing ``target``."""
    value_array = _as_array(value, what)
    target_array = _as_array(target, "target")
    if value_array.shape != target_array.shape:
        raise Incorrect(f"{what} has shape {value_array.shape}, expected shape {target_array.shape}")
    if not np.allclose(value_array, target_array, rtol=rtol, atol=atol):
        raise Incorrect(f"{what} is not what we expected; check your formula against the text")


def _as_array(value, what: str) -> np.ndarray:
    try:
        array = np.asarray(to_numpy(value), dtype=np.float64)
    except (TypeError, ValueError):
        raise Incorrect(f"{what} should be a number or an array of numbers, got {type(value).__name__}") from None
    return array
