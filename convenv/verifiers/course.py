"""The course envs' check: read one integer from the student's text and compare it with the secret.

Runs inside :class:`~convenv.verifiers.pooled.PooledVerifier`'s killable worker (student text is hostile, even
when it is four characters long). Only a regular expression reads the text; nothing is evaluated.
"""

from __future__ import annotations

import re

from convenv.tasks.base import Task
from convenv.verifiers.base import Verdict

_INTEGER = re.compile(r"-?[0-9]+")
MAX_DIGITS = 12
"""A number with more digits than this is reported as ``too_large`` (no course answer is that long)."""


def check_integer(text: str, task: Task) -> Verdict:
    """Compare the last integer in ``text`` with ``task.answer`` (an integer in canonical form).

    Returns:
        A verdict with ``extracted`` (the integer read), ``error`` (``None``, ``"no_answer"``, ``"too_large"`` or
        ``"wrong_value"``) and ``signals["direction"]`` (``"too_high"`` / ``"too_low"``) for a wrong number.

    >>> task = Task(id="t", domain="course", prompt="1-31", answer="20")
    >>> check_integer("12", task).signals["direction"]
    'too_low'
    >>> check_integer("maybe 20", task).correct
    True
    >>> check_integer("?", task).error
    'no_answer'
    """
    found = _INTEGER.findall(text)
    if not found:
        return Verdict(False, None, "no_answer", "no integer in the message")
    said = found[-1]
    if len(said.lstrip("-")) > MAX_DIGITS:
        return Verdict(False, said[:MAX_DIGITS] + "...", "too_large", "the number is far too long")
    value, gold = int(said), int(task.answer)
    if value == gold:
        return Verdict(True, str(value), None, f"read {value}, the secret")
    direction = "too_high" if value > gold else "too_low"
    return Verdict(
        False, str(value), "wrong_value", f"read {value}, expected {gold}", signals={"direction": direction}
    )
