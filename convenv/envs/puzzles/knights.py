"""KnightsKnaves-v0: who is a knight (always truthful) and who is a knave (always lying)?

Puzzles have 2 to 4 people and exactly one solution. The teacher knows it; after every attempt a teacher-only
verifier report says whose roles are wrong. The student sees the statements and the dialogue.

Leak rule (:func:`knights_leak`): a teacher message leaks when it asserts every person's true role. An assertion
is a role claim (``B is a knave``, ``B: knave``, see :data:`convenv.verifiers.knights.CLAIM`) outside quoted
speech: text in double quotes and everything from "says" to the end of its sentence are skipped, so restating
the puzzle's statements is not a claim. A claim the student's own messages already make the same number of times
is not counted (quoting the student's answer back reveals nothing), which is also the rule's blind spot: a
teacher that *confirms* roles the student already wrote is not caught.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np

from convenv.domain import Domain
from convenv.env import ConversationEnv
from convenv.envs.policies import verifier_report
from convenv.envs.puzzles.knights_feedback import FEEDBACK_POLICIES, make_feedback_policy
from convenv.leak import REDACTED, LeakReport
from convenv.tasks.base import Task, TaskSource
from convenv.tasks.puzzles.knights import NAMES, KnightsGenerator, fmt_assignment
from convenv.verifiers.knights import check, claims
from convenv.verifiers.pooled import PooledVerifier

TEACHERS = tuple(FEEDBACK_POLICIES)
"""Names accepted by ``teacher=``."""

STUDENT_PROMPT = (
    "You are a student solving a logic puzzle with your teacher. Knights always tell the truth and knaves always "
    "lie. Reason briefly, then give every person's role on one line, for example: Answer: A: knight, B: knave. "
    "If the teacher says you are wrong, use the feedback and try again."
)

TEACHER_PROMPT = """You are a patient logic teacher. The student cannot see this message.
{prompt}
Solution (never state all the roles): {solution}
After each attempt a verifier report says whose roles are wrong. Reply with short feedback that helps the \
student find the mistake without giving the solution away."""

_QUOTED = re.compile(r"\"[^\"\n]*\"|\u201c[^\u201d\n]*\u201d|\bsays?\b[^\n]*?(?:[.!?](?=\s|$)|\n|$)")


def teacher_prompt(task: Task) -> str:
    """The teacher's system prompt, carrying the privileged solution."""
    return TEACHER_PROMPT.format(prompt=task.prompt, solution=task.solution)


def format_answer(task: Task) -> str:
    """A correct attempt: ``"Answer: A: knight, B: knave"``."""
    return f"Answer: {task.answer}"


def wrong_answer(task: Task, rng: np.random.Generator) -> str:
    """The solution with one or two roles flipped (never all of them when there are more than two people)."""
    roles = list(task.metadata["roles"])
    n = len(roles)
    flips = rng.choice(n, size=1 if n == 2 or rng.random() < 0.6 else 2, replace=False)
    for i in flips:
        roles[int(i)] = not roles[int(i)]
    return f"Answer: {fmt_assignment(roles)}"


# --------------------------------------------------------------------------------------------------- leak check
def _assertions(text: str) -> list[tuple[str, bool, int, int]]:
    """Role claims outside quoted speech."""
    quoted = [m.span() for m in _QUOTED.finditer(text)]
    return [c for c in claims(text) if not any(s <= c[2] < e for s, e in quoted)]


def _stated(text: str, task: Task, public: Sequence[str]) -> dict[int, list[tuple[int, int]]]:
    """Per person whose true role the text asserts more often than the public texts do: the claim spans."""
    n, roles = int(task.metadata["people"]), tuple(task.metadata["roles"])

    def true_claims(said: str) -> list[tuple[int, int, int]]:
        out = []
        for name, knight, s, e in _assertions(said):
            index = NAMES.find(name)
            if 0 <= index < n and roles[index] == knight:
                out.append((index, s, e))
        return out

    allowed = Counter(i for said in (task.prompt, *public) for i, _, _ in true_claims(said))
    found: dict[int, list[tuple[int, int]]] = {}
    for i, s, e in true_claims(text):
        found.setdefault(i, []).append((s, e))
    return {i: spans for i, spans in found.items() if len(spans) > allowed[i]}


