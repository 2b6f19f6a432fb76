"""A domain: what one kind of problem needs (tasks, verifier, scripted teacher, prompts, leak check).

A :class:`ConversationEnv` *has* a domain; adding an env means writing a domain, not subclassing the env.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np

from convenv.tasks.base import Task, TaskSource
from convenv.verifiers.base import Verdict, Verifier


@runtime_checkable
class FeedbackPolicy(Protocol):
    """A scripted teacher's text policy: the opening message and the feedback after each wrong attempt.

    A policy that needs more than the last verdict (e.g. to answer the student's question, or to pick which shard
    of an underspecified task to reveal) may also define ``respond(task, info, rng) -> str``; the scripted
    teacher then calls it for every message after the opening, with the teacher's full ``info`` (``verdict``,
    ``turn_kind``, ``last_message``, ``shards_revealed``, ...).
    """

    name: str

    def opening(self, task: Task) -> str:
        """The teacher's first message: the problem and the expected answer format."""
        ...

    def feedback(self, task: Task, verdict: Verdict, attempt: int, rng: np.random.Generator) -> str:
        """Feedback after student attempt number ``attempt`` (1-based) was verified wrong; never the answer."""
        ...


@dataclass
class Domain:
    """Everything domain-specific that a :class:`~convenv.env.ConversationEnv` composes.

    Attributes:
        name: env family name, e.g. ``"MathTutor"``.
        tasks: where tasks come from (sampled with the env's generator).
        verifier: checks each student attempt; owns worker processes (closed by ``env.close()``).
        feedback: the default scripted teacher's policy.
        student_prompt: the student's system prompt for a task (public knowledge only).
        teacher_prompt: the teacher's system prompt for a task (carries the privileged knowledge).
        leak_check: ``(teacher_text, task, public=texts) -> report`` with a boolean ``leaked`` and ``matches``;
            ``public`` are texts the student already knows (its own messages), which never count as leaks.
        redact: ``(teacher_text, task, public=texts) -> text`` with leaked spans removed.
        format_answer: a correct attempt for a task (oracle students, tests).
        wrong_answer: a plausible wrong attempt for a task.
        verifier_report: text of the teacher-only report appended after each attempt.
        classify: ``(student_text, task) -> "attempt" | "question" | "other"``; None treats every student turn
            as an attempt. Only attempts are verified.
        revealed_shards: ``(task, teacher_text) -> indices`` of ``task.shards`` a teacher message reveals; None
            uses :func:`shards_in_text` (a shard is revealed when its text appears in the message).
        description: one line for ``convenv list`` and env cards.
    """

    name: str
    tasks: TaskSource
    verifier: Verifier
    feedback: FeedbackPolicy
    student_prompt: Callable[[Task], str]
    teacher_prompt: Callable[[Task], str]
    leak_check: Callable[[str, Task], Any]
    redact: Callable[[str, Task], str]
    format_answer: Callable[[Task], str]
    wrong_answer: Callable[[Task, np.random.Generator], str]
    verifier_report: Callable[[Verdict], str]
    classify: Callable[[str, Task], str] | None = None
    revealed_shards: Callable[[Task, str], Iterable[int]] | None = None
    description: str = ""


def shards_in_text(task: Task, text: str) -> frozenset[int]:
    """Indices of the task's shards whose text appears in ``text`` (case- and whitespace-insensitive)."""
    said = " ".join(text.lower().split())
    return frozenset(i for i, shard in enumerate(task.shards) if " ".join(shard.lower().split()) in said)
