"""Scripted word-guessing teachers: the opening message and feedback after each wrong guess.

- ``"verdict"`` (:class:`VerdictOnly`): only says the guess is not the word.
- ``"letters"`` (:class:`LetterMarks`): per-letter marks of the guess, with a legend, e.g.
  ``C R A N E -> + ? - - +``.

Neither writes the hidden word: the marks spell out the student's own guess letter by letter, and every word the
teachers' sentences use is kept out of the word lists (a test checks :data:`TEACHER_VOCABULARY`), so the whole-word
leak check of :func:`convenv.leak.detect_leak` never fires on them.
"""

from __future__ import annotations

import re
from typing import ClassVar

import numpy as np

from convenv.envs.policies import UNREAD, check_attempt, check_max_turns, make_policy, pick, signals
from convenv.tasks.base import Task
from convenv.verifiers.base import Verdict

NOT_IT = ("No, that is not it.", "Not quite.", "Not yet.", "That is not the hidden word.")
TRY_AGAIN = ("Try again.", "Have another go.", "Guess again.", "Give it another try.")
CORRECT = "Yes, you found it. Well done!"
LEGEND = (
    "+ means the letter is in the word at this spot, ? means it is in the word at another spot, "
    "- means it is absent."
)
SHORT_LEGEND = "(+ this spot, ? another spot, - absent)"
OPENING_LEGEND = f"After each guess I will mark every letter: {LEGEND}"


def unread_message(task: Task, verdict: Verdict) -> str:
    """What to say when the guess could not be read or has the wrong length."""
    n = int(task.metadata.get("length") or len(task.answer))
    if verdict.error == "wrong_length":
        got = signals(verdict).get("guess_length")
        return f"Your guess has {got} letters, but the hidden word has {n}. Guess a {n}-letter word."
    if verdict.error == "parse_error":
        return f"Use letters only. Answer with one line: guess: followed by a {n}-letter word."
    return f"I couldn't find your guess. Answer with one line: guess: followed by a {n}-letter word."


def letter_marks(verdict: Verdict) -> str | None:
    """``"C R A N E -> + ? - - +"`` from the verdict's signals (None when there are none)."""
    sig = signals(verdict)
    guess, marked = sig.get("guess"), sig.get("marks")
    if not guess or not marked:
        return None
    return f"{' '.join(str(guess).upper())} -> {' '.join(marked)}"


class VerdictOnly:
    """Only says the guess is not the word.

    Args:
        max_turns: the env's turn limit (accepted for a common signature; unused).
    """

    name: ClassVar[str] = "verdict"

    def __init__(self, max_turns: int = 6):
        self.max_turns = check_max_turns(max_turns)

    def opening(self, task: Task) -> str:
        """The task's prompt."""
        return task.prompt

    def feedback(self, task: Task, verdict: Verdict, attempt: int, rng: np.random.Generator) -> str:
        """Say "not it, try again" in one of several phrasings (or the format when nothing was read)."""
        check_attempt(attempt)
        if verdict.correct:
            return CORRECT
        if verdict.error in (*UNREAD, "wrong_length"):
            return unread_message(task, verdict)
        return f"{pick(rng, NOT_IT)} {pick(rng, TRY_AGAIN)}"


class LetterMarks(VerdictOnly):
    """Per-letter marks of each guess (see :func:`convenv.tasks.puzzles.word_guess.marks`), with a legend."""

    name: ClassVar[str] = "letters"

    def opening(self, task: Task) -> str:
        """The task's prompt and the legend of the marks."""
        return f"{task.prompt}\n{OPENING_LEGEND}"

    def feedback(self, task: Task, verdict: Verdict, attempt: int, rng: np.random.Generator) -> str:
        """The marks line and a short legend."""
        message = super().feedback(task, verdict, attempt, rng)
        marked = letter_marks(verdict)
        if verdict.correct or marked is None:
            return message
        return f"{marked}   {SHORT_LEGEND}\n{pick(rng, TRY_AGAIN)}"


FEEDBACK_POLICIES: dict[str, type[VerdictOnly]] = {"verdict": VerdictOnly, "letters": LetterMarks}

_TEXTS = (*NOT_IT, *TRY_AGAIN, CORRECT, LEGEND, SHORT_LEGEND, OPENING_LEGEND)
_SAMPLE = Task(id="", domain="puzzles", prompt="", answer="sample", metadata={"length": 6})
_FORMATS = tuple(
    unread_message(_SAMPLE, Verdict(False, None, error, signals={"guess_length": 5}))
    for error in ("wrong_length", "parse_error", "no_answer")
)
TEACHER_VOCABULARY = frozenset(w.lower() for text in (*_TEXTS, *_FORMATS) for w in re.findall(r"[A-Za-z]+", text))
"""Every word the scripted teachers write; the word lists must not contain any of them."""


def make_feedback_policy(name: str, max_turns: int = 6) -> VerdictOnly:
    """Instantiate the policy registered as ``name`` in :data:`FEEDBACK_POLICIES`.

    Raises:
        ValueError: unknown name (the message lists the valid ones).
    """
    return make_policy(name, FEEDBACK_POLICIES, max_turns=max_turns)
