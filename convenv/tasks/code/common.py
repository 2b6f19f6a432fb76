"""Shared pieces of the code generators: a problem template, seeded draws, and task assembly.

A template draws its constants and its test inputs with the generator it is handed, and returns a
:class:`Problem`: the function's name and parameters, a docstring-style spec, the reference solution as source
*and* as a trusted Python callable with the same behaviour, and a few plausible buggy variants (again source and
callable). Expected outputs are computed by calling the trusted callable in this process (our code, never the
student's), so they are right by construction; a test runs every reference source in the sandbox to check that
source and callable agree. Nothing here compiles or executes source text.
"""

from __future__ import annotations

import copy
import difflib
import hashlib
import numbers
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np

from convenv.sandbox import TestCase
from convenv.tasks.base import Task

T = TypeVar("T")

FAMILY_NAMES = ("list", "string", "number", "dict")
LEVELS = (1, 2, 3)
SPEC_WIDTH = 84  # the docstring's lines, so a rendered dialogue does not re-wrap them
EXAMPLES = 2  # public examples shown in the prompt (the first inputs of a problem)
LETTERS = "abcdefghijklmnopqrstuvwxyz"
WORDS = (
    "apple", "bird", "cat", "dog", "echo", "fig", "grape", "hat", "ink", "jam", "kite", "lamp", "moon", "nut",
    "owl", "pear", "quiz", "rain", "sun", "tree", "up", "van", "wolf", "yak", "zoo", "a", "an", "the", "of", "to",
)  # fmt: skip


@dataclass(frozen=True)
class Variant:
    """One implementation of a problem: the function body (4-space indented source) and the same as a callable."""

    body: str
    func: Callable[..., Any]


@dataclass(frozen=True)
class Problem:
    """What a template produces; :func:`make_task` turns it into a :class:`~convenv.tasks.base.Task`.

    Attributes:
        name: the function to write (the entry point).
        params: its parameter list, e.g. ``"xs, k"``.
        spec: what the function must do (re-wrapped in the docstring; no examples: they come from ``inputs``).
        reference: the reference solution.
        inputs: argument tuples of the hidden tests; the first :data:`EXAMPLES` are shown in the prompt.
        hints: progressively stronger hints that state neither an expected output nor a line of the solution.
        approach: one or two sentences on how the reference works (for the teacher's worked solution).
        bugs: plausible wrong implementations (kept only if they fail at least one hidden test). For a sharded
            problem, ``bugs[i]`` ignores ``shards[i]`` and must fail, so the hidden tests exercise every shard.
        shards: for underspecified tasks, requirements left out of ``spec`` and revealed one per turn.

    """

    name: str
    params: str
    spec: str
    reference: Variant
    inputs: Sequence[tuple[Any, ...]]
    hints: tuple[str, ...]
    approach: str
    bugs: tuple[Variant, ...] = ()
    shards: tuple[str, ...] = field(default=())


def check_rng(rng: object) -> np.random.Generator:
    """``rng`` if it is a ``numpy.random.Generator``, else a clear TypeError."""
    if not isinstance(rng, np.random.Generator):
        raise TypeError(
            f"expected rng to be a numpy.random.Generator, got {type(rng).__name__}; "
            "pass np.random.default_rng(seed)"
        )
    return rng


def check_family(family: object) -> str:
    """``family`` if it is one of :data:`FAMILY_NAMES`, else a ValueError with a suggestion."""
    if not isinstance(family, str) or family not in FAMILY_NAMES:
        close = difflib.get_close_matches(str(family), FAMILY_NAMES, n=1)
        hint = f"did you mean {close[0]!r}?" if close else "pick from that list"
        raise ValueError(f"expected families among {list(FAMILY_NAMES)}, got {family!r}; {hint}")
    return family


def check_families(families: Sequence[str] | str | None) -> tuple[str, ...]:
    """The family names to draw from (all for None), checked and de-duplicated."""
    if families is None:
        return FAMILY_NAMES
    names = [families] if isinstance(families, str) else list(families)
    if not names:
        raise ValueError(
            f"expected families among {list(FAMILY_NAMES)}, got an empty list; pass families=None for all"
        )
    return tuple(dict.fromkeys(check_family(f) for f in names))


def check_level(level: object, what: str = "difficulty") -> int:
    """``level`` as an int if it is in 1..3, else a ValueError saying what to pass."""
    if isinstance(level, bool) or not isinstance(level, numbers.Integral) or int(level) not in LEVELS:
        raise ValueError(
            f"expected {what} to be an integer level in 1..3, got {level!r}; "
            "use 1 (easy), 2 (medium) or 3 (hard), or a (low, high) range such as (1, 3)"
        )
    return int(level)


def check_levels(difficulty: int | tuple[int, int]) -> tuple[int, int]:
    """An inclusive ``(low, high)`` range from one level or a pair."""
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


def randint(rng: np.random.Generator, low: int, high: int) -> int:
    """A uniform integer in ``[low, high]`` (both inclusive)."""
    return int(rng.integers(low, high + 1))


