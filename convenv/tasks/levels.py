"""Shared pieces of the procedural puzzle generators: difficulty levels, seeded draws, stable task ids."""

from __future__ import annotations

import hashlib
import numbers
from collections.abc import Sequence
from typing import TypeVar

import numpy as np

T = TypeVar("T")

LEVELS = (1, 2, 3)


def check_rng(rng: object) -> np.random.Generator:
    """Return ``rng`` if it is a ``numpy.random.Generator``, else raise a ``TypeError`` saying how to make one."""
    if not isinstance(rng, np.random.Generator):
        raise TypeError(
            f"expected rng to be a numpy.random.Generator, got {type(rng).__name__}; "
            "pass np.random.default_rng(seed)"
        )
    return rng


def check_level(level: object, what: str = "difficulty") -> int:
    """Return ``level`` as an int in 1..3, else raise a ``ValueError`` naming the valid levels."""
    if isinstance(level, bool) or not isinstance(level, numbers.Integral) or int(level) not in LEVELS:
        raise ValueError(
            f"expected {what} to be an integer level in 1..3, got {level!r}; "
            "use 1 (easy), 2 (medium) or 3 (hard), or a (low, high) range such as (1, 3)"
        )
    return int(level)


def level_bounds(difficulty: int | Sequence[int]) -> tuple[int, int]:
    """``difficulty`` (one level, or an inclusive ``(low, high)`` pair) as a checked ``(low, high)`` pair."""
    if isinstance(difficulty, (tuple, list)):
        if len(difficulty) != 2:
            raise ValueError(
                f"expected difficulty as a (low, high) pair, got {tuple(difficulty)!r}; e.g. difficulty=(1, 3)"
            )
        low, high = (check_level(d, "each difficulty bound") for d in difficulty)
        if low > high:
            raise ValueError(
                f"expected difficulty (low, high) with low <= high, got {tuple(difficulty)!r}; "
                f"swap them: ({high}, {low})"
            )
        return low, high
    level = check_level(difficulty)
    return level, level


def draw_level(bounds: tuple[int, int], rng: np.random.Generator) -> int:
    """A level drawn uniformly in the inclusive ``bounds``."""
    return int(rng.integers(bounds[0], bounds[1] + 1))


def choice(rng: np.random.Generator, options: Sequence[T]) -> T:
    """One element of ``options`` chosen uniformly with ``rng``."""
    return options[int(rng.integers(len(options)))]


def task_id(domain: str, family: str, difficulty: int, *parts: object) -> str:
    """``{domain}/{family}/{difficulty}/{12 hex digits}``; the digest covers ``parts`` (stable across processes)."""
    digest = hashlib.sha256("\n".join(map(str, parts)).encode()).hexdigest()[:12]
    return f"{domain}/{family}/{difficulty}/{digest}"
