"""``ConversationEnv``: a teacher–student dialogue as a PettingZoo parallel environment over token ids.

The contract (DESIGN §4), in one place:

* ``possible_agents == ["teacher", "student"]``. The teacher speaks first (it opens with the problem), then the
  two alternate. One ``step`` is one utterance: only the action of the agent whose turn it is counts; an action
  sent by the other agent is ignored and reported as ``infos[agent]["ignored_action"] = True``.
* Observations, per agent: ``{"tokens": <that agent's view, int64 ids>, "to_act": <index>}`` where ``to_act`` is
  the index in ``possible_agents`` of the agent who speaks next, or ``len(possible_agents)`` once the episode is
  over. The teacher's view starts with a system prompt carrying the privileged knowledge and receives a
  teacher-only verifier report after each attempt; the student's view holds only public messages.
* Actions: a 1-D integer array of token ids (``action_space(agent)``). Trailing pad ids and one trailing
  end-of-turn (or EOS) id are stripped; structural ids (role headers, end-of-turn, pad, ...) are not allowed
  inside an utterance. An invalid action raises :class:`~convenv.error.InvalidAction` and leaves the transcript
  untouched.
* Rewards: when the student's attempt at student turn ``t`` (1-based) is verified correct, both agents get
  ``gamma ** (t - 1)``; the student pays ``turn_cost`` per turn; the teacher pays ``leak_penalty`` per leaking
  message when ``leak_policy="penalize"``.
* ``terminations`` become True on a verified correct answer, ``truncations`` after ``max_turns`` student turns
  (or if a message would overflow ``max_context_tokens``). Then ``agents`` is empty and ``step`` raises
  :class:`~convenv.error.ResetNeeded` until ``reset``.
* ``reset(seed=...)`` fixes the task and every random choice through the env's own generator; nothing touches
  global RNG state. ``reset(options={"task": task})`` plays a given task (e.g. G conversations on one problem).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

import numpy as np
from gymnasium import spaces
from gymnasium.utils import seeding
from pettingzoo import ParallelEnv

from convenv.agent import ScriptedTeacher
from convenv.domain import Domain, shards_in_text
from convenv.error import InvalidAction, NotYourTurn, ResetNeeded
from convenv.render import render_blocks
from convenv.spaces import TokenSequence
from convenv.tasks.base import Task
from convenv.tokenizers import Tokenizer, get_tokenizer
from convenv.transcript import Message, Transcript
from convenv.validation import check_config, validate_utterance
from convenv.verifiers.base import Verdict

AGENTS = ("teacher", "student")
TURN_KINDS = ("attempt", "question", "other")
AUTODIDACT_PROMPT = (
    "You are a teacher. The student cannot see this message. You do not know the answer: work the problem out "
    "yourself, check the student's attempts critically, and reply with short feedback that helps the student "
    "find its mistakes, without giving a final answer.\nProblem: {problem}"
)
MAX_REPORT_TOKENS = 256  # teacher-only verifier reports are cut to this many ids


class ConversationEnv(ParallelEnv):
    """A teacher–student dialogue over token ids with a verifiable reward (see the module docstring).

    Args:
        domain: tasks, verifier, prompts and scripted teacher of one kind of problem.
        tokenizer: ``"byte"`` (offline default), a Hugging Face tokenizer, or a :class:`Tokenizer`.
        max_turns: student turns before truncation (4 in training, 10 in evaluation in the reference papers).
        gamma: per-student-turn discount of the success reward.
        turn_cost: subtracted from the student's reward at each of its turns.
        max_utterance_tokens: longest utterance, in ids, either agent may send.
        max_context_tokens: longest view; default leaves room for every turn at full length plus 4,096 ids of
            prompts and reports. A message that would overflow it ends the episode (truncation).
        leak_policy: what happens when a teacher message contains the answer: ``"report"`` (flag in infos),
            ``"penalize"`` (also subtract ``leak_penalty`` from the teacher's reward), ``"redact"`` (replace the
            leaked spans before the message is appended; flagged as well).
        leak_penalty: teacher penalty per leaking message under ``"penalize"``.
        teacher_knowledge: ``"privileged"`` (default: the teacher's view carries the answer, solution, hints and a
            verifier report after each attempt) or ``"none"``: the autodidact mode of RL²F §4, where the teacher
            (typically the student's own model) sees only the public problem and the dialogue, gets no verifier
            reports and no privileged infos, and critiques the attempts on its own.
        teacher_prompt_template: a format string for the teacher's system prompt with the slots ``{problem}``,
            ``{answer}``, ``{solution}`` and ``{hints}`` (the verifier's reports arrive as teacher-only messages
            after each attempt); None uses the domain's prompt. In autodidact mode only ``{problem}`` is filled.
        render_mode: ``None``, ``"ansi"`` (``render()`` returns a string) or ``"human"`` (prints it).
        env_id: shown by ``render``; set by ``convenv.make``.

    """

    metadata = {"render_modes": ["ansi", "human"], "name": "conversation_v0", "is_parallelizable": True}

    def __init__(
        self,
        domain: Domain,
        *,
        tokenizer: Any = "byte",
        max_turns: int = 4,
        gamma: float = 1.0,
        turn_cost: float = 0.0,
        max_utterance_tokens: int = 1024,
        max_context_tokens: int | None = None,
        leak_policy: str = "report",
        leak_penalty: float = 1.0,
        teacher_knowledge: str = "privileged",
        teacher_prompt_template: str | None = None,
        render_mode: str | None = None,
        env_id: str | None = None,
    ):
        check_config(max_turns, gamma, max_utterance_tokens, leak_policy, render_mode, teacher_knowledge)
        self.domain = domain
        self.tokenizer: Tokenizer = get_tokenizer(tokenizer)
        self.max_turns = int(max_turns)
        self.gamma = float(gamma)
        self.turn_cost = float(turn_cost)
        self.max_utterance_tokens = int(max_utterance_tokens)
        self.max_context_tokens = int(
            max_context_tokens or 2 * self.max_turns * (self.max_utterance_tokens + 16) + 4096
        )
        self.leak_policy = leak_policy
        self.leak_penalty = float(leak_penalty)
        self.teacher_knowledge = teacher_knowledge
        self.teacher_prompt_template = teacher_prompt_template
        self.render_mode = render_mode
        self.env_id = env_id or domain.name
        self.possible_agents = list(AGENTS)
        self.agents: list[str] = []
        self._structural_ids = frozenset(self.tokenizer.special_ids.values())
        self._strip_ids = (self.tokenizer.end_of_turn_id, self.tokenizer.eos_id)
        self._np_random: np.random.Generator | None = None
        self._np_random_seed: int | None = None
        self._transcript: Transcript | None = None
        self.task: Task | None = None

    # ----------------------------------------------------------------------------------------------- spaces
    @functools.cache  # noqa: B019 -- PettingZoo requires the same object on every call
    def observation_space(self, agent: str) -> spaces.Dict:
        """``{"tokens": TokenSequence(max_context_tokens), "to_act": Discrete(len(possible_agents) + 1)}``."""
        self._check_agent(agent)
        return spaces.Dict(
            {
                "tokens": TokenSequence(self.max_context_tokens, self.tokenizer.vocab_size),
                "to_act": spaces.Discrete(len(self.possible_agents) + 1),
            }
        )

    @functools.cache  # noqa: B019 -- the same object on every call, so seeding it sticks
    def action_space(self, agent: str) -> TokenSequence:
        """Utterances: 1..``max_utterance_tokens`` ids, structural ids excluded."""
        self._check_agent(agent)
        return TokenSequence(
            self.max_utterance_tokens,
            self.tokenizer.vocab_size,
            min_length=1,
            exclude=self._structural_ids,
        )

    # ------------------------------------------------------------------------------------------------ state
    @property
    def transcript(self) -> Transcript:
        """The current episode's append-only transcript."""
        if self._transcript is None:
            raise ResetNeeded("expected reset() before reading the transcript, got none; call env.reset() first")
        return self._transcript

    @property
    def np_random(self) -> np.random.Generator:
        """The env's own generator (seeded by ``reset(seed=...)``)."""
        if self._np_random is None:
            self._np_random, self._np_random_seed = seeding.np_random()
        return self._np_random

    @property
    def to_act(self) -> str | None:
        """The agent whose turn it is, or None when no episode is running."""
        return self._to_act if self.agents else None

    @property
    def end_reason(self) -> str | None:
        """Why the episode ended (``"success"``, ``"turn_limit"``, ``"context_limit"``), None while it runs."""
        return self._end_reason if self._transcript is not None and not self.agents else None

    def public_messages(self) -> list[tuple[Message, Verdict | None]]:
        """Teacher and student messages in order, each with its verdict (None for teacher messages)."""
        return [(m, self._verdicts.get(i)) for i, m in enumerate(self.transcript.messages) if m.speaker in AGENTS]

    @property
    def privileged_teacher(self) -> bool:
        """Whether the teacher sees the privileged knowledge (False in the autodidact mode)."""
        return self.teacher_knowledge == "privileged"

    def default_teacher(self, seed: int = 0) -> ScriptedTeacher:
        """The domain's scripted teacher as an :class:`~convenv.agent.Agent` for this env's tokenizer."""
        if not self.privileged_teacher:
            raise ValueError(
                "expected teacher_knowledge='privileged' for the scripted teacher, got 'none' (autodidact mode), "
                "where the teacher knows only the public problem; play the teacher with a model, e.g. "
                "convenv.agents.HFAgent.for_env(env, model, role='teacher')"
            )
        return ScriptedTeacher(self.domain.feedback, self.tokenizer, seed=seed)

    def _teacher_prompt(self, task: Task) -> str:
        if not self.privileged_teacher:
            return (self.teacher_prompt_template or AUTODIDACT_PROMPT).format(
                problem=task.prompt, answer="", solution="", hints=""
            )
        if self.teacher_prompt_template is None:
            return self.domain.teacher_prompt(task)
        return self.teacher_prompt_template.format(
            problem=task.prompt, answer=task.answer, solution=task.solution, hints="\n".join(task.hints)
        )

    # ------------------------------------------------------------------------------------------------- reset
    def reset(
        self, seed: int | None = None, options: Mapping[str, Any] | None = None
    ) -> tuple[dict[str, dict], dict[str, dict]]:
        """Start an episode: draw a task (or take ``options["task"]``), write both system prompts.

        Returns:
            ``(observations, infos)`` keyed by agent; the teacher is to act. Other option keys are ignored.

        """
        if seed is not None or self._np_random is None:
            self._np_random, self._np_random_seed = seeding.np_random(seed)
        task = (options or {}).get("task")
        if task is not None and not isinstance(task, Task):
            raise TypeError(
                f"expected options['task'] to be a convenv Task, got {type(task).__name__}; "
                "pass a task from a TaskSource or omit the option"
            )
        self.task = task if task is not None else self.domain.tasks.sample(self._np_random)
        self._transcript = Transcript(self.tokenizer, viewers=AGENTS)
        self._transcript.append("system", text=self.domain.student_prompt(self.task), visible_to=("student",))
        self._transcript.append("system", text=self._teacher_prompt(self.task), visible_to=("teacher",))
        self.agents = list(self.possible_agents)
        self._to_act = "teacher"
        self._student_turn = 0
        self._verdict: Verdict | None = None
        self._verdicts: dict[int, Verdict] = {}  # message index -> verdict of that attempt
        self._leak = None
        self._leaks = 0
        self._returns = dict.fromkeys(AGENTS, 0.0)
        self._success_turn: int | None = None
        self._end_reason: str | None = None
        self._printed = 0  # render blocks already printed in "human" mode
        self._turn_kind: str | None = None
        self._turn_counts = dict.fromkeys((*TURN_KINDS, "premature"), 0)
        self._revealed: frozenset[int] = frozenset()
        needed = self.task.metadata.get("needed_shards", range(len(self.task.shards)))
        self._needed_shards = frozenset(int(i) for i in needed)
        if self.render_mode == "human":
            self.render()
        return self._observations(), self._infos(ignored=())

    # -------------------------------------------------------------------------------------------------- step
    def step(self, actions: Mapping[str, Any]) -> tuple[dict, dict, dict, dict, dict]:
        """Apply the speaking agent's utterance.

        Returns:
            ``(observations, rewards, terminations, truncations, infos)``, each keyed by the agents that were
            alive before the step. ``infos[agent]`` holds ``to_act`` (name or None), ``turn`` (student turns so
            far), ``attempts`` (of those, answer attempts), ``turn_kind`` (``"attempt"``, ``"question"`` or
            ``"other"`` for the last student turn), ``task_id``, ``last_speaker``, ``last_message`` (text),
            ``correct`` (last student turn's verdict, None if it was not an attempt), ``extracted`` (the answer
            read from it), ``leaked`` (last teacher message), ``ignored_action``, and at the end ``episode``
            (``success``, ``success_turn``, ``turns``, ``return``, ``leaks``, ``reason``, ``attempts``,
            ``questions``, ``premature_attempts``). The teacher's info adds the privileged ``task``, ``verdict``
            (:class:`~convenv.verifiers.base.Verdict`), ``leak`` report and ``shards_revealed``.

        """
        if self._transcript is None:
            raise ResetNeeded("expected reset() before step(), got step() first; call env.reset(seed=...)")
        if not self.agents:
            raise ResetNeeded(
                f"expected a running episode, got one that ended ({self._end_reason}); call env.reset() "
                "before stepping again"
            )
        speaker = self._to_act
        body = self._validate(speaker, actions)  # raises before anything changes
        ignored = tuple(a for a, act in actions.items() if a != speaker and a in AGENTS and act is not None)
        rewards = dict.fromkeys(self.agents, 0.0)
        terminated = truncated = False
        if speaker == "teacher":
            truncated = not self._teacher_speaks(body, rewards)
        else:
            terminated, truncated = self._student_speaks(body, rewards)
        for agent, r in rewards.items():
            self._returns[agent] += r
        alive = list(self.agents)
        if terminated or truncated:
            self._end_reason = self._end_reason or ("success" if terminated else "turn_limit")
            self.agents = []
        else:
            self._to_act = "student" if speaker == "teacher" else "teacher"
        observations = self._observations(alive)
        infos = self._infos(ignored, alive)
        terminations = dict.fromkeys(alive, bool(terminated))
        truncations = dict.fromkeys(alive, bool(truncated))
        if self.render_mode == "human":
            self.render()
        return observations, rewards, terminations, truncations, infos

    def _teacher_speaks(self, body: list[int], rewards: dict[str, float]) -> bool:
        """Append the teacher's message; False if it would overflow the context."""
        text = self.tokenizer.decode(body)
        # quoting the student's own words back reveals nothing it did not already say
        said = [m.text for m in self.transcript.messages if m.speaker == "student"]
        leak = self.domain.leak_check(text, self.task, public=said)
        if leak.leaked and self.leak_policy == "redact":
            text = self.domain.redact(text, self.task, public=said)
            body = self.tokenizer.encode(text)
        if not self._fits(("teacher", body, AGENTS)):
            return False
        self.transcript.append("teacher", body=body, text=text, visible_to=AGENTS)
        if self.task.shards:
            reveal = self.domain.revealed_shards or shards_in_text
            self._revealed |= frozenset(int(i) for i in reveal(self.task, text))
        self._leak = leak
        if leak.leaked:
            self._leaks += 1
            if self.leak_policy == "penalize":
                rewards["teacher"] -= self.leak_penalty
        return True

    def _student_speaks(self, body: list[int], rewards: dict[str, float]) -> tuple[bool, bool]:
        """Verify and append the student's attempt; returns ``(terminated, truncated)``."""
        if not self._fits(("student", body, AGENTS)):  # checked before the (costly) verification
            return False, True
        text = self.tokenizer.decode(body)
        kind = self._classify(text)
        verdict = self.domain.verifier.verify(text, self.task) if kind == "attempt" else None
        if verdict is None:
            what = "a question" if kind == "question" else "not an answer attempt"
            report_text = f"[verifier] not checked: the student's turn is {what}."
        else:
            report_text = self.domain.verifier_report(verdict)
        report = self.tokenizer.encode(report_text)[:MAX_REPORT_TOKENS]
        messages = [("student", body, AGENTS)]
        if self.privileged_teacher:
            messages.append(("verifier", report, ("teacher",)))
        if not self._fits(*messages):
            return False, True
        self.transcript.append("student", body=body, text=text, visible_to=AGENTS)
        self._student_turn += 1
        self._turn_kind = kind
        self._turn_counts[kind] += 1
        if verdict is not None:
            self._verdicts[len(self.transcript) - 1] = verdict
            if not self._needed_shards <= self._revealed:  # answered before the task was fully specified
                self._turn_counts["premature"] += 1
        if self.privileged_teacher:  # the autodidact teacher must judge the attempt on its own
            self.transcript.append("verifier", body=report, visible_to=("teacher",))
        self._verdict = verdict
        rewards["student"] -= self.turn_cost
        if verdict is not None and verdict.correct:
            self._success_turn = self._student_turn
            bonus = self.gamma ** (self._student_turn - 1)
            rewards["student"] += bonus
            rewards["teacher"] += bonus
            return True, False
        return False, self._student_turn >= self.max_turns

    def _classify(self, text: str) -> str:
        if self.domain.classify is None:
            return "attempt"
        kind = self.domain.classify(text, self.task)
        if kind not in TURN_KINDS:
            raise ValueError(f"expected the domain's classify to return one of {TURN_KINDS}, got {kind!r}")
        return kind

    def _fits(self, *messages: tuple[str, list[int], tuple[str, ...]]) -> bool:
        """Whether the messages fit every view's context; if not, the episode ends as truncated."""
        extra = dict.fromkeys(AGENTS, 0)
        for speaker, body, visible_to in messages:
            for viewer, ids in self.transcript.renders(speaker, body, visible_to).items():
                extra[viewer] += len(ids)
        if all(self.transcript.view_length(v) + n <= self.max_context_tokens for v, n in extra.items()):
            return True
        self._end_reason = "context_limit"
        return False

    def _validate(self, speaker: str, actions: Mapping[str, Any]) -> list[int]:
        """The speaker's utterance as a list of ids, or a clear InvalidAction; changes nothing."""
        if not isinstance(actions, Mapping):
            raise InvalidAction(
                f"expected a dict of actions keyed by agent, got {type(actions).__name__}; "
                f"pass {{'{speaker}': token_ids}}"
            )
        unknown = sorted(str(a) for a in actions if a not in AGENTS)
        if unknown:
            raise InvalidAction(
                f"expected actions keyed by agents in {list(AGENTS)}, got {unknown}; drop or rename those keys"
            )
        action = actions.get(speaker)
        if action is None:
            raise NotYourTurn(
                f"expected an action for {speaker!r}, whose turn it is, got none (keys: {sorted(actions)}); "
                f"include actions[{speaker!r}] — observations say whose turn it is in 'to_act'"
            )
        return validate_utterance(
            action,
            agent=speaker,
            vocab_size=self.tokenizer.vocab_size,
            max_length=self.max_utterance_tokens,
            structural_ids=self._structural_ids,
            pad_id=self.tokenizer.pad_id,
            strip_ids=self._strip_ids,
            names={i: n for n, i in self.tokenizer.special_ids.items()},
        )

    # --------------------------------------------------------------------------------------- observations
    def _observations(self, agents: list[str] | None = None) -> dict[str, dict]:
        to_act = self.possible_agents.index(self._to_act) if self.agents else len(self.possible_agents)
        return {
            a: {"tokens": self.transcript.view_ids(a), "to_act": to_act}
            for a in (self.agents if agents is None else agents)
        }

    def _infos(self, ignored: tuple[str, ...], agents: list[str] | None = None) -> dict[str, dict]:
        public = [m for m in self.transcript.messages if m.speaker in AGENTS]
        last = public[-1] if public else None
        verdict = self._verdict
        common = {
            "to_act": self._to_act if self.agents else None,
            "turn": self._student_turn,
            "task_id": self.task.id,
            "last_speaker": last.speaker if last else None,
            "last_message": last.text if last else None,
            "correct": None if verdict is None else verdict.correct,
            "extracted": None if verdict is None else verdict.extracted,
            "leaked": bool(self._leak.leaked) if self._leak is not None else False,
            "turn_kind": self._turn_kind,
            "attempts": self._turn_counts["attempt"],
        }
        if not self.agents:
            common["episode"] = {
                "success": self._success_turn is not None,
                "success_turn": self._success_turn,
                "turns": self._student_turn,
                "return": self._returns["student"],
                "leaks": self._leaks,
                "reason": self._end_reason,
                "attempts": self._turn_counts["attempt"],
                "questions": self._turn_counts["question"],
                "premature_attempts": self._turn_counts["premature"],
            }
        infos = {}
        for a in self.agents if agents is None else agents:
            info = dict(common, ignored_action=a in ignored)
            if a == "teacher" and self.privileged_teacher:
                info.update(
                    task=self.task, verdict=verdict, leak=self._leak, shards_revealed=tuple(sorted(self._revealed))
                )
            infos[a] = info
        return infos

    # ----------------------------------------------------------------------------------------------- render
    def render(self) -> str | None:
        """The dialogue with roles and verdicts: returned for ``"ansi"``, printed for ``"human"``."""
        if self.render_mode is None:
            import gymnasium

            gymnasium.logger.warn("render() called with render_mode=None; make the env with render_mode='ansi'")
            return None
        blocks = render_blocks(self)
        if self.render_mode == "human":  # print only what is new since the last call
            print("\n".join(blocks[self._printed :]))
            self._printed = len(blocks)
            return None
        return "\n".join(blocks)

    def close(self) -> None:
        """Release the verifier's worker processes."""
        self.domain.verifier.close()

    def _check_agent(self, agent: str) -> None:
        if agent not in AGENTS:
            raise KeyError(f"expected an agent in {AGENTS}, got {agent!r}")

    def __repr__(self) -> str:
        return f"ConversationEnv<{self.env_id}>"
