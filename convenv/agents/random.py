"""A random agent: uniformly random utterances from an action space, with its own generator."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

import numpy as np
from gymnasium.spaces import Space

from convenv.agent import Info, Observation
from convenv.spaces import TokenSequence


class RandomAgent:
    """Samples each utterance from an action space; a baseline and a fuzzer for env code.

    The agent samples from its own copy of the space, seeded in ``__init__`` and again by :meth:`reset`, so it
    never advances the env's spaces' generators and the same seed gives the same utterances in every process.

    >>> import convenv
    >>> env = convenv.make("MathTutor-v0")
    >>> student = RandomAgent("student", env, seed=0, max_length=16)
    >>> observations, infos = env.reset(seed=0)
    >>> student.act([observations["student"]], [infos["student"]])  # the teacher speaks first
    [None]
    >>> env.close()

    Args:
        role: the agent it plays (``"teacher"`` or ``"student"``); it acts where ``info["to_act"] == role``.
        space: the action space to sample from, or an env whose ``action_space(role)`` is used.
        seed: seeds the agent's generator (None: fresh entropy).
        max_length: for a :class:`~convenv.spaces.TokenSequence`, draw lengths in ``[min_length, max_length]``
            instead of up to the space's (often 1024-id) limit.

    """

    def __init__(self, role: str, space: Space | Any, seed: int | None = None, max_length: int | None = None):
        if not isinstance(space, Space):
            if not callable(getattr(space, "action_space", None)):
                raise TypeError(
                    f"expected a gymnasium Space or an env with action_space(agent), got {type(space).__name__}; "
                    "pass env or env.action_space(role)"
                )
            space = space.action_space(role)
        self.role = role
        self.space = copy.deepcopy(space)  # our own generator: sampling never touches the env's space
        if max_length is not None:
            if not isinstance(self.space, TokenSequence):
                raise TypeError(
                    f"expected a TokenSequence space when max_length is given, got {type(self.space).__name__}; "
                    "drop max_length"
                )
            if max_length < self.space.min_length:
                raise ValueError(
                    f"expected max_length >= the space's min_length {self.space.min_length}, got {max_length}; "
                    "raise max_length"
                )
            max_length = min(int(max_length), self.space.max_length)
        self.max_length = max_length
        self.reset(seed)

    def reset(self, seed: int | None = None) -> None:
        """Reseed the agent's generator (None: fresh entropy)."""
        self.seed = seed
        self.space.seed(seed)

    def sample(self) -> np.ndarray:
        """Draw one random utterance."""
        if self.max_length is None:
            return np.asarray(self.space.sample())
        length = int(self.space.np_random.integers(self.space.min_length, self.max_length + 1))
        return self.space.sample(mask=(length, None))

    def act(self, observations: Sequence[Observation], infos: Sequence[Info]) -> list[np.ndarray | None]:
        """Return a random utterance for each conversation where this agent is to act, else ``None``."""
        return [self.sample() if info.get("to_act") == self.role else None for info in infos]

    def __repr__(self) -> str:
        return f"RandomAgent(role={self.role!r}, seed={self.seed}, max_length={self.max_length})"
