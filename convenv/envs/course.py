"""Course envs: GuessNumber-v0 and Arithmetic-v0, small enough to learn on a laptop CPU in minutes.

Both speak the tiny :class:`~convenv.tokenizers.char.CharTokenizer` by default (47 ids, one per character), with
short utterances (a guess is two or three ids) and short views, so a tiny model or a stable-baselines3 policy
behind a fixed-size adapter can learn them. Both are built so that the teacher's feedback is *necessary*:

* **GuessNumber-v0**: the secret is uniform on ``[1, N]`` (N = 15, 31, 63 by difficulty); after a wrong guess the
  teacher says ``<`` (the secret is lower) or ``>`` (higher). The turn limit is ``k`` for ``N = 2**k - 1``:
  bisection always succeeds, and a student that ignores the feedback (any k distinct guesses) succeeds with
  probability ``k / N`` (16 % at the default N = 31).
* **Arithmetic-v0**: ``a + ?`` or ``a - ?`` with the second operand hidden (uniform on ``1..H``, H = 15, 31, 63);
  the answer is the result. The student must add (the result lies in ``a + 1 .. a + H``, an interval that moves
  with ``a``, so no fixed guessing tree works) *and* read ``<`` / ``>`` to pin the hidden operand down within
  ``k`` turns (``H = 2**k - 1``); ignoring the feedback succeeds with probability ``k / H``.

:class:`BisectionStudent` is the optimal student of both, acting on its observation tokens only; with
``use_feedback=False`` it is the best feedback-ignoring student.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np

from convenv.agent import Info, Observation
from convenv.domain import Domain
from convenv.env import MAX_REPORT_TOKENS, ConversationEnv
from convenv.leak import REDACTED, detect_leak
from convenv.leak import redact as redact_leak
from convenv.tasks.base import Task, TaskSource
from convenv.tasks.course import ArithmeticTasks, GuessNumberTasks, bisection_turns
from convenv.tokenizers import Tokenizer, get_tokenizer
from convenv.tokenizers.char import CharTokenizer
from convenv.verifiers.base import Verdict
from convenv.verifiers.course import check_integer
from convenv.verifiers.pooled import PooledVerifier

__all__ = [
    "TEACHERS",
    "BisectionStudent",
    "HigherLower",
    "SaysNo",
    "format_answer",
    "make_arithmetic",
    "make_guess_number",
    "split_view",
    "wrong_answer",
]

LOWER, HIGHER, UNREAD, NO, OK = "<", ">", "?", "no", "ok"
RULES = "< lower, > higher"
REDACTION = "?"  # leaked spans become this (the tokenizer has no "[redacted]")
PROMPT_BOUND = 64  # longest system prompt, in ids, assumed by the default context size


class SaysNo:
    """Verdict-only teacher: ``no`` after a wrong guess, ``?`` when no number could be read."""

    name: ClassVar[str] = "verdict"

    def opening(self, task: Task) -> str:
        """The task's prompt: ``1-31`` (GuessNumber) or ``47+?`` (Arithmetic)."""
        return task.prompt

    def feedback(self, task: Task, verdict: Verdict, attempt: int, rng: np.random.Generator) -> str:
        """``no`` (or ``?`` when the attempt held no number; ``ok`` for a correct one)."""
        if verdict.correct:
            return OK
        return UNREAD if verdict.extracted is None else NO


class HigherLower(SaysNo):
    """Direction teacher: ``<`` when the answer is lower than the guess, ``>`` when higher, ``?`` if unread."""

    name: ClassVar[str] = "direction"

    def feedback(self, task: Task, verdict: Verdict, attempt: int, rng: np.random.Generator) -> str:
        """``<`` / ``>`` from the verifier's direction signal."""
        if verdict.correct:
            return OK
        direction = verdict.signals.get("direction") if verdict.signals else None
        if direction == "too_high":
            return LOWER
        if direction == "too_low":
            return HIGHER
        return UNREAD if verdict.extracted is None else NO


TEACHERS: dict[str, type[SaysNo]] = {"verdict": SaysNo, "direction": HigherLower}


