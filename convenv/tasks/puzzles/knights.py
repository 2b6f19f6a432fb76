"""Knights and knaves: knights always tell the truth, knaves always lie; who is which?

Statements are small trees (tuples, so tasks pickle) built from templates, rendered as English, and evaluated on
an assignment (a tuple of booleans, True = knight). A draw is kept only when a brute-force solver over all
``2 ** n`` assignments finds exactly one consistent assignment: one where every speaker is a knight exactly when
its statement is true.

Levels: 1 has two people (A, B), 2 has three, 3 has four and adds "if ... then" to the templates ("B is a
knave", "we are both knights", "at least one of us is a knave", "A and I are the same kind", "... or ...",
"exactly one of us is a knight"). Everyone speaks once, except that a person may stay silent at levels 2
and 3 (and at level 1 only A may speak).

>>> import numpy as np
>>> task = KnightsGenerator(difficulty=1).sample(np.random.default_rng(0))
>>> task.id.startswith("puzzles/knights/1/"), len(solve(task.metadata["statements"], 2))
(True, 1)
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import numpy as np

from convenv.tasks.base import Task
from convenv.tasks.levels import check_rng, draw_level, level_bounds, task_id

NAMES = "ABCD"
PEOPLE = {1: 2, 2: 3, 3: 4}
"""Number of people per difficulty level."""
TEMPLATES = {
    1: ("is", "all", "some", "same", "diff", "or", "count"),
    2: ("is", "all", "some", "same", "diff", "or", "count"),
    3: ("is", "all", "some", "same", "diff", "or", "count", "if"),
}
MAX_DRAWS = 5000
_NUMBER_WORDS = ("no", "one", "two", "three", "four")

Statement = tuple[Any, ...]
"""``("is", p, role)``, ``("all", people, role)``, ``("some", people, role)``, ``("same", p, q)``,
``("diff", p, q)``, ``("count", k, role)``, ``("or", s, t)``, ``("if", s, t)``; people are indices, roles bools
(True = knight), ``s`` and ``t`` are ``"is"`` statements."""


def role_name(knight: bool, plural: bool = False) -> str:
    """``"knight"``, ``"knave"``, ``"knights"`` or ``"knaves"``."""
    return ("knight" if knight else "knave") + ("s" if plural else "")


def holds(statement: Statement, world: Sequence[bool]) -> bool:
    """Whether ``statement`` is true when ``world[i]`` says if person ``i`` is a knight."""
    kind = statement[0]
    if kind == "is":
        return world[statement[1]] == statement[2]
    if kind == "all":
        return all(world[p] == statement[2] for p in statement[1])
    if kind == "some":
        return any(world[p] == statement[2] for p in statement[1])
    if kind == "same":
        return world[statement[1]] == world[statement[2]]
    if kind == "diff":
        return world[statement[1]] != world[statement[2]]
    if kind == "count":
        return sum(1 for w in world if w == statement[2]) == statement[1]
    if kind == "or":
        return holds(statement[1], world) or holds(statement[2], world)
    if kind == "if":
        return (not holds(statement[1], world)) or holds(statement[2], world)
    raise ValueError(f"expected a known statement kind, got {kind!r}")


def consistent(statements: Sequence[tuple[int, Statement]], world: Sequence[bool]) -> bool:
    """Whether every speaker is a knight exactly when what it says is true."""
    return all(world[speaker] == holds(s, world) for speaker, s in statements)


def solve(statements: Sequence[tuple[int, Statement]], n: int) -> list[tuple[bool, ...]]:
    """Every consistent assignment of ``n`` people (brute force over all ``2 ** n``)."""
    return [w for w in itertools.product((True, False), repeat=n) if consistent(statements, w)]


def _who(p: int, speaker: int) -> str:
    return "I" if p == speaker else NAMES[p]


def _is_text(s: Statement, speaker: int) -> str:
    p, role = s[1], s[2]
    verb = "am" if p == speaker else "is"
    return f"{_who(p, speaker)} {verb} a {role_name(role)}"


def render(statement: Statement, speaker: int, n: int) -> str:
    """The statement as the speaker would say it, e.g. ``"at least one of B and I is a knave"``."""
    kind = statement[0]
    if kind == "is":
        return _is_text(statement, speaker)
    if kind in ("all", "some"):
        people, role = statement[1], statement[2]
        if len(people) == n and n > 2:
            group = "us"
        else:
            others = [NAMES[p] for p in people if p != speaker]
            group = " and ".join(others + (["I"] if speaker in people else []))
            group = "us" if speaker in people and len(people) == 2 and n == 2 else group
        if kind == "all":
            both = "both " if len(people) == 2 else "all "
            if group == "us":
                return f"we are {both}{role_name(role, True)}"
            return f"{group} are {both}{role_name(role, True)}"
        return f"at least one of {group} is a {role_name(role)}"
    if kind in ("same", "diff"):
        p, q = statement[1], statement[2]
        a, b = (NAMES[q], "I") if p == speaker else (NAMES[p], "I") if q == speaker else (NAMES[p], NAMES[q])
        return f"{a} and {b} are {'the same kind' if kind == 'same' else 'of different kinds'}"
    if kind == "count":
        k, role = statement[1], statement[2]
        return f"exactly {_NUMBER_WORDS[k]} of us {'is a' if k == 1 else 'are'} {role_name(role, k != 1)}"
    if kind == "or":
        return f"{_is_text(statement[1], speaker)} or {_is_text(statement[2], speaker)}"
    return f"if {_is_text(statement[1], speaker)}, then {_is_text(statement[2], speaker)}"


def _is(rng: np.random.Generator, speaker: int, n: int) -> Statement:
    others = [p for p in range(n) if p != speaker]
    return ("is", others[int(rng.integers(len(others)))], bool(rng.integers(2)))


def _draw_statement(kind: str, speaker: int, n: int, rng: np.random.Generator) -> Statement:
    role = bool(rng.integers(2))
    others = [p for p in range(n) if p != speaker]
    if kind == "is":
        return _is(rng, speaker, n)
    if kind in ("all", "some"):
        if n > 2 and rng.random() < 0.3:
            return (kind, tuple(range(n)), role)
        pair = sorted((speaker, others[int(rng.integers(len(others)))]))
        if n > 2 and rng.random() < 0.4:  # two others, without the speaker
            pair = sorted(int(p) for p in rng.choice(others, size=2, replace=False))
        return (kind, tuple(pair), role)
    if kind in ("same", "diff"):
        q = others[int(rng.integers(len(others)))]
        if n > 2 and rng.random() < 0.4:
            p, q = sorted(int(x) for x in rng.choice(others, size=2, replace=False))
            return (kind, p, q)
        return (kind, speaker, q)
    if kind == "count":
        return ("count", int(rng.integers(1, n)), role)
    first = ("is", speaker, bool(rng.integers(2))) if rng.random() < 0.3 else _is(rng, speaker, n)
    second = _is(rng, speaker, n)
    if first[1] == second[1]:
        second = ("is", (second[1] + 1) % n, second[2])
        if second[1] == speaker:
            second = ("is", (second[1] + 1) % n, second[2])
    return (kind, first, second)


def _draw(level: int, rng: np.random.Generator) -> list[tuple[int, Statement]]:
    n = PEOPLE[level]
    templates = TEMPLATES[level]
    if level == 1:
        speakers = [0] if rng.random() < 0.3 else [0, 1]
    else:
        speakers = [p for p in range(n) if rng.random() >= 0.15] or [0]
    return [(p, _draw_statement(templates[int(rng.integers(len(templates)))], p, n, rng)) for p in speakers]


def fmt_assignment(world: Sequence[bool]) -> str:
    """``"A: knight, B: knave"``."""
    return ", ".join(f"{NAMES[i]}: {role_name(w)}" for i, w in enumerate(world))


def _capitalized(text: str) -> str:
    return text[:1].upper() + text[1:]


def render_prompt(statements: Sequence[tuple[int, Statement]], n: int) -> str:
    """The public puzzle: the rules, who speaks, and the answer format."""
    names = ", ".join(NAMES[: n - 1]) + f" and {NAMES[n - 1]}"
    said = "\n".join(f'{NAMES[p]} says: "{_capitalized(render(s, p, n))}."' for p, s in statements)
    silent = [NAMES[p] for p in range(n) if p not in {p for p, _ in statements}]
    quiet = f"\n{' and '.join(silent)} {'says' if len(silent) == 1 else 'say'} nothing." if silent else ""
    return (
        "On this island every person is a knight, who always tells the truth, or a knave, who always lies. "
        f"You meet {names}.\n{said}{quiet}\n"
        "Who is a knight and who is a knave? Answer with one line naming each person's role, in the form "
        "X: knight, Y: knave"
    )


def make_task(statements: Sequence[tuple[int, Statement]], n: int, difficulty: int) -> Task:
    """Assemble a task; raises ``ValueError`` unless exactly one assignment is consistent."""
    solutions = solve(statements, n)
    if len(solutions) != 1:
        raise ValueError(f"expected exactly one consistent assignment, got {len(solutions)}")
    world = solutions[0]
    prompt = render_prompt(statements, n)
    answer = fmt_assignment(world)
    checks = [
        f"{NAMES[p]} is a {role_name(world[p])} and '{render(s, p, n)}' is {'true' if holds(s, world) else 'false'}"
        for p, s in statements
    ]
    return Task(
        id=task_id("puzzles", "knights", difficulty, prompt),
        domain="puzzles",
        prompt=prompt,
        answer=answer,
        solution=f"{answer}. Check: " + "; ".join(checks) + ". No other assignment is consistent.",
        metadata={
            "family": "knights",
            "difficulty": difficulty,
            "people": n,
            "statements": tuple(statements),
            "roles": tuple(world),
        },
    )


def generate(difficulty: int, rng: np.random.Generator) -> Task:
    """One puzzle with exactly one solution at ``difficulty``, drawn with ``rng`` only."""
    level = level_bounds(difficulty)[0]
    check_rng(rng)
    n = PEOPLE[level]
    for _ in range(MAX_DRAWS):
        statements = _draw(level, rng)
        if len(solve(statements, n)) == 1:
            return make_task(statements, n, level)
    raise RuntimeError(f"no knights puzzle with one solution in {MAX_DRAWS} draws at level {level}; a bug")


class KnightsGenerator:
    """Knights-and-knaves puzzles with exactly one solution: a :class:`~convenv.tasks.base.TaskSource`.

    Args:
        difficulty: one level (1: two people, 2: three, 3: four) or an inclusive ``(low, high)`` range.
    """

    def __init__(self, difficulty: int | tuple[int, int] = (1, 3)):
        self.difficulty = level_bounds(difficulty)

    def sample(self, rng: np.random.Generator) -> Task:
        """Return one puzzle drawn with ``rng`` only."""
        return generate(draw_level(self.difficulty, check_rng(rng)), rng)

    def __repr__(self) -> str:
        return f"KnightsGenerator(difficulty={self.difficulty!r})"
