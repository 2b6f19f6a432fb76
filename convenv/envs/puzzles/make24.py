"""Make24-v0: reach the target with the given numbers, each used once, and ``+ - * /`` (countdown / make 24).

The teacher knows one solution; after every attempt a teacher-only verifier report gives the expression's exact
value and the numbers it misused. The student sees the numbers, the target and the dialogue.

Leak rule (:func:`make24_leak`): a teacher message leaks when it contains a complete expression that uses
exactly the given numbers (as a multiset) and equals the target. Expressions are read from runs of numbers,
operators and parentheses (``=`` and any other character end a run) with the same restricted parser as the
verifier; every sub-run is tried. The task's prompt and the student's own messages are public: an expression they
already hold is not counted.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from fractions import Fraction
from typing import Any

import numpy as np

from convenv.domain import Domain
from convenv.env import ConversationEnv
from convenv.envs.policies import verifier_report
from convenv.envs.puzzles.make24_feedback import FEEDBACK_POLICIES, make_feedback_policy
from convenv.leak import REDACTED, LeakReport
from convenv.tasks.base import Task, TaskSource
from convenv.tasks.puzzles.make24 import Make24Generator, Node, evaluate, fmt, leaves
from convenv.verifiers.make24 import ExpressionError, Token, check, evaluate_tokens, normalize
from convenv.verifiers.pooled import PooledVerifier

TEACHERS = tuple(FEEDBACK_POLICIES)
"""Names accepted by ``teacher=``."""

STUDENT_PROMPT = (
    "You are a student solving a number puzzle with your teacher: combine the given numbers, each exactly once, "
    "with + - * / and parentheses to reach the target. Reason briefly, then give one line such as: "
    "Answer: (8 - 4) * 6. If the teacher says you are wrong, use the feedback and try again."
)

TEACHER_PROMPT = """You are a patient teacher helping a student with a number puzzle. The student cannot see this \
message.
{prompt}
One solution (never state it, nor a complete expression that works): {solution}
After each attempt a verifier report gives the exact value of the student's expression and the numbers it \
misused. Reply with short feedback that helps without giving a solution away."""

_SCAN = re.compile(r"\d+|[-+*/()\u00d7\u00b7\u00f7\u2212\u2013]|(?<![A-Za-z])[xX](?![A-Za-z])")
_CANON = {"\u00d7": "*", "\u00b7": "*", "x": "*", "X": "*", "\u00f7": "/", "\u2212": "-", "\u2013": "-"}
MAX_SCANNED_TOKENS = 2000


def teacher_prompt(task: Task) -> str:
    """The teacher's system prompt, carrying the privileged solution."""
    return TEACHER_PROMPT.format(prompt=task.prompt, solution=task.solution)


def format_answer(task: Task) -> str:
    """A correct attempt: ``"Answer: <solution>"``."""
    return f"Answer: {task.answer}"


def _mutations(tree: Any) -> list[Any]:
    """Trees that differ from ``tree`` in exactly one operator."""
    if not isinstance(tree, Node):
        return []
    out = [Node(op, tree.left, tree.right) for op in "+-*/" if op != tree.op]
    out += [Node(tree.op, t, tree.right) for t in _mutations(tree.left)]
    out += [Node(tree.op, tree.left, t) for t in _mutations(tree.right)]
    return out


def wrong_answer(task: Task, rng: np.random.Generator) -> str:
    """A plausible wrong attempt: the stored solution with one operator changed (any value but the target)."""
    target = Fraction(task.metadata["target"])
    options = []
    for tree in _mutations(task.metadata["solution_tree"]):
        try:
            if evaluate(tree) != target:
                options.append(tree)
        except ZeroDivisionError:
            continue
    if options:
        return f"Answer: {fmt(options[int(rng.integers(len(options)))])}"
    numbers = list(leaves(task.metadata["solution_tree"]))
    return f"Answer: {' + '.join(map(str, numbers))} + 1"  # an extra number: wrong whatever the value


# --------------------------------------------------------------------------------------------------- leak check
def _runs(text: str) -> list[list[Token]]:
    """Maximal runs of expression tokens separated only by whitespace."""
    runs: list[list[Token]] = []
    last_end, count = None, 0
    for m in _SCAN.finditer(text):
        raw = m.group()
        kind = "num" if raw.isdigit() else "op"
        token = Token(kind, _CANON.get(raw, raw), m.start(), m.end())
        if last_end is None or text[last_end : m.start()].strip():
            runs.append([])
        runs[-1].append(token)
        last_end = m.end()
        count += 1
        if count >= MAX_SCANNED_TOKENS:
            break
    return runs