def make_teacher(name: str) -> SaysNo:
    """The feedback policy registered as ``name`` in :data:`TEACHERS`."""
    if name not in TEACHERS:
        raise ValueError(
            f"expected teacher in {list(TEACHERS)}, got {name!r}; 'direction' says < or >, 'verdict' says only no"
        )
    return TEACHERS[name]()


def format_answer(task: Task) -> str:
    """A correct attempt: the answer itself, e.g. ``"20"``."""
    return task.answer


def wrong_answer(task: Task, rng: np.random.Generator) -> str:
    """A plausible wrong attempt: a number near the answer, inside the task's interval when it can be."""
    lo, hi = task.metadata.get("interval", (None, None))
    gold = int(task.answer)
    options = [gold + d for d in (-3, -2, -1, 1, 2, 3) if lo is None or lo <= gold + d <= hi]
    return str(options[int(rng.integers(len(options)))] if options else gold + 1)


def verifier_report(verdict: Verdict) -> str:
    """Teacher-only report in the tiny alphabet: ``ok 20``, ``12 low``, ``25 high``, ``none``, ``long``, ``error``.

    ``none``: no number in the attempt; ``long``: too many digits; ``error``: the check timed out or crashed.
    """
    direction = verdict.signals.get("direction") if verdict.signals else None
    if verdict.correct:
        return f"ok {verdict.extracted}"
    if direction in ("too_high", "too_low"):
        return f"{verdict.extracted} {'high' if direction == 'too_high' else 'low'}"
    return {"no_answer": "none", "too_large": "long"}.get(str(verdict.error), "error")


def redact(text: str, task: Task, *, public: Sequence[str] = ()) -> str:
    """:func:`convenv.leak.redact` with leaked spans replaced by ``?`` (in the tiny alphabet)."""
    return redact_leak(text, task, public=public).replace(REDACTED, REDACTION)


def _guess_teacher_prompt(task: Task) -> str:
    return f"secret {task.answer}: {RULES}"


def _arithmetic_teacher_prompt(task: Task) -> str:
    return f"{task.solution}: {RULES}"


def _arithmetic_student_prompt(task: Task) -> str:
    low, high = task.metadata["hidden"]
    return f"? is {low}-{high}: {RULES}"


def _domain(
    name: str,
    tasks: TaskSource,
    teacher: str,
    student_prompt: Any,
    teacher_prompt: Any,
    verifier_timeout: float,
    description: str,
) -> Domain:
    return Domain(
        name=name,
        tasks=tasks,
        verifier=PooledVerifier(check_integer, timeout=verifier_timeout, max_chars=256),
        feedback=make_teacher(teacher),
        student_prompt=student_prompt,
        teacher_prompt=teacher_prompt,
        leak_check=detect_leak,
        redact=redact,
        format_answer=format_answer,
        wrong_answer=wrong_answer,
        verifier_report=verifier_report,
        description=description,
    )


def _tokenizer(spec: Any) -> Tokenizer:
    return CharTokenizer() if spec is None or spec == "char" else get_tokenizer(spec)


def _build(domain: Domain, turns: int, opening_ids: int, env_kwargs: dict[str, Any]) -> ConversationEnv:
    """Small defaults for the tiny tokenizer; explicit kwargs win."""
    env_kwargs["tokenizer"] = _tokenizer(env_kwargs.get("tokenizer", "char"))
    env_kwargs.setdefault("max_turns", turns)
    env_kwargs.setdefault("max_utterance_tokens", max(4, opening_ids))
    t, u = int(env_kwargs["max_turns"]), int(env_kwargs["max_utterance_tokens"])
    # the teacher's view at the last attempt: prompt, opening, t rounds of guess + report ("<guess> high": at most
    # u + 8 ids with header and end) + reply, then the env's reservation of MAX_REPORT_TOKENS for the last report
    env_kwargs.setdefault(
        "max_context_tokens", PROMPT_BOUND + (u + 2) + t * (2 * (u + 2) + (u + 8)) + MAX_REPORT_TOKENS + 2
    )
    return ConversationEnv(domain, **env_kwargs)


