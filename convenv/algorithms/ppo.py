"""The PPO update on multi-turn rollouts (CleanRL-style: advantages, then epochs of minibatches, then logs).

One call of :func:`ppo_update` consumes one :class:`~convenv.algorithms.rollout.RolloutBatch` collected by
:func:`~convenv.algorithms.rollout.collect`: GAE over the trained agent's sampled tokens only (``gamma`` per turn,
``lambda`` per token), advantage whitening over those tokens, then ``update_epochs`` passes of shuffled
minibatches with the clipped surrogate, the clipped value loss, an optional entropy bonus and an optional KL
penalty towards a frozen reference model. The policy's new log-probs and values come from
:func:`~convenv.algorithms.rollout.score`, the same teacher-forced forward that produced the old ones, so the first
minibatch starts at ratio 1 exactly.

Each minibatch is split into ``grad_accum_steps`` micro-batches whose gradients add up before one optimizer step.
Every loss is a token sum divided by the token count of the whole minibatch (over every micro-batch and, under
data parallelism, every rank; see :mod:`convenv.algorithms.distributed`), so accumulation and data parallelism give
the gradient of one big minibatch exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from convenv.algorithms import distributed
from convenv.algorithms.functional import clipped_surrogate, clipped_value_loss, gae, k3_kl, masked_mean
from convenv.algorithms.minibatch import micro_size, optimize
from convenv.algorithms.rollout import RolloutBatch, reference_logprobs, score

__all__ = ["PPOConfig", "ppo_update"]

STATS = ("policy_loss", "value_loss", "entropy", "kl_ref", "approx_kl", "clipfrac", "ratio_mean")
"""Per-minibatch token means, averaged over the minibatches of an update."""


@dataclass
class PPOConfig:
    """PPO settings; names follow CleanRL's ``ppo.py``."""

    gamma: float = 1.0
    """discount per student turn (SML uses 0.7)"""
    gae_lambda: float = 0.95
    """GAE trace decay per sampled token"""
    clip_coef: float = 0.2
    """surrogate clipping: the ratio is kept within 1 ± clip_coef"""
    clip_vloss: bool = True
    """clip the value update around the old values with the same coefficient"""
    vf_coef: float = 0.5
    """weight of the value loss"""
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
    norm_adv: bool = True
    """whiten advantages over the sampled tokens of the batch (of every rank)"""
    max_grad_norm: float = 1.0
    """gradient clipping"""
    target_kl: float | None = None
    """stop the epochs early when a minibatch's approx_kl exceeds this"""


def ppo_update(
    agent: object, optimizer: torch.optim.Optimizer, batch: RolloutBatch, config: PPOConfig,
    generator: torch.Generator | None = None, *, ref_model: torch.nn.Module | None = None,
) -> dict[str, float]:  # fmt: skip
    """One PPO update of ``agent``'s model and value head on ``batch``; returns the logged metrics.

    Under data parallelism (:func:`convenv.algorithms.distributed.init_from_env`) every rank passes its own
    episodes; statistics, loss normalizers and gradients are reduced across ranks and every rank returns the same
    metrics.

    Args:
        agent: the :class:`~convenv.agents.hf.HFAgent` that collected the batch, with a ``value_head``.
        optimizer: over the model's and the value head's parameters.
        batch: the rollouts (old log-probs and values included).
        config: the settings.
        generator: shuffles the minibatches (seed it for reproducible updates).
        ref_model: a frozen copy of the policy model (same tokenizer, on the agent's device) for the KL penalty;
            needed when ``config.kl_coef > 0``, and ``kl_ref`` is logged whenever it is given.

    Returns:
        ``policy_loss``, ``value_loss``, ``entropy``, ``kl_ref`` (0 without ``ref_model``), ``approx_kl``,
        ``clipfrac``, ``ratio_mean``, ``grad_norm`` (means over minibatches; ``grad_norm`` before clipping),
        ``advantage_mean`` (before whitening), ``return_mean`` (per sampled token), ``explained_variance``,
        ``minibatches`` (steps run before any early stop).

    Raises:
        ValueError: without a value head, with ``kl_coef > 0`` and no ``ref_model``, or on counts below 1.
    """
    if getattr(agent, "value_head", None) is None or batch.values is None:
        raise ValueError(
            "expected an agent with a value head and a batch with values, got none; build the agent with "
            "value_head=ValueHead(hidden_size) before collecting"
        )
    _check_config(config, ref_model)
    device = agent.device
    batch = batch.to(device)
    mask = batch.loss_mask  # (B, T) 1 on the agent's sampled ids only
    advantages, returns = gae(batch.rewards, batch.values, mask, batch.turn_ids, config.gamma, config.gae_lambda)
    raw_advantage_mean = float(distributed.masked_moments(advantages, mask)[0])
    if config.norm_adv:
        advantages = distributed.masked_whiten(advantages, mask)  # statistics of every rank's tokens
    ref_logprobs = None  # computed once per update: the reference never changes
    if ref_model is not None:
        ref_logprobs = reference_logprobs(agent, ref_model, batch, micro_size(batch, config))

    def backward(rows: torch.Tensor, n_tokens: torch.Tensor) -> torch.Tensor:
        return _backward_micro(agent, batch, rows, advantages, returns, ref_logprobs, config, n_tokens)

    metrics = optimize(agent, optimizer, batch, config, generator, STATS, backward)
    return_mean, return_var, _ = distributed.masked_moments(returns, mask)
    _, residual_var, _ = distributed.masked_moments(returns - batch.values, mask)
    explained = 1.0 - float(residual_var) / float(return_var) if float(return_var) > 0 else 0.0
    metrics.update(
        advantage_mean=raw_advantage_mean,
        return_mean=float(return_mean),
        explained_variance=explained,
    )
    return metrics


