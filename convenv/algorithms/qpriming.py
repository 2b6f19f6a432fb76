"""Q-priming data: SFT dialogues in which wrong attempts were replaced by questions, then played on for real.

SML builds part of its SFT data this way: in a dialogue, each *wrong attempt* at student turn ``t`` (1-based) is
replaced by a *question* with probability ``base ** t`` (``base = 0.75``), so early turns most often become
questions and a model trained on the data learns to ask before it guesses. Here the replacement happens while
the episode is played (:class:`QPrimingStudent` wraps the student agent): when the agent's utterance would be an
attempt the verifier rejects, a seeded draw decides, and a replaced turn is answered by the real env and teacher,
after which the original agent continues from the new dialogue. Every example is therefore a real env
transcript, re-playable turn by turn.

The question is written by a pluggable ``question_writer(task, view_messages, rng) -> str`` that may read the
privileged task (only while building data; the student's view never holds it):

* sharded tasks (MathTutor-Sharded-v0, CodeTutor-Sharded-v0): :func:`sharded_question` asks about a shard the
  student's view does not hold yet, in that shard's own distinctive words, so that
  :class:`~convenv.envs.sharded.ShardedTeacher` matches the question to it and reveals it;
* course tasks (GuessNumber-v0, Arithmetic-v0, tiny alphabet, no question channel): :func:`course_question`,
  ``"?"``, which the teacher answers with ``?`` (the turn is spent, no direction given);
* other tasks (MathTutor-v0, puzzles): :func:`hint_question`, a request for a hint or a direction without any
  number; envs without a turn classifier verify it as an answer-less attempt and their teachers reply with the
  expected answer format (and, for ``teacher="hints"``, the next hint).

Every question passes the domain's leak check (a question giving the answer away raises).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from convenv.algorithms.sft import SFTExample, build_examples
from convenv.domain import shards_in_text
from convenv.envs.sharded import STOPWORDS, content_words, match_shard, needed, shard_keys
from convenv.tasks.base import Task
from convenv.transcript import Message

__all__ = [
    "QPrimingStudent",
    "QuestionWriter",
    "build_qpriming_examples",
    "course_question",
    "default_question_writer",
    "hint_question",
    "replacement_probability",
    "sharded_question",
]

QuestionWriter = Callable[[Task, Sequence[Message], np.random.Generator], str]
"""``(task, view_messages, rng) -> question``: the student's view so far, and a seeded generator."""

BASE = 0.75
SHARD_TEMPLATES = (
    "Could you tell me more about {words}?",
    "What about {words}?",
    "I need one more detail. What do you know about {words}?",
)
HINT_QUESTIONS = (
    "Could you give me a hint?",
    "Which step should I check again?",
    "How should I start this problem?",
    "What am I missing here?",
    "Am I going in the right direction?",
)
COMPLETE_QUESTION = "Is there any other detail I should know?"


def replacement_probability(turn: int, base: float = BASE) -> float:
    """Probability that a wrong attempt at student turn ``turn`` (1-based) becomes a question: ``base ** turn``."""
    if int(turn) < 1:
        raise ValueError(f"expected a 1-based student turn, got {turn}; student turns start at 1")
    return float(base) ** int(turn)


# ------------------------------------------------------------------------------------------ question writers
def _ordered_words(text: str) -> list[str]:
    """Lower-case words of ``text`` without stop words, in order, each once."""
    words = [w for w in re.findall(r"[a-z]+", text.lower()) if w not in STOPWORDS]
    return list(dict.fromkeys(words))


def _shard_words(task: Task, index: int) -> list[str]:
    """The shard's words that no other shard's keys hold (its keywords first, then its text), else all of them.

    One word per stem (``cost`` and ``costs`` count once).
    """
    keys = shard_keys(task)  # stemmed, per shard
    extra = task.metadata.get("shard_keywords") or ()
    keywords = " ".join(extra[index]) if index < len(extra) else ""
    stems: dict[frozenset[str], str] = {}
    for word in _ordered_words(f"{keywords} {task.shards[index]}"):
        stems.setdefault(content_words(word), word)
    candidates = list(stems.values())
    distinctive = [w for s, w in stems.items() if sum(bool(s & k) for k in keys) == 1 and s <= keys[index]]
    return distinctive or candidates


