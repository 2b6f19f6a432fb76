"""Course exercises (``docs/course/``): each has a page, a starter file and a checker that grades a submission.

``convenv exercise list`` shows them; ``convenv exercise start N`` writes exercise N's starter file;
``convenv exercise check N PATH`` grades ``PATH`` and prints each check (pass or fail, with a hint for each
failure) and the score. The same from Python:

>>> from convenv.exercises import EXERCISES
>>> [(e.number, e.slug) for e in EXERCISES.values()]
[(1, 'teacher'), (2, 'verifier'), (3, 'train')]

Importing this package is light: a checker's module (and torch, for exercise 3) loads when it runs.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from convenv.exercises.base import Check, Report

__all__ = ["EXERCISES", "Check", "Exercise", "Report", "check", "get", "starter_source", "write_starter"]


@dataclass(frozen=True)
class Exercise:
    """One exercise.

    Attributes:
        number: its number (1, 2, 3).
        slug: a one-word name.
        title: what it asks for.
        page: its page in the repository's documentation.
        submission: what ``convenv exercise check N PATH`` expects at ``PATH``.
        starter: the starter file's name in :mod:`convenv.exercises.starters`, or None.
        checker: ``module:function`` grading a path.

    """

    number: int
    slug: str
    title: str
    page: str
    submission: str
    starter: str | None
    checker: str


EXERCISES: dict[int, Exercise] = {
    1: Exercise(
        1, "teacher", "Write a scripted teacher that helps two kinds of student without leaking the secret",
        "docs/course/1_teacher.md", "a Python file defining make_teacher(env)", "teacher.py",
        "convenv.exercises.teacher:check_teacher",
    ),
    2: Exercise(
        2, "verifier", "Write a verifier that is safe on hostile input", "docs/course/2_verifier.md",
        "a Python file defining check(text, task)", "verifier.py", "convenv.exercises.verifier:check_verifier",
    ),
    3: Exercise(
        3, "train", "Train a tiny student that beats the feedback-ignoring baseline", "docs/course/3_train.md",
        "a convenv train --out directory (or a saved model directory)", None,
        "convenv.exercises.training:check_training",
    ),
}  # fmt: skip


def get(number: int) -> Exercise:
    """Exercise ``number``.

    Raises:
        ValueError: there is no such exercise.

    """
    if number not in EXERCISES:
        raise ValueError(
            f"expected an exercise number in {sorted(EXERCISES)}, got {number!r}; convenv exercise list shows them"
        )
    return EXERCISES[number]


def check(number: int, path: str) -> Report:
    """Grade ``path`` as a submission of exercise ``number``."""
    module, _, function = get(number).checker.partition(":")
    return getattr(importlib.import_module(module), function)(str(path))


def starter_source(number: int) -> str:
    """The text of exercise ``number``'s starter file.

    Raises:
        ValueError: the exercise has no starter file (exercise 3 is done with ``convenv train``).

    """
    exercise = get(number)
    if exercise.starter is None:
        raise ValueError(
            f"expected an exercise with a starter file ({[n for n, e in EXERCISES.items() if e.starter]}), got "
            f"{number}; exercise {number} is done with convenv train: read {exercise.page}"
        )
    return resources.files("convenv.exercises.starters").joinpath(exercise.starter).read_text()


def write_starter(number: int, path: str | None = None) -> Path:
    """Write exercise ``number``'s starter file to ``path`` (default ``my_<starter>``); never overwrites.

    Raises:
        ValueError: no starter file, or ``path`` exists.

    """
    source = starter_source(number)
    target = Path(path if path is not None else f"my_{get(number).starter}")
    if target.exists():
        raise ValueError(
            f"expected a path that does not exist yet, got {str(target)!r}; pass another path or move that file"
        )
    target.write_text(source)
    return target
