"""GRPO and RLOO updates on multi-turn rollouts: group baselines instead of a value head (CleanRL-style).

One call of :func:`grpo_update` consumes one :class:`~convenv.algorithms.rollout.RolloutBatch` collected with
``collect(..., group_size=G)``: G conversations per task, marked by ``batch.group_ids``. Each episode gets one
score, the trained role's per-turn rewards discounted once per turn (``sum_k gamma ** k * r_k``,
:func:`~convenv.algorithms.functional.episode_scores`); each score minus its group's baseline is the advantage of
every token the agent sampled in that episode (:func:`~convenv.algorithms.functional.group_advantages`):

- ``kind="grpo"``: ``(s - mean_g) / (std_g + eps)`` (without the division when ``normalize_std=False``);
- ``kind="rloo"``: ``s - mean of the other G - 1 scores`` (REINFORCE leave-one-out).

Then ``update_epochs`` passes of shuffled minibatches with PPO's clipped surrogate (so the first minibatch starts at
ratio 1), an optional entropy bonus and an optional k3 KL penalty towards a frozen reference. Losses are token
sums over the minibatch divided by its token count (over every micro-batch and rank), as in
:mod:`convenv.algorithms.ppo`, so gradient accumulation and data parallelism are exact. A group whose scores are all
equal gives no signal: its advantages are exactly 0 (``zero_std_groups`` logs how many).

Data parallelism: every rank holds whole groups (:func:`convenv.algorithms.distributed.shard` with
``group_size=G``); a group split across ranks would get a wrong baseline, so every group must have exactly
``group_size`` episodes on its rank.

The SML recipe is :meth:`GRPOConfig.sml` with the env made with :data:`SML_ENV_KWARGS`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import torch

from convenv.algorithms import distributed
from convenv.algorithms.functional import clipped_surrogate, episode_scores, group_advantages, k3_kl, masked_mean
from convenv.algorithms.minibatch import micro_size, optimize
from convenv.algorithms.rollout import RolloutBatch, reference_logprobs, score

__all__ = ["SML_ENV_KWARGS", "GRPOConfig", "episode_advantages", "grpo_update"]

SML_ENV_KWARGS: dict[str, Any] = {"max_turns": 4}
"""The env side of the SML recipe in training: at most 4 student turns (the env's own ``gamma`` stays 1.0, the
trainer discounts)."""

STATS = ("policy_loss", "entropy", "kl_ref", "approx_kl", "clipfrac", "ratio_mean")
"""Per-minibatch token means, averaged over the minibatches of an update."""


@dataclass
class GRPOConfig:
    """GRPO / RLOO settings; the PPO-like names follow :class:`~convenv.algorithms.ppo.PPOConfig`."""

    kind: Literal["grpo", "rloo"] = "grpo"
    """the group baseline: "grpo" (mean, optionally / std) or "rloo" (leave-one-out mean)"""
    group_size: int = 8
    """conversations per task (G); collect with ``group_size=config.group_size``"""
    gamma: float = 1.0
    """discount per turn of the trained role in the episode score (SML: 0.7)"""
    normalize_std: bool = True
    """GRPO only: divide by the group's standard deviation"""
    clip_coef: float = 0.2
    """surrogate clipping: the ratio is kept within 1 ± clip_coef"""
    ent_coef: float = 0.0
    """weight of the entropy bonus (entropy of the processed sampling distribution on sampled tokens)"""
    kl_coef: float = 0.0
    """weight of the k3 KL penalty towards ``ref_model`` (needs one when > 0)"""
    update_epochs: int = 2
    """passes over the batch per update"""
    num_minibatches: int = 2
    """minibatches per pass (episodes are split evenly; under data parallelism, each rank's episodes)"""
    grad_accum_steps: int = 1
    """micro-batches per minibatch: gradients accumulate, one optimizer step (same result, less memory)"""
    max_grad_norm: float = 1.0
    """gradient clipping"""
    target_kl: float | None = None
    """stop the epochs early when a minibatch's approx_kl exceeds this"""

    @classmethod
    def sml(cls, **overrides: Any) -> GRPOConfig:
        """The SML recipe: GRPO with 8 conversations per problem, no KL, ``gamma = 0.7`` per student turn.

        Pair it with envs made with :data:`SML_ENV_KWARGS` (``max_turns=4`` in training). ``overrides`` replace
        any field (e.g. ``num_minibatches``).
        """
        return cls(**{"kind": "grpo", "group_size": 8, "gamma": 0.7, "kl_coef": 0.0, **overrides})


