"""Exercise 1: a scripted teacher for GuessNumber-v0 that helps two kinds of student without leaking the secret.

The checker plays the submitted teacher against three fixed students over fixed seeds (:data:`SEEDS`) in
GuessNumber-v0 at difficulty 2 (a secret in 1..31, 5 turns) with room for 8-character messages
(:data:`ENV_KWARGS`), and grades:

- that it runs, opens with the task's prompt, and never leaks (the env's leak check, ``convenv.leak``);
- that it tells the student nothing the student has not earned: every number it says is one of the student's
  own guesses (or an end of the range), and every ``<``, ``>`` or bound it states is true;
- success by turn 5 of each student against thresholds (:data:`THRESHOLDS`).

The students cannot be told apart before they make a mistake: :class:`~convenv.envs.course.BisectionStudent`
remembers every reply but understands only ``<`` and ``>``; :class:`ForgetfulStudent` reads only the teacher's
last message, which may state bounds (``8<x<16``). A teacher that only says ``<`` / ``>`` leaves the forgetful
student at 0.39; one that always states bounds confuses the bisection student.
"""

from __future__ import annotations

import re
import traceback
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from convenv.agent import Info, Observation, ScriptedTeacher
from convenv.envs.course import BisectionStudent, candidates, split_view
from convenv.exercises.base import Report, load_student_module
from convenv.tokenizers.base import Tokenizer

__all__ = [
    "ENV_ID",
    "ENV_KWARGS",
    "SEEDS",
    "THRESHOLDS",
    "ForgetfulStudent",
    "check_teacher",
    "parse_bounds",
    "read_view",
    "students",
]

TITLE = "a teacher for two kinds of student"
ENV_ID = "GuessNumber-v0"
ENV_KWARGS: dict[str, Any] = {"difficulty": 2, "max_utterance_tokens": 8}
"""The exercise's env: a secret in 1..31, 5 turns, messages of up to 8 characters (``16<x<24`` has 7)."""
SEEDS = range(200)
THRESHOLDS = {"bisection": 1.0, "forgetful": 0.55, "random-picker": 0.5}
"""Least success by the last turn, per student. With only ``<`` / ``>``: 1.00, 0.39 and 0.56."""
BATCH = 50  # conversations played at once: the teacher is a batched agent

_BOUNDS = re.compile(r"\s*(?:([0-9]+)\s*<\s*x\s*<\s*([0-9]+)|x\s*<\s*([0-9]+)|x\s*>\s*([0-9]+))\s*")
_NUMBER = re.compile(r"[0-9]+")


def parse_bounds(text: str) -> tuple[int | None, int | None] | None:
    """Exclusive bounds in ``text``: ``a<x<b`` gives ``(a, b)``, ``x<b`` ``(None, b)``, ``x>a`` ``(a, None)``.

    >>> parse_bounds("8<x<16"), parse_bounds("x>20"), parse_bounds("<")
    ((8, 16), (20, None), None)
    """
    m = _BOUNDS.fullmatch(text)
    if m is None:
        return None
    if m.group(1) is not None:
        return int(m.group(1)), int(m.group(2))
    if m.group(3) is not None:
        return None, int(m.group(3))
    return int(m.group(4)), None


def _last_number(text: str) -> int | None:
    found = _NUMBER.findall(text)
    return int(found[-1]) if found else None


def read_view(tokenizer: Tokenizer, ids: Sequence[int]) -> list[tuple[str, str]]:
    """``(role, text)`` of each message in a view of the course tokenizer, verifier reports included.

    The teacher's view holds ``system`` (the secret), ``teacher``, ``student`` and ``verifier`` messages
    (``16 low``); a student's view has no verifier messages.
    """
    names = ("system", "teacher", "student", "verifier")
    roles = {i: name for name, i in tokenizer.special_ids.items() if name in names}
    messages: list[tuple[str, list[int]]] = []
    for i in ids:
        i = int(i)
        if i in roles:
            messages.append((roles[i], []))
        elif i != tokenizer.end_of_turn_id and messages:
            messages[-1][1].append(i)
    return [(role, tokenizer.decode(body)) for role, body in messages]


