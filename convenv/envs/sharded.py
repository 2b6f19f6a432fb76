"""Underspecified (sharded) tasks: the facts come one per turn, best when the student asks for them.

A sharded task's essential facts are split into ``task.shards`` (``metadata["needed_shards"]`` says which the
answer needs). The teacher opens with the question *without* them and invites questions; then, at each turn, it
reveals at most one shard, verbatim (so :func:`convenv.domain.shards_in_text` sees it):

* the student **asked** (``turn_kind == "question"``): the shard the question is about (:func:`match_shard`
  over all shards, ties going to unrevealed ones). If that one was revealed already, it is said again (nothing
  new). If the question matches no shard, the next unrevealed shard; if none is left, "you have every detail";
* the student **attempted** an answer before every needed shard was revealed (a *premature* attempt, counted by
  the env): "not right yet, you were missing a detail" and the next unrevealed shard. The base policy's feedback
  is held back: its direction or hints would reflect facts the student does not have (and math hints quote them);
* the student attempted with every needed shard revealed: the base policy's feedback on the verdict;
* **anything else** (``"other"``): the next unrevealed shard, or, when none is left, the base policy's request
  for an answer.

"Next" means the first unrevealed needed shard in task order, then the first unrevealed other one.
:class:`ShardedTeacher` is domain-agnostic: it wraps any :class:`~convenv.domain.FeedbackPolicy` (the math or the
code teachers) and reads shard keywords from ``task.metadata["shard_keywords"]`` when the task has them.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from convenv.domain import Domain, FeedbackPolicy
from convenv.env import ConversationEnv
from convenv.leak import detect_leak, redact
from convenv.tasks.base import Task, TaskSource
from convenv.turns import classify_turn
from convenv.verifiers.base import Verdict

__all__ = [
    "ShardedTeacher",
    "content_words",
    "make_math_sharded",
    "match_shard",
    "next_shard",
    "shard_scores",
]

STOPWORDS = frozenset(
    "a an the is are was were be been do does did how many much what which who whom whose when where why of to in "
    "on at for and or but i you me my we us our it its this that these those there their they he she his her him "
    "can could would should will may might please tell know need want about with as by so if then than any some "
    "answer number".split()
)
"""Words that say nothing about which fact a question is about (``then`` and ``than`` are here too)."""

INVITATION = "Some details are missing. Ask me about anything you need before you answer."
MATCHED = ("Good question.", "Sure.", "Here you go.", "Right, you need that.")
UNMATCHED = "I am not sure which detail you mean, so here is one:"
PREMATURE = "That is not right yet: you answered before you had every detail. Here is one you were missing:"
MORE = "Here is another detail:"
REPEAT = "As I said:"
PHRASES = ("matched", "unmatched", "repeat", "premature", "more", "complete")
COMPLETE = "You already have every detail you need: give your answer."


def _stem(word: str) -> str:
    """Crude plural and third-person stemming: ``boxes -> box``, ``apples -> apple``, ``cookies -> cooky``."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 4 and word.endswith(("ches", "shes", "sses", "xes", "zes")):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def content_words(text: str, stem: bool = True) -> frozenset[str]:
    """Lower-cased words of ``text`` without digits or :data:`STOPWORDS`, stemmed unless ``stem`` is False."""
    words = (w for w in re.findall(r"[a-z]+", text.lower()) if w not in STOPWORDS)
    return frozenset(_stem(w) for w in words) if stem else frozenset(words)


def shard_keys(task: Task, stem: bool = True) -> list[frozenset[str]]:
    """Per shard, the words a question about it may use: its own content words plus its metadata keywords."""
    extra = task.metadata.get("shard_keywords") or ()
    keys = []
    for i, shard in enumerate(task.shards):
        words = " ".join(extra[i]) if i < len(extra) else ""
        keys.append(content_words(shard, stem) | content_words(words, stem))
    return keys


def shard_scores(question: str, task: Task) -> list[tuple[float, float]]:
    """How strongly ``question`` points at each shard of ``task``: (stemmed score, exact-word score).

    See :func:`match_shard`.
    """
    scores = []
    for stem in (True, False):
        words = content_words(question[-2000:], stem)
        keys = shard_keys(task, stem)
        df = Counter(w for k in keys for w in k)
        scores.append([sum(1.0 / df[w] for w in words & k) for k in keys])
    return list(zip(*scores, strict=True))