def _solutions(text: str, task: Task) -> tuple[tuple[int, int, str], ...]:
    """``(start, end, normalized)`` of every complete expression in ``text`` that solves the task."""
    return _find(text, tuple(sorted(int(n) for n in task.metadata["numbers"])), int(task.metadata["target"]))


@functools.lru_cache(maxsize=1024)  # the prompt and the student's messages are read again at every teacher turn
def _find(text: str, numbers: tuple[int, ...], whole: int) -> tuple[tuple[int, int, str], ...]:
    target = Fraction(whole)
    k, longest = len(numbers), 8 * len(numbers) + 8
    found = []
    for run in _runs(text):
        for i, first in enumerate(run):
            if first.kind != "num" and first.value != "(":
                continue
            count = 0
            for j in range(i, min(len(run), i + longest)):
                count += run[j].kind == "num"
                if count > k:
                    break
                if count < k or (run[j].kind != "num" and run[j].value != ")"):
                    continue
                piece = run[i : j + 1]
                try:
                    value, literals = evaluate_tokens(piece)
                except (ExpressionError, RecursionError):
                    continue
                if value == target and tuple(sorted(literals)) == numbers:
                    found.append((first.start, run[j].end, normalize(piece)))
    return tuple(found)


def _leaking(text: str, task: Task, public: Sequence[str]) -> list[tuple[int, int]]:
    allowed = {n for said in (task.prompt, *public) for _, _, n in _solutions(said, task)}
    return sorted({(s, e) for s, e, n in _solutions(text, task) if n not in allowed})


def make24_leak(text: str, task: Task, *, public: Sequence[str] = ()) -> LeakReport:
    """Report whether a teacher message writes out a complete solution (see the module docstring).

    Args:
        text: the teacher message.
        task: a make-24 task (``metadata["numbers"]``, ``metadata["target"]``).
        public: texts the student already wrote; an expression they already hold is not a leak.

    Returns:
        A :class:`~convenv.leak.LeakReport` whose ``matches`` are the solving expressions, verbatim.
    """
    spans = _leaking(text, task, public)
    return LeakReport(leaked=bool(spans), matches=tuple(text[s:e] for s, e in spans))


def make24_redact(text: str, task: Task, *, public: Sequence[str] = ()) -> str:
    """Replace every solving expression by ``[redacted]``; the result never leaks."""
    for _ in range(20):
        spans = _leaking(text, task, public)
        if not spans:
            return text
        pieces, pos = [], 0
        for s, e in spans:
            s = max(s, pos)
            if s < e:
                pieces += [text[pos:s], REDACTED]
                pos = e
        text = "".join(pieces) + text[pos:]
    return REDACTED


# ------------------------------------------------------------------------------------------------------ domain
def make_domain(
    *,
    difficulty: int | tuple[int, int] = 1,
    teacher: str = "hints",
    tasks: TaskSource | None = None,
    max_turns: int = 4,
    verifier_timeout: float = 2.0,
) -> Domain:
    """The make-24 domain; see :func:`make_env` for the arguments."""
    return Domain(
        name="Make24",
        tasks=tasks if tasks is not None else Make24Generator(difficulty=difficulty),
        verifier=PooledVerifier(check, timeout=verifier_timeout),
        feedback=make_feedback_policy(teacher, max_turns=max_turns),
        student_prompt=lambda task: STUDENT_PROMPT,
        teacher_prompt=teacher_prompt,
        leak_check=make24_leak,
        redact=make24_redact,
        format_answer=format_answer,
        wrong_answer=wrong_answer,
        verifier_report=verifier_report,
        description="Reach the target number with the given numbers and + - * / (countdown / make 24)",
    )


def make_env(
    *,
    difficulty: int | tuple[int, int] = 1,
    teacher: str = "hints",
    tasks: TaskSource | None = None,
    verifier_timeout: float = 2.0,
    **env_kwargs: Any,
) -> ConversationEnv:
    """Build Make24 (registered as ``Make24-v0``).

    Args:
        difficulty: one level or an inclusive ``(low, high)`` range: 1 is four numbers in 1..9 to 24, 2 is four
            numbers in 1..13 to a target in 10..99, 3 is five numbers (one of 25, 50, 75, 100) to 100..999.
        teacher: the default scripted teacher: ``"verdict"``, ``"direction"``, ``"locate"`` or ``"hints"``.
        tasks: a task source to use instead of the generator (tasks need ``metadata["numbers"]``,
            ``metadata["target"]`` and, for ``wrong_answer`` and the hints, ``metadata["solution_tree"]``).
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
    env_kwargs.setdefault("env_id", "Make24-v0")
    return ConversationEnv(domain, **env_kwargs)