def episode_advantages(batch: RolloutBatch, config: GRPOConfig) -> tuple[torch.Tensor, torch.Tensor]:
    """Each episode's discounted score and its group advantage (one scalar per row).

    Args:
        batch: the rollouts, with ``group_ids`` marking groups of ``config.group_size`` rows.
        config: ``kind``, ``gamma``, ``normalize_std`` and ``group_size`` are used.

    Returns:
        ``(scores, advantages)``, both (B,) float32.

    Raises:
        ValueError: when a group does not hold exactly ``config.group_size`` episodes (collected with another
            group size, or split across ranks).
    """
    _, counts = torch.unique(batch.group_ids, return_counts=True)
    if bool((counts != config.group_size).any()):
        raise ValueError(
            f"expected every group to hold group_size={config.group_size} episodes, got sizes "
            f"{sorted(set(counts.tolist()))}; collect with group_size=config.group_size and give each rank whole "
            "groups (distributed.shard(n, group_size))"
        )
    scores = episode_scores(batch.rewards, batch.turn_ids, config.gamma)
    return scores, group_advantages(scores, batch.group_ids, config.kind, config.normalize_std)


def grpo_update(
    agent: object, optimizer: torch.optim.Optimizer, batch: RolloutBatch, config: GRPOConfig,
    generator: torch.Generator | None = None, *, ref_model: torch.nn.Module | None = None,
) -> dict[str, float]:  # fmt: skip
    """One GRPO (or RLOO) update of ``agent``'s model on ``batch``; returns the logged metrics.

    Under data parallelism every rank passes its own whole groups; loss normalizers, gradients and logged
    statistics are reduced across ranks and every rank returns the same metrics.

    Args:
        agent: the :class:`~convenv.agents.hf.HFAgent` that collected the batch (no value head needed).
        optimizer: over the model's parameters.
        batch: the rollouts, collected with ``group_size=config.group_size``.
        config: the settings.
        generator: shuffles the minibatches (seed it for reproducible updates).
        ref_model: a frozen copy of the policy model (same tokenizer, on the agent's device) for the KL penalty;
            needed when ``config.kl_coef > 0``, and ``kl_ref`` is logged whenever it is given.

    Returns:
        ``policy_loss``, ``entropy``, ``kl_ref`` (0 without ``ref_model``), ``approx_kl``, ``clipfrac``,
        ``ratio_mean``, ``grad_norm`` (means over minibatches; ``grad_norm`` before clipping), ``score_mean``
        (mean discounted episode score), ``advantage_std`` (over episodes), ``zero_std_groups`` (fraction of
        groups whose scores are all equal), ``minibatches`` (steps run before any early stop).

    Raises:
        ValueError: on an unknown ``kind``, groups of the wrong size, ``kl_coef > 0`` without ``ref_model``, or
            counts below 1.
    """
    _check_config(config, ref_model)
    device = agent.device
    batch = batch.to(device)
    mask = batch.loss_mask  # (B, T) 1 on the agent's sampled ids only
    # 1. one score per episode, one advantage per episode, broadcast to its sampled tokens
    scores, episode_adv = episode_advantages(batch, config)  # (B,), (B,)
    advantages = episode_adv[:, None] * mask  # (B, T)
    ref_logprobs = None  # computed once per update: the reference never changes
    if ref_model is not None:
        ref_logprobs = reference_logprobs(agent, ref_model, batch, micro_size(batch, config))

    def backward(rows: torch.Tensor, n_tokens: torch.Tensor) -> torch.Tensor:
        return _backward_micro(agent, batch, rows, advantages, ref_logprobs, config, n_tokens)

    # 2. epochs of minibatches, each split into micro-batches; one optimizer step per minibatch
    metrics = optimize(agent, optimizer, batch, config, generator, STATS, backward)
    # 3. logs, over every rank's episodes
    every = torch.ones_like(scores)
    score_mean, _, _ = distributed.masked_moments(scores, every)
    _, adv_var, _ = distributed.masked_moments(episode_adv, every)
    metrics.update(
        score_mean=float(score_mean),
        advantage_std=float(adv_var) ** 0.5,
        zero_std_groups=_zero_std_fraction(scores, batch.group_ids),
    )
    return metrics


