"""The PPO training loop, CleanRL-style: per iteration collect → update → (evaluate) → log, top to bottom.

:func:`train_ppo` trains an :class:`~convenv.agents.hf.HFAgent` (with a value head) in one role of an env against
that env's scripted teacher (or any partner you pass). Each iteration plays ``episodes_per_iteration`` episodes with
:func:`~convenv.algorithms.rollout.collect`, runs one :func:`~convenv.algorithms.ppo.ppo_update`, and every
``eval_every`` iterations measures *greedy* success by turn on a fixed set of eval seeds (:func:`evaluate`), so
eval numbers of different iterations, runs and settings are comparable. One dict per iteration goes to the
returned history and, with ``log_csv``, to a CSV file (written as it goes, so a stopped run keeps its log).

Everything random is seeded from ``TrainConfig.seed``: the env seeds of iteration ``i`` and the agent's sampling
generator come from ``numpy.random.SeedSequence([seed, i])``, the minibatch shuffles from a ``torch.Generator``.
The process-wide RNGs are never touched.
"""

from __future__ import annotations

import csv
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

import convenv
from convenv.algorithms.ppo import PPOConfig, ppo_update
from convenv.algorithms.rollout import collect
from convenv.play import play_batch, success_by_turn

__all__ = ["EVAL_ENTROPY", "TrainConfig", "eval_seeds", "evaluate", "train_ppo"]

EVAL_ENTROPY = 20_240_601
"""Entropy of the eval seeds: the same for every run, so eval numbers compare across runs."""


@dataclass
class TrainConfig:
    """Settings of :func:`train_ppo`; every field has a small-CPU default for the course envs."""

    env_id: str = "GuessNumber-v0"
    """the registered env to train on"""
    env_kwargs: dict[str, Any] = field(default_factory=dict)
    """passed to ``convenv.make`` (e.g. ``{"difficulty": 1}``)"""
    iterations: int = 100
    """collect → update rounds"""
    episodes_per_iteration: int = 32
    """episodes collected per iteration (the PPO batch, in episodes)"""
    learning_rate: float = 1e-3
    """Adam step size, for the model and the value head"""
    seed: int = 0
    """seeds the env seeds, the agent's sampling and the minibatch shuffles"""
    eval_episodes: int = 64
    """greedy eval episodes, on the fixed seeds :func:`eval_seeds` gives"""
    eval_every: int = 10
    """evaluate after every ``eval_every``-th iteration (and after the last); 0: never"""
    max_new_tokens: int | None = None
    """most ids per reply; None keeps the agent's"""
    temperature: float | None = None
    """sampling temperature while collecting; None keeps the agent's (eval is greedy)"""
    ppo: PPOConfig = field(default_factory=PPOConfig)
    """the update's settings"""
    log_csv: str | None = None
    """write one row per iteration to this CSV file (None: no file)"""


def eval_seeds(n: int) -> list[int]:
    """The ``n`` fixed reset seeds of evaluation (the first ``n`` of one fixed sequence, whatever the run)."""
    return [int(s) for s in np.random.SeedSequence(EVAL_ENTROPY).generate_state(int(n))]


def evaluate(
    model_agent: Any, envs: Sequence[Any], teacher: Any, seeds: Sequence[int] | None = None
) -> list[float]:
    """Greedy success by turn of ``model_agent`` on ``envs`` (one episode each), cumulative, turns 1..max_turns.

    ``model_agent`` is played as it is (build it with ``do_sample=False`` for greedy eval); its cache is reset
    first. ``seeds`` default to :func:`eval_seeds` (``len(envs)`` of them).
    """
    seeds = eval_seeds(len(envs)) if seeds is None else list(seeds)
    model_agent.reset()
    role = model_agent.role
    agents = {name: (model_agent if name == role else teacher) for name in envs[0].possible_agents}
    results = play_batch(envs, agents, seeds=seeds)
    model_agent.reset()  # free the cache
    return [float(x) for x in success_by_turn(results, int(envs[0].max_turns))]


