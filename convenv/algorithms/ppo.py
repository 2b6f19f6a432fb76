"""The PPO update on multi-turn rollouts (CleanRL-style: advantages, then epochs of minibatches, then logs).

One call of :func:`ppo_update` consumes one :class:`~convenv.algorithms.rollout.RolloutBatch` collected by
:func:`~convenv.algorithms.rollout.collect`: GAE over the trained agent's sampled tokens only (``gamma`` per turn,
``lambda`` per token), advantage whitening over those tokens, then ``update_epochs`` passes of shuffled
minibatches with the clipped surrogate and the clipped value loss. The policy's new log-probs and values come
from :func:`~convenv.algorithms.rollout.score`, the same teacher-forced forward that produced the old ones, so
the first minibatch starts at ratio 1 exactly. The training loop (collect → update → evaluate) builds on this.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from convenv.algorithms.functional import clipped_surrogate, clipped_value_loss, gae, masked_mean, masked_whiten
from convenv.algorithms.rollout import RolloutBatch, score


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
    update_epochs: int = 2
    """passes over the batch per update"""
    num_minibatches: int = 2
    """minibatches per pass (episodes are split evenly)"""
    norm_adv: bool = True
    """whiten advantages over the sampled tokens of the batch"""
    max_grad_norm: float = 1.0
    """gradient clipping"""
    target_kl: float | None = None
    """stop the epochs early when a minibatch's approx_kl exceeds this"""


def ppo_update(
    agent: object, optimizer: torch.optim.Optimizer, batch: RolloutBatch, config: PPOConfig,
    generator: torch.Generator | None = None,
) -> dict[str, float]:  # fmt: skip
    """One PPO update of ``agent``'s model and value head on ``batch``; returns the logged metrics.

    Args:
        agent: the :class:`~convenv.agents.hf.HFAgent` that collected the batch, with a ``value_head``.
        optimizer: over the model's and the value head's parameters.
        batch: the rollouts (old log-probs and values included).
        config: the settings.
        generator: shuffles the minibatches (seed it for reproducible updates).

    Returns:
        ``policy_loss``, ``value_loss``, ``approx_kl``, ``clipfrac``, ``ratio_mean`` (means over minibatches),
        ``advantage_mean`` (before whitening), ``return_mean`` (per sampled token), ``explained_variance``,
        ``grad_norm`` (mean, before clipping), ``minibatches`` (run before any early stop).
    """
    if getattr(agent, "value_head", None) is None or batch.values is None:
        raise ValueError(
            "expected an agent with a value head and a batch with values, got none; build the agent with "
            "value_head=ValueHead(hidden_size) before collecting"
        )
    mask = batch.loss_mask  # (B, T) 1 on the agent's sampled ids only
    advantages, returns = gae(batch.rewards, batch.values, mask, batch.turn_ids, config.gamma, config.gae_lambda)
    raw_advantage_mean = float(masked_mean(advantages, mask))
    if config.norm_adv:
        advantages = masked_whiten(advantages, mask)
    size = max(1, len(batch) // config.num_minibatches)
    params = [p for group in optimizer.param_groups for p in group["params"]]
    totals: dict[str, float] = {"policy_loss": 0.0, "value_loss": 0.0, "approx_kl": 0.0, "clipfrac": 0.0}
    totals.update(ratio_mean=0.0, grad_norm=0.0)
    runs = 0
    model = agent.model
    was_training = model.training
    model.eval()  # no dropout: the new log-probs must equal the old ones before the first step
    try:
        for _ in range(config.update_epochs):
            stop = False
            for mb_inds in batch.minibatches(size, generator):
                mb = batch[mb_inds]
                mb_mask = mb.loss_mask.to(agent.device)
                new_logprobs, new_values = score(agent, mb.tokens, mb.attention_mask, mb.loss_mask)  # (b, T)
                mb_adv = advantages[mb_inds].to(agent.device)
                pg_loss, stats = clipped_surrogate(
                    new_logprobs, mb.old_logprobs.to(agent.device), mb_adv, mb_mask, config.clip_coef
                )
                v_clip = config.clip_coef if config.clip_vloss else None
                v_loss = clipped_value_loss(
                    new_values, mb.values.to(agent.device), returns[mb_inds].to(agent.device), mb_mask, v_clip
                )
                loss = pg_loss + config.vf_coef * v_loss
                optimizer.zero_grad()
                loss.backward()
                grad_norm = torch.nn.utils.clip_grad_norm_(params, config.max_grad_norm)
                optimizer.step()
                runs += 1
                totals["policy_loss"] += pg_loss.item()
                totals["value_loss"] += v_loss.item()
                totals["grad_norm"] += grad_norm.item()
                for key in ("approx_kl", "clipfrac", "ratio_mean"):
                    totals[key] += float(stats[key])
                if config.target_kl is not None and float(stats["approx_kl"]) > config.target_kl:
                    stop = True
                    break
            if stop:
                break
    finally:
        model.train(was_training)
    metrics = {key: value / max(runs, 1) for key, value in totals.items()}
    flat_values, flat_returns = batch.values[mask > 0], returns[mask > 0]
    variance = float(flat_returns.var()) if flat_returns.numel() > 1 else 0.0
    explained = 1.0 - float((flat_returns - flat_values).var()) / variance if variance > 0 else 0.0
    metrics.update(
        advantage_mean=raw_advantage_mean,
        return_mean=float(masked_mean(returns, mask)),
        explained_variance=explained,
        minibatches=float(runs),
    )
    return metrics
