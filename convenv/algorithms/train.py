"""The training loop, CleanRL-style: per iteration collect → update → (evaluate) → log → (checkpoint).

:func:`train` trains an :class:`~convenv.agents.hf.HFAgent` in one role of an env against that env's scripted
teacher (or any partner you pass), with PPO (``algo="ppo"``, needs a value head) or a group baseline
(``"grpo"`` / ``"rloo"``, :mod:`convenv.algorithms.grpo`). Each iteration plays ``episodes_per_iteration``
episodes with :func:`~convenv.algorithms.rollout.collect` (GRPO/RLOO: ``episodes_per_iteration // group_size``
tasks, each played ``group_size`` times), runs one update (then, with ``critique_coef > 0``, one critique-prediction
step on the same episodes), steps the learning-rate schedule, and every ``eval_every`` iterations measures
*greedy* success by turn on a fixed set of eval seeds (:func:`evaluate`), so eval numbers of different
iterations, runs and settings are comparable. One dict per iteration goes to the returned history and to the
logs (:mod:`convenv.algorithms.logger`: CSV, TensorBoard, progress).

Everything random is seeded from ``TrainConfig.seed``: the env seeds of iteration ``i`` and the agent's sampling
generator come from ``numpy.random.SeedSequence([seed, i])`` (:func:`iteration_seeds`), the minibatch shuffles
from a ``torch.Generator``. The process-wide RNGs are never touched. Checkpoints
(:mod:`convenv.algorithms.checkpoint`) hold every state the next iterations depend on, so a resumed run ends
with the same weights and history as an uninterrupted one.

Under ``torchrun`` (``WORLD_SIZE`` > 1) each rank plays its share of the iteration's seeds (together exactly
the single-process run's), the updates all-reduce their statistics and gradients
(:mod:`convenv.algorithms.distributed`), and only rank 0 evaluates, logs and writes checkpoints.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

import convenv
from convenv.algorithms import checkpoint as ckpt
from convenv.algorithms.logger import RunLogger
from convenv.algorithms.lora import apply_lora, has_lora
from convenv.algorithms.ppo import PPOConfig, ppo_update
from convenv.algorithms.rollout import collect
from convenv.play import play_batch, success_by_turn

__all__ = [
    "ALGOS",
    "EVAL_ENTROPY",
    "TrainConfig",
    "eval_seeds",
    "evaluate",
    "evaluate_agent",
    "iteration_seeds",
    "train",
    "train_ppo",
]

EVAL_ENTROPY = 20_240_601
"""Entropy of the eval seeds: the same for every run, so eval numbers compare across runs."""
ALGOS = ("ppo", "grpo", "rloo")
CHECKPOINT_FORMAT = 1
# Settings that may change between a run and its resumption: where things go, not what is computed.
RESUMABLE_CHANGES = frozenset(
    {"resume", "log_csv", "log_dir", "checkpoint_dir", "checkpoint_every", "keep_checkpoints"}
)


@dataclass
class TrainConfig:
    """Settings of :func:`train`; every field has a small-CPU default for the course envs."""

    env_id: str = "GuessNumber-v0"
    """the registered env to train on"""
    env_kwargs: dict[str, Any] = field(default_factory=dict)
    """passed to ``convenv.make`` (e.g. ``{"difficulty": 1}``)"""
    algo: str = "ppo"
    """``"ppo"`` (value head, GAE), ``"grpo"`` or ``"rloo"`` (group baselines over ``grpo.group_size`` plays)"""
    iterations: int = 100
    """collect → update rounds"""
    episodes_per_iteration: int = 32
    """episodes collected per iteration (the batch, in episodes; GRPO/RLOO: a multiple of the group size)"""
    learning_rate: float = 1e-3
    """Adam step size, for the model (or its LoRA adapter) and the value head"""
    lr_schedule: str = "constant"
    """``"constant"``, or ``"linear"``: decays to 0 over ``iterations`` (``lr * (1 - i / iterations)``)"""
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
    """the PPO update's settings (``algo="ppo"``)"""
    grpo: Any = None
    """a ``GRPOConfig`` (``algo="grpo"/"rloo"``; its ``kind`` is set from ``algo``); None: ``GRPOConfig()``"""
    critique_coef: float = 0.0
    """> 0: after each update, a critique-prediction step on the same episodes with this loss weight"""
    lora_rank: int = 0
    """> 0: train a LoRA adapter of this rank (:func:`~convenv.algorithms.lora.apply_lora`) instead of the model"""
    lora_alpha: float = 16.0
    """LoRA's scale numerator (updates are scaled by ``lora_alpha / lora_rank``)"""
    log_csv: str | None = None
    """write one row per iteration to this CSV file (None: no file)"""
    log_dir: str | None = None
    """write TensorBoard scalars to this directory (None: no TensorBoard)"""
    checkpoint_dir: str | None = None
    """write checkpoints here (None: none)"""
    checkpoint_every: int = 10
    """with ``checkpoint_dir``: a checkpoint after every ``checkpoint_every``-th iteration and after the last"""
    keep_checkpoints: int = 3
    """the newest checkpoints kept (older ones are deleted)"""
    resume: bool = False
    """continue from the newest checkpoint in ``checkpoint_dir`` (start fresh when there is none)"""