def choice(rng: np.random.Generator, options: Sequence[T]) -> T:
    """One element of ``options`` chosen uniformly."""
    return options[int(rng.integers(len(options)))]


def ints(rng: np.random.Generator, size: int, low: int, high: int) -> list[int]:
    """``size`` uniform integers in ``[low, high]``."""
    return [randint(rng, low, high) for _ in range(size)]


def sample(rng: np.random.Generator, options: Sequence[T], size: int) -> list[T]:
    """``size`` distinct elements of ``options`` in random order."""
    return [options[int(i)] for i in rng.choice(len(options), size=size, replace=False)]


def words(rng: np.random.Generator, size: int, pool: Sequence[str] = WORDS) -> list[str]:
    """``size`` words drawn (with repeats) from ``pool``."""
    return [choice(rng, pool) for _ in range(size)]


def block(text: str) -> str:
    """A function body from a triple-quoted block: dedented, then indented by four spaces, ending in a newline."""
    return textwrap.indent(textwrap.dedent(text).strip("\n") + "\n", "    ")


def source(name: str, params: str, body: str) -> str:
    """The full source of a function with this body."""
    return f"def {name}({params}):\n{body.rstrip()}\n"


def signature(name: str, params: str) -> str:
    """``def name(params):``."""
    return f"def {name}({params}):"


def call_text(name: str, args: Sequence[Any]) -> str:
    """``name(arg1, arg2)`` with each argument as its ``repr``."""
    return f"{name}({', '.join(repr(a) for a in args)})"


def run_trusted(func: Callable[..., Any], args: tuple[Any, ...]) -> tuple[bool, Any]:
    """``(raised, result)`` of calling a trusted callable on a deep copy of ``args``."""
    try:
        return False, func(*copy.deepcopy(args))
    except Exception as exc:  # noqa: BLE001 -- a buggy variant may raise; that counts as failing the test
        return True, type(exc).__name__


def fails_somewhere(variant: Variant, tests: Sequence[TestCase]) -> bool:
    """Whether a (trusted) variant raises on, or returns something else than expected for, some test."""
    for test in tests:
        raised, got = run_trusted(variant.func, tuple(test.args))
        if raised or got != test.expected:
            return True
    return False


def prompt_text(problem: Problem, tests: Sequence[TestCase]) -> str:
    """The public prompt: the signature and a docstring with the spec and the first examples."""
    spec = "\n".join(f"    {line}" for line in textwrap.wrap(" ".join(problem.spec.split()), SPEC_WIDTH))
    examples = "\n".join(f"    >>> {call_text(problem.name, t.args)}\n    {t.expected!r}" for t in tests[:EXAMPLES])
    return f'{signature(problem.name, problem.params)}\n    """{spec.lstrip()}\n\n{examples}\n    """'


def task_id(family: str, difficulty: int, prompt: str) -> str:
    """``code/{family}/{difficulty}/{12 hex digits}`` from the public prompt only.

    Every agent's info shows the id, so it must not be a function of the answer (a digest of the answer could be
    inverted by hashing candidate answers).
    """
    digest = hashlib.sha256(prompt.encode()).hexdigest()[:12]
    return f"code/{family}/{difficulty}/{digest}"


def make_task(family: str, difficulty: int, problem: Problem, **extra: Any) -> Task:
    """Assemble a task: expected outputs from the trusted reference, the prompt, the buggy variants that fail.

    Raises:
        RuntimeError: the reference raised on one of its own inputs, or a shard is not exercised by any test
            (both are generator bugs).
    """
    tests = []
    for i, args in enumerate(problem.inputs):
        raised, expected = run_trusted(problem.reference.func, tuple(args))
        if raised:
            raise RuntimeError(f"code template {problem.name!r}: the reference raised {expected} on {args!r}")
        tests.append(TestCase(args=tuple(args), expected=expected, name=f"test_{i + 1}"))
    answer = source(problem.name, problem.params, problem.reference.body)
    prompt = prompt_text(problem, tests)
    failing = [fails_somewhere(b, tests) for b in problem.bugs]
    if problem.shards and not (len(failing) == len(problem.shards) and all(failing)):
        raise RuntimeError(
            f"code template {problem.name!r}: each shard needs a variant that ignores it and fails a hidden test"
        )
    wrong = tuple(
        source(problem.name, problem.params, b.body) for b, bad in zip(problem.bugs, failing, strict=True) if bad
    )
    solution = f"# Approach: {problem.approach}\n{answer}"
    metadata = {
        "family": family,
        "difficulty": difficulty,
        "entry_point": problem.name,
        "signature": signature(problem.name, problem.params),
        "wrong_solutions": wrong,
        **extra,
    }
    return Task(
        id=task_id(family, difficulty, prompt),
        domain="code",
        prompt=prompt,
        answer=answer,
        solution=solution,
        hints=problem.hints,
        tests=tuple(tests),
        shards=problem.shards,
        metadata=metadata,
    )
