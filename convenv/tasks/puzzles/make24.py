"""Make 24 / countdown: reach a target with given numbers, each used once, and ``+ - * /`` with parentheses.

Every instance is solvable: a solver (:func:`reachable`, a dynamic programme over subsets of the numbers) finds
a solution before the task is made, and that solution is the privileged answer.

Levels:

- 1: four numbers in 1..9, target 24, solvable with whole-number steps.
- 2: four numbers in 1..13, a target in 10..99 other than 24 (drawn among those reachable with whole numbers).
- 3: five numbers, four in 1..10 and one of 25, 50, 75, 100, a target in 100..999 reachable with whole numbers.

The student may use fractions on the way (``8 / (3 - 8 / 3)`` counts); only the stored solution is whole-number.

>>> import numpy as np
>>> task = Make24Generator(difficulty=1).sample(np.random.default_rng(0))
>>> task.id.startswith("puzzles/make24/1/"), task.metadata["target"]
(True, 24)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Union

import numpy as np

from convenv.tasks.base import Task
from convenv.tasks.levels import check_rng, draw_level, level_bounds, task_id

OPS = "+-*/"
PRECEDENCE = {"+": 1, "-": 1, "*": 2, "/": 2}
MAX_DRAWS = 1000


@dataclass(frozen=True)
class Node:
    """A binary operation in an expression tree; leaves are plain ints."""

    op: str
    left: Tree
    right: Tree


Tree = Union[int, Node]  # noqa: UP007 -- a runtime alias: `int | Node` fails on Python 3.10 with a forward name


def evaluate(tree: Tree) -> Fraction:
    """The exact value of an expression tree (raises ``ZeroDivisionError`` on division by zero)."""
    if isinstance(tree, int):
        return Fraction(tree)
    a, b = evaluate(tree.left), evaluate(tree.right)
    if tree.op == "+":
        return a + b
    if tree.op == "-":
        return a - b
    if tree.op == "*":
        return a * b
    return a / b


def leaves(tree: Tree) -> list[int]:
    """The numbers a tree uses, left to right."""
    return [tree] if isinstance(tree, int) else [*leaves(tree.left), *leaves(tree.right)]


def fmt(tree: Tree) -> str:
    """The tree as text with only the parentheses it needs, e.g. ``"(8 - 4) * 6"``."""
    if isinstance(tree, int):
        return str(tree)
    prec = PRECEDENCE[tree.op]
    left, right = fmt(tree.left), fmt(tree.right)
    if isinstance(tree.left, Node) and PRECEDENCE[tree.left.op] < prec:
        left = f"({left})"
    if isinstance(tree.right, Node) and (
        PRECEDENCE[tree.right.op] < prec or (PRECEDENCE[tree.right.op] == prec and tree.op in "-/")
    ):
        right = f"({right})"
    return f"{left} {tree.op} {right}"


def steps(tree: Tree) -> list[tuple[Fraction, str, Fraction, Fraction]]:
    """The operations of a tree in evaluation order, as ``(a, op, b, result)``."""
    if isinstance(tree, int):
        return []
    a, b = evaluate(tree.left), evaluate(tree.right)
    return [*steps(tree.left), *steps(tree.right), (a, tree.op, b, evaluate(tree))]


def _combine(a: Fraction, ta: Tree, b: Fraction, tb: Tree, whole: bool) -> list[tuple[Fraction, Tree]]:
    out = [(a + b, Node("+", ta, tb)), (a * b, Node("*", ta, tb))]
    out += [(a - b, Node("-", ta, tb)), (b - a, Node("-", tb, ta))]
    if b != 0:
        out.append((a / b, Node("/", ta, tb)))
    if a != 0:
        out.append((b / a, Node("/", tb, ta)))
    if whole:  # countdown rules: every intermediate result is a whole number >= 0
        out = [(v, t) for v, t in out if v.denominator == 1 and v >= 0]
    return out


def reachable(numbers: Sequence[int], whole: bool = False) -> dict[Fraction, Tree]:
    """Every value an expression using all ``numbers`` once can take, each with one expression reaching it.

    Args:
        numbers: the given numbers (at most 6; the work grows fast with more).
        whole: keep only whole-number intermediate results >= 0 (much faster; a subset of the values).

    Returns:
        ``{value: tree}``; the first expression found for each value is kept (deterministic order).
    """
    n = len(numbers)
    if not 1 <= n <= 6:
        raise ValueError(f"expected 1 to 6 numbers, got {n}; the search grows too fast beyond that")
    table: dict[int, dict[Fraction, Tree]] = {1 << i: {Fraction(x): int(x)} for i, x in enumerate(numbers)}
    for mask in range(1, 1 << n):
        if mask in table:
            continue
        values: dict[Fraction, Tree] = {}
        sub = (mask - 1) & mask
        while sub:
            other = mask ^ sub
            if sub < other:
                for a, ta in table[sub].items():
                    for b, tb in table[other].items():
                        for v, t in _combine(a, ta, b, tb, whole):
                            values.setdefault(v, t)
            sub = (sub - 1) & mask
        table[mask] = values
    return table[(1 << n) - 1]


def _draw(level: int, rng: np.random.Generator) -> tuple[tuple[int, ...], int, Tree] | None:
    """One attempt at an instance: ``(numbers, target, solution)`` or None when this draw has no good target."""
    if level == 1:
        numbers = tuple(int(x) for x in rng.integers(1, 10, size=4))
        found = reachable(numbers, whole=True).get(Fraction(24))
        return None if found is None else (numbers, 24, found)
    if level == 2:
        numbers = tuple(int(x) for x in rng.integers(1, 14, size=4))
        low, high, skip = 10, 99, {24}
    else:
        big = int(rng.choice([25, 50, 75, 100]))
        numbers = (*(int(x) for x in rng.integers(1, 11, size=4)), big)
        numbers = tuple(int(x) for x in rng.permutation(numbers))
        low, high, skip = 100, 999, set()
    options = reachable(numbers, whole=True)
    targets = sorted(int(v) for v in options if low <= v <= high and int(v) not in skip)
    if not targets:
        return None
    target = targets[int(rng.integers(len(targets)))]
    return numbers, target, options[Fraction(target)]


def make_task(numbers: Sequence[int], target: int, solution: Tree, difficulty: int) -> Task:
    """Assemble a task from an instance and one checked solution."""
    if sorted(leaves(solution)) != sorted(numbers) or evaluate(solution) != target:
        raise ValueError(f"expected a solution using {list(numbers)} that makes {target}, got {fmt(solution)}")
    listed = ", ".join(map(str, numbers))
    prompt = (
        f"Use the numbers {listed} to make {target}. Use each number exactly once, with + - * / and "
        "parentheses (no other operations, no joining digits).\n"
        "Answer with one line such as: Answer: (1 + 2) * 3"
    )
    answer = fmt(solution)
    worked = "; ".join(f"{a} {op} {b} = {r}" for a, op, b, r in steps(solution))
    return Task(
        id=task_id("puzzles", "make24", difficulty, listed, target),
        domain="puzzles",
        prompt=prompt,
        answer=answer,
        solution=f"{answer} = {target} (steps: {worked})",
        metadata={
            "family": "make24",
            "difficulty": difficulty,
            "numbers": tuple(int(x) for x in numbers),
            "target": int(target),
            "solution_tree": solution,
        },
    )


def generate(difficulty: int, rng: np.random.Generator) -> Task:
    """One solvable instance at ``difficulty``, drawn with ``rng`` only."""
    level = level_bounds(difficulty)[0]
    check_rng(rng)
    for _ in range(MAX_DRAWS):
        drawn = _draw(level, rng)
        if drawn is not None:
            return make_task(*drawn, level)
    raise RuntimeError(f"no solvable make-24 instance in {MAX_DRAWS} draws at level {level}; this is a bug")


class Make24Generator:
    """Solvable make-24 / countdown instances: a :class:`~convenv.tasks.base.TaskSource`.

    Args:
        difficulty: one level (1..3, see the module docstring) or an inclusive ``(low, high)`` range.
    """

    def __init__(self, difficulty: int | tuple[int, int] = 1):
        self.difficulty = level_bounds(difficulty)

    def sample(self, rng: np.random.Generator) -> Task:
        """Return one instance drawn with ``rng`` only."""
        return generate(draw_level(self.difficulty, check_rng(rng)), rng)

    def __repr__(self) -> str:
        return f"Make24Generator(difficulty={self.difficulty!r})"