def eval_seeds(n: int) -> list[int]:
    """The ``n`` fixed reset seeds of evaluation (the first ``n`` of one fixed sequence, whatever the run)."""
    return [int(s) for s in np.random.SeedSequence(EVAL_ENTROPY).generate_state(int(n))]


def iteration_seeds(
    seed: int, iteration: int, n_groups: int, rank: int = 0, world_size: int = 1
) -> tuple[list[int], int]:
    """The env seeds (one per task group) of ``rank`` in ``iteration``, and its sampling seed.

    The iteration's ``n_groups`` seeds are the first ``n_groups`` of ``SeedSequence([seed, iteration])``; rank
    ``r`` of ``world_size`` takes its contiguous slice (as even as they go, the first ranks one more, as
    :func:`convenv.algorithms.distributed.shard` splits), so all ranks together play exactly the single-process
    run's tasks and a group is never split. The sampling seeds follow the env seeds, one per rank.

    Raises:
        ValueError: fewer groups than ranks (a rank would have nothing to play).
    """
    if not 1 <= world_size <= n_groups:
        raise ValueError(
            f"expected at least one task group per process, got {n_groups} groups for {world_size} processes; "
            "raise episodes_per_iteration or use fewer processes"
        )
    state = np.random.SeedSequence([int(seed), int(iteration)]).generate_state(n_groups + world_size)
    start = rank * (n_groups // world_size) + min(rank, n_groups % world_size)
    stop = start + n_groups // world_size + int(rank < n_groups % world_size)
    return [int(s) for s in state[start:stop]], int(state[n_groups + rank])


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


def evaluate_agent(agent: Any, config: TrainConfig, *, teacher: Any = None) -> list[float]:
    """Greedy success by turn of ``agent``'s model on ``config.eval_episodes`` fresh envs and the fixed eval seeds.

    The same numbers :func:`train` logs as ``eval_success_by_turn`` (e.g. before training, to compare).
    """
    if int(config.eval_episodes) < 1:
        raise ValueError(f"expected eval_episodes >= 1, got {config.eval_episodes}; evaluate at least one episode")
    envs = [convenv.make(config.env_id, **config.env_kwargs) for _ in range(config.eval_episodes)]
    try:
        teacher = envs[0].default_teacher() if teacher is None else teacher
        return evaluate(_greedy_twin(agent, envs[0]), envs, teacher)
    finally:
        for env in envs:
            env.close()


def train(
    agent: Any, config: TrainConfig, *, teacher: Any = None, progress: bool = True, resume: bool | None = None
) -> list[dict[str, Any]]:
    """Train ``agent`` (an ``HFAgent`` with ``do_sample=True``) with ``config.algo``; return the history.

    Args:
        agent: the trained agent; its model (or, with ``lora_rank``, the adapter injected into it) and value head
            are updated in place, and the config's ``max_new_tokens`` / ``temperature`` (when not None) are set
            on it. PPO needs a value head (``value_head=ValueHead(H)``).
        config: the settings.
        teacher: the partner playing every other role (default: the env's scripted ``default_teacher()``).
        progress: show a tqdm bar (the ``train`` extra) or, without tqdm, print one line per iteration.
        resume: continue from the newest checkpoint in ``config.checkpoint_dir`` (None: ``config.resume``).
            Build the agent as for the first run; the checkpoint replaces its trained weights.

    Returns:
        One dict per iteration (the whole run's, resumed or not): ``iteration``, the update's metrics
        (:func:`~convenv.algorithms.ppo.ppo_update` or ``grpo_update``; ``critique_*`` with ``critique_coef``),
        ``lr`` (the step size used), ``train_success`` (fraction of the batch solved), ``episode_return`` (its
        mean return), ``eval_success_by_turn`` (greedy, cumulative by turn; ``[]`` when not evaluated this
        iteration), ``eval_success`` (its last entry, or None) and ``seconds`` (training wall time so far). In a
        distributed run only rank 0's history holds the evals.

    Raises:
        ValueError: a setting is out of range, PPO without a value head, checkpoints in ``checkpoint_dir`` without
            ``resume``, or resuming with a config that differs from the checkpoint's.
    """
    resume = config.resume if resume is None else bool(resume)
    group_size, kl_coef, update = _algorithm(config, agent)
    _check_config(config, group_size, resume)
    dist = _distributed()
    rank, world = (dist.rank(), dist.world_size()) if dist is not None else (0, 1)
    if dist is not None and config.critique_coef > 0:  # its steps would differ per rank: the weights would drift
        raise ValueError(
            f"expected one process with critique_coef > 0, got {world} (critique_update does not synchronize "
            "gradients); set critique_coef=0 or run without torchrun"
        )
    main = rank == 0
    n_groups = config.episodes_per_iteration // group_size
    local_groups = len(iteration_seeds(config.seed, 0, n_groups, rank, world)[0])  # also checks the split
    probe = convenv.make(config.env_id, **config.env_kwargs)
    try:
        _apply_sampling(agent, config, probe)  # checks the settings before anything is built
    finally:
        probe.close()
    if config.lora_rank > 0 and not has_lora(agent.model):
        with torch.random.fork_rng(devices=[]):  # a seeded adapter init; the global RNG is left as it was
            torch.manual_seed(config.seed)
            apply_lora(agent.model, r=config.lora_rank, alpha=config.lora_alpha)  # in place: the agent still works
    envs = [convenv.make(config.env_id, **config.env_kwargs) for _ in range(local_groups * group_size)]
    eval_envs = [
        convenv.make(config.env_id, **config.env_kwargs) for _ in range(config.eval_episodes if main else 0)
    ]
    logger = None
    try:
        teacher = envs[0].default_teacher() if teacher is None else teacher
        greedy = _greedy_twin(agent, envs[0])
        optimizer = torch.optim.Adam(_trained_parameters(agent, config), lr=config.learning_rate)
        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, _lr_factor(config))
        generator = torch.Generator().manual_seed(config.seed)  # minibatch shuffles
        ref_model = _frozen_copy(agent.model) if kl_coef > 0 else None  # the initial policy, for the KL penalty
        if dist is not None:  # every rank starts from rank 0's weights
            dist.broadcast_parameters(list(agent.model.parameters()) + _value_head_parameters(agent))
        history = _start(agent, config, resume, optimizer, scheduler, generator, ref_model, main)
        logger = RunLogger(
            config.log_csv, config.log_dir, total=config.iterations, progress=progress, history=history,
            desc=config.algo, enabled=main,
        )  # fmt: skip
        start = time.perf_counter() - (history[-1]["seconds"] if history else 0.0)
        for iteration in range(len(history), config.iterations):
            # 1. collect: seeds and sampling derived from (seed, iteration), so every iteration is reproducible
            seeds, sampling_seed = iteration_seeds(config.seed, iteration, n_groups, rank, world)
            agent.reset(seed=sampling_seed)
            batch = collect(envs, agent, teacher, seeds=seeds, group_size=group_size)
            # 2. update (then critique prediction on the same episodes), then step the schedule
            lr = float(scheduler.get_last_lr()[0])
            metrics = update(agent, optimizer, batch, generator, ref_model)
            if config.critique_coef > 0:
                metrics.update(_critique_step(agent, optimizer, envs, config.critique_coef))
            scheduler.step()
            # 3. evaluate greedily on the fixed eval seeds (rank 0 only; the others wait at the barrier below)
            last = iteration == config.iterations - 1
            due = config.eval_every > 0 and ((iteration + 1) % config.eval_every == 0 or last)
            by_turn = evaluate(greedy, eval_envs, teacher) if due and eval_envs else []
            # 4. log
            solved, returns = _batch_means(batch, dist, agent.device)
            row = {"iteration": iteration, **metrics}
            row.update(
                lr=lr,
                train_success=solved,
                episode_return=returns,
                eval_success_by_turn=by_turn,
                eval_success=by_turn[-1] if by_turn else None,
                seconds=time.perf_counter() - start,
            )
            history.append(row)
            logger.write(row)
            # 5. checkpoint
            save = config.checkpoint_dir is not None and (last or (iteration + 1) % config.checkpoint_every == 0)
            if save and main:
                state = _state(agent, config, optimizer, scheduler, generator, history)
                ckpt.save_checkpoint(config.checkpoint_dir, iteration + 1, state, keep=config.keep_checkpoints)
            _barrier(dist)
    finally:
        if logger is not None:
            logger.close()
        agent.reset()
        for env in envs + eval_envs:
            env.close()
    return history