def match_shard(question: str, task: Task, candidates: Sequence[int]) -> int | None:
    """The shard among ``candidates`` that ``question`` asks about, or None when it names none of them.

    Each word shared by the question and a shard's keys (:func:`shard_keys`: the shard's own words and its
    ``metadata["shard_keywords"]``, lower-cased, stop words dropped, plurals stemmed) scores ``1 / df``, where
    ``df`` is the number of the task's shards (revealed or not) whose keys hold the word: a word every shard has
    ("Ana", "apples") counts little, a word only one shard has ("start", "friends") decides. The highest positive
    score wins; a tie goes to the shard with the higher score on exact (unstemmed) words ("boxes" over "box"),
    then to the one listed first in ``candidates``.

    >>> task = Task(id="t", domain="math", prompt="?", answer="19",
    ...             shards=("Ana has 12 apples at first.", "Ana gets 7 more apples."))
    >>> match_shard("How many more apples does Ana get?", task, [0, 1])
    1
    >>> match_shard("How many apples did Ana have at first?", task, [0, 1])
    0
    >>> match_shard("Hmm?", task, [0, 1]) is None
    True
    """
    if not candidates:
        return None
    scores = shard_scores(question, task)
    best = max(scores[i] for i in candidates)
    return None if best[0] <= 0 else next(i for i in candidates if scores[i] == best)


def needed(task: Task) -> tuple[int, ...]:
    """Indices of the shards the answer needs (``metadata["needed_shards"]``, default all)."""
    return tuple(int(i) for i in task.metadata.get("needed_shards", range(len(task.shards))))


def next_shard(task: Task, revealed: Sequence[int]) -> int | None:
    """The first unrevealed needed shard, else the first unrevealed other shard, else None."""
    done = set(revealed)
    order = [*needed(task), *(i for i in range(len(task.shards)) if i not in set(needed(task)))]
    return next((i for i in order if i not in done), None)


class ShardedTeacher:
    """A scripted teacher for sharded tasks: one shard per turn, the asked one first (see the module docstring).

    Args:
        base: the policy for the opening's wording (its ``opening(task)`` with the incomplete ``task.prompt``)
            and for feedback on attempts made with every needed shard revealed.
        invitation: appended to the base opening.
        phrases: overrides of the message parts, by key: ``matched`` (a tuple, one picked per turn),
            ``unmatched``, ``repeat``, ``premature``, ``more``, ``complete``.

    """

    def __init__(self, base: FeedbackPolicy, *, invitation: str = INVITATION, phrases: Mapping[str, Any] = ()):
        phrases = dict(phrases)
        unknown = sorted(set(phrases) - set(PHRASES))
        if unknown:
            raise ValueError(f"expected phrase keys among {PHRASES}, got {unknown}; e.g. phrases={{'more': '...'}}")
        self.base = base
        self.name = f"sharded-{base.name}"
        self.invitation = invitation
        self.matched = tuple(phrases.get("matched", MATCHED))
        self.unmatched = phrases.get("unmatched", UNMATCHED)
        self.premature = phrases.get("premature", PREMATURE)
        self.more = phrases.get("more", MORE)
        self.repeat = phrases.get("repeat", REPEAT)
        self.complete = phrases.get("complete", COMPLETE)

    def opening(self, task: Task) -> str:
        """The base opening of the incomplete question, then the invitation to ask."""
        return f"{self.base.opening(task)}\n{self.invitation}"

    def feedback(self, task: Task, verdict: Verdict, attempt: int, rng: np.random.Generator) -> str:
        """The base policy's feedback (used when the task is fully revealed)."""
        return self.base.feedback(task, verdict, attempt, rng)

    def respond(self, task: Task, info: Mapping[str, Any], rng: np.random.Generator) -> str:
        """The message after a student turn (see the module docstring for the rule).

        Reads the teacher's ``info``: ``turn_kind``, ``last_message``, ``verdict``, ``shards_revealed``, ``turn``.
        """
        revealed = tuple(info.get("shards_revealed") or ())
        unrevealed = [i for i in range(len(task.shards)) if i not in set(revealed)]
        complete = set(needed(task)) <= set(revealed)
        kind, verdict, turn = info.get("turn_kind"), info.get("verdict"), max(1, int(info.get("turn") or 1))
        if kind == "question":
            asked = match_shard(str(info.get("last_message") or ""), task, [*unrevealed, *revealed])
            if asked is not None and asked in unrevealed:
                return f"{self.matched[int(rng.integers(len(self.matched)))]} {task.shards[asked]}"
            if asked is not None:  # asked about a fact it already has: say it again (nothing new)
                return f"{self.repeat} {task.shards[asked]}"
            nxt = next_shard(task, revealed)
            if nxt is not None:
                return f"{self.unmatched} {task.shards[nxt]}"
            return self.complete
        if verdict is not None and (complete or verdict.correct):
            return self.base.feedback(task, verdict, turn, rng)
        nxt = next_shard(task, revealed)
        if nxt is not None:
            return f"{self.premature if verdict is not None else self.more} {task.shards[nxt]}"
        return self._ask_for_answer(task, turn, rng)

    def _ask_for_answer(self, task: Task, turn: int, rng: np.random.Generator) -> str:
        no_answer = Verdict(False, None, "no_answer", "the student's turn was not an answer attempt")
        return self.base.feedback(task, no_answer, turn, rng)

    def __repr__(self) -> str:
        return f"ShardedTeacher(base={self.base!r})"


