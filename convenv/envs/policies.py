"""Small pieces shared by the puzzle envs' scripted teachers and domains (maze, Make24, WordGuess, knights)."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

import numpy as np

from convenv.verifiers.base import Verdict

P = TypeVar("P")

UNREAD = ("no_answer", "parse_error", "too_large", "timeout", "worker_crash")
"""Verdict errors meaning nothing was judged yet: the teacher explains the format instead of saying "wrong"."""


def pick(rng: np.random.Generator, options: Sequence[str]) -> str:
    """One phrasing, chosen with ``rng``."""
    return options[int(rng.integers(len(options)))]


def check_attempt(attempt: int) -> None:
    """Raise ``ValueError`` unless ``attempt`` is a 1-based attempt number."""
    if isinstance(attempt, bool) or not isinstance(attempt, (int, np.integer)) or attempt < 1:
        raise ValueError(f"expected attempt to be a 1-based attempt number (1, 2, ...), got {attempt!r}")


def signals(verdict: Verdict) -> Mapping[str, Any]:
    """The verdict's signals, or an empty mapping when it has none."""
    return verdict.signals if isinstance(verdict.signals, Mapping) else {}


def make_policy(name: str, table: Mapping[str, Callable[..., P]], **kwargs: Any) -> P:
    """Instantiate ``table[name](**kwargs)``.

    Raises:
        ValueError: unknown name; the message lists the valid ones and the closest match.
    """
    if name not in table:
        close = difflib.get_close_matches(str(name), table, n=1)
        hint = f"did you mean {close[0]!r}?" if close else "pick one of them"
        raise ValueError(f"expected a feedback policy among {list(table)}, got {name!r}; {hint}")
    return table[name](**kwargs)


def check_max_turns(max_turns: Any) -> int:
    """``max_turns`` as a positive int (hint schedules are spread over the feedback turns before the limit)."""
    if isinstance(max_turns, bool) or not isinstance(max_turns, (int, np.integer)) or max_turns < 1:
        raise ValueError(f"expected max_turns >= 1 (an int), got {max_turns!r}; give the student a turn")
    return int(max_turns)


def verifier_report(verdict: Verdict) -> str:
    """The teacher-only report appended after each attempt (privileged: the detail may use the answer)."""
    if verdict.correct:
        return f"[verifier] correct: the attempt {verdict.extracted} solves the task."
    read = "no answer found" if verdict.extracted is None else f"read as {verdict.extracted}"
    detail = f" {verdict.detail}" if verdict.detail else ""
    return f"[verifier] wrong ({verdict.error or 'wrong_value'}): {read}.{detail}"


def ordinal(n: int) -> str:
    """``1st``, ``2nd``, ``3rd``, ``4th``, ..., ``11th``, ``21st``."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def add_hint(message: str, task: Any, verdict: Verdict, attempt: int) -> str:
    """``message`` plus ``task.hints[attempt - 1]`` (the last hint once they run out); unchanged when correct."""
    if verdict.correct or not task.hints:
        return message
    return f"{message}\nHint: {task.hints[min(attempt, len(task.hints)) - 1]}"
