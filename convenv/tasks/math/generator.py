"""The seeded math task source: families, difficulty levels, argument checks."""

from __future__ import annotations

import difflib
import numbers
from collections.abc import Callable, Sequence

import numpy as np

from convenv.tasks.base import Task
from convenv.tasks.math.algebra import expand, linear, quadratic, system
from convenv.tasks.math.arithmetic import arithmetic, fractions
from convenv.tasks.math.word import word

FAMILIES: dict[str, Callable[[int, np.random.Generator], Task]] = {
    "arithmetic": arithmetic,
    "fractions": fractions,
    "linear": linear,
    "system": system,
    "quadratic": quadratic,
    "expand": expand,
    "word": word,
}
LEVELS = (1, 2, 3)


def _check_rng(rng: object) -> np.random.Generator:
    if not isinstance(rng, np.random.Generator):
        raise TypeError(
            f"expected rng to be a numpy.random.Generator, got {type(rng).__name__}; "
            "pass np.random.default_rng(seed)"
        )
    return rng


def _check_family(family: object) -> str:
    if not isinstance(family, str) or family not in FAMILIES:
        close = difflib.get_close_matches(str(family), FAMILIES, n=1)
        hint = f"did you mean {close[0]!r}?" if close else "pick from that list"
        raise ValueError(f"expected families among {list(FAMILIES)}, got {family!r}; {hint}")
    return family


def _check_level(level: object, what: str = "difficulty") -> int:
    if isinstance(level, bool) or not isinstance(level, numbers.Integral) or int(level) not in LEVELS:
        raise ValueError(
            f"expected {what} to be an integer level in 1..3, got {level!r}; "
            "use 1 (easy), 2 (medium) or 3 (hard), or a (low, high) range such as (1, 3)"
        )
    return int(level)


def generate(family: str, difficulty: int, rng: np.random.Generator) -> Task:
    """Draw one task of ``family`` at ``difficulty`` using only ``rng``.

    Args:
        family: one of ``arithmetic``, ``fractions``, ``linear``, ``system``, ``quadratic``, ``expand``,
            ``word``.
        difficulty: 1, 2 or 3.
        rng: the generator every random choice is drawn from.

    Returns:
        A :class:`~convenv.tasks.base.Task` whose ``answer`` is correct by construction.

    Raises:
        ValueError: unknown family or level. TypeError: ``rng`` is not a ``numpy.random.Generator``.
    """
    return FAMILIES[_check_family(family)](_check_level(difficulty), _check_rng(rng))


class MathTaskGenerator:
    """Procedural math problems: a :class:`~convenv.tasks.base.TaskSource` over families and levels.

    Each :meth:`sample` picks a family uniformly, then a level uniformly in the range, then the problem, all with
    the generator it is handed, so equal generator states give equal tasks.

    Args:
        families: names to draw from (default: all of :data:`FAMILIES`); a single name is accepted too.
        difficulty: one level (1..3) or an inclusive ``(low, high)`` range.

    Raises:
        ValueError: an unknown or empty family list, or a level outside 1..3 / a range with low > high.
    """

    def __init__(self, families: Sequence[str] | str | None = None, difficulty: int | tuple[int, int] = (1, 3)):
        if families is None:
            names = list(FAMILIES)
        else:
            names = [families] if isinstance(families, str) else list(families)
            if not names:
                raise ValueError(
                    f"expected families among {list(FAMILIES)}, got an empty list; pass families=None for all"
                )
            names = list(dict.fromkeys(_check_family(f) for f in names))
        if isinstance(difficulty, (tuple, list)):
            if len(difficulty) != 2:
                raise ValueError(
                    f"expected difficulty as a (low, high) pair, got {tuple(difficulty)!r}; e.g. difficulty=(1, 3)"
                )
            low, high = (_check_level(d, "each difficulty bound") for d in difficulty)
            if low > high:
                raise ValueError(
                    f"expected difficulty (low, high) with low <= high, got {tuple(difficulty)!r}; "
                    f"swap them: ({high}, {low})"
                )
        else:
            low = high = _check_level(difficulty)
        self.families: tuple[str, ...] = tuple(names)
        self.difficulty: tuple[int, int] = (low, high)

    def __repr__(self) -> str:
        return f"MathTaskGenerator(families={list(self.families)!r}, difficulty={self.difficulty!r})"

    def sample(self, rng: np.random.Generator) -> Task:
        """Return one task drawn with ``rng`` only."""
        _check_rng(rng)
        family = self.families[int(rng.integers(len(self.families)))]
        level = int(rng.integers(self.difficulty[0], self.difficulty[1] + 1))
        return FAMILIES[family](level, rng)

    def generate(self, family: str, difficulty: int, rng: np.random.Generator) -> Task:
        """Draw one task of a given family and level (see :func:`generate`)."""
        return generate(family, difficulty, rng)
