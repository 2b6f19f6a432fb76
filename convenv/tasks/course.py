"""Seeded task sources of the course envs: a secret number, and a sum with a hidden addend.

Both draw every choice from the generator they are handed. A task's id carries a random tag drawn independently
of the secret, so ``infos["task_id"]`` (which the student sees) says nothing about the answer.

>>> import numpy as np
>>> task = GuessNumberTasks(difficulty=2).sample(np.random.default_rng(0))
>>> task.prompt, task.metadata["interval"]
('1-31', (1, 31))
>>> task = ArithmeticTasks(difficulty=1).sample(np.random.default_rng(0))
>>> task.prompt.endswith("+?"), task.metadata["hidden"]
(True, (1, 15))
"""

from __future__ import annotations

import numbers

import numpy as np

from convenv.tasks.base import Task

GUESS_LEVELS = {1: 15, 2: 31, 3: 63}
"""GuessNumber: the secret is in ``[1, N]``, N by difficulty (``2**k - 1``, so bisection needs exactly k turns)."""

# Arithmetic: (operators, visible operand range, hidden addend range)
ARITHMETIC_LEVELS: dict[int, tuple[str, tuple[int, int], tuple[int, int]]] = {
    1: ("+", (1, 20), (1, 15)),
    2: ("+-", (10, 60), (1, 31)),
    3: ("+-", (10, 99), (1, 63)),
}


def check_level(level: object, levels: dict[int, object]) -> int:
    """``level`` as an int among ``levels``' keys, or a ValueError that lists them."""
    if isinstance(level, bool) or not isinstance(level, numbers.Integral) or int(level) not in levels:
        raise ValueError(f"expected difficulty to be one of {sorted(levels)}, got {level!r}; e.g. difficulty=2")
    return int(level)


def bisection_turns(size: int) -> int:
    """Guesses that bisection needs, at worst, to find one of ``size`` values with higher/lower feedback."""
    return max(1, int(size).bit_length())


def _tag(rng: np.random.Generator) -> str:
    return f"{int(rng.integers(2**48)):012x}"


class GuessNumberTasks:
    """Secret integers drawn uniformly from ``[1, n]``.

    Args:
        difficulty: 1, 2 or 3: ``n`` = 15, 31 or 63 (see :data:`GUESS_LEVELS`).
        n: the upper bound itself (overrides ``difficulty``), at least 2.

    """

    def __init__(self, difficulty: int = 2, n: int | None = None):
        if n is None:
            n = GUESS_LEVELS[check_level(difficulty, GUESS_LEVELS)]
        if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 2:
            raise ValueError(f"expected n to be an integer >= 2, got {n!r}; e.g. n=31")
        self.n = int(n)

    @property
    def interval(self) -> tuple[int, int]:
        """The inclusive range of the secret."""
        return (1, self.n)

    def sample(self, rng: np.random.Generator) -> Task:
        """One secret, drawn with ``rng`` only."""
        secret = int(rng.integers(1, self.n + 1))
        return Task(
            id=f"course/guess/{self.n}/{_tag(rng)}",
            domain="course",
            prompt=f"1-{self.n}",
            answer=str(secret),
            solution=f"the secret is {secret}",
            metadata={"family": "guess", "n": self.n, "interval": self.interval, "answer_kind": "number"},
        )

    def __repr__(self) -> str:
        return f"GuessNumberTasks(n={self.n})"


class ArithmeticTasks:
    """Sums and differences ``a + ?`` / ``a - ?`` whose second operand is hidden.

    The student sees ``a``, the operator and the range of the hidden operand; the answer is the result. The
    hidden operand is uniform on its range, so the result is uniform on an interval of the same size that moves
    with ``a``.

    Args:
        difficulty: 1 (``a + ?``, ? in 1..15), 2 (``+`` or ``-``, ? in 1..31) or 3 (``+`` or ``-``, ? in 1..63).

    """

    def __init__(self, difficulty: int = 2):
        self.difficulty = check_level(difficulty, ARITHMETIC_LEVELS)
        self.operators, self.visible, self.hidden = ARITHMETIC_LEVELS[self.difficulty]

    def sample(self, rng: np.random.Generator) -> Task:
        """One problem, drawn with ``rng`` only."""
        op = self.operators[int(rng.integers(len(self.operators)))]
        low, high = self.hidden
        a = int(rng.integers(self.visible[0], self.visible[1] + 1))
        if op == "-":  # keep the result positive: a > every hidden value
            a += high
        b = int(rng.integers(low, high + 1))
        value = a + b if op == "+" else a - b
        interval = (a + low, a + high) if op == "+" else (a - high, a - low)
        return Task(
            id=f"course/arithmetic/{self.difficulty}/{_tag(rng)}",
            domain="course",
            prompt=f"{a}{op}?",
            answer=str(value),
            solution=f"{a}{op}{b}={value}",
            metadata={
                "family": "arithmetic",
                "difficulty": self.difficulty,
                "operator": op,
                "visible": a,
                "hidden": self.hidden,
                "interval": interval,
                "answer_kind": "number",
            },
        )

    def __repr__(self) -> str:
        return f"ArithmeticTasks(difficulty={self.difficulty})"