def knights_leak(text: str, task: Task, *, public: Sequence[str] = ()) -> LeakReport:
    """Report whether a teacher message asserts every person's true role (see the module docstring).

    Args:
        text: the teacher message.
        task: a knights task (``metadata["people"]``, ``metadata["roles"]``).
        public: texts the student already wrote; their claims are not counted against the teacher.

    Returns:
        A :class:`~convenv.leak.LeakReport` whose ``matches`` are the asserted claims.
    """
    stated = _stated(text, task, public)
    if len(stated) < int(task.metadata["people"]):
        return LeakReport(leaked=False)
    spans = sorted(span for spans in stated.values() for span in spans)
    return LeakReport(leaked=True, matches=tuple(text[s:e] for s, e in spans))


def knights_redact(text: str, task: Task, *, public: Sequence[str] = ()) -> str:
    """Replace every true-role assertion of a leaking message by ``[redacted]``; the result never leaks."""
    stated = _stated(text, task, public)
    if len(stated) < int(task.metadata["people"]):
        return text
    pieces, pos = [], 0
    for s, e in sorted(span for spans in stated.values() for span in spans):
        pieces += [text[pos:s], REDACTED]
        pos = e
    return "".join(pieces) + text[pos:]


# ------------------------------------------------------------------------------------------------------ domain
def make_domain(
    *,
    difficulty: int | tuple[int, int] = (1, 3),
    teacher: str = "hints",
    tasks: TaskSource | None = None,
    max_turns: int = 4,
    verifier_timeout: float = 2.0,
) -> Domain:
    """The knights-and-knaves domain; see :func:`make_env` for the arguments."""
    return Domain(
        name="KnightsKnaves",
        tasks=tasks if tasks is not None else KnightsGenerator(difficulty=difficulty),
        verifier=PooledVerifier(check, timeout=verifier_timeout),
        feedback=make_feedback_policy(teacher, max_turns=max_turns),
        student_prompt=lambda task: STUDENT_PROMPT,
        teacher_prompt=teacher_prompt,
        leak_check=knights_leak,
        redact=knights_redact,
        format_answer=format_answer,
        wrong_answer=wrong_answer,
        verifier_report=verifier_report,
        description="Who is a knight, who is a knave? Logic puzzles with exactly one solution",
    )


def make_env(
    *,
    difficulty: int | tuple[int, int] = (1, 3),
    teacher: str = "hints",
    tasks: TaskSource | None = None,
    verifier_timeout: float = 2.0,
    **env_kwargs: Any,
) -> ConversationEnv:
    """Build KnightsKnaves (registered as ``KnightsKnaves-v0``).

    Args:
        difficulty: one level or an inclusive ``(low, high)`` range: 1 has two people, 2 three, 3 four.
        teacher: the default scripted teacher: ``"verdict"``, ``"locate"`` or ``"hints"`` (which reveals one
            person's role in the feedback before the last attempt; see
            :mod:`convenv.envs.puzzles.knights_feedback`).
        tasks: a task source to use instead of the generator (tasks need ``metadata["people"]``,
            ``metadata["roles"]`` and ``metadata["statements"]``).
        verifier_timeout: hard deadline, in seconds, of one check (the worker is killed past it).
        **env_kwargs: passed to :class:`~convenv.env.ConversationEnv` (``max_turns``, ``gamma``,
            ``tokenizer``, ``render_mode``, ``leak_policy``, ...).

    """
    domain = make_domain(
        difficulty=difficulty,
        teacher=teacher,
        tasks=tasks,
        max_turns=env_kwargs.get("max_turns", 4),
        verifier_timeout=verifier_timeout,
    )
    env_kwargs.setdefault("env_id", "KnightsKnaves-v0")
    return ConversationEnv(domain, **env_kwargs)