def sharded_question(task: Task, view_messages: Sequence[Message], rng: np.random.Generator) -> str:
    """Ask about a shard the view does not hold yet (a needed one while any is left), in its distinctive words.

    The question names up to three words only that shard's keys have, so
    :func:`~convenv.envs.sharded.match_shard` picks it; digits never appear (shards state numbers, questions do
    not). With every shard already revealed it asks whether anything else is needed.
    """
    said = " ".join(m.text for m in view_messages if m.speaker == "teacher")
    revealed = shards_in_text(task, said)
    left = [i for i in needed(task) if i not in revealed]
    left = left or [i for i in range(len(task.shards)) if i not in revealed]
    if not left:
        return COMPLETE_QUESTION
    target = left[int(rng.integers(len(left)))]
    words = _shard_words(task, target)
    template = SHARD_TEMPLATES[int(rng.integers(len(SHARD_TEMPLATES)))]
    question = template.format(words=", ".join(words[:3]))
    unrevealed = [i for i in range(len(task.shards)) if i not in revealed]
    if match_shard(question, task, [*unrevealed, *sorted(revealed)]) != target:  # as ShardedTeacher matches it
        question = template.format(words=", ".join(words))  # three words were not enough: use them all
    return question


def course_question(task: Task, view_messages: Sequence[Message], rng: np.random.Generator) -> str:
    """``"?"``: the course envs' tiny alphabet has no words for a question (the teacher answers ``?``)."""
    return "?"


def hint_question(task: Task, view_messages: Sequence[Message], rng: np.random.Generator) -> str:
    """A request for a hint or a direction, with no number in it (so it is never read as an answer)."""
    return HINT_QUESTIONS[int(rng.integers(len(HINT_QUESTIONS)))]


def default_question_writer(task: Task, view_messages: Sequence[Message], rng: np.random.Generator) -> str:
    """:func:`sharded_question` for tasks with shards, :func:`course_question` for course ones, else hints."""
    if task.shards:
        return sharded_question(task, view_messages, rng)
    if task.domain == "course":
        return course_question(task, view_messages, rng)
    return hint_question(task, view_messages, rng)


# -------------------------------------------------------------------------------------------------- playing
class QPrimingStudent:
    """Wraps a student agent: each wrong attempt at student turn t becomes a question with probability base ** t.

    The wrapped agent acts as usual; where its utterance is an attempt (the domain's ``classify``, or every turn
    without one) that the domain's verifier rejects, one draw from that conversation's generator decides. A
    replaced turn is the ``question_writer``'s question, checked with the domain's leak check and the env's
    utterance limit. Conversation ``i`` of a batch is ``envs[i]`` (as in :func:`~convenv.play.play_batch`).

    Args:
        agent: the original student (scripted, ``OracleStudent``, ``HFAgent``, ...).
        envs: the env of each conversation, in batch order.
        question_writer: ``(task, view_messages, rng) -> str`` (default :func:`default_question_writer`).
        base: replacement probability base (``base ** t`` at student turn t).
        seed: seeds one ``numpy`` generator per conversation (draws and question wording).

    Attributes:
        decisions: per conversation, ``(turn, replaced)`` for each wrong attempt the agent made.
        questions: per conversation, the questions sent.

    """

    role = "student"

    def __init__(
        self,
        agent: Any,
        envs: Sequence[Any],
        *,
        question_writer: QuestionWriter = default_question_writer,
        base: float = BASE,
        seed: int = 0,
    ):
        if not 0.0 <= float(base) <= 1.0:
            raise ValueError(f"expected 0 <= base <= 1, got {base}; SML uses 0.75")
        self.agent = agent
        self.envs = list(envs)
        self.question_writer = question_writer
        self.base = float(base)
        self.rngs = [np.random.default_rng(s) for s in np.random.SeedSequence(int(seed)).spawn(len(self.envs))]
        self.decisions: list[list[tuple[int, bool]]] = [[] for _ in self.envs]
        self.questions: list[list[str]] = [[] for _ in self.envs]

    def act(self, observations: Sequence[Mapping[str, Any]], infos: Sequence[Mapping[str, Any]]) -> list[Any]:
        """The wrapped agent's utterances, wrong attempts replaced by questions with probability ``base ** t``."""
        actions = list(self.agent.act(observations, infos))
        for row, (action, info) in enumerate(zip(actions, infos, strict=True)):
            if action is None or info.get("to_act") != self.role:
                continue
            env = self.envs[row]
            if not _wrong_attempt(env, _text(env, action)):
                continue
            turn = int(info["turn"]) + 1  # the student turn this utterance would be
            rng = self.rngs[row]
            replaced = bool(rng.random() < replacement_probability(turn, self.base))
            self.decisions[row].append((turn, replaced))
            if replaced:
                question = self._question(env, rng)
                self.questions[row].append(question)
                actions[row] = np.asarray(env.tokenizer.encode(question), dtype=np.int64)
        return actions

    def _question(self, env: Any, rng: np.random.Generator) -> str:
        question = self.question_writer(env.task, env.transcript.view_messages(self.role), rng)
        leak = env.domain.leak_check(question, env.task, public=())
        if leak.leaked:
            raise ValueError(
                f"expected a question that does not give the answer away, got {question!r} (the domain's leak "
                f"check found {list(leak.matches)}); make the question_writer leave the answer out"
            )
        n = len(env.tokenizer.encode(question))
        if n > env.max_utterance_tokens:
            raise ValueError(
                f"expected a question of at most {env.max_utterance_tokens} ids (the env's max_utterance_tokens), "
                f"got {n} for {question!r}; shorten the question_writer's questions or raise max_utterance_tokens"
            )
        return question