class ForgetfulStudent:
    """A student that reads only the teacher's last message, then guesses the middle of what it allows.

    It knows the range from the opening (``1-31``) and its own last guess ``g``; the teacher's last message means:

    - ``<``: the secret is below ``g``; ``>``: above ``g``;
    - ``a<x<b``, ``x<b``, ``x>a``: the secret is strictly between the bounds (clipped to the range);
    - anything else: nothing (it starts again from the whole range).

    Everything said before the last message is forgotten, so after ``>`` then ``<`` it searches below its last
    guess from the bottom of the range again.

    Args:
        tokenizer: the env's tokenizer (the course char tokenizer).

    """

    role = "student"

    def __init__(self, tokenizer: Tokenizer):
        self.tokenizer = tokenizer

    def guess(self, ids: Sequence[int]) -> int:
        """The next guess for a view."""
        messages = split_view(self.tokenizer, ids)
        left = candidates(messages)
        lo, hi = left[0], left[-1]
        said = [text for role, text in messages if role in ("student", "teacher")][1:]  # after the opening
        if len(said) >= 2:
            last_guess, reply = _last_number(said[-2]), said[-1].strip()
            bounds = parse_bounds(reply)
            if bounds is not None:
                lo = lo if bounds[0] is None else max(lo, bounds[0] + 1)
                hi = hi if bounds[1] is None else min(hi, bounds[1] - 1)
            elif last_guess is not None and reply == "<":
                hi = last_guess - 1
            elif last_guess is not None and reply == ">":
                lo = last_guess + 1
        return lo + (hi - lo) // 2 if lo <= hi else lo

    def act(self, observations: Sequence[Observation], infos: Sequence[Info]) -> list[np.ndarray | None]:
        """A guess (token ids) for each conversation where the student is to act, else None."""
        return [
            np.asarray(self.tokenizer.encode(str(self.guess(obs["tokens"]))), dtype=np.int64)
            if info.get("to_act") == self.role
            else None
            for obs, info in zip(observations, infos, strict=True)
        ]

    def __repr__(self) -> str:
        return "ForgetfulStudent()"


def students(env: Any) -> dict[str, Any]:
    """The checker's fixed students, by name, for ``env``'s tokenizer."""
    return {
        "bisection": BisectionStudent(env.tokenizer),
        "forgetful": ForgetfulStudent(env.tokenizer),
        "random-picker": BisectionStudent(env.tokenizer, pick="random", seed=0),
    }


# ------------------------------------------------------------------------------------------------ the checker
def _teacher_factory(module: Any) -> Callable[[Any], Any]:
    make = getattr(module, "make_teacher", None)
    if not callable(make):
        raise ValueError(
            "expected a function make_teacher(env) in your file, got none; define it and return your teacher "
            "(an agent with act(observations, infos), or a FeedbackPolicy with opening and feedback)"
        )

    def build(env: Any) -> Any:
        teacher = make(env)
        if hasattr(teacher, "opening") and hasattr(teacher, "feedback") and not hasattr(teacher, "act"):
            return ScriptedTeacher(teacher, env.tokenizer)  # a FeedbackPolicy
        if not callable(getattr(teacher, "act", None)):
            raise ValueError(
                f"expected make_teacher(env) to return an agent (with act) or a FeedbackPolicy (with opening and "
                f"feedback), got {type(teacher).__name__}; see the starter code"
            )
        return teacher

    return build


def _play(build: Callable[[Any], Any], student_name: str) -> list[dict[str, Any]]:
    """Play every seed with one student; return per episode the secret, prompt, messages and leak count."""
    import convenv
    from convenv.play import play_batch

    envs = [convenv.make(ENV_ID, **ENV_KWARGS) for _ in range(BATCH)]
    try:
        agents = {"teacher": build(envs[0]), "student": students(envs[0])[student_name]}
        episodes = []
        seeds = list(SEEDS)
        for first in range(0, len(seeds), BATCH):
            batch = seeds[first : first + BATCH]
            results = play_batch(envs[: len(batch)], agents, seeds=batch)
            for env, result in zip(envs, results, strict=False):
                said = [(m.speaker, m.text) for m in env.transcript.messages if m.speaker in ("teacher", "student")]
                episodes.append(
                    {
                        "secret": int(env.task.answer), "prompt": env.task.prompt, "messages": said,
                        "success_turn": result.success_turn if result.success else None, "leaks": result.leaks,
                    }
                )  # fmt: skip
        return episodes
    finally:
        for env in envs:
            env.close()


def _violations(episode: dict[str, Any]) -> tuple[str | None, str | None, str | None]:
    """The first (wrong opening, unearned number, untrue statement) of an episode, as text, or None each."""
    lo, hi = (int(v) for v in episode["prompt"].split("-"))
    secret, guesses = episode["secret"], []
    opening = unearned = untrue = None
    for n, (speaker, text) in enumerate(episode["messages"]):
        if speaker == "student":
            guesses.append(_last_number(text))
            continue
        if n == 0:
            if text.strip() != episode["prompt"]:
                opening = f"opened with {text!r} instead of the prompt {episode['prompt']!r}"
            continue
        allowed = {*guesses, lo, hi, lo - 1, hi + 1}
        extra = [int(v) for v in _NUMBER.findall(text) if int(v) not in allowed]
        if extra and unearned is None:
            unearned = f"said {text!r} (secret {secret}) after guesses {guesses}: {extra[0]} was never guessed"
        bounds, last = parse_bounds(text), guesses[-1] if guesses else None
        if text.strip() in ("<", ">") and last is not None:
            true = secret < last if text.strip() == "<" else secret > last
        elif bounds is not None:
            true = (bounds[0] is None or secret > bounds[0]) and (bounds[1] is None or secret < bounds[1])
        else:
            true = True
        if not true and untrue is None:
            untrue = f"said {text!r} after the guess {last}, but the secret is {secret}"
    return opening, unearned, untrue