def train_ppo(
    agent: Any, config: TrainConfig, *, teacher: Any = None, progress: bool = True
) -> list[dict[str, Any]]:
    """:func:`train` with PPO (``config.algo`` must be ``"ppo"``); kept for code written before GRPO/RLOO."""
    if config.algo != "ppo":
        raise ValueError(
            f"expected TrainConfig.algo='ppo' for train_ppo, got {config.algo!r}; call train() instead"
        )
    return train(agent, config, teacher=teacher, progress=progress)


# ------------------------------------------------------------------------------------------- the algorithm
def _algorithm(config: TrainConfig, agent: Any) -> tuple[int, float, Any]:
    """``(group_size, kl_coef, update(agent, optimizer, batch, generator, ref_model) -> metrics)``."""
    if config.algo not in ALGOS:
        raise ValueError(f"expected algo in {ALGOS}, got {config.algo!r}; pick one of those (sft has its own loop)")
    if config.algo == "ppo":
        if getattr(agent, "value_head", None) is None:
            raise ValueError("expected an agent with a value head, got none; build it with value_head=ValueHead(H)")
        settings = config.ppo

        def ppo(agent: Any, optimizer: Any, batch: Any, generator: Any, ref_model: Any) -> dict[str, float]:
            return ppo_update(agent, optimizer, batch, settings, generator, **_ref(ref_model))

        return 1, float(getattr(settings, "kl_coef", 0.0)), ppo
    try:
        from convenv.algorithms.grpo import GRPOConfig, grpo_update
    except ImportError as e:
        raise ValueError(
            f"expected convenv.algorithms.grpo for algo={config.algo!r}, got ImportError: {e}; use algo='ppo' "
            "or update convenv"
        ) from e
    settings = dataclasses.replace(config.grpo if config.grpo is not None else GRPOConfig(), kind=config.algo)

    def grpo(agent: Any, optimizer: Any, batch: Any, generator: Any, ref_model: Any) -> dict[str, float]:
        return grpo_update(agent, optimizer, batch, settings, generator, **_ref(ref_model))

    return int(settings.group_size), float(getattr(settings, "kl_coef", 0.0)), grpo