# ------------------------------------------------------------------------------------------------- internals
def _backward_micro(
    agent: object, batch: RolloutBatch, rows: torch.Tensor, advantages: torch.Tensor,
    ref_logprobs: torch.Tensor | None, config: GRPOConfig, n_tokens: torch.Tensor,
) -> torch.Tensor:  # fmt: skip
    """Forward and backward one micro-batch; returns its share of the minibatch means, in ``STATS`` order."""
    mb = batch[rows].trim()  # right padding never changes scores; cutting it saves compute
    width = mb.tokens.shape[1]
    new_logprobs, _, entropy = score(
        agent, mb.tokens, mb.attention_mask, mb.loss_mask, with_entropy=True, entropy_grad=config.ent_coef != 0
    )
    mb_mask = mb.loss_mask
    pg_loss, pg_stats = clipped_surrogate(
        new_logprobs, mb.old_logprobs, advantages[rows, :width], mb_mask, config.clip_coef, normalizer=n_tokens
    )
    entropy_term = masked_mean(entropy, mb_mask, normalizer=n_tokens)
    loss = pg_loss - config.ent_coef * entropy_term
    kl_ref = torch.zeros((), device=loss.device)
    if ref_logprobs is not None:
        kl_ref = k3_kl(new_logprobs, ref_logprobs[rows, :width], mb_mask, normalizer=n_tokens)
        loss = loss + config.kl_coef * kl_ref
    loss.backward()
    parts = {"policy_loss": pg_loss, "entropy": entropy_term, "kl_ref": kl_ref, **pg_stats}
    return torch.stack([parts[key].detach().float() for key in STATS])


def _zero_std_fraction(scores: torch.Tensor, group_ids: torch.Tensor) -> float:
    """Fraction of groups (over every rank) whose scores are all equal: they carry no learning signal."""
    _, group = torch.unique(group_ids, return_inverse=True)
    n = int(group.max()) + 1 if group.numel() else 0
    top = torch.full((n,), float("-inf"), device=scores.device).scatter_reduce(0, group, scores, "amax")
    bottom = torch.full((n,), float("inf"), device=scores.device).scatter_reduce(0, group, scores, "amin")
    counts = distributed.all_reduce_sum(torch.stack([(top == bottom).sum(), torch.tensor(n, device=scores.device)]))
    return float(counts[0]) / max(float(counts[1]), 1.0)


def _check_config(config: GRPOConfig, ref_model: torch.nn.Module | None) -> None:
    if config.kind not in ("grpo", "rloo"):
        raise ValueError(f"expected kind 'grpo' or 'rloo', got {config.kind!r}; pick one of those")
    for name in ("group_size", "update_epochs", "num_minibatches", "grad_accum_steps"):
        if int(getattr(config, name)) < 1:
            raise ValueError(f"expected {name} >= 1, got {getattr(config, name)}; set it to a positive count")
    if config.kl_coef > 0 and ref_model is None:
        raise ValueError(
            f"expected a ref_model with kl_coef={config.kl_coef} > 0, got None; pass ref_model=a frozen copy of "
            "the policy model (copy.deepcopy(agent.model).eval().requires_grad_(False)) or set kl_coef=0"
        )
