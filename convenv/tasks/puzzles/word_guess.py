"""Word guessing with per-letter feedback (Wordle-like): hidden words and the marking rule.

Levels pick the word length: 1 is four letters, 2 five, 3 six (lists in :mod:`convenv.tasks.puzzles.words`).

Marks, one per letter of a guess: ``+`` the letter is in the word at this spot, ``?`` it is in the word at another
spot, ``-`` it is not in the word (or every copy of it is already accounted for). Exact matches are marked first;
a repeated letter then gets ``?`` only as many times as the word has unmatched copies of it.

>>> marks("speed", "abide")
'--?-?'
>>> import numpy as np
>>> task = WordGuessGenerator(difficulty=2).sample(np.random.default_rng(0))
>>> task.id.startswith("puzzles/word_guess/2/"), len(task.answer)
(True, 5)
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence

import numpy as np

from convenv.tasks.base import Task
from convenv.tasks.levels import check_rng, draw_level, level_bounds, task_id
from convenv.tasks.puzzles.words import WORDS

LENGTHS = {1: 4, 2: 5, 3: 6}
"""Word length per difficulty level."""
HIT, ELSEWHERE, ABSENT = "+", "?", "-"


def marks(guess: str, answer: str) -> str:
    """The per-letter marks of ``guess`` against ``answer`` (same length, compared case-insensitively)."""
    guess, answer = guess.lower(), answer.lower()
    if len(guess) != len(answer):
        raise ValueError(f"expected a guess of {len(answer)} letters, got {len(guess)}")
    out = [ABSENT] * len(guess)
    unmatched: Counter[str] = Counter()
    for i, (g, a) in enumerate(zip(guess, answer, strict=True)):
        if g == a:
            out[i] = HIT
        else:
            unmatched[a] += 1
    for i, g in enumerate(guess):
        if out[i] != HIT and unmatched[g] > 0:
            out[i] = ELSEWHERE
            unmatched[g] -= 1
    return "".join(out)


def render_prompt(length: int) -> str:
    """The public problem statement for a word of ``length`` letters."""
    return (
        f"I am thinking of a hidden {length}-letter English word. Find it by guessing.\n"
        f"Answer with one line: guess: followed by a {length}-letter word."
    )


def make_task(word: str, difficulty: int, salt: int) -> Task:
    """The task of hiding ``word``; ``salt`` (drawn from the generator) keeps the id from naming the word.

    A digest of the word alone could be inverted by hashing every word of the list, and task ids are public.
    """
    word = word.lower()
    return Task(
        id=task_id("puzzles", "word_guess", difficulty, salt, word),
        domain="puzzles",
        prompt=render_prompt(len(word)),
        answer=word,
        solution=f"The hidden word is {word.upper()}.",
        metadata={"family": "word_guess", "difficulty": difficulty, "length": len(word)},
    )


def generate(difficulty: int, rng: np.random.Generator, words: Mapping[int, Sequence[str]] = WORDS) -> Task:
    """One hidden word at ``difficulty`` (its length), drawn with ``rng`` only."""
    level = level_bounds(difficulty)[0]
    check_rng(rng)
    options = words[LENGTHS[level]]
    word = options[int(rng.integers(len(options)))]
    return make_task(word, level, int(rng.integers(2**63)))


class WordGuessGenerator:
    """Hidden words: a :class:`~convenv.tasks.base.TaskSource` over difficulty levels (word lengths).

    Args:
        difficulty: one level (1: four letters, 2: five, 3: six) or an inclusive ``(low, high)`` range.
        words: word lists by length (default :data:`~convenv.tasks.puzzles.words.WORDS`); lower-case letters.
    """

    def __init__(self, difficulty: int | tuple[int, int] = 2, words: Mapping[int, Sequence[str]] | None = None):
        self.difficulty = level_bounds(difficulty)
        self.words = dict(WORDS if words is None else words)
        for level in range(self.difficulty[0], self.difficulty[1] + 1):
            n = LENGTHS[level]
            listed = self.words.get(n, ())
            if not listed or any(len(w) != n or not (w.isascii() and w.isalpha()) for w in listed):
                raise ValueError(
                    f"expected a non-empty list of {n}-letter words (ASCII letters) for level {level}, got "
                    f"{len(listed)} words with some of the wrong form; pass words={{{n}: [...], ...}}"
                )

    def sample(self, rng: np.random.Generator) -> Task:
        """Return one hidden word drawn with ``rng`` only."""
        return generate(draw_level(self.difficulty, check_rng(rng)), rng, self.words)

    def __repr__(self) -> str:
        return f"WordGuessGenerator(difficulty={self.difficulty!r})"
