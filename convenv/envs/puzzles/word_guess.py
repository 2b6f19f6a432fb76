"""WordGuess-v0: find a hidden word by guessing; the teacher marks each letter (Wordle-like).

The teacher knows the hidden word; after every guess a teacher-only verifier report gives the per-letter marks.
The student sees the dialogue. The turn limit defaults to 6 guesses.

Leak rule: :func:`convenv.leak.detect_leak` (the hidden word, as a whole word, case-insensitively, more often than
the prompt and the student's own messages hold it). The scripted teachers spell the student's guess out letter by
letter and use no word from the lists, so they never trip it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from convenv.domain import Domain
from convenv.env import ConversationEnv
from convenv.envs.policies import verifier_report
from convenv.envs.puzzles.word_guess_feedback import FEEDBACK_POLICIES, make_feedback_policy
from convenv.leak import detect_leak, redact
from convenv.tasks.base import Task, TaskSource
from convenv.tasks.puzzles.word_guess import WordGuessGenerator
from convenv.tasks.puzzles.words import WORDS
from convenv.verifiers.pooled import PooledVerifier
from convenv.verifiers.word_guess import check

TEACHERS = tuple(FEEDBACK_POLICIES)
"""Names accepted by ``teacher=``."""

STUDENT_PROMPT = (
    "You are a student playing a word-guessing game with your teacher, who knows a hidden English word. Each "
    "turn, guess one word of the right length on a line of its own, like: guess: CRANE. After a wrong guess the "
    "teacher may mark each letter: + right letter in the right place, ? letter in the word but elsewhere, - "
    "letter not in the word. Use every mark to narrow the word down."
)

TEACHER_PROMPT = """You are the host of a word-guessing game. The student cannot see this message.
{prompt}
The hidden word (never write it): {answer}
After each guess a verifier report gives the marks of its letters (+ right place, ? elsewhere in the word, - not \
in the word). Reply with short feedback that helps the student without writing the hidden word."""


def teacher_prompt(task: Task) -> str:
    """The teacher's system prompt, carrying the hidden word."""
    return TEACHER_PROMPT.format(prompt=task.prompt, answer=task.answer.upper())


def format_answer(task: Task) -> str:
    """A correct attempt: ``"guess: WORD"``."""
    return f"guess: {task.answer.upper()}"


def wrong_answer(task: Task, rng: np.random.Generator) -> str:
    """Another word of the same length from the lists (or the hidden word with its first letter changed)."""
    options = [w for w in WORDS.get(len(task.answer), ()) if w != task.answer.lower()]
    if options:
        return f"guess: {options[int(rng.integers(len(options)))].upper()}"
    first = "b" if task.answer[:1].lower() == "a" else "a"
    return f"guess: {(first + task.answer[1:]).upper()}"


def make_domain(
    *,
    difficulty: int | tuple[int, int] = 2,
    teacher: str = "letters",
    tasks: TaskSource | None = None,
    max_turns: int = 6,
    verifier_timeout: float = 2.0,
) -> Domain:
    """The word-guessing domain; see :func:`make_env` for the arguments."""
    return Domain(
        name="WordGuess",
        tasks=tasks if tasks is not None else WordGuessGenerator(difficulty=difficulty),
        verifier=PooledVerifier(check, timeout=verifier_timeout),
        feedback=make_feedback_policy(teacher, max_turns=max_turns),
        student_prompt=lambda task: STUDENT_PROMPT,
        teacher_prompt=teacher_prompt,
        leak_check=detect_leak,
        redact=redact,
        format_answer=format_answer,
        wrong_answer=wrong_answer,
        verifier_report=verifier_report,
        description="Guess the hidden word; the teacher gives per-letter feedback",
    )


def make_env(
    *,
    difficulty: int | tuple[int, int] = 2,
    teacher: str = "letters",
    tasks: TaskSource | None = None,
    verifier_timeout: float = 2.0,
    **env_kwargs: Any,
) -> ConversationEnv:
    """Build WordGuess (registered as ``WordGuess-v0``).

    Args:
        difficulty: one level or an inclusive ``(low, high)`` range: the hidden word has 4 (level 1), 5 (level 2,
            the default) or 6 letters (level 3).
        teacher: the default scripted teacher: ``"verdict"`` or ``"letters"`` (per-letter marks).
        tasks: a task source to use instead of the generator (e.g. ``WordGuessGenerator(words=...)``).
        verifier_timeout: hard deadline, in seconds, of one check (the worker is killed past it).
        **env_kwargs: passed to :class:`~convenv.env.ConversationEnv`; ``max_turns`` defaults to 6 here.

    """
    env_kwargs.setdefault("max_turns", 6)
    domain = make_domain(
        difficulty=difficulty,
        teacher=teacher,
        tasks=tasks,
        max_turns=env_kwargs["max_turns"],
        verifier_timeout=verifier_timeout,
    )
    env_kwargs.setdefault("env_id", "WordGuess-v0")
    return ConversationEnv(domain, **env_kwargs)
