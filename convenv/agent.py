"""The batched agent protocol, and the scripted teacher built on a domain's feedback policy.

An agent answers a batch of conversations at once: ``act(observations, infos) -> actions``, one action per
conversation, ``None`` where it is not that agent's turn. Observations and infos are exactly what
:class:`~convenv.env.ConversationEnv` returns for that agent.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np

from convenv.domain import FeedbackPolicy
from convenv.tokenizers.base import Tokenizer
from convenv.verifiers.base import Verdict

Observation = Mapping[str, Any]
Info = Mapping[str, Any]


@runtime_checkable
class Agent(Protocol):
    """Anything that maps a batch of observations (with infos) to a batch of actions."""

    role: str

    def act(self, observations: Sequence[Observation], infos: Sequence[Info]) -> list[np.ndarray | None]:
        """One utterance (token ids) per conversation whose ``info["to_act"]`` is this agent, else ``None``."""
        ...


def act_one(agent: Agent, observation: Observation, info: Info) -> np.ndarray | None:
    """Convenience: act in a single conversation."""
    return agent.act([observation], [info])[0]


class ScriptedTeacher:
    """A teacher with no model: a :class:`~convenv.domain.FeedbackPolicy` turned into token ids.

    It reads the privileged task and the last verdict from the teacher's ``info`` (``info["task"]``,
    ``info["verdict"]``); a policy with a ``respond`` hook gets the whole info. Its phrasing randomness is
    derived from ``(seed, task id, student turn)``, so it needs no reset and gives the same words in every
    process.

    Args:
        policy: the feedback policy (e.g. ``convenv.envs.math_feedback.ProgressiveHints()``).
        tokenizer: the env's tokenizer.
        seed: varies the phrasing between teachers.

    """

    role = "teacher"

    def __init__(self, policy: FeedbackPolicy, tokenizer: Tokenizer, seed: int = 0):
        self.policy = policy
        self.tokenizer = tokenizer
        self.seed = int(seed)

    def text(self, info: Info) -> str:
        """The message for one conversation where it is the teacher's turn."""
        task, verdict, turn = info["task"], info["verdict"], int(info["turn"])
        if turn == 0:
            return self.policy.opening(task)
        rng = np.random.default_rng([self.seed, zlib.crc32(task.id.encode()), turn])
        respond = getattr(self.policy, "respond", None)
        if respond is not None:
            return respond(task, info, rng)
        if verdict is None:  # the student asked or chatted instead of attempting: ask for an attempt
            verdict = Verdict(False, None, "no_answer", "the student's turn was not an answer attempt")
        attempt = max(int(info.get("attempts", turn)), 1)  # questions do not advance progressive hints
        return self.policy.feedback(task, verdict, attempt, rng)

    def act(self, observations: Sequence[Observation], infos: Sequence[Info]) -> list[np.ndarray | None]:
        """Encode :meth:`text` for each conversation where the teacher is to act."""
        return [
            np.asarray(self.tokenizer.encode(self.text(info)), dtype=np.int64)
            if info.get("to_act") == self.role
            else None
            for info in infos
        ]

    def __repr__(self) -> str:
        return f"ScriptedTeacher(policy={self.policy.name!r}, seed={self.seed})"
