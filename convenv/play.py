"""Play whole episodes between agents, and summarize success by turn (the headline metric)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from convenv.agent import Agent


@dataclass(frozen=True)
class EpisodeResult:
    """What one finished episode produced.

    Attributes:
        task_id: the task played.
        success: whether a student attempt was verified correct.
        success_turn: the student turn (1-based) of the correct attempt, or None.
        turns: student turns taken.
        returns: summed reward per agent.
        leaks: teacher messages flagged by the leak detector.
        reason: ``"success"``, ``"turn_limit"`` or ``"context_limit"``.
        steps: utterances in the episode.

    """

    task_id: str
    success: bool
    success_turn: int | None
    turns: int
    returns: dict[str, float]
    leaks: int
    reason: str
    steps: int


def play_episode(
    env: Any, agents: Mapping[str, Agent], *, seed: int | None = None, options: Mapping[str, Any] | None = None
) -> EpisodeResult:
    """Reset ``env`` and let ``agents`` (one per role) talk until the episode ends."""
    observations, infos = env.reset(seed=seed, options=options)
    returns = dict.fromkeys(env.possible_agents, 0.0)
    steps = 0
    while env.agents:
        speaker = infos[env.agents[0]]["to_act"]
        action = agents[speaker].act([observations[speaker]], [infos[speaker]])[0]
        observations, rewards, _, _, infos = env.step({speaker: action})
        for agent, reward in rewards.items():
            returns[agent] += reward
        steps += 1
    episode = next(iter(infos.values()))["episode"]
    return EpisodeResult(
        task_id=env.task.id,
        success=episode["success"],
        success_turn=episode["success_turn"],
        turns=episode["turns"],
        returns=returns,
        leaks=episode["leaks"],
        reason=episode["reason"],
        steps=steps,
    )


def success_by_turn(results: Sequence[EpisodeResult], max_turns: int) -> np.ndarray:
    """Cumulative success rate by student turn k = 1..max_turns: the fraction of episodes solved by turn k."""
    if not results:
        return np.zeros(max_turns)
    solved_at = np.array([r.success_turn if r.success else max_turns + 1 for r in results])
    return np.array([(solved_at <= k).mean() for k in range(1, max_turns + 1)])
