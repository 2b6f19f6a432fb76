"""The seeded code task source: families, difficulty levels, argument checks."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from convenv.tasks.base import Task
from convenv.tasks.code.common import check_families, check_family, check_level, check_levels, check_rng
from convenv.tasks.code.dicts import dicts
from convenv.tasks.code.lists import lists
from convenv.tasks.code.numeric import numbers
from convenv.tasks.code.strings import strings

FAMILIES: dict[str, Callable[[int, np.random.Generator], Task]] = {
    "list": lists,
    "string": strings,
    "number": numbers,
    "dict": dicts,
}


def generate(family: str, difficulty: int, rng: np.random.Generator) -> Task:
    """Draw one task of ``family`` at ``difficulty`` using only ``rng``.

    Args:
        family: one of ``list``, ``string``, ``number``, ``dict``.
        difficulty: 1, 2 or 3.
        rng: the generator every random choice is drawn from.

    Returns:
        A :class:`~convenv.tasks.base.Task` whose hidden tests' expected outputs come from the reference solution.

    Raises:
        ValueError: unknown family or level. TypeError: ``rng`` is not a ``numpy.random.Generator``.
    """
    return FAMILIES[check_family(family)](check_level(difficulty), check_rng(rng))


class CodeTaskGenerator:
    """Procedural function-writing problems: a :class:`~convenv.tasks.base.TaskSource` over families and levels.

    Each :meth:`sample` picks a family uniformly, then a level uniformly in the range, then a problem template
    and its constants and test inputs, all with the generator it is handed, so equal generator states give
    equal tasks (in any process).

    Args:
        families: names to draw from (default: all of :data:`FAMILIES`); a single name is accepted too.
        difficulty: one level (1..3) or an inclusive ``(low, high)`` range.

    Raises:
        ValueError: an unknown or empty family list, or a level outside 1..3 / a range with low > high.
    """

    def __init__(self, families: Sequence[str] | str | None = None, difficulty: int | tuple[int, int] = (1, 3)):
        self.families: tuple[str, ...] = check_families(families)
        self.difficulty: tuple[int, int] = check_levels(difficulty)

    def __repr__(self) -> str:
        return f"CodeTaskGenerator(families={list(self.families)!r}, difficulty={self.difficulty!r})"

    def sample(self, rng: np.random.Generator) -> Task:
        """Return one task drawn with ``rng`` only."""
        check_rng(rng)
        family = self.families[int(rng.integers(len(self.families)))]
        level = int(rng.integers(self.difficulty[0], self.difficulty[1] + 1))
        return FAMILIES[family](level, rng)
