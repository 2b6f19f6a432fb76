"""Scripted maze teachers: the opening message and feedback after each wrong path.

Four policies, from least to most informative:

- ``"verdict"`` (:class:`VerdictOnly`): only says the path is not a solution.
- ``"direction"`` (:class:`GoalDirection`): the verdict plus where the goal lies (rows and columns away) from the
  square where the path stopped. The student could read that off the grid itself.
- ``"locate"`` (:class:`ErrorLocating`): the move at which the path first enters a wall or leaves the grid (with
  the square it came from), or that it passed the goal and went on, or how many moves from the goal it ends.
- ``"hints"`` (:class:`ProgressiveHints`): the locating message plus the first moves of a shortest path, more
  after each attempt, never more than half of it (the whole half by the feedback before the last attempt).

Their own sentences contain no move letters or direction words (which the leak check reads as moves): only the
hint's prefix does, and a prefix of at most half a shortest path can never reach the goal.
"""

from __future__ import annotations

import math
from typing import ClassVar

import numpy as np

from convenv.envs.policies import UNREAD, check_attempt, check_max_turns, make_policy, pick, signals
from convenv.tasks.base import Task
from convenv.tasks.maze import parse_path
from convenv.verifiers.base import Verdict

NOT_SOLVED = (
    "That path does not reach the goal.",
    "Not quite.",
    "That is not a solution yet.",
    "Not yet.",
    "That path does not work.",
)
TRY_AGAIN = ("Try again.", "Have another go.", "Give it another try.", "Take another look at the maze.")
CORRECT = "That path reaches the goal. Well done!"
FORMAT = (
    "Answer with one line that starts with 'moves:' followed by your moves, written as in the problem statement."
)


def square(pos: object) -> str:
    """``"row 2, column 3"`` for the 0-based position ``(1, 2)``."""
    r, c = pos  # type: ignore[misc]
    return f"row {int(r) + 1}, column {int(c) + 1}"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def locate(task: Task, verdict: Verdict) -> str:
    """Where the path goes wrong (or what format was expected when it could not be read)."""
    sig = signals(verdict)
    if verdict.error == "no_answer":
        return f"I couldn't find your moves. {FORMAT}"
    if verdict.error == "parse_error":
        return f"I couldn't read your moves. {FORMAT}"
    if verdict.error == "too_large":
        return "That is far too many moves: a path through this maze needs far fewer."
    if verdict.error in ("timeout", "worker_crash"):
        return f"I couldn't check that answer. {FORMAT}"
    wall, edge = sig.get("first_wall_at"), sig.get("left_grid_at")
    reached = sig.get("reached_goal_at")
    note = f" It had already arrived at the goal after move {reached}." if reached else ""
    if wall:
        return (
            f"Move {wall['step']} of your path runs into a wall: from {square(wall['position'])} it would enter "
            f"the wall at {square(wall['target'])}.{note}"
        )
    if edge:
        where = square(edge["position"])
        return f"Move {edge['step']} of your path goes off the edge of the grid from {where}.{note}"
    if reached:
        return f"Your path arrives at the goal after move {sig['reached_goal_at']} but then goes on. Stop there."
    distance, end = sig.get("distance_to_goal"), sig.get("end_position")
    if end is not None and distance is not None:
        return f"Your path ends at {square(end)}, still {_plural(int(distance), 'move')} from the goal."
    return "Your path does not end on the goal."


def goal_direction(task: Task, verdict: Verdict) -> str | None:
    """Rows and columns from where the path stopped to the goal (None when the path was not read)."""
    end, goal = signals(verdict).get("end_position"), task.metadata.get("goal")
    if end is None or goal is None:
        return None
    rows, cols = int(goal[0]) - int(end[0]), int(goal[1]) - int(end[1])
    parts = []
    if rows:
        parts.append(f"{_plural(abs(rows), 'row')} {'below' if rows > 0 else 'above'}")
    if cols:
        parts.append(f"{_plural(abs(cols), 'column')} {'east' if cols > 0 else 'west'}")
    where = " and ".join(parts) if parts else "exactly there"
    return f"Your path stops at {square(end)}; the goal is {where} of that square."


class VerdictOnly:
    """Only says the path is not a solution and asks for another, with phrasing varied by ``rng``.

    Args:
        max_turns: the env's turn limit (used by :class:`ProgressiveHints` to pace its hints).
    """

    name: ClassVar[str] = "verdict"

    def __init__(self, max_turns: int = 4):
        self.max_turns = check_max_turns(max_turns)

    def opening(self, task: Task) -> str:
        """The maze and the answer format (the task's prompt)."""
        return task.prompt

    def feedback(self, task: Task, verdict: Verdict, attempt: int, rng: np.random.Generator) -> str:
        """Say "not a solution, try again" in one of several phrasings."""
        check_attempt(attempt)
        if verdict.correct:
            return CORRECT
        if verdict.error in UNREAD:
            return locate(task, verdict)
        return f"{pick(rng, NOT_SOLVED)} {pick(rng, TRY_AGAIN)}"


class GoalDirection(VerdictOnly):
    """The verdict plus the goal's offset from where the path stopped."""

    name: ClassVar[str] = "direction"

    def feedback(self, task: Task, verdict: Verdict, attempt: int, rng: np.random.Generator) -> str:
        """Verdict and direction, or the format when nothing was read."""
        message = super().feedback(task, verdict, attempt, rng)
        said = goal_direction(task, verdict)
        if verdict.correct or verdict.error in UNREAD or said is None:
            return message
        return f"{pick(rng, NOT_SOLVED)} {said} {pick(rng, TRY_AGAIN)}"


class ErrorLocating(VerdictOnly):
    """Where the path first goes wrong (see :func:`locate`)."""

    name: ClassVar[str] = "locate"

    def feedback(self, task: Task, verdict: Verdict, attempt: int, rng: np.random.Generator) -> str:
        """A locating message."""
        check_attempt(attempt)
        if verdict.correct:
            return CORRECT
        if verdict.error in UNREAD:
            return locate(task, verdict)
        return f"{pick(rng, NOT_SOLVED)} {locate(task, verdict)}"


class ProgressiveHints(ErrorLocating):
    """The locating message plus the first moves of a shortest path: at most half of it, more each attempt."""

    name: ClassVar[str] = "hints"

    def hint_length(self, task: Task, attempt: int) -> int:
        """Moves revealed after ``attempt``: rising to half the shortest path by the feedback before the limit."""
        half = len(parse_path(task.answer)) // 2
        feedback_turns = max(1, self.max_turns - 1)
        return min(half, math.ceil(half * attempt / feedback_turns))

    def feedback(self, task: Task, verdict: Verdict, attempt: int, rng: np.random.Generator) -> str:
        """Locating message, then the start of a shortest path."""
        message = super().feedback(task, verdict, attempt, rng)
        n = self.hint_length(task, attempt)
        if verdict.correct or n < 1:
            return message
        prefix = " ".join(parse_path(task.answer)[:n])
        return f"{message}\nHint: a shortest path begins with {prefix}"


FEEDBACK_POLICIES: dict[str, type[VerdictOnly]] = {
    "verdict": VerdictOnly,
    "direction": GoalDirection,
    "locate": ErrorLocating,
    "hints": ProgressiveHints,
}


def make_feedback_policy(name: str, max_turns: int = 4) -> VerdictOnly:
    """Instantiate the policy registered as ``name`` in :data:`FEEDBACK_POLICIES`.

    Raises:
        ValueError: unknown name (the message lists the valid ones).
    """
    return make_policy(name, FEEDBACK_POLICIES, max_turns=max_turns)
