"""Verdicts: what a verifier tells the teacher about one student attempt."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from convenv.tasks.base import Task


@dataclass(frozen=True)
class Verdict:
    """The result of checking one attempt.

    Attributes:
        correct: whether the attempt is verified correct.
        extracted: the answer found in the student's text, as a normalized string (None if none was found).
        error: a machine-readable signal, None when the attempt parsed. One of ``"no_answer"``,
            ``"parse_error"``, ``"too_large"``, ``"timeout"``, ``"worker_crash"``, ``"wrong_value"``,
            ``"wrong_form"`` (e.g. a number where a set of roots was expected), ``"wrong_count"``.
        detail: a human-readable report for the teacher. Privileged: it may mention the gold answer.
        signals: structured facts a scripted teacher can use without re-checking, e.g.
            ``{"direction": "too_high"}`` for a number, ``{"parts": [True, False]}`` for the components
            of a tuple or set (True = that part is right).

    """

    correct: bool
    extracted: str | None = None
    error: str | None = None
    detail: str = ""
    signals: Mapping[str, Any] = field(default_factory=dict)


@runtime_checkable
class Verifier(Protocol):
    """Checks a student's text against a task. Must return within its deadline, whatever the text."""

    def verify(self, text: str, task: Task) -> Verdict:
        """Return the verdict on ``text`` as an attempt at ``task``."""
        ...

    def close(self) -> None:
        """Release worker processes; the verifier may be used again afterwards (it restarts lazily)."""
        ...
