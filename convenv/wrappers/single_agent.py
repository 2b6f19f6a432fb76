"""Single-agent Gymnasium views of a conversation: the other role is played by an embedded agent."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import gymnasium
import numpy as np

from convenv.agent import Agent
from convenv.error import ResetNeeded
from convenv.spaces import TokenSequence


class RoleEnv(gymnasium.Env):
    """A :class:`gymnasium.Env` in which you play ``role`` and ``partner`` plays the other role.

    ``observation`` is your view as token ids (``TokenSequence``); ``action`` is your utterance. Each ``step``
    sends your utterance and then lets the partner speak until it is your turn again or the episode ends;
    ``reward`` sums what you received over those steps. ``info`` is your agent's info from the last step
    (privileged fields only when you are the teacher).

    Args:
        env: a :class:`~convenv.env.ConversationEnv` (or anything with the same parallel API).
        role: ``"student"`` or ``"teacher"``.
        partner: the agent playing the other role.

    """

    def __init__(self, env: Any, role: str, partner: Agent):
        if role not in env.possible_agents:
            raise ValueError(f"expected role in {env.possible_agents}, got {role!r}; pick one of those")
        self.env = env
        self.role = role
        self.partner = partner
        self.partner_role = next(a for a in env.possible_agents if a != role)
        self.observation_space = env.observation_space(role)["tokens"]
        self.action_space: TokenSequence = env.action_space(role)
        self.metadata = dict(env.metadata)
        self.render_mode = env.render_mode
        self._obs: dict[str, Any] | None = None
        self._infos: dict[str, Any] | None = None
        self._done = True

    def reset(
        self, *, seed: int | None = None, options: Mapping[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Start an episode and let the partner speak until it is your turn."""
        super().reset(seed=seed)
        # the parallel env is seeded from this env's generator, so reset(seed) fixes everything
        env_seed = int(self.np_random.integers(2**31)) if seed is not None else None
        self._obs, self._infos = self.env.reset(seed=env_seed, options=options)
        self._done = False
        reward, terminated, truncated = self._partner_turns()
        if terminated or truncated:
            raise RuntimeError(
                f"expected the episode to reach {self.role!r}'s turn, got it ended by the partner during reset; "
                "check the partner agent"
            )
        return self._obs[self.role]["tokens"], dict(self._infos[self.role])

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        """Say ``action``; the partner replies. Returns ``(obs, reward, terminated, truncated, info)``."""
        if self._done:
            raise ResetNeeded("expected a running episode, got none; call reset() before step()")
        self._obs, rewards, terminations, truncations, self._infos = self.env.step({self.role: action})
        reward = float(rewards[self.role])
        terminated, truncated = bool(terminations[self.role]), bool(truncations[self.role])
        if not (terminated or truncated):
            more, terminated, truncated = self._partner_turns()
            reward += more
        self._done = terminated or truncated
        return self._obs[self.role]["tokens"], reward, terminated, truncated, dict(self._infos[self.role])

    def _partner_turns(self) -> tuple[float, bool, bool]:
        reward, terminated, truncated = 0.0, False, False
        while self.env.agents and self._infos[self.partner_role]["to_act"] == self.partner_role:
            action = self.partner.act([self._obs[self.partner_role]], [self._infos[self.partner_role]])[0]
            self._obs, rewards, terminations, truncations, self._infos = self.env.step({self.partner_role: action})
            reward += float(rewards[self.role])
            terminated, truncated = bool(terminations[self.role]), bool(truncations[self.role])
        return reward, terminated, truncated

    def render(self) -> str | None:
        """The underlying env's rendering."""
        return self.env.render()

    def close(self) -> None:
        """Close the underlying env."""
        self.env.close()

    @property
    def unwrapped_env(self) -> Any:
        """The parallel conversation env inside."""
        return self.env


class StudentEnv(RoleEnv):
    """Play the student; the teacher is ``teacher`` or the env's default scripted teacher.

    >>> import convenv
    >>> from convenv.wrappers import StudentEnv
    >>> env = StudentEnv(convenv.make("MathTutor-v0"))
    >>> obs, info = env.reset(seed=0)
    >>> info["to_act"]
    'student'
    >>> env.close()
    """

    def __init__(self, env: Any, teacher: Agent | None = None):
        super().__init__(env, "student", teacher if teacher is not None else env.default_teacher())


class TeacherEnv(RoleEnv):
    """Play the teacher against ``student`` (e.g. ``convenv.agents.ProbabilisticStudent(env)``)."""

    def __init__(self, env: Any, student: Agent):
        super().__init__(env, "teacher", student)