# ----------------------------------------------------------------------------------------- MathTutor-Sharded
STUDENT_PROMPT = (
    "You are a student solving a math word problem with your teacher. Some details of the problem may be "
    "missing at first. If you need a detail, ask the teacher one question about it; the teacher gives one detail "
    "per turn. When you have every detail, reason briefly and give your final answer as \\boxed{...}."
)

TEACHER_PROMPT = """You are a patient math teacher. The student cannot see this message.
The full problem: {full}
The student was only told: {prompt}
The missing details; reveal at most one per turn, word for word, the one the student asks about first:
{shards}
Correct answer (never state it, not even partly): {answer}
Worked solution (for you only): {solution}
Hints, from gentle to strong:
{hints}
After each attempt a verifier report tells you how the attempt was read."""


def teacher_prompt(task: Task) -> str:
    """The teacher's system prompt: the full problem, the shards, the answer, the solution and the hints."""
    return TEACHER_PROMPT.format(
        full=task.metadata.get("full_prompt", task.prompt),
        prompt=task.prompt,
        shards="\n".join(f"{i + 1}. {s}" for i, s in enumerate(task.shards)),
        answer=task.answer,
        solution=task.solution,
        hints="\n".join(f"- {h}" for h in task.hints) or "- (none)",
    )


def make_math_sharded(
    *,
    difficulty: int | tuple[int, int] = (1, 3),
    teacher: str = "locate",
    tasks: TaskSource | None = None,
    classifier: Callable[[str, Task], str] = classify_turn,
    verifier_timeout: float = 2.0,
    verifier_memory_mb: int = 1024,
    **env_kwargs: Any,
) -> ConversationEnv:
    """Build MathTutor-Sharded (registered as ``MathTutor-Sharded-v0``): word problems whose facts come as shards.

    Args:
        difficulty: 1 (two shards), 2 (three or four), 3 (three, multi-step), or an inclusive ``(low, high)``.
        teacher: the base policy wrapped by :class:`ShardedTeacher`: ``"verdict"``, ``"direction"``, ``"locate"``
            (default) or ``"hints"`` (see MathTutor-v0).
        tasks: a task source with shards to use instead of :class:`~convenv.tasks.math_sharded.ShardedMathTasks`.
        classifier: ``(student_text, task) -> "attempt" | "question" | "other"``; only attempts are verified.
        verifier_timeout: hard deadline, in seconds, of one answer check.
        verifier_memory_mb: address-space cap of the verifier's worker.
        **env_kwargs: passed to :class:`~convenv.env.ConversationEnv`; ``max_turns`` defaults to 6 (enough to
            ask for four shards and answer with one turn to spare).

    """
    # imported here so that `from convenv.envs.sharded import ShardedTeacher` (CodeTutor) does not load sympy
    from convenv.envs.math_feedback import format_answer, make_feedback_policy, wrong_answer
    from convenv.envs.math_tutor import verifier_report
    from convenv.tasks.math_sharded import ShardedMathTasks
    from convenv.verifiers.math import MathVerifier

    domain = Domain(
        name="MathTutor-Sharded",
        tasks=tasks if tasks is not None else ShardedMathTasks(difficulty=difficulty),
        verifier=MathVerifier(timeout=verifier_timeout, memory_mb=verifier_memory_mb),
        feedback=ShardedTeacher(make_feedback_policy(teacher)),
        student_prompt=lambda task: STUDENT_PROMPT,
        teacher_prompt=teacher_prompt,
        leak_check=detect_leak,
        redact=redact,
        format_answer=format_answer,
        wrong_answer=wrong_answer,
        verifier_report=verifier_report,
        classify=classifier,
        description="Underspecified math problems: the facts come one per turn, best when the student asks",
    )
    env_kwargs.setdefault("env_id", "MathTutor-Sharded-v0")
    env_kwargs.setdefault("max_turns", 6)
    return ConversationEnv(domain, **env_kwargs)