def train_ppo(
    agent: Any, config: TrainConfig, *, teacher: Any = None, progress: bool = True
) -> list[dict[str, Any]]:
    """Train ``agent`` (an ``HFAgent`` with a value head, ``do_sample=True``) with PPO; return the history.

    Args:
        agent: the trained agent; its model and value head are updated in place, and the config's
            ``max_new_tokens`` / ``temperature`` (when not None) are set on it.
        config: the settings.
        teacher: the partner playing every other role (default: the env's scripted ``default_teacher()``).
        progress: show a tqdm bar (the ``train`` extra) or, without tqdm, print one line per iteration.

    Returns:
        One dict per iteration: ``iteration``, the :func:`~convenv.algorithms.ppo.ppo_update` metrics,
        ``train_success`` (fraction of the batch solved), ``episode_return`` (its mean return),
        ``eval_success_by_turn`` (greedy, cumulative by turn; ``[]`` when not evaluated this iteration),
        ``eval_success`` (its last entry, or None) and ``seconds`` (wall time since training started).

    """
    if getattr(agent, "value_head", None) is None:
        raise ValueError("expected an agent with a value head, got none; build it with value_head=ValueHead(H)")
    probe = convenv.make(config.env_id, **config.env_kwargs)
    try:
        _apply_sampling(agent, config, probe)  # checks the settings before anything is built
    finally:
        probe.close()
    envs = [convenv.make(config.env_id, **config.env_kwargs) for _ in range(config.episodes_per_iteration)]
    eval_envs = [convenv.make(config.env_id, **config.env_kwargs) for _ in range(config.eval_episodes)]
    teacher = envs[0].default_teacher() if teacher is None else teacher
    greedy = _greedy_twin(agent, envs[0])
    params = list(agent.model.parameters()) + list(agent.value_head.parameters())
    optimizer = torch.optim.Adam(params, lr=config.learning_rate)
    generator = torch.Generator().manual_seed(config.seed)  # minibatch shuffles
    log = _CsvLog(config.log_csv)
    bar = _Progress(config.iterations, progress)
    history: list[dict[str, Any]] = []
    start = time.perf_counter()
    try:
        for iteration in range(config.iterations):
            # 1. collect: seeds and sampling derived from (seed, iteration), so every iteration is reproducible
            state = np.random.SeedSequence([config.seed, iteration]).generate_state(len(envs) + 1)
            agent.reset(seed=int(state[-1]))
            batch = collect(envs, agent, teacher, seeds=[int(s) for s in state[:-1]])
            # 2. update
            metrics = ppo_update(agent, optimizer, batch, config.ppo, generator)
            # 3. evaluate greedily on the fixed eval seeds
            last = iteration == config.iterations - 1
            due = config.eval_every > 0 and ((iteration + 1) % config.eval_every == 0 or last)
            by_turn = evaluate(greedy, eval_envs, teacher) if due and eval_envs else []
            # 4. log
            row = {"iteration": iteration, **metrics}
            row.update(
                train_success=float(batch.success.float().mean()),
                episode_return=float(batch.episode_return.mean()),
                eval_success_by_turn=by_turn,
                eval_success=by_turn[-1] if by_turn else None,
                seconds=time.perf_counter() - start,
            )
            history.append(row)
            log.write(row)
            bar.update(row)
    finally:
        bar.close()
        log.close()
        agent.reset()
        for env in envs + eval_envs:
            env.close()
    return history


# ------------------------------------------------------------------------------------------------- internals
def _apply_sampling(agent: Any, config: TrainConfig, env: Any) -> None:
    """Set the config's ``max_new_tokens`` / ``temperature`` on the agent, checked as ``HFAgent`` checks them."""
    if config.max_new_tokens is not None:
        limit = getattr(env, "max_utterance_tokens", None)
        if int(config.max_new_tokens) < 1 or (limit is not None and int(config.max_new_tokens) > int(limit)):
            raise ValueError(
                f"expected 1 <= max_new_tokens <= the env's max_utterance_tokens ({limit}), got "
                f"{config.max_new_tokens}; lower max_new_tokens or raise max_utterance_tokens in env_kwargs"
            )
        agent.max_new_tokens = int(config.max_new_tokens)
    if config.temperature is not None:
        if not config.temperature > 0:
            raise ValueError(f"expected temperature > 0, got {config.temperature}; use eval for greedy play")
        agent.temperature = float(config.temperature)


def _greedy_twin(agent: Any, env: Any) -> Any:
    """A greedy ``HFAgent`` sharing ``agent``'s model (no value head, its own cache)."""
    from convenv.agents.hf import HFAgent  # torch and transformers: loaded with the trainer only

    return HFAgent.for_env(
        env, agent.model, role=agent.role, device=None, do_sample=False, max_new_tokens=agent.max_new_tokens
    )


class _CsvLog:
    """One CSV row per history dict (lists as JSON), header from the first row, flushed every row."""

    def __init__(self, path: str | None):
        self._file = None if path is None else open(path, "w", newline="")  # noqa: SIM115 -- closed in close()
        self._writer: csv.DictWriter | None = None

    def write(self, row: dict[str, Any]) -> None:
        if self._file is None:
            return
        flat = {k: json.dumps(v) if isinstance(v, list) else ("" if v is None else v) for k, v in row.items()}
        if self._writer is None:
            self._writer = csv.DictWriter(self._file, fieldnames=list(flat))
            self._writer.writeheader()
        self._writer.writerow(flat)
        self._file.flush()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()


class _Progress:
    """A tqdm bar when tqdm is installed (the ``train`` extra), else a printed line per iteration."""

    def __init__(self, total: int, enabled: bool):
        self.enabled = enabled
        self._bar = None
        if enabled:
            try:
                from tqdm.auto import tqdm
            except ImportError:
                tqdm = None
            if tqdm is not None:
                self._bar = tqdm(total=total, desc="ppo", unit="it")

    def update(self, row: dict[str, Any]) -> None:
        if not self.enabled:
            return
        shown = {"success": f"{row['train_success']:.2f}", "kl": f"{row['approx_kl']:.4f}"}
        if row["eval_success"] is not None:
            shown["eval"] = f"{row['eval_success']:.2f}"
        if self._bar is not None:
            self._bar.set_postfix(shown)
            self._bar.update(1)
        else:
            print(f"iteration {row['iteration']}: " + ", ".join(f"{k} {v}" for k, v in shown.items()), flush=True)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
