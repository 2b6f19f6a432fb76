"""The word-guess check: read one guessed word from hostile text and mark its letters.

:func:`check` runs in the killable worker. The guess is the word after the last ``guess:`` marker, else the last
non-empty line when it is a single word (surrounding quotes and punctuation are ignored). Only ASCII letters
count; the comparison ignores case. Any letters of the right length are accepted as a guess: there is no
dictionary check.
"""

from __future__ import annotations

import re

from convenv.tasks.base import Task
from convenv.tasks.puzzles.word_guess import marks
from convenv.verifiers.base import Verdict

MAX_GUESS_CHARS = 40
"""Longest guess read (a longer token is refused as ``too_large``)."""

_MARKER = re.compile(r"\bguess\s*:[ \t]*(\S*)", re.IGNORECASE)
_WORD = re.compile(r"[A-Za-z]+")
_TRIM = "\"'`*.,;:!?()[]{}<>"


def extract_guess(text: str) -> str | None:
    """The guessed token (not yet validated), or None when there is none."""
    markers = list(_MARKER.finditer(text))
    if markers:
        return markers[-1].group(1).strip(_TRIM) or None
    lines = [line.strip() for line in text.strip().split("\n") if line.strip()]
    if not lines:
        return None
    words = lines[-1].split()
    if len(words) != 1:
        return None
    return words[0].strip(_TRIM) or None


def check(text: str, task: Task) -> Verdict:
    """The verdict on ``text`` as a guess of ``task.answer`` (run it through a pooled verifier).

    Errors: ``no_answer``, ``parse_error`` (not letters), ``too_large``, ``wrong_length``, ``wrong_value``.
    Signals: ``guess`` (upper case), ``guess_length``, ``marks`` (one of ``+ ? -`` per letter, see
    :func:`convenv.tasks.puzzles.word_guess.marks`).
    """
    token = extract_guess(text)
    if token is None:
        return Verdict(False, None, "no_answer", "no guess found (expected a line 'guess: WORD')")
    if len(token) > MAX_GUESS_CHARS:
        return Verdict(False, None, "too_large", f"expected a word of at most {MAX_GUESS_CHARS} letters")
    if not _WORD.fullmatch(token):
        shown = token if len(token) <= 20 else token[:20] + "..."
        return Verdict(False, None, "parse_error", f"expected a word of ASCII letters, got {shown!r}")
    guess, answer = token.upper(), task.answer.upper()
    if len(guess) != len(answer):
        detail = f"the guess has {len(guess)} letters, the hidden word {len(answer)}"
        return Verdict(False, guess, "wrong_length", detail, {"guess": guess, "guess_length": len(guess)})
    marked = marks(guess, answer)
    signals = {"guess": guess, "guess_length": len(guess), "marks": marked}
    if guess == answer:
        return Verdict(True, guess, None, "the guess is the hidden word", signals)
    return Verdict(False, guess, "wrong_value", f"marks {marked} against {answer}", signals)
