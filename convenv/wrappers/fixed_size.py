"""Fixed-size adapters: conversations in the flat ``MultiDiscrete`` / ``Box`` / ``Discrete`` spaces of RL libraries.

The conversation env speaks in variable-length token sequences (:class:`~convenv.spaces.TokenSequence`), which
stable-baselines3 and most RL libraries reject. A :class:`FixedSizeCodec` maps one role's view and utterances to
fixed-size spaces and back:

* **Observations**: the last ``obs_length`` ids of the view, left-padded with the tokenizer's pad id (the most
  recent ids always sit at the same positions). ``obs_type="multidiscrete"`` gives
  ``MultiDiscrete([vocab_size] * obs_length)`` (SB3 one-hot encodes it); ``obs_type="box"`` gives an ``int64``
  ``Box(0, vocab_size - 1, (obs_length,))`` for a feature extractor of your own (e.g. an embedding layer; SB3's
  default MLP would read ids as magnitudes).
* **Actions, token level** (default): ``MultiDiscrete`` with one slot per token, ``max_tokens`` slots. Slot values
  index ``alphabet`` (by default every non-structural id of the env's tokenizer, in id order, so a value *is* the
  token id for the built-in byte and char tokenizers); the extra value ``len(alphabet)`` (``end_value``) ends the
  utterance and everything after it is ignored. The first slot has no end value, so every point of the space is
  a valid, non-empty utterance: structural ids (role headers, pad, end-of-turn) cannot be produced at all, and the
  transcript can never be corrupted by what a policy samples.
* **Actions, choice level** (``choices=[...]``): ``Discrete(len(choices))``, one action per candidate utterance
  (e.g. every answer ``"1" .. "15"``). Far easier to learn; it only fits tasks whose useful utterances you can list.

:class:`FixedSizeEnv` applies a codec to a single-agent view (:class:`~convenv.wrappers.StudentEnv` /
:class:`~convenv.wrappers.TeacherEnv`) and passes Gymnasium's and stable-baselines3's ``check_env``;
:class:`FixedSizeParallelEnv` applies one codec per agent to the PettingZoo parallel env (independent learners,
``to_aec``).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any

import gymnasium
import numpy as np
from gymnasium import spaces
from pettingzoo import ParallelEnv

from convenv.error import InvalidAction

__all__ = ["FixedSizeCodec", "FixedSizeEnv", "FixedSizeParallelEnv"]

OBS_TYPES = ("multidiscrete", "box")


class FixedSizeCodec:
    """Fixed-size observation and action spaces for one role of a conversation env, and the maps to and from them.

    >>> import convenv
    >>> env = convenv.make("GuessNumber-v0", difficulty=1)
    >>> codec = FixedSizeCodec(env, obs_length=8, alphabet="0123456789", max_tokens=2)
    >>> codec.action_space
    MultiDiscrete([10 11])
    >>> env.tokenizer.decode(codec.utterance([1, 2])), env.tokenizer.decode(codec.utterance([7, 10]))
    ('12', '7')
    >>> codec.observation(env.tokenizer.encode("1-15")).tolist()  # left-padded with the pad id (39)
    [39, 39, 39, 39, 1, 12, 1, 5]
    >>> env.close()

    Args:
        env: the conversation env (anything with ``tokenizer`` and ``max_utterance_tokens``, e.g.
            ``convenv.make(...)``).
        obs_length: ids of the view kept in an observation (the most recent ones).
        obs_type: ``"multidiscrete"`` or ``"box"`` (see the module docstring).
        max_tokens: slots of a token-level action (default: the env's ``max_utterance_tokens``).
        alphabet: ids a token-level action may say: a string (each character must encode to exactly one id) or a
            sequence of ids; default every non-structural id of the tokenizer.
        choices: candidate utterances (strings); when given, actions are ``Discrete(len(choices))`` and
            ``max_tokens`` / ``alphabet`` are not used.

    Raises:
        ValueError: a setting is out of range, an alphabet id is structural or repeated, a choice is empty, too
            long or holds a structural id.

    """

    def __init__(
        self,
        env: Any,
        *,
        obs_length: int = 64,
        obs_type: str = "multidiscrete",
        max_tokens: int | None = None,
        alphabet: str | Sequence[int] | None = None,
        choices: Sequence[str] | None = None,
    ):
        self.tokenizer = env.tokenizer
        self.vocab_size = int(self.tokenizer.vocab_size)
        self.pad_id = int(self.tokenizer.pad_id)
        self._structural = frozenset(int(i) for i in self.tokenizer.special_ids.values())
        limit = int(env.max_utterance_tokens)
        if obs_type not in OBS_TYPES:
            raise ValueError(f"expected obs_type in {OBS_TYPES}, got {obs_type!r}; pick one of those")
        if int(obs_length) < 1:
            raise ValueError(f"expected obs_length >= 1, got {obs_length}; keep at least the last id of the view")
        self.obs_length = int(obs_length)
        self.obs_type = obs_type
        self.choices: tuple[str, ...] | None = None
        self._choice_ids: list[np.ndarray] = []
        self.alphabet = np.zeros(0, dtype=np.int64)
        self.max_tokens = 0
        if choices is not None:
            self._set_choices(choices, limit)
        else:
            self._set_tokens(max_tokens, alphabet, limit)

    # --------------------------------------------------------------------------------------------- setup
    def _set_choices(self, choices: Sequence[str], limit: int) -> None:
        if isinstance(choices, str) or not len(choices):
            raise ValueError(
                f"expected a non-empty sequence of strings as choices, got {choices!r}; e.g. choices=['7', '8']"
            )
        self.choices = tuple(choices)
        for text in self.choices:
            ids = self._encode(text, "a choice")
            if not 1 <= len(ids) <= limit:
                raise ValueError(
                    f"expected every choice to encode to 1..{limit} ids (the env's max_utterance_tokens), got "
                    f"{len(ids)} for {text!r}; shorten it or make the env with a larger max_utterance_tokens"
                )
            self._choice_ids.append(np.asarray(ids, dtype=np.int64))

    def _set_tokens(self, max_tokens: int | None, alphabet: str | Sequence[int] | None, limit: int) -> None:
        max_tokens = limit if max_tokens is None else int(max_tokens)
        if not 1 <= max_tokens <= limit:
            raise ValueError(
                f"expected 1 <= max_tokens <= {limit} (the env's max_utterance_tokens), got {max_tokens}; "
                "lower it or make the env with a larger max_utterance_tokens"
            )
        if alphabet is None:
            ids = [i for i in range(self.vocab_size) if i not in self._structural]
        elif isinstance(alphabet, str):
            ids = [self._one_id(ch) for ch in alphabet]
        else:
            ids = [int(i) for i in alphabet]
        if not ids or len(set(ids)) != len(ids):
            raise ValueError(f"expected a non-empty alphabet of distinct ids, got {ids}; drop the repeats")
        bad = [i for i in ids if not 0 <= i < self.vocab_size or i in self._structural]
        if bad:
            raise ValueError(
                f"expected alphabet ids in [0, {self.vocab_size}) that are not structural, got {bad}; role "
                "headers, pad and end-of-turn cannot be said (the end value of each slot ends the utterance)"
            )
        self.alphabet = np.asarray(ids, dtype=np.int64)
        self.max_tokens = max_tokens

    def _encode(self, text: str, what: str) -> list[int]:
        try:
            ids = [int(i) for i in self.tokenizer.encode(text)]
        except ValueError as err:
            raise ValueError(f"expected {what} the env's tokenizer can encode, got {text!r}; {err}") from err
        forged = [i for i in ids if i in self._structural]
        if forged:
            raise ValueError(
                f"expected {what} without structural ids, got {text!r} encoding to {forged}; rephrase it"
            )
        return ids

    def _one_id(self, ch: str) -> int:
        ids = self._encode(ch, "an alphabet character")
        if len(ids) != 1:
            raise ValueError(
                f"expected each alphabet character to encode to exactly one id, got {ch!r} -> {ids}; pass the "
                "alphabet as a list of token ids instead"
            )
        return ids[0]

    # -------------------------------------------------------------------------------------------- spaces
    @property
    def end_value(self) -> int | None:
        """The slot value that ends a token-level utterance (``len(alphabet)``); None for choice actions."""
        return None if self.choices is not None else len(self.alphabet)

    @functools.cached_property
    def observation_space(self) -> spaces.Space:
        """``MultiDiscrete([vocab_size] * obs_length)`` or an ``int64`` ``Box`` of the same shape."""
        if self.obs_type == "box":
            return spaces.Box(0, self.vocab_size - 1, shape=(self.obs_length,), dtype=np.int64)
        return spaces.MultiDiscrete(np.full(self.obs_length, self.vocab_size), dtype=np.int64)

    @functools.cached_property
    def action_space(self) -> spaces.Space:
        """``Discrete(len(choices))``, or ``MultiDiscrete([A] + [A + 1] * (max_tokens - 1))`` for A = alphabet."""
        if self.choices is not None:
            return spaces.Discrete(len(self.choices))
        a = len(self.alphabet)
        return spaces.MultiDiscrete(np.asarray([a] + [a + 1] * (self.max_tokens - 1)), dtype=np.int64)

    # ---------------------------------------------------------------------------------------------- maps
    def observation(self, ids: Sequence[int] | np.ndarray) -> np.ndarray:
        """The last ``obs_length`` ids of a view, left-padded with the pad id; (obs_length,) ``int64``."""
        ids = np.asarray(ids, dtype=np.int64)[-self.obs_length :]
        out = np.full(self.obs_length, self.pad_id, dtype=np.int64)
        if ids.size:
            out[-ids.size :] = ids
        return out

    def utterance(self, action: Any) -> np.ndarray:
        """The token ids (``int64``) an action says.

        Raises:
            InvalidAction: the action is not in :attr:`action_space` (nothing is sent to the env).

        """
        if self.choices is not None:
            if not self.action_space.contains(_as_discrete(action)):
                raise InvalidAction(
                    f"expected an action in Discrete({len(self.choices)}) (an index into choices), got {action!r}; "
                    "sample from the wrapper's action_space"
                )
            return self._choice_ids[int(_as_discrete(action))]
        values = np.asarray(action)
        if values.shape != (self.max_tokens,) or not np.issubdtype(values.dtype, np.integer):
            raise InvalidAction(
                f"expected an integer array of shape ({self.max_tokens},) (one value per token slot), got "
                f"{_describe(action)}; sample from the wrapper's action_space"
            )
        if not self.action_space.contains(values.astype(np.int64)):
            raise InvalidAction(
                f"expected slot values below {self.action_space.nvec.tolist()}, got {values.tolist()}; the first "
                f"slot indexes the alphabet, later ones may also be {self.end_value} (end of utterance)"
            )
        ends = np.flatnonzero(values == self.end_value)
        n = int(ends[0]) if ends.size else self.max_tokens
        return self.alphabet[values[:n]]

    def text(self, action: Any) -> str:
        """What an action says, decoded (for logs and debugging)."""
        return self.tokenizer.decode(self.utterance(action))

    def __repr__(self) -> str:
        what = f"choices={len(self.choices)}" if self.choices is not None else f"max_tokens={self.max_tokens}"
        return f"FixedSizeCodec(obs_length={self.obs_length}, obs_type={self.obs_type!r}, {what})"


def _as_discrete(action: Any) -> Any:
    """A 0-d array or 1-element array (what SB3 may hand over) as a plain int; anything else unchanged."""
    arr = np.asarray(action) if not isinstance(action, (str, bytes)) else None
    if arr is not None and arr.size == 1 and np.issubdtype(arr.dtype, np.integer):
        return np.int64(arr.reshape(()))
    return action


def _describe(action: Any) -> str:
    arr = np.asarray(action) if not isinstance(action, (str, bytes)) else None
    if arr is None or arr.dtype == object:
        return repr(action)
    return f"shape {arr.shape} dtype {arr.dtype}"


class FixedSizeEnv(gymnasium.Env):
    """A single-agent view (``StudentEnv`` / ``TeacherEnv``) with fixed-size spaces, for stable-baselines3 & co.

    >>> import convenv
    >>> from convenv.wrappers import StudentEnv
    >>> env = FixedSizeEnv(StudentEnv(convenv.make("GuessNumber-v0", difficulty=1)), choices=[str(i) for i in
    ...                    range(1, 16)], obs_length=32)
    >>> obs, info = env.reset(seed=0)
    >>> obs.shape, env.action_space
    ((32,), Discrete(15))
    >>> obs, reward, terminated, truncated, info = env.step(7)  # says "8"
    >>> info["said"], info["last_message"] in ("<", ">", "ok")
    ('8', True)
    >>> env.close()

    Each step sends the utterance the action maps to (see :class:`FixedSizeCodec`) and returns the inner view's
    reward, termination and info, plus ``info["said"]``, the text sent.

    Args:
        env: a :class:`~convenv.wrappers.single_agent.RoleEnv` (``StudentEnv(env)`` or ``TeacherEnv(env, ...)``).
        **codec_kwargs: ``obs_length``, ``obs_type``, ``max_tokens``, ``alphabet``, ``choices`` of
            :class:`FixedSizeCodec`.

    Raises:
        TypeError: ``env`` is not a single-agent view.

    """

    def __init__(self, env: Any, **codec_kwargs: Any):
        if not isinstance(env, gymnasium.Env) or not hasattr(env, "unwrapped_env"):
            raise TypeError(
                f"expected a single-agent view (StudentEnv or TeacherEnv), got {type(env).__name__}; wrap it "
                "first, e.g. FixedSizeEnv(StudentEnv(env)), or use FixedSizeParallelEnv for both roles"
            )
        # a plain Env holding the view, as RoleEnv holds the parallel env: the spaces change entirely, and
        # stable-baselines3's check_env warns on gymnasium.Wrapper instances
        self.env = env
        self.codec = FixedSizeCodec(env.unwrapped_env, **codec_kwargs)
        self.observation_space = self.codec.observation_space
        self.action_space = self.codec.action_space
        self.metadata = dict(env.metadata)
        self.render_mode = env.render_mode

    def reset(
        self, *, seed: int | None = None, options: Mapping[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Reset the inner view; the observation as a fixed-size array."""
        super().reset(seed=seed)
        obs, info = self.env.reset(seed=seed, options=options)
        return self.codec.observation(obs), info

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        """Say what ``action`` maps to; the partner replies. Returns ``(obs, reward, terminated, truncated, info)``.

        Raises:
            InvalidAction: the action is not in :attr:`action_space`; nothing reaches the env.

        """
        ids = self.codec.utterance(action)  # raises before anything reaches the env
        obs, reward, terminated, truncated, info = self.env.step(ids)
        info["said"] = self.codec.tokenizer.decode(ids)
        return self.codec.observation(obs), reward, terminated, truncated, info

    def render(self) -> str | None:
        """The inner view's rendering."""
        return self.env.render()

    def close(self) -> None:
        """Close the inner view."""
        self.env.close()

    @property
    def unwrapped_env(self) -> Any:
        """The parallel conversation env inside."""
        return self.env.unwrapped_env


class FixedSizeParallelEnv(ParallelEnv):
    """The PettingZoo parallel conversation env with fixed-size spaces per agent (e.g. independent learners).

    Observations are ``{"tokens": <the agent's codec observation>, "to_act": int}`` as in the inner env; actions
    are points of each agent's codec action space. Only the speaker's action counts (the inner env ignores and
    reports the other one). Convert with :func:`convenv.wrappers.to_aec` for the AEC API.

    Args:
        env: the conversation env (``convenv.make(...)``).
        codecs: per agent, a :class:`FixedSizeCodec` or the keyword arguments to build one; agents left out get
            the default codec (token-level actions, 64 observed ids).

    Raises:
        ValueError: ``codecs`` names an agent the env does not have.

    """

    metadata = {"render_modes": ["ansi", "human"], "name": "conversation_fixed_size_v0", "is_parallelizable": True}

    def __init__(self, env: Any, codecs: Mapping[str, FixedSizeCodec | Mapping[str, Any]] | None = None):
        codecs = dict(codecs or {})
        unknown = sorted(set(codecs) - set(env.possible_agents))
        if unknown:
            raise ValueError(
                f"expected codecs keyed by agents in {env.possible_agents}, got {unknown}; rename those keys"
            )
        self.env = env
        self.possible_agents = list(env.possible_agents)
        self.render_mode = env.render_mode
        self.codecs = {
            a: c if isinstance(c := codecs.get(a, {}), FixedSizeCodec) else FixedSizeCodec(env, **c)
            for a in self.possible_agents
        }

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
        """``{"tokens": codec observation space, "to_act": Discrete}``."""
        return spaces.Dict(
            {"tokens": self.codecs[agent].observation_space, "to_act": self.env.observation_space(agent)["to_act"]}
        )

    def action_space(self, agent: str) -> spaces.Space:
        """The agent's codec action space."""
        return self.codecs[agent].action_space

    def _obs(self, observations: Mapping[str, Any]) -> dict[str, dict]:
        return {
            a: {"tokens": self.codecs[a].observation(o["tokens"]), "to_act": o["to_act"]}
            for a, o in observations.items()
        }

    def reset(self, seed: int | None = None, options: Mapping[str, Any] | None = None) -> tuple[dict, dict]:
        """Reset the inner env; observations as fixed-size arrays."""
        observations, infos = self.env.reset(seed=seed, options=options)
        return self._obs(observations), infos

    def step(self, actions: Mapping[str, Any]) -> tuple[dict, dict, dict, dict, dict]:
        """Map each agent's action to token ids (all checked first) and step the inner env."""
        unknown = sorted(str(a) for a in actions if a not in self.codecs)
        if unknown:
            raise InvalidAction(
                f"expected actions keyed by agents in {self.possible_agents}, got {unknown}; drop or rename them"
            )
        utterances = {a: None if act is None else self.codecs[a].utterance(act) for a, act in actions.items()}
        observations, rewards, terminations, truncations, infos = self.env.step(utterances)
        return self._obs(observations), rewards, terminations, truncations, infos

    def render(self) -> str | None:
        """The inner env's rendering."""
        return self.env.render()

    def close(self) -> None:
        """Close the inner env."""
        self.env.close()