def _ref(ref_model: Any) -> dict[str, Any]:
    return {} if ref_model is None else {"ref_model": ref_model}


def _critique_step(agent: Any, optimizer: Any, envs: Sequence[Any], coef: float) -> dict[str, Any]:
    """One critique-prediction pass on the episodes the envs just finished; its ``critique_*`` metrics."""
    try:
        from convenv.algorithms.critique import critique_examples, critique_update
    except ImportError as e:
        raise ValueError(
            f"expected convenv.algorithms.critique for critique_coef={coef}, got ImportError: {e}; set "
            "critique_coef=0 or update convenv"
        ) from e
    examples = critique_examples(envs, role=agent.role)
    metrics = critique_update(agent, optimizer, examples, coef)
    return {(k if k.startswith("critique") else f"critique_{k}"): v for k, v in metrics.items()}


def _trained_parameters(agent: Any, config: TrainConfig) -> list[torch.nn.Parameter]:
    """The model's trainable parameters (the adapter under LoRA), plus the value head for PPO."""
    params = [p for p in agent.model.parameters() if p.requires_grad]
    if config.algo == "ppo":
        params += list(agent.value_head.parameters())
    return params


def _lr_factor(config: TrainConfig) -> Any:
    if config.lr_schedule == "linear":
        total = max(int(config.iterations), 1)
        return lambda step: max(0.0, 1.0 - step / total)
    return lambda step: 1.0


def _frozen_copy(model: Any) -> Any:
    ref = copy.deepcopy(model).eval()
    for p in ref.parameters():
        p.requires_grad_(False)
    return ref


def _batch_means(batch: Any, dist: Any, device: Any) -> tuple[float, float]:
    """Success rate and mean return of the iteration's episodes, over every rank."""
    stats = torch.tensor(
        [float(batch.success.float().sum()), float(batch.episode_return.sum()), float(len(batch))],
        dtype=torch.float64,
        device=device,  # nccl reduces GPU tensors only
    )
    if dist is not None:
        dist.all_reduce_sum(stats)
    return float(stats[0] / stats[2]), float(stats[1] / stats[2])


# ------------------------------------------------------------------------------------------- checkpoints
def _config_json(config: TrainConfig) -> str:
    return json.dumps(dataclasses.asdict(config), sort_keys=True, default=repr)


