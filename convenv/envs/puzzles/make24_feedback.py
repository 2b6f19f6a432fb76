"""Scripted make-24 teachers: the opening message and feedback after each wrong expression.

Four policies, from least to most informative:

- ``"verdict"`` (:class:`VerdictOnly`): only says the expression does not work.
- ``"direction"`` (:class:`Direction`): "too high" / "too low", or that the numbers were not used exactly once.
- ``"locate"`` (:class:`ErrorLocating`): the value the expression reaches against the target, and which numbers
  are missing or used when they should not be (all computed from the student's own expression).
- ``"hints"`` (:class:`ProgressiveHints`): the locating message plus a partial hint from the stored solution:
  after the first attempt which two numbers to combine first, from the second on that first step with its
  result (``8 - 3 = 5``). Never more than one step of a solution, so never a full solution.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import numpy as np

from convenv.envs.policies import UNREAD, check_attempt, check_max_turns, make_policy, pick, signals
from convenv.tasks.base import Task
from convenv.tasks.puzzles.make24 import steps
from convenv.verifiers.base import Verdict
from convenv.verifiers.make24 import fmt_value

NOT_RIGHT = ("That doesn't work.", "Not quite.", "That isn't a solution.", "Not yet.")
TRY_AGAIN = ("Try again.", "Have another go.", "Give it another try.", "Please try once more.")
CORRECT = "That's correct. Well done!"
FORMAT = "Write one line such as: Answer: (1 + 2) * 3, using whole numbers, + - * / and parentheses only."


def _listing(values: Sequence[int]) -> str:
    words = [str(v) for v in values]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def numbers_message(verdict: Verdict) -> str | None:
    """Which numbers are missing or extra (None when they were used correctly)."""
    wrong = signals(verdict).get("numbers_used_wrong")
    if not wrong:
        return None
    parts = []
    if wrong.get("extra"):
        parts.append(f"you used {_listing(wrong['extra'])}, which the puzzle does not give you (or not that often)")
    if wrong.get("missing"):
        parts.append(f"you did not use {_listing(wrong['missing'])}")
    said = "; ".join(parts)
    return f"Use each given number exactly once: {said}."


def locate(task: Task, verdict: Verdict) -> str:
    """The value reached against the target, the numbers misused, or the expected format."""
    if verdict.error == "no_answer":
        return f"I couldn't find your expression. {FORMAT}"
    if verdict.error == "parse_error":
        return f"I couldn't read your expression. {FORMAT}"
    if verdict.error == "too_large":
        return f"Your expression is far too long. {FORMAT}"
    if verdict.error in ("timeout", "worker_crash"):
        return f"I couldn't check that expression. {FORMAT}"
    if verdict.error == "division_by_zero":
        return "Your expression divides by zero somewhere; that is not allowed."
    sig = signals(verdict)
    sentences = []
    value, target = sig.get("value"), task.metadata.get("target")
    if value is not None and target is not None and str(value) != str(target):
        sentences.append(f"Your expression equals {value}, but the target is {target}.")
    said = numbers_message(verdict)
    if said:
        sentences.append(said)
    return " ".join(sentences) or "Check your expression step by step."


class VerdictOnly:
    """Only says the expression does not work and asks for another.

    Args:
        max_turns: the env's turn limit (accepted for a common signature; unused).
    """

    name: ClassVar[str] = "verdict"

    def __init__(self, max_turns: int = 4):
        self.max_turns = check_max_turns(max_turns)

    def opening(self, task: Task) -> str:
        """The numbers, the target and the answer format (the task's prompt)."""
        return task.prompt

    def feedback(self, task: Task, verdict: Verdict, attempt: int, rng: np.random.Generator) -> str:
        """Say "not right, try again" in one of several phrasings (or the format when nothing was read)."""
        check_attempt(attempt)
        if verdict.correct:
            return CORRECT
        if verdict.error in UNREAD:
            return locate(task, verdict)
        return f"{pick(rng, NOT_RIGHT)} {pick(rng, TRY_AGAIN)}"


class Direction(VerdictOnly):
    """Says "too high" / "too low", or that the numbers were not used exactly once."""

    name: ClassVar[str] = "direction"

    def feedback(self, task: Task, verdict: Verdict, attempt: int, rng: np.random.Generator) -> str:
        """Direction of the miss, or which numbers were misused."""
        message = super().feedback(task, verdict, attempt, rng)
        if verdict.correct or verdict.error in UNREAD:
            return message
        sig = signals(verdict)
        if sig.get("numbers_used_wrong"):
            said = "You must use each given number exactly once."
        elif sig.get("direction") in ("too_high", "too_low"):
            said = f"Your expression comes out {sig['direction'].replace('_', ' ')}."
        else:
            return message
        return f"{pick(rng, NOT_RIGHT)} {said} {pick(rng, TRY_AGAIN)}"


class ErrorLocating(VerdictOnly):
    """The value reached against the target and the misused numbers (see :func:`locate`)."""

    name: ClassVar[str] = "locate"

    def feedback(self, task: Task, verdict: Verdict, attempt: int, rng: np.random.Generator) -> str:
        """A locating message."""
        check_attempt(attempt)
        if verdict.correct:
            return CORRECT
        if verdict.error in UNREAD:
            return locate(task, verdict)
        return f"{pick(rng, NOT_RIGHT)} {locate(task, verdict)}"


def first_step_hint(task: Task, attempt: int) -> str | None:
    """Attempt 1: which two numbers to combine first; later: that step with its result. None without a tree."""
    tree = task.metadata.get("solution_tree")
    if tree is None:
        return None
    a, op, b, result = steps(tree)[0]
    if attempt <= 1:
        return f"Hint: try combining {fmt_value(a)} and {fmt_value(b)} first."
    return f"Hint: one solution starts with {fmt_value(a)} {op} {fmt_value(b)} = {fmt_value(result)}."


class ProgressiveHints(ErrorLocating):
    """The locating message plus one step of a stored solution (see the module docstring)."""

    name: ClassVar[str] = "hints"

    def feedback(self, task: Task, verdict: Verdict, attempt: int, rng: np.random.Generator) -> str:
        """Locating message, then the hint for this attempt."""
        message = super().feedback(task, verdict, attempt, rng)
        hint = first_step_hint(task, attempt)
        return message if verdict.correct or hint is None else f"{message}\n{hint}"


FEEDBACK_POLICIES: dict[str, type[VerdictOnly]] = {
    "verdict": VerdictOnly,
    "direction": Direction,
    "locate": ErrorLocating,
    "hints": ProgressiveHints,
}


def make_feedback_policy(name: str, max_turns: int = 4) -> VerdictOnly:
    """Instantiate the policy registered as ``name`` in :data:`FEEDBACK_POLICIES`.

    Raises:
        ValueError: unknown name (the message lists the valid ones).
    """
    return make_policy(name, FEEDBACK_POLICIES, max_turns=max_turns)
