"""Rule-based classification of a student turn: an answer attempt, a question, or something else.

Used by underspecified (sharded) envs, where asking before answering is the skill being measured. Pluggable:
any ``(text, task) -> "attempt" | "question" | "other"`` function can replace it.
"""

from __future__ import annotations

import re

from convenv.tasks.base import Task

_ATTEMPT = re.compile(
    r"\\boxed\s*\{|\banswer\s*(?:is|:|=)|```|^\s*def\s+\w+\s*\(|\bmoves?\s*:|\bguess\s*:",
    re.IGNORECASE | re.MULTILINE,
)
_QUESTION_START = re.compile(
    r"^(?:what|which|how|is|are|can|could|do|does|did|should|would|where|when|why|who|may|tell me|please tell)\b",
    re.IGNORECASE,
)
MAX_CHARS = 4000  # only the end of a long message is looked at (questions and answers come last)


def classify_turn(text: str, task: Task | None = None) -> str:
    r"""Return ``"attempt"`` (an answer marker or code), ``"question"`` or ``"other"``.

    >>> classify_turn("What is the price of one apple?")
    'question'
    >>> classify_turn(r"So the total is \boxed{12}.")
    'attempt'
    >>> classify_turn("Let me think.")
    'other'
    """
    text = text[-MAX_CHARS:].strip()
    if _ATTEMPT.search(text):
        return "attempt"
    sentences = [s.strip() for s in re.split(r"(?<=[.!?])\s+", text) if s.strip()]
    if not sentences:
        return "other"
    last = sentences[-1]
    if last.endswith("?") or _QUESTION_START.match(last) or any(s.endswith("?") for s in sentences):
        return "question"
    return "other"