def _state(
    agent: Any, config: TrainConfig, optimizer: Any, scheduler: Any, generator: torch.Generator, history: list
) -> dict[str, Any]:
    """Everything the next iterations depend on (the sampling generator is reseeded every iteration)."""
    return {
        "format": CHECKPOINT_FORMAT,
        "iteration": len(history),
        "config": _config_json(config),
        "model": ckpt.model_state(agent.model),
        "value_head": None if agent.value_head is None else agent.value_head.state_dict(),
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict(),
        "generator": generator.get_state(),
        "history": history,
    }


def _start(
    agent: Any, config: TrainConfig, resume: bool, optimizer: Any, scheduler: Any, generator: torch.Generator,
    ref_model: Any, main: bool,
) -> list[dict[str, Any]]:  # fmt: skip
    """Restore the newest checkpoint when resuming (returning its history), else check the directory is free."""
    if config.checkpoint_dir is None:
        return []
    directory = Path(config.checkpoint_dir)
    reference = directory / "reference.pt"  # the initial weights, for the KL penalty after a resume
    latest = ckpt.latest_checkpoint(directory)
    if latest is None:
        if ref_model is not None and main:
            ckpt.atomic_save(ckpt.model_state(agent.model), reference)
        return []
    if not resume:
        raise ValueError(
            f"expected a checkpoint_dir without checkpoints (or resume=True), got {latest}; pass resume=True "
            "(--resume) to continue that run, or another checkpoint_dir"
        )
    state = ckpt.load_checkpoint(latest)
    if state.get("format") != CHECKPOINT_FORMAT:
        raise ValueError(
            f"expected a checkpoint of format {CHECKPOINT_FORMAT}, got {state.get('format')!r} in {latest}; "
            "resume it with the convenv version that wrote it, or start a new checkpoint_dir"
        )
    _check_same_config(json.loads(state["config"]), json.loads(_config_json(config)), latest)
    ckpt.load_model_state(agent.model, state["model"])
    if agent.value_head is not None and state["value_head"] is not None:
        agent.value_head.load_state_dict(state["value_head"])
    optimizer.load_state_dict(state["optimizer"])
    scheduler.load_state_dict(state["scheduler"])
    generator.set_state(state["generator"])
    if ref_model is not None:
        ckpt.load_model_state(ref_model, ckpt.load_checkpoint(reference))
    return list(state["history"])


def _check_same_config(saved: dict[str, Any], current: dict[str, Any], path: Path) -> None:
    changed = sorted(
        k for k in saved.keys() | current.keys() if k not in RESUMABLE_CHANGES and saved.get(k) != current.get(k)
    )
    if changed:
        diffs = ", ".join(f"{k} ({saved.get(k)!r} there, {current.get(k)!r} here)" for k in changed)
        raise ValueError(
            f"expected the config {path} was written with, got different {diffs}; resume with the same settings "
            "or start a new checkpoint_dir"
        )


# ------------------------------------------------------------------------------------------- distributed
def _distributed() -> Any:
    """:mod:`convenv.algorithms.distributed`, initialised, under ``torchrun`` (WORLD_SIZE > 1); else None."""
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        return None
    from convenv.algorithms import distributed

    if not distributed.is_distributed():
        distributed.init_from_env()
    return distributed if distributed.is_distributed() else None


def _value_head_parameters(agent: Any) -> list[torch.nn.Parameter]:
    return [] if agent.value_head is None else list(agent.value_head.parameters())


def _barrier(dist: Any) -> None:
    if dist is not None:
        torch.distributed.barrier()


# ------------------------------------------------------------------------------------------------- checks
def _check_config(config: TrainConfig, group_size: int, resume: bool) -> None:
    if int(config.episodes_per_iteration) < 1 or config.episodes_per_iteration % group_size:
        raise ValueError(
            f"expected episodes_per_iteration a positive multiple of the group size {group_size}, got "
            f"{config.episodes_per_iteration}; raise it or lower group_size"
        )
    if config.lr_schedule not in ("constant", "linear"):
        raise ValueError(f"expected lr_schedule 'constant' or 'linear', got {config.lr_schedule!r}")
    if config.critique_coef < 0 or config.lora_rank < 0:
        raise ValueError(
            f"expected critique_coef >= 0 and lora_rank >= 0, got {config.critique_coef} and {config.lora_rank}; "
            "use 0 to switch them off"
        )
    if config.checkpoint_every < 1 or config.keep_checkpoints < 1:
        raise ValueError(
            f"expected checkpoint_every >= 1 and keep_checkpoints >= 1, got {config.checkpoint_every} and "
            f"{config.keep_checkpoints}; set checkpoint_dir=None for no checkpoints"
        )
    if resume and config.checkpoint_dir is None:
        raise ValueError("expected a checkpoint_dir to resume from, got None; set TrainConfig.checkpoint_dir")


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
