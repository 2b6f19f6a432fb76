"""Scripted knights-and-knaves teachers: the opening message and feedback after each wrong answer.

Three policies, from least to most informative:

- ``"verdict"`` (:class:`VerdictOnly`): only says the answer is wrong (or that someone's role is missing).
- ``"locate"`` (:class:`ErrorLocating`): names a statement that contradicts the student's *own* assignment ("with
  your answer, C's statement cannot hold: you call C a knight, but what C says would then be false"). It never
  says which people, nor how many, are wrong: with two people either would hand over the answer (flip them), and
  any wrong complete assignment contradicts at least one statement, so this message is always available and
  tells the student nothing it could not check itself.
- ``"hints"`` (:class:`ProgressiveHints`): the locating message plus, after each attempt, a statement to examine
  (the most constraining ones first). Only in the feedback before the student's last attempt (attempt
  ``max_turns - 1``) does it reveal one person's role: someone the student got wrong if any. That is never the
  whole answer (every puzzle has at least two people).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import ClassVar

import numpy as np

from convenv.envs.policies import UNREAD, check_attempt, check_max_turns, make_policy, pick, signals
from convenv.tasks.base import Task
from convenv.tasks.puzzles.knights import NAMES, Statement, holds, role_name
from convenv.verifiers.base import Verdict

NOT_RIGHT = ("That's not right.", "Not quite.", "That isn't correct.", "Not yet.")
TRY_AGAIN = ("Try again.", "Have another go.", "Give it another try.", "Please try once more.")
CORRECT = "That's correct. Well done!"
FORMAT = "Answer with one line naming each person's role, in the form X: knight, Y: knave."


def _names(names: Sequence[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def unread_message(task: Task, verdict: Verdict) -> str:
    """What to say when no claim was read or some people's roles are missing."""
    if verdict.error == "missing_people":
        missing = list(signals(verdict).get("missing") or ())
        if missing:
            return f"You did not say what {_names(missing)} {'is' if len(missing) == 1 else 'are'}. {FORMAT}"
    return f"I couldn't find your answer. {FORMAT}"


def contradiction(task: Task, verdict: Verdict) -> str | None:
    """A statement that the student's own assignment contradicts (None when there is none to name)."""
    inconsistent = list(signals(verdict).get("inconsistent") or ())
    assignment = str(signals(verdict).get("assignment") or "")
    if not inconsistent:
        return None
    speaker = inconsistent[0]
    called_knight = f"{speaker}: knight" in assignment
    if called_knight:
        return (
            f"With your answer, {speaker}'s statement cannot hold: you call {speaker} a knight, but what "
            f"{speaker} says would then be false."
        )
    return (
        f"With your answer, {speaker}'s statement cannot hold: you call {speaker} a knave, but what {speaker} "
        "says would then be true, and a knave never tells the truth."
    )


class VerdictOnly:
    """Only says the answer is wrong and asks for another.

    Args:
        max_turns: the env's turn limit (``"hints"`` reveals one role in the feedback before the last attempt).
    """

    name: ClassVar[str] = "verdict"

    def __init__(self, max_turns: int = 4):
        self.max_turns = check_max_turns(max_turns)

    def opening(self, task: Task) -> str:
        """The puzzle and the answer format (the task's prompt)."""
        return task.prompt

    def feedback(self, task: Task, verdict: Verdict, attempt: int, rng: np.random.Generator) -> str:
        """Say "not right, try again" in one of several phrasings (or what is missing)."""
        check_attempt(attempt)
        if verdict.correct:
            return CORRECT
        if verdict.error in (*UNREAD, "missing_people"):
            return unread_message(task, verdict)
        return f"{pick(rng, NOT_RIGHT)} {pick(rng, TRY_AGAIN)}"


class ErrorLocating(VerdictOnly):
    """Names a statement the student's own assignment contradicts (see the module docstring)."""

    name: ClassVar[str] = "locate"

    def feedback(self, task: Task, verdict: Verdict, attempt: int, rng: np.random.Generator) -> str:
        """A locating message."""
        message = super().feedback(task, verdict, attempt, rng)
        said = contradiction(task, verdict)
        if verdict.correct or verdict.error in (*UNREAD, "missing_people") or said is None:
            return message
        return f"{pick(rng, NOT_RIGHT)} {said}"


def statement_order(task: Task) -> list[str]:
    """Speakers ordered by how many assignments their statement alone rules out (most first, then by name)."""
    n = int(task.metadata["people"])
    worlds = list(itertools.product((True, False), repeat=n))

    def allowed(item: tuple[int, Statement]) -> int:
        speaker, statement = item
        return sum(1 for w in worlds if w[speaker] == holds(statement, w))

    ranked = sorted(task.metadata["statements"], key=lambda item: (allowed(item), item[0]))
    return [NAMES[p] for p, _ in ranked]


class ProgressiveHints(ErrorLocating):
    """The locating message, a statement to examine, and one person's role before the last attempt."""

    name: ClassVar[str] = "hints"

    def hint(self, task: Task, verdict: Verdict, attempt: int) -> str | None:
        """The hint after ``attempt`` (see the module docstring)."""
        if attempt >= self.max_turns - 1:
            roles = tuple(task.metadata["roles"])
            wrong = list(signals(verdict).get("wrong_people") or ()) + list(signals(verdict).get("missing") or ())
            name = wrong[0] if wrong else NAMES[0]
            return f"Hint: {name} is a {role_name(roles[NAMES.index(name)])}."
        order = statement_order(task)
        if not order:
            return None
        speaker = order[(attempt - 1) % len(order)]
        return (
            f"Hint: examine {speaker}'s statement. What would follow if {speaker} were a knight, and what if "
            f"{speaker} were a knave?"
        )

    def feedback(self, task: Task, verdict: Verdict, attempt: int, rng: np.random.Generator) -> str:
        """Locating message, then the hint for this attempt."""
        message = super().feedback(task, verdict, attempt, rng)
        hint = None if verdict.correct else self.hint(task, verdict, attempt)
        return message if hint is None else f"{message}\n{hint}"


FEEDBACK_POLICIES: dict[str, type[VerdictOnly]] = {
    "verdict": VerdictOnly,
    "locate": ErrorLocating,
    "hints": ProgressiveHints,
}


def make_feedback_policy(name: str, max_turns: int = 4) -> VerdictOnly:
    """Instantiate the policy registered as ``name`` in :data:`FEEDBACK_POLICIES`.

    Raises:
        ValueError: unknown name (the message lists the valid ones).
    """
    return make_policy(name, FEEDBACK_POLICIES, max_turns=max_turns)
