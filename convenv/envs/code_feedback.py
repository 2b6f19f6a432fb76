"""Scripted code teachers, the code leak check, and correct / wrong attempts for tests and oracle students.

Four policies, from least to most informative (all read only the verdict's ``signals``, which carry no expected
value, never its privileged ``detail``):

- ``"verdict"`` (:class:`VerdictOnly`): only says the function is not right yet.
- ``"direction"`` (:class:`Direction`): how many hidden tests pass and what kind of failure the first one is.
- ``"locate"`` (:class:`Locating`, the CodeTutor default): the failing call (its input) and what happened: the
  value the function returned, the exception it raised, a timeout, a crash, or the line of a syntax error.
- ``"hints"`` (:class:`ProgressiveHints`): the locating message plus hint ``k`` of the task after attempt ``k``.

None states an expected output or a line of the reference solution; :func:`code_leak_check` defines what counts
as a leak and a test runs every policy over many tasks and verdicts through it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np

from convenv.envs.policies import add_hint, check_attempt, make_policy, pick, signals
from convenv.leak import REDACTED, LeakReport
from convenv.tasks.base import Task
from convenv.tasks.code.common import call_text
from convenv.verifiers.base import Verdict

__all__ = [
    "FEEDBACK_POLICIES",
    "Direction",
    "Locating",
    "ProgressiveHints",
    "VerdictOnly",
    "code_leak_check",
    "format_answer",
    "locate",
    "make_feedback_policy",
    "opening_message",
    "redact",
    "wrong_answer",
]

NOT_RIGHT = ("Not yet.", "That's not right yet.", "Not quite.", "Your function is not correct yet.")
TRY_AGAIN = ("Try again.", "Have another go.", "Fix it and send the whole function again.", "Give it another try.")
CORRECT = "All the tests pass. Well done!"
FORMAT = "Reply with the complete function, signature included, in a ```python code block."
QUOTE = 80  # longest input or returned value quoted, in characters
KINDS = {
    "wrong_output": "returns a wrong value",
    "exception": "raises an exception",
    "timeout": "does not finish in time",
    "crash": "crashes",
    "bad_return": "returns something that is not plain data",
}


def _quote(value: Any) -> str:
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= QUOTE else text[: QUOTE - 3] + "..."


def _entry(task: Task) -> str:
    return str(task.metadata.get("entry_point") or "the function")


def _call(task: Task, failure: Mapping[str, Any]) -> str:
    args = failure.get("args")
    if isinstance(args, (tuple, list)):
        return f"`{_quote(call_text(_entry(task), args))}`"
    return "one of the tests"


def opening_message(task: Task) -> str:
    """The problem (the signature with its docstring) and the answer format."""
    return f"Write this Python function:\n```python\n{task.prompt}\n```\n{FORMAT}"


def _unread(task: Task, verdict: Verdict) -> str | None:
    """A message for attempts that could not be run at all, else None."""
    error = verdict.error
    if error in ("no_code", "no_answer"):
        return f"I couldn't find any code in your message. {FORMAT}"
    if error == "too_large":
        return "Your code is too long for me to check. Send only the function, as short as you can."
    if error == "syntax_error":
        line = signals(verdict).get("line")
        where = f" on line {int(line)} of your code" if isinstance(line, int) else ""
        return f"Your code has a syntax error{where}, so it cannot run. Fix it and send the whole function again."
    return None


def locate(task: Task, verdict: Verdict) -> str:
    """Name the first failing call and what went wrong (never the expected output)."""
    unread = _unread(task, verdict)
    if unread is not None:
        return unread
    sig = signals(verdict)
    failure = sig.get("first_failure")
    failure = failure if isinstance(failure, Mapping) else {}
    status = failure.get("status") or verdict.error
    call = _call(task, failure)
    error_type = failure.get("error_type")
    if status == "wrong_output":
        return f"For {call} your function returned `{_quote(failure.get('got'))}`, which is not right."
    if status == "exception" and error_type == "NameError" and _entry(task) in str(failure.get("error_message")):
        return f"Your code must define a function named `{_entry(task)}` with the signature I gave."
    if status == "exception":
        message = failure.get("error_message")
        said = f": {_quote(message)}" if message else ""
        return f"Calling {call} raised {error_type or 'an exception'}{said}."
    if status == "timeout":
        return f"Calling {call} did not finish in time. Look for a loop that never ends."
    if status == "bad_return":
        why = f" ({_quote(failure.get('error_message'))})" if failure.get("error_message") else ""
        return (
            f"For {call} your function returned something that is not plain data{why}. Return only numbers, "
            "strings, booleans, None, lists, tuples, dicts or sets."
        )
    if status == "crash":
        why = f" ({_quote(failure.get('error_message'))})" if failure.get("error_message") else ""
        return f"Your program crashed on {call}{why}. Don't exit or kill the process, and keep memory use small."
    return "Your function fails at least one of my tests."


class VerdictOnly:
    """Only says the attempt is wrong (or how to send code when none was found), phrased with ``rng``."""

    name: ClassVar[str] = "verdict"

    def opening(self, task: Task) -> str:
        """The problem and the expected answer format."""
        return opening_message(task)

    def feedback(self, task: Task, verdict: Verdict, attempt: int, rng: np.random.Generator) -> str:
        """Say "not right, try again" in one of several phrasings."""
        check_attempt(attempt)
        if verdict.correct:
            return CORRECT
        if verdict.error in ("no_code", "no_answer"):
            return _unread(task, verdict) or FORMAT
        return f"{pick(rng, NOT_RIGHT)} {pick(rng, TRY_AGAIN)}"


class Direction(VerdictOnly):
    """How many hidden tests pass, and the kind of the first failure (not which test)."""

    name: ClassVar[str] = "direction"

    def feedback(self, task: Task, verdict: Verdict, attempt: int, rng: np.random.Generator) -> str:
        """Count of passing tests and the kind of failure."""
        check_attempt(attempt)
        if verdict.correct:
            return CORRECT
        unread = _unread(task, verdict)
        if unread is not None:
            return unread
        sig = signals(verdict)
        failure = sig.get("first_failure") if isinstance(sig.get("first_failure"), Mapping) else {}
        kind = KINDS.get(str(failure.get("status") or verdict.error), "fails")
        passed, total = sig.get("passed"), sig.get("total")
        count = f"{passed} of my {total} tests pass. " if isinstance(passed, int) and isinstance(total, int) else ""
        return f"{pick(rng, NOT_RIGHT)} {count}On one of the others your function {kind}. {pick(rng, TRY_AGAIN)}"


class Locating(VerdictOnly):
    """The failing call and what happened (see :func:`locate`)."""

    name: ClassVar[str] = "locate"

    def feedback(self, task: Task, verdict: Verdict, attempt: int, rng: np.random.Generator) -> str:
        """A locating message."""
        check_attempt(attempt)
        if verdict.correct:
            return CORRECT
        message = locate(task, verdict)
        if _unread(task, verdict) is not None:
            return message
        return f"{pick(rng, NOT_RIGHT)} {message}"


class ProgressiveHints(Locating):
    """The locating message plus ``task.hints[attempt - 1]`` (the last hint once they run out)."""

    name: ClassVar[str] = "hints"

    def feedback(self, task: Task, verdict: Verdict, attempt: int, rng: np.random.Generator) -> str:
        """Locating message, then the hint for this attempt."""
        return add_hint(super().feedback(task, verdict, attempt, rng), task, verdict, attempt)


FEEDBACK_POLICIES: dict[str, type[VerdictOnly]] = {
    "verdict": VerdictOnly,
    "direction": Direction,
    "locate": Locating,
    "hints": ProgressiveHints,
}


def make_feedback_policy(name: str) -> VerdictOnly:
    """Instantiate the policy registered as ``name`` in :data:`FEEDBACK_POLICIES` (ValueError if unknown)."""
    return make_policy(name, FEEDBACK_POLICIES)


# ------------------------------------------------------------------------------------- attempts for tests
def format_answer(task: Task) -> str:
    """A correct attempt: the reference solution in a ```python block (oracle students, tests)."""
    return f"Here is my function:\n```python\n{task.answer.rstrip()}\n```"


def wrong_answer(task: Task, rng: np.random.Generator) -> str:
    """A plausible wrong attempt in a ```python block that fails at least one hidden test.

    Generated tasks carry buggy variants of the reference (``metadata["wrong_solutions"]``: an off-by-one, a
    wrong operator, a forgotten case), each known to fail a test; one is picked with ``rng``. Otherwise (loaded
    tasks) the function returns a constant that differs from some test's expected value.
    """
    bugs = tuple(task.metadata.get("wrong_solutions") or ())
    if bugs:
        code = bugs[int(rng.integers(len(bugs)))]
    else:
        code = f"def {_entry(task)}(*args):\n    return {_constant(task)!r}\n"
    return f"Here is my function:\n```python\n{code.rstrip()}\n```"


def _constant(task: Task) -> Any:
    expected = [t.expected for t in task.tests]
    for candidate in (None, 0, "", False, [], -1):
        if any(e != candidate or type(e) is not type(candidate) for e in expected):
            return candidate
    return "wrong"


# ------------------------------------------------------------------------------------------- leak check
_TRIVIAL = re.compile(
    r"(?:return\w*|else:|try:|pass|break|continue|finally:|\w+=(?:\[\]|\{\}|\(\)|0|1|''|\"\"|None|True|False"
    r"|set\(\)|dict\(\)|list\(\)))"
)
MIN_LINE = 12  # normalized characters; shorter reference lines ("k=k%len(xs)", "d+=1") are too generic to leak
_CONTEXT = re.compile(
    r"(?:\b(?:should|must|needs?\s+to|has\s+to|ought\s+to|supposed\s+to)\s+(?:be\s+)?(?:return(?:ed)?|be|give|"
    r"output|produce|equal|yield)|\bexpect(?:ed|s)?\b|\b(?:correct|right|true|desired)\s+(?:answer|output|"
    r"result|value|return\s+value)\b|==|->|=>|\u2192|>>>[^\n]*\n)[^\n.!?]{0,24}$",
    re.IGNORECASE,
)
_ANSWER = re.compile(r"\banswer\b", re.IGNORECASE)
_SENTENCE_BREAK = re.compile(r"[.!?](?:\s|$)|\n")
_WINDOW = 100


def _squash(text: str) -> tuple[str, list[int]]:
    """``text`` without whitespace, and for each kept character its index in ``text``."""
    index = [i for i, ch in enumerate(text) if not ch.isspace()]
    return "".join(text[i] for i in index), index


def reference_lines(task: Task) -> tuple[str, ...]:
    """The non-trivial lines of the reference solution, whitespace removed, that the public prompt lacks.

    Blank lines, comments, docstring lines and short or generic lines (``return result``, ``out = []``, fewer
    than :data:`MIN_LINE` characters) are left out.
    """
    prompt = _squash(task.prompt)[0]
    lines = []
    for raw in task.answer.splitlines():
        line = _squash(raw)[0]
        if len(line) < MIN_LINE or line.startswith(("#", '"', "'", ">>>")) or _TRIVIAL.fullmatch(line):
            continue
        if line not in prompt:
            lines.append(line)
    return tuple(dict.fromkeys(lines))


def _example_outputs(task: Task, public: str) -> set[str]:
    """Expected outputs (squashed reprs) of the tests whose call appears in the public texts."""
    calls = {_squash(call_text(_entry(task), t.args))[0]: t for t in task.tests}
    return {_squash(repr(t.expected))[0] for c, t in calls.items() if c in public}


def expected_needles(task: Task, public: str = "") -> tuple[str, ...]:
    """Squashed forms (``repr``, and JSON-style double quotes for strings) of the hidden tests' expected values.

    Values also expected by a test shown in the public texts (``public``, squashed) are left out.
    """
    shown = _example_outputs(task, public)
    needles: list[str] = []
    for test in task.tests:
        form = _squash(repr(test.expected))[0]
        if form in shown:
            continue
        needles.append(form)
        if isinstance(test.expected, str):
            needles.append(_squash('"' + test.expected.replace('"', '\\"') + '"')[0])
    return tuple(n for n in dict.fromkeys(needles) if n)


def _in_context(text: str, start: int) -> bool:
    prefix = text[max(0, start - _WINDOW) : start]
    if _CONTEXT.search(prefix):
        return True
    breaks = list(_SENTENCE_BREAK.finditer(prefix))
    return _ANSWER.search(prefix[breaks[-1].end() :] if breaks else prefix) is not None


def _glued(text: str, i: int) -> bool:
    return 0 <= i < len(text) and (text[i].isalnum() or text[i] in "_.")


def _value_spans(text: str, needle: str) -> list[tuple[int, int]]:
    """Spans of ``text`` holding ``needle`` (modulo whitespace) as a whole value, in answer context."""
    squashed, index = _squash(text)
    spans = []
    i = squashed.find(needle)
    while i >= 0:
        s, e = index[i], index[i + len(needle) - 1] + 1
        whole = not (needle[0].isalnum() and _glued(text, s - 1)) and not (needle[-1].isalnum() and _glued(text, e))
        if whole and _in_context(text, s):
            spans.append((s, e))
        i = squashed.find(needle, i + 1)
    return spans


def _leak_spans(text: str, task: Task, public: Sequence[str]) -> list[tuple[int, int]]:
    public_texts = [task.prompt, *task.shards, *public]
    public_squashed = "\n".join(_squash(p)[0] for p in public_texts)
    squashed, index = _squash(text)
    spans = []
    for line in reference_lines(task):
        if line in public_squashed:
            continue
        i = squashed.find(line)
        while i >= 0:
            spans.append((index[i], index[i + len(line) - 1] + 1))
            i = squashed.find(line, i + 1)
    for needle in expected_needles(task, public_squashed):
        found = _value_spans(text, needle)
        allowed = sum(len(_value_spans(p, needle)) for p in public_texts)
        if len(found) > allowed:
            spans += found
    return sorted(set(spans))


def code_leak_check(text: str, task: Task, *, public: Sequence[str] = ()) -> LeakReport:
    """Report whether a teacher message gives away the reference solution or a hidden test's expected output.

    The rule:

    1. **Solution lines.** Each non-trivial line of ``task.answer`` (see :func:`reference_lines`: at least
       :data:`MIN_LINE` characters without whitespace, not ``return x`` / ``x = []`` and the like, not part of
       the prompt) is looked for in the message with all whitespace removed, so re-indenting or re-spacing a
       line still matches. It leaks unless the same line is already in a public text (the prompt, the task's
       shards, or ``public``: e.g. the student's own code quoted back).
    2. **Expected outputs.** The expected value of each hidden test (its ``repr``, whitespace-insensitive, and
       for strings also with double quotes) leaks when the message states it *in answer context* — after
       "should return / should be / must return / expected / the correct output / ==, ->, =>" in the same
       clause, after a ``>>>`` call line, or with the word "answer" earlier in the sentence — more often than the
       public texts do. A value also expected by a test shown in the prompt (a public example) is not checked,
       nor is a value glued to a longer number or word. Quoting what the student's function *returned*
       ("your function returned 5") is not answer context.

    Args:
        text: the teacher message.
        task: a ``domain="code"`` task (its ``answer``, ``tests``, ``prompt``, ``shards``).
        public: texts the student already knows (its own messages).

    Returns:
        A :class:`~convenv.leak.LeakReport` whose ``matches`` are the leaking spans, in text order.
    """
    spans = _leak_spans(text, task, public) if text else []
    return LeakReport(leaked=bool(spans), matches=tuple(text[s:e] for s, e in spans))


def redact(text: str, task: Task, *, public: Sequence[str] = ()) -> str:
    """Replace every leaking span found by :func:`code_leak_check` with ``"[redacted]"``."""
    merged: list[list[int]] = []
    for s, e in _leak_spans(text, task, public) if text else []:
        if merged and s <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], e)
        else:
            merged.append([s, e])
    pieces, pos = [], 0
    for s, e in merged:
        pieces += [text[pos:s], REDACTED]
        pos = e
    pieces.append(text[pos:])
    return "".join(pieces)
