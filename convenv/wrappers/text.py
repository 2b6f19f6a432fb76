"""Text-level wrapper (humans, API models) and AEC conversion."""

from __future__ import annotations

import functools
import string
from collections.abc import Mapping
from typing import Any

import numpy as np
from gymnasium import spaces
from pettingzoo import ParallelEnv
from pettingzoo.utils.conversions import parallel_to_aec

from convenv.error import InvalidAction


class Utterance(spaces.Text):
    """Any string of at most ``max_length`` characters (samples use printable ASCII).

    Gymnasium's ``Text`` only contains strings over its charset; decoded model output can hold any character, so
    this space accepts every ``str`` within the length bound.
    """

    def __init__(self, max_length: int, min_length: int = 0, seed: Any = None):
        super().__init__(
            max_length, min_length=min_length, charset=string.ascii_letters + string.digits + " ", seed=seed
        )

    def contains(self, x: Any) -> bool:
        """Any ``str`` within the length bounds."""
        return isinstance(x, str) and self.min_length <= len(x) <= self.max_length


class TextWrapper(ParallelEnv):
    """The same conversation with strings in and out.

    Observations are ``{"text": <the agent's view, decoded with role markers>, "to_act": int}``; actions are
    strings, encoded with the env's tokenizer. Use it for humans, API models and quick experiments; train on
    token ids with the env itself (text round trips are not exact for every tokenizer).
    """

    metadata = {"render_modes": ["ansi", "human"], "name": "conversation_text_v0", "is_parallelizable": True}

    def __init__(self, env: Any):
        self.env = env
        self.possible_agents = list(env.possible_agents)
        self.render_mode = env.render_mode

    @property
    def agents(self) -> list[str]:  # type: ignore[override]
        """Agents of the running episode."""
        return self.env.agents

    @property
    def unwrapped(self) -> Any:
        """The token-level env."""
        return self.env

    @functools.cache  # noqa: B019 -- PettingZoo requires the same object on every call
    def observation_space(self, agent: str) -> spaces.Dict:
        """``{"text": Utterance, "to_act": Discrete}``."""
        inner = self.env.observation_space(agent)
        return spaces.Dict({"text": Utterance(16 * inner["tokens"].max_length), "to_act": inner["to_act"]})

    @functools.cache  # noqa: B019 -- the same object on every call
    def action_space(self, agent: str) -> Utterance:
        """Strings of at most ``max_utterance_tokens`` characters (the env checks the encoded length)."""
        return Utterance(self.env.max_utterance_tokens, min_length=1)

    def _text_obs(self, observations: Mapping[str, Any]) -> dict[str, dict]:
        tok = self.env.tokenizer
        return {
            a: {"text": tok.decode(o["tokens"], skip_special_tokens=False), "to_act": o["to_act"]}
            for a, o in observations.items()
        }

    def reset(self, seed: int | None = None, options: Mapping[str, Any] | None = None) -> tuple[dict, dict]:
        """Reset the env; observations as text."""
        observations, infos = self.env.reset(seed=seed, options=options)
        return self._text_obs(observations), infos

    def step(self, actions: Mapping[str, Any]) -> tuple[dict, dict, dict, dict, dict]:
        """Encode the speaker's string and step the env."""
        encoded: dict[str, Any] = {}
        for agent, text in actions.items():
            if text is None:
                continue
            if not isinstance(text, str):
                raise InvalidAction(
                    f"expected a str action for {agent!r}, got {type(text).__name__}; TextWrapper takes text, "
                    "step the inner env for token ids"
                )
            encoded[agent] = np.asarray(self.env.tokenizer.encode(text), dtype=np.int64)
        observations, rewards, terminations, truncations, infos = self.env.step(encoded)
        return self._text_obs(observations), rewards, terminations, truncations, infos

    def render(self) -> str | None:
        """The env's rendering."""
        return self.env.render()

    def close(self) -> None:
        """Close the env."""
        self.env.close()


def to_aec(env: Any) -> Any:
    """The env as a PettingZoo AEC env, through PettingZoo's own converter.

    Each AEC cycle collects one action per live agent and steps the parallel env once; the action of the agent
    whose turn it is not is ignored, as in the parallel API.
    """
    return parallel_to_aec(env)