def make_guess_number(
    *,
    difficulty: int = 2,
    n: int | None = None,
    teacher: str = "direction",
    tasks: TaskSource | None = None,
    verifier_timeout: float = 2.0,
    **env_kwargs: Any,
) -> ConversationEnv:
    """Build GuessNumber (registered as ``GuessNumber-v0``): guess a secret integer in ``[1, n]``.

    Args:
        difficulty: 1, 2 or 3: ``n`` = 15, 31 or 63, and 4, 5 or 6 turns.
        n: the upper bound itself (overrides ``difficulty``); the default turn limit is the number of guesses
            bisection needs, ``n.bit_length()``.
        teacher: ``"direction"`` (``<`` / ``>``, default) or ``"verdict"`` (only ``no``: the control condition in
            which feedback carries no direction).
        tasks: a task source to use instead of :class:`~convenv.tasks.course.GuessNumberTasks`.
        verifier_timeout: hard deadline, in seconds, of one check (the worker is killed past it).
        **env_kwargs: passed to :class:`~convenv.env.ConversationEnv`. Defaults: ``tokenizer`` the course
            :class:`~convenv.tokenizers.char.CharTokenizer` (``"char"``), ``max_turns`` as above,
            ``max_utterance_tokens`` 4 (the opening's length if longer), ``max_context_tokens`` what a full
            episode needs.

    """
    source = tasks if tasks is not None else GuessNumberTasks(difficulty=difficulty, n=n)
    bound = getattr(source, "n", 31)
    domain = _domain(
        "GuessNumber",
        source,
        teacher,
        lambda task: f"guess: {RULES}",
        _guess_teacher_prompt,
        verifier_timeout,
        "Course env: guess a number with higher/lower feedback (learnable on a laptop CPU)",
    )
    env_kwargs.setdefault("env_id", "GuessNumber-v0")
    return _build(domain, bisection_turns(bound), len(f"1-{bound}"), env_kwargs)


def make_arithmetic(
    *,
    difficulty: int = 2,
    teacher: str = "direction",
    tasks: TaskSource | None = None,
    verifier_timeout: float = 2.0,
    **env_kwargs: Any,
) -> ConversationEnv:
    """Build Arithmetic (registered as ``Arithmetic-v0``): the result of ``a + ?`` / ``a - ?``, ? hidden.

    Args:
        difficulty: 1 (``a + ?``, a in 1..20, ? in 1..15, 4 turns), 2 (``+`` or ``-``, a up to 91, ? in 1..31,
            5 turns) or 3 (``+`` or ``-``, a up to 162, ? in 1..63, 6 turns).
        teacher: ``"direction"`` (``<`` / ``>`` on the result, default) or ``"verdict"`` (only ``no``).
        tasks: a task source to use instead of :class:`~convenv.tasks.course.ArithmeticTasks`.
        verifier_timeout: hard deadline, in seconds, of one check.
        **env_kwargs: passed to :class:`~convenv.env.ConversationEnv`; defaults as in :func:`make_guess_number`
            (``max_utterance_tokens`` 4, or 5 at level 3 where ``162-?`` is the longest opening).

    """
    source = tasks if tasks is not None else ArithmeticTasks(difficulty=difficulty)
    hidden = getattr(source, "hidden", (1, 15))
    visible = getattr(source, "visible", (1, 99))
    domain = _domain(
        "Arithmetic",
        source,
        teacher,
        _arithmetic_student_prompt,
        _arithmetic_teacher_prompt,
        verifier_timeout,
        "Course env: small sums over a tiny digits-and-symbols tokenizer (learnable on a laptop CPU)",
    )
    env_kwargs.setdefault("env_id", "Arithmetic-v0")
    opening = len(str(visible[1] + hidden[1])) + 2  # "162-?"
    return _build(domain, bisection_turns(hidden[1] - hidden[0] + 1), opening, env_kwargs)


# ------------------------------------------------------------------------------------------------ students
def split_view(tokenizer: Tokenizer, ids: Sequence[int]) -> list[tuple[str, str]]:
    """``(role, text)`` of each message in a view, for tokenizers with one header id per role (byte, char)."""
    roles = {i: name for name, i in tokenizer.special_ids.items() if name in ("system", "teacher", "student")}
    messages: list[tuple[str, list[int]]] = []
    for i in ids:
        i = int(i)
        if i in roles:
            messages.append((roles[i], []))
        elif i != tokenizer.end_of_turn_id and messages:
            messages[-1][1].append(i)
    return [(role, tokenizer.decode(body)) for role, body in messages]