def check_teacher(path: str) -> Report:
    """Grade the teacher defined by ``make_teacher(env)`` in the Python file at ``path``."""
    report = Report(1, TITLE, str(path))
    graded = ["opening", "no leak", "earned numbers only", "truthful", *(f"student: {s}" for s in THRESHOLDS)]
    try:
        build = _teacher_factory(load_student_module(path))
        played = {name: _play(build, name) for name in THRESHOLDS}
    except Exception as exc:  # the student's code: any error is reported, not raised
        where = traceback.extract_tb(exc.__traceback__)[-1]
        report.add(
            "runs", False, f"{type(exc).__name__}: {exc} (at {where.filename}:{where.lineno})",
            "every message must use the course alphabet '0123456789 +-*=<>?!,.:aceghiklmnorstuwx' and fit in 8 "
            "characters; act must return one array per conversation (None where it is not the teacher's turn)",
        )  # fmt: skip
        report.skip(graded, "the teacher did not run")
        return report
    episodes = [e for name in THRESHOLDS for e in played[name]]
    report.add("runs", True, f"{len(episodes)} episodes with {len(THRESHOLDS)} students, no error")
    found = [_violations(e) for e in episodes]
    first = [next((f[i] for f in found if f[i] is not None), None) for i in range(3)]
    report.add(
        "opening", first[0] is None, first[0] or "every opening is the task's prompt",
        "open with task.prompt exactly ('1-31'): the students read the range from it, and a narrower one gives "
        "the secret away",
    )  # fmt: skip
    messages = sum(sum(1 for s, _ in e["messages"] if s == "teacher") for e in episodes)
    leaks = sum(e["leaks"] for e in episodes)
    leaked = next((e for e in episodes if e["leaks"]), None)
    example = (
        f"; e.g. secret {leaked['secret']}: {[t for s, t in leaked['messages'] if s == 'teacher']}"
        if leaked
        else ""
    )
    report.add(
        "no leak", leaks == 0, f"leak rate {leaks / max(messages, 1):.3f} ({leaks} of {messages} teacher messages)"
        + example,
        "never write the secret: convenv.leak.detect_leak flags any number equal to it that the prompt and the "
        "student's own messages do not already hold. An inclusive range like '17-23' leaks when an end is the "
        "secret; bounds made of the student's wrong guesses ('16<x<24') never do",
    )  # fmt: skip
    report.add(
        "earned numbers only", first[1] is None, first[1] or "every number said is a guess of the student's",
        "say only numbers the student already said (its guesses) or the range ends (0, 1, 31, 32): '19<x<21' "
        "narrows the secret down more than the student's own guesses have",
    )  # fmt: skip
    report.add(
        "truthful", first[2] is None, first[2] or "every '<', '>' and bound is true",
        "'<' means the secret is lower than the student's last guess, '>' higher; bounds are exclusive",
    )  # fmt: skip
    hints = {
        "bisection": "BisectionStudent understands exactly '<' or '>'; anything else it reads as a plain 'no'. "
        "Say '<' / '>' to a student that has not yet shown it forgets",
        "forgetful": "ForgetfulStudent reads only your last message. Once its guess is outside what earlier "
        "replies allow (it forgot), give it bounds made of its own guesses, e.g. '16<x<24', every turn after",
        "random-picker": "this student reads '<' / '>' like the bisection student but guesses at random among "
        "the values left; it never forgets, so '<' / '>' is what it needs",
    }
    for name, least in THRESHOLDS.items():
        turns = int(ENV_KWARGS.get("max_turns", 5))
        solved = [e["success_turn"] for e in played[name]]
        curve = [sum(1 for t in solved if t is not None and t <= k) / len(solved) for k in range(1, turns + 1)]
        shown = " ".join(f"{v:.2f}" for v in curve)
        report.add(
            f"student: {name}", curve[-1] >= least,
            f"success by turn 1..{turns}: {shown} (need >= {least:.2f} by turn {turns})", hints[name],
        )  # fmt: skip
    return report
