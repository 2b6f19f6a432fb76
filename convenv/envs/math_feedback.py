"""Scripted math teachers: text policies that open a problem and react to verified wrong attempts.

Four policies, from least to most informative:

- ``"verdict"`` (:class:`VerdictOnly`): only says the attempt is wrong and asks for another.
- ``"direction"`` (:class:`Direction`): "too high" / "too low" for numbers; which part of a pair, or too many /
  too few values in a set; otherwise as ``"verdict"``.
- ``"locate"`` (:class:`ErrorLocating`): which part of the answer is wrong, what form was expected when the
  answer could not be read, and where to look for the mistake.
- ``"hints"`` (:class:`ProgressiveHints`): the locating message plus hint ``k`` of the task after attempt ``k``.

None of them reveals the answer: their own sentences contain no digits, they never quote the solution, and the
task's hints are screened with :func:`convenv.leak.detect_leak` when the task is generated. The lead's env wraps
a policy into a token-level teacher agent.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence
from fractions import Fraction
from typing import Any, ClassVar

import numpy as np

from convenv.envs.policies import add_hint, check_attempt, pick
from convenv.tasks.base import Task
from convenv.tasks.math.common import fmt_decimal, fmt_number, fmt_poly, fmt_set, fmt_tuple
from convenv.verifiers.base import Verdict

__all__ = [
    "FEEDBACK_POLICIES",
    "Direction",
    "ErrorLocating",
    "ProgressiveHints",
    "VerdictOnly",
    "answer_kind",
    "expected_form",
    "format_answer",
    "locate",
    "make_feedback_policy",
    "opening_message",
    "wrong_answer",
]

NOT_RIGHT = ("That's not right.", "Not quite.", "That isn't correct.", "Not yet.", "That answer is not correct.")
TRY_AGAIN = (
    "Try again.",
    "Have another go.",
    "Give it another try.",
    "Please try once more.",
    "Take another look.",
)
CORRECT = "That's correct. Well done!"
_WORDS = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")
_ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth")
_NUMBER_ADVICE = {
    "arithmetic": "Recheck each operation in order: brackets, powers, multiplication and division, then addition "
    "and subtraction.",
    "fractions": "Check each common denominator, and simplify only at the end.",
    "linear": "That value of x does not satisfy the equation: substitute it into both sides to find the step "
    "that went wrong.",
    "system": "Substitute your pair into both equations to see which one fails.",
    "word": "Check which quantities the question combines and which operation each step needs.",
}
_RADICANDS = (2, 3, 5, 6, 7, 10, 11)
_UNREAD = ("no_answer", "parse_error", "timeout", "worker_crash")


def _count(n: int) -> str:
    return _WORDS[n] if 0 <= n < len(_WORDS) else "several"


def _ordinal(i: int) -> str:
    return _ORDINALS[i] if 0 <= i < len(_ORDINALS) else "one"


def answer_kind(task: Task) -> str | None:
    """``"number"``, ``"set"``, ``"tuple"``, ``"expression"``, or None when it cannot be told from the task."""
    kind = task.metadata.get("answer_kind")
    if kind is not None:
        return str(kind)
    s = task.answer.strip()
    if s.startswith(("{", "\\{")):
        return "set"
    if s.startswith("(") and s.endswith(")") and "," in s:
        return "tuple"
    try:
        Fraction(s.replace(",", ""))
    except (ValueError, ZeroDivisionError):
        return None
    return "number"


def _variables(task: Task) -> tuple[str, ...]:
    return tuple(task.metadata.get("variables") or ())


def _noun(task: Task) -> str:
    return "root" if task.metadata.get("family") == "quadratic" else "solution"


def expected_form(task: Task) -> str:
    """A digit-free description of the answer form the task expects."""
    kind = answer_kind(task)
    if kind == "number":
        return "a single number: an integer, a fraction a/b or a decimal"
    if kind == "set":
        return f"the set of all {_noun(task)}s in braces, like {{a, b}}, each listed once"
    if kind == "tuple":
        names = _variables(task)
        return f"the pair {fmt_tuple(list(names))}" if names else "a tuple of values in parentheses"
    if kind == "expression":
        return "a polynomial in x in standard form, with ^ for powers, like a*x^2 + b*x + c"
    return "a single final answer"


def _signals(verdict: Verdict) -> Mapping[str, Any]:
    return verdict.signals if isinstance(verdict.signals, Mapping) else {}


def _direction(verdict: Verdict) -> str | None:
    d = _signals(verdict).get("direction")
    return {"too_high": "too high", "too_low": "too low"}.get(str(d)) if d is not None else None


def _tuple_parts(task: Task, parts: Sequence[bool]) -> str:
    names = _variables(task)
    label = (lambda i: f"value of {names[i]}") if len(names) == len(parts) else (lambda i: f"{_ordinal(i)} value")
    wrong = [i for i, ok in enumerate(parts) if not ok]
    right = [i for i, ok in enumerate(parts) if ok]
    if not wrong:
        return "Each value looks right on its own, so check the form of your answer."
    if not right:
        return "None of your values is right yet."
    said = " and ".join(f"your {label(i)}" for i in wrong)
    kept = " and ".join(label(i) for i in right)
    return f"{said[0].upper()}{said[1:]} {'is' if len(wrong) == 1 else 'are'} wrong; your {kept} is right."


def _set_sizes(verdict: Verdict) -> tuple[int | None, int, int]:
    """(number of values the student listed or None, missing, extra)."""
    sig = _signals(verdict)
    parts = sig.get("parts")
    listed: int | None = len(parts) if isinstance(parts, Sequence) else None
    if listed is None and verdict.extracted:
        inner = verdict.extracted.strip().strip("{}").strip()
        listed = inner.count(",") + 1 if inner else 0
    return listed, int(sig.get("missing") or 0), int(sig.get("extra") or 0)


def _set_count_message(task: Task, verdict: Verdict) -> str:
    """Too many / too few / right number of values, without saying which."""
    noun = _noun(task)
    listed, missing, extra = _set_sizes(verdict)
    if task.metadata.get("family") == "quadratic" and listed is not None and listed > 2:
        return f"You gave {_count(listed)} values, but a quadratic has at most two {noun}s."
    if missing > extra:
        return f"You listed too few values: at least one {noun} is missing."
    if extra > missing:
        return f"You listed too many values: some of them are not {noun}s."
    return f"You have the right number of values, but not all of them are {noun}s."


def _set_locate(task: Task, verdict: Verdict) -> str:
    noun = _noun(task)
    sig = _signals(verdict)
    parts = sig.get("parts")
    _, missing, _ = _set_sizes(verdict)
    sentences = []
    if isinstance(parts, Sequence) and parts:
        wrong = [i for i, ok in enumerate(parts) if not ok]
        if len(parts) == 1 and wrong:
            sentences.append(f"That value is not a {noun}.")
        elif len(wrong) == 1:
            sentences.append(f"The {_ordinal(wrong[0])} value you listed is not a {noun}.")
        elif wrong:
            sentences.append(f"{_count(len(wrong)).capitalize()} of your values are not {noun}s.")
    if missing:
        sentences.append(f"You are missing {_count(missing)} {noun}{'s' if missing > 1 else ''}.")
    if not sentences:
        sentences.append(_set_count_message(task, verdict))
    sentences.append("Substitute each value back into the equation to check it.")
    return " ".join(sentences)


def _number_locate(task: Task, verdict: Verdict) -> str:
    advice = _NUMBER_ADVICE.get(str(task.metadata.get("family")), "Check your last steps carefully.")
    direction = _direction(verdict)
    return f"Your answer is {direction}. {advice}" if direction else advice


def locate(task: Task, verdict: Verdict) -> str:
    """Say which part of the answer is wrong, or what form was expected if it could not be read."""
    error, kind, form = verdict.error, answer_kind(task), expected_form(task)
    parts = _signals(verdict).get("parts")
    if error == "no_answer":
        return f"I couldn't find a final answer in your message. Write it as {form}, inside \\boxed{{...}}."
    if error == "parse_error":
        return f"I couldn't read your final answer. Write it as {form}, in plain notation."
    if error == "too_large":
        return "Your answer is far too large to be right. Look for a step where a number blew up."
    if error in ("timeout", "worker_crash"):
        return f"I couldn't check that answer. Simplify it and write it as {form}."
    if error == "wrong_form":
        return f"Your answer has the wrong form: I expected {form}."
    if error == "wrong_count" and kind == "tuple":
        return f"Your answer has the wrong number of values: I expected {form}."
    if kind == "set":
        return _set_locate(task, verdict) if error != "wrong_count" else _set_count_message(task, verdict)
    if kind == "tuple" and isinstance(parts, Sequence) and parts:
        return _tuple_parts(task, parts)
    if kind == "expression":
        return (
            "Your polynomial is not equal to the expanded expression. Compare the coefficient of each power "
            "of x with your working."
        )
    return _number_locate(task, verdict)


def opening_message(task: Task) -> str:
    r"""The problem as stated in the task, then the answer-format instruction (ends with ``\boxed{...}``)."""
    return f"{task.prompt}\nShow your reasoning, then put your final answer in \\boxed{{...}}"


class VerdictOnly:
    """Only says the attempt is wrong and asks for another, with phrasing varied by ``rng``."""

    name: ClassVar[str] = "verdict"

    def opening(self, task: Task) -> str:
        """The problem and the expected answer format."""
        return opening_message(task)

    def feedback(self, task: Task, verdict: Verdict, attempt: int, rng: np.random.Generator) -> str:
        """Say "not right, try again" in one of several phrasings."""
        check_attempt(attempt)
        if verdict.correct:
            return CORRECT
        return f"{pick(rng, NOT_RIGHT)} {pick(rng, TRY_AGAIN)}"


class Direction(VerdictOnly):
    """Says "too high" / "too low" for numbers, which parts of a pair, too many or too few values in a set."""

    name: ClassVar[str] = "direction"

    def feedback(self, task: Task, verdict: Verdict, attempt: int, rng: np.random.Generator) -> str:
        """Direction of the error when the verifier measured one, else the bare verdict."""
        check_attempt(attempt)
        if verdict.correct:
            return CORRECT
        kind, sig = answer_kind(task), _signals(verdict)
        said = None
        if verdict.error in (None, "wrong_value", "wrong_count"):
            direction = _direction(verdict)
            parts = sig.get("parts")
            if direction:
                said = f"Your answer is {direction}."
            elif kind == "tuple" and isinstance(parts, Sequence) and parts:
                said = _tuple_parts(task, parts)
            elif kind == "set" and (parts or sig.get("missing") or sig.get("extra") or verdict.extracted):
                said = _set_count_message(task, verdict)
        if said is None:
            return super().feedback(task, verdict, attempt, rng)
        return f"{pick(rng, NOT_RIGHT)} {said} {pick(rng, TRY_AGAIN)}"


class ErrorLocating(VerdictOnly):
    """Which part of the answer is wrong, the expected form when it could not be read, and where to look."""

    name: ClassVar[str] = "locate"

    def feedback(self, task: Task, verdict: Verdict, attempt: int, rng: np.random.Generator) -> str:
        """A locating message (see :func:`locate`)."""
        check_attempt(attempt)
        if verdict.correct:
            return CORRECT
        if verdict.error in _UNREAD:  # nothing was judged yet: explain the format, do not call it wrong
            return locate(task, verdict)
        return f"{pick(rng, NOT_RIGHT)} {locate(task, verdict)}"


class ProgressiveHints(ErrorLocating):
    """The locating message plus ``task.hints[attempt - 1]`` (the last hint once they run out)."""

    name: ClassVar[str] = "hints"

    def feedback(self, task: Task, verdict: Verdict, attempt: int, rng: np.random.Generator) -> str:
        """Locating message, then the hint for this attempt."""
        return add_hint(super().feedback(task, verdict, attempt, rng), task, verdict, attempt)


FEEDBACK_POLICIES: dict[str, type[VerdictOnly]] = {
    "verdict": VerdictOnly,
    "direction": Direction,
    "locate": ErrorLocating,
    "hints": ProgressiveHints,
}


def make_feedback_policy(name: str) -> VerdictOnly:
    """Instantiate the policy registered as ``name`` in :data:`FEEDBACK_POLICIES`.

    Raises:
        ValueError: unknown name (the message lists the valid ones).
    """
    if name not in FEEDBACK_POLICIES:
        close = difflib.get_close_matches(str(name), FEEDBACK_POLICIES, n=1)
        hint = f"did you mean {close[0]!r}?" if close else "pick one of them"
        raise ValueError(f"expected a feedback policy among {list(FEEDBACK_POLICIES)}, got {name!r}; {hint}")
    return FEEDBACK_POLICIES[name]()


def format_answer(task: Task) -> str:
    r"""A correct attempt at ``task``: ``"The answer is \boxed{<gold>}."`` (oracle students, tests)."""
    return f"The answer is \\boxed{{{task.answer}}}."


def _other_number(value: Fraction, rng: np.random.Generator) -> Fraction:
    candidates = [value + 1, value - 1, value + 2, value - 2]
    if value.denominator != 1:
        num, den = value.numerator, value.denominator
        candidates += [Fraction(num + 1, den), Fraction(num - 1, den)]
    if value != 0:
        candidates.append(-value)
    return candidates[int(rng.integers(len(candidates)))]


def _wrong_value(task: Task, rng: np.random.Generator) -> str | None:
    """A structured wrong answer for generated tasks (None when the metadata does not allow one)."""
    kind, value = task.metadata.get("answer_kind"), task.metadata.get("answer_value")
    fmt = fmt_decimal if "." in task.answer else fmt_number
    if kind == "number" and isinstance(value, Fraction):
        return fmt(_other_number(value, rng))
    if kind == "tuple" and isinstance(value, tuple) and value and all(isinstance(v, Fraction) for v in value):
        i = int(rng.integers(len(value)))
        return fmt_tuple([fmt_number(_other_number(v, rng) if j == i else v) for j, v in enumerate(value)])
    if kind == "set" and isinstance(value, tuple) and value and all(isinstance(v, Fraction) for v in value):
        i = int(rng.integers(len(value)))
        new = _other_number(value[i], rng)
        while new in value:
            new += 1
        return fmt_set([fmt_number(v) for v in sorted({*value[:i], new, *value[i + 1 :]})])
    surd = re.search(r"sqrt\((\d+)\)", task.answer)
    if kind == "set" and surd is not None:
        r = int(surd.group(1))
        other = [v for v in _RADICANDS if v != r][int(rng.integers(len(_RADICANDS) - 1))]
        return re.sub(r"sqrt\(\d+\)", f"sqrt({other})", task.answer)
    coeffs = task.metadata.get("coefficients")
    if kind == "expression" and isinstance(coeffs, tuple) and coeffs:
        i = int(rng.integers(len(coeffs)))
        changed = [c + (int(rng.choice([-1, 1])) if j == i else 0) for j, c in enumerate(coeffs)]
        if changed[-1] == 0:  # keep the degree: a plausible slip, not a different kind of answer
            changed[-1] = coeffs[-1] * 2
        return fmt_poly(changed, star=True)
    return None


def wrong_answer(task: Task, rng: np.random.Generator) -> str:
    r"""A plausible wrong attempt of the right form: ``"The answer is \boxed{<wrong>}."``.

    Numbers are off by one or two, or a numerator is off by one, or the sign is flipped; one coordinate of a pair
    is changed; one root of a set is replaced; a radicand or one coefficient of a polynomial is changed. For
    loaded tasks without metadata, the last integer in the answer is increased by one.
    """
    wrong = _wrong_value(task, rng)
    if wrong is None or wrong == task.answer:
        digits = list(re.finditer(r"\d+", task.answer))
        if digits:
            last = digits[-1]
            wrong = task.answer[: last.start()] + str(int(last.group()) + 1) + task.answer[last.end() :]
        else:
            wrong = f"{task.answer} + 1"
    return f"The answer is \\boxed{{{wrong}}}."