# ------------------------------------------------------------------------------------------------- internals
def _backward_micro(
    agent: object, batch: RolloutBatch, rows: torch.Tensor, advantages: torch.Tensor, returns: torch.Tensor,
    ref_logprobs: torch.Tensor | None, config: PPOConfig, n_tokens: torch.Tensor,
) -> torch.Tensor:  # fmt: skip
    """Forward and backward one micro-batch; returns its share of the minibatch means, in ``STATS`` order."""
    mb = batch[rows].trim()  # right padding never changes scores; cutting it saves compute
    width = mb.tokens.shape[1]
    new_logprobs, new_values, entropy = score(
        agent, mb.tokens, mb.attention_mask, mb.loss_mask, with_entropy=True, entropy_grad=config.ent_coef != 0
    )
    mb_mask = mb.loss_mask
    mb_adv = advantages[rows, :width]
    pg_loss, pg_stats = clipped_surrogate(
        new_logprobs, mb.old_logprobs, mb_adv, mb_mask, config.clip_coef, normalizer=n_tokens
    )
    v_clip = config.clip_coef if config.clip_vloss else None
    v_loss = clipped_value_loss(new_values, mb.values, returns[rows, :width], mb_mask, v_clip, normalizer=n_tokens)
    entropy_term = masked_mean(entropy, mb_mask, normalizer=n_tokens)
    loss = pg_loss + config.vf_coef * v_loss - config.ent_coef * entropy_term
    kl_ref = torch.zeros((), device=loss.device)
    if ref_logprobs is not None:
        kl_ref = k3_kl(new_logprobs, ref_logprobs[rows, :width], mb_mask, normalizer=n_tokens)
        loss = loss + config.kl_coef * kl_ref
    loss.backward()
    parts = {"policy_loss": pg_loss, "value_loss": v_loss, "entropy": entropy_term, "kl_ref": kl_ref, **pg_stats}
    return torch.stack([parts[key].detach().float() for key in STATS])


def _check_config(config: PPOConfig, ref_model: torch.nn.Module | None) -> None:
    for name in ("update_epochs", "num_minibatches", "grad_accum_steps"):
        if int(getattr(config, name)) < 1:
            raise ValueError(f"expected {name} >= 1, got {getattr(config, name)}; set it to a positive count")
    if config.kl_coef > 0 and ref_model is None:
        raise ValueError(
            f"expected a ref_model with kl_coef={config.kl_coef} > 0, got None; pass ref_model=a frozen copy of "
            "the policy model (copy.deepcopy(agent.model).eval().requires_grad_(False)) or set kl_coef=0"
        )