_RANGE = re.compile(r"^\s*(-?\d+)\s*-\s*(-?\d+)\s*$")
_HIDDEN = re.compile(r"\?\s*is\s*(-?\d+)\s*-\s*(-?\d+)")
_PROBLEM = re.compile(r"^\s*(-?\d+)\s*([+-])\s*\?\s*$")


def candidates(messages: Sequence[tuple[str, str]]) -> list[int]:
    """The answers a view allows before any guess: ``lo..hi`` for ``lo-hi``, ``a+lo .. a+hi`` for ``a+?``."""
    system = next((text for role, text in messages if role == "system"), "")
    opening = next((text for role, text in messages if role == "teacher"), "")
    bounds = _RANGE.match(opening)
    if bounds:
        return list(range(int(bounds.group(1)), int(bounds.group(2)) + 1))
    problem, hidden = _PROBLEM.match(opening), _HIDDEN.search(system)
    if problem and hidden:
        a, low, high = int(problem.group(1)), int(hidden.group(1)), int(hidden.group(2))
        sign = 1 if problem.group(2) == "+" else -1
        return sorted(a + sign * b for b in range(low, high + 1))
    raise ValueError(
        f"expected the opening to be 'lo-hi' or 'a+?' with '? is lo-hi' in the system prompt, got {opening!r}; "
        "BisectionStudent plays GuessNumber-v0 and Arithmetic-v0"
    )


class BisectionStudent:
    """The optimal student of the course envs, reading only its own observation tokens.

    It parses the interval of possible answers from the opening (and system prompt), then after each of its
    guesses keeps the values the teacher's ``<`` / ``>`` allow and guesses their median. With
    ``use_feedback=False`` it only drops the values it already guessed (an episode that goes on means the guess
    was wrong): the best a student ignoring the feedback can do, succeeding with probability turns / interval.
    With ``pick="random"`` it guesses uniformly among the values left instead of their median: with
    ``use_feedback=False`` that is a random feedback-ignoring guesser, whose dialogues make SFT warm-start data
    that teach the answer format but not the use of feedback.

    Args:
        tokenizer: the env's tokenizer (one header id per role: the char or byte tokenizer).
        use_feedback: read ``<`` / ``>`` (True) or ignore them (False).
        pick: ``"median"`` (bisection) or ``"random"`` (uniform over the values left).
        seed: seeds the ``"random"`` picks.

    """

    role = "student"

    def __init__(
        self, tokenizer: Tokenizer, use_feedback: bool = True, pick: str = "median", seed: int | None = None
    ):
        if pick not in ("median", "random"):
            raise ValueError(f"expected pick 'median' or 'random', got {pick!r}")
        self.tokenizer = tokenizer
        self.use_feedback = bool(use_feedback)
        self.pick = pick
        self._rng = np.random.default_rng(seed)

    def guess(self, ids: Sequence[int]) -> int:
        """The next guess for a view."""
        messages = split_view(self.tokenizer, ids)
        left = candidates(messages)
        said = [text for role, text in messages if role in ("student", "teacher")][1:]  # after the opening
        for guess_text, reply in zip(said[::2], said[1::2], strict=False):
            numbers = re.findall(r"-?\d+", guess_text)
            if not numbers:
                continue
            g = int(numbers[-1])
            if self.use_feedback and reply.strip() == LOWER:
                left = [v for v in left if v < g]
            elif self.use_feedback and reply.strip() == HIGHER:
                left = [v for v in left if v > g]
            else:
                left = [v for v in left if v != g]
        if not left:
            return 0
        if self.pick == "random":
            return int(left[int(self._rng.integers(len(left)))])
        return left[(len(left) - 1) // 2]

    def act(self, observations: Sequence[Observation], infos: Sequence[Info]) -> list[np.ndarray | None]:
        """A guess (token ids) for each conversation where the student is to act, else None."""
        return [
            np.asarray(self.tokenizer.encode(str(self.guess(obs["tokens"]))), dtype=np.int64)
            if info.get("to_act") == self.role
            else None
            for obs, info in zip(observations, infos, strict=True)
        ]

    def __repr__(self) -> str:
        return f"BisectionStudent(use_feedback={self.use_feedback}, pick={self.pick!r})"
