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
    return _result(env, infos, returns, steps)


def play_batch(
    envs: Sequence[Any],
    agents: Mapping[str, Agent],
    *,
    seeds: Sequence[int | None] | None = None,
    options: Sequence[Mapping[str, Any] | None] | None = None,
) -> list[EpisodeResult]:
    """Play one episode in every env at once, each agent answering the whole batch in one ``act`` call.

    This is how batched generation is used: at every step each agent gets the observations and infos of all
    conversations (finished ones keep their last ones, with ``to_act`` None) and acts where it is its turn, so a
    model agent generates for all of them together and keeps its per-conversation caches aligned by row.

    Args:
        envs: one env per conversation (e.g. ``[convenv.make(id) for _ in range(8)]``).
        agents: one batched agent per role.
        seeds: reset seed of each env (default: None for all).
        options: reset options of each env (e.g. ``{"task": task}`` for G conversations on one problem).
    """
    n = len(envs)
    seeds = [None] * n if seeds is None else list(seeds)
    options = [None] * n if options is None else list(options)
    if not len(seeds) == len(options) == n:
        raise ValueError(f"expected {n} seeds and options (one per env), got {len(seeds)} and {len(options)}")
    resets = [env.reset(seed=seed, options=opt) for env, seed, opt in zip(envs, seeds, options, strict=True)]
    observations = [dict(r[0]) for r in resets]
    infos = [dict(r[1]) for r in resets]
    returns = [dict.fromkeys(env.possible_agents, 0.0) for env in envs]
    steps = [0] * n
    while any(env.agents for env in envs):
        for role, agent in agents.items():
            if not any(env.agents and infos[i][role]["to_act"] == role for i, env in enumerate(envs)):
                continue
            actions = agent.act([o[role] for o in observations], [i[role] for i in infos])
            for row, env in enumerate(envs):
                if not env.agents or infos[row][role]["to_act"] != role:
                    continue
                obs, rewards, _, _, info = env.step({role: actions[row]})
                observations[row], infos[row] = dict(obs), dict(info)
                for name, reward in rewards.items():
                    returns[row][name] += reward
                steps[row] += 1
    return [_result(env, infos[row], returns[row], steps[row]) for row, env in enumerate(envs)]


def _result(env: Any, infos: Mapping[str, Any], returns: dict[str, float], steps: int) -> EpisodeResult:
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