def _text(env: Any, action: Any) -> str:
    """The utterance's text as the env will read it (trailing pads and one end-of-turn / EOS id dropped)."""
    tok = env.tokenizer
    ids = [int(i) for i in np.asarray(action).reshape(-1)]
    while ids and ids[-1] == tok.pad_id:
        ids.pop()
    if ids and ids[-1] in (tok.end_of_turn_id, tok.eos_id):
        ids.pop()
    return tok.decode(ids)


def _wrong_attempt(env: Any, text: str) -> bool:
    """Whether ``text`` would be an answer attempt that the verifier rejects (checked with the privileged task)."""
    classify = env.domain.classify
    if classify is not None and classify(text, env.task) != "attempt":
        return False
    return not env.domain.verifier.verify(text, env.task).correct


def build_qpriming_examples(
    envs: Sequence[Any],
    agents: Mapping[str, Any],
    *,
    seeds: Sequence[int | None] | None,
    question_writer: QuestionWriter = default_question_writer,
    base: float = BASE,
    seed: int = 0,
    only_successful: bool = True,
    options: Sequence[Mapping[str, Any] | None] | None = None,
) -> list[SFTExample]:
    """Play one Q-primed episode per env; return the student's examples (for ``train_sft``).

    Args:
        envs: one env per conversation.
        agents: one batched agent per role; ``agents["student"]`` is wrapped in :class:`QPrimingStudent`; a
            missing ``"teacher"`` is the env's scripted ``default_teacher()``.
        seeds: reset seed of each env.
        question_writer: writes the questions (default :func:`default_question_writer`).
        base: replacement probability base.
        seed: seeds the replacement draws and the question wording.
        only_successful: keep only the re-played episodes that ended in success.
        options: reset options of each env.

    Returns:
        One example per kept episode; ``meta`` adds to :func:`~convenv.algorithms.sft.build_examples`'s
        ``decisions`` (``(turn, replaced)`` per wrong attempt) and ``questions`` (the questions sent).

    """
    if "student" not in agents:
        raise ValueError(f"expected a 'student' agent to wrap, got agents for {sorted(agents)}; add one")
    primer = QPrimingStudent(agents["student"], envs, question_writer=question_writer, base=base, seed=seed)
    examples = build_examples(
        envs, {**agents, "student": primer}, role="student", seeds=seeds, only_successful=False, options=options
    )
    out = []
    for row, example in enumerate(examples):
        if only_successful and not example.success:
            continue
        meta = {
            **example.meta,
            "decisions": tuple(primer.decisions[row]),
            "questions": tuple(primer.questions[row]),
        }
        out.append(replace(example, meta=meta))
    return out
