"""The optimization loop PPO and GRPO/RLOO share: epochs of shuffled minibatches, gradient accumulation, one step.

Every loss term of an update is a token *sum* divided by ``n_tokens``, the sampled-token count of the whole
minibatch over all its micro-batches and all ranks. So accumulating micro-batches, or summing gradients across
data-parallel ranks, gives exactly the gradient of one big minibatch (tested in ``test_ppo``/``test_grpo`` and
``test_distributed``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch

from convenv.algorithms import distributed
from convenv.algorithms.rollout import RolloutBatch

__all__ = ["micro_size", "optimize"]

BackwardMicro = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
"""``(rows, n_tokens) -> stats``: forward and backward one micro-batch; its share of the minibatch means."""


def micro_size(batch: RolloutBatch, config: Any) -> int:
    """Rows per micro-batch (at least 1): reference forwards run at this size too."""
    return max(1, -(-len(batch) // (config.num_minibatches * config.grad_accum_steps)))


def optimize(
    agent: Any, optimizer: torch.optim.Optimizer, batch: RolloutBatch, config: Any,
    generator: torch.Generator | None, stat_names: Sequence[str], backward_micro: BackwardMicro,
) -> dict[str, float]:  # fmt: skip
    """Run ``config.update_epochs`` passes of ``config.num_minibatches`` minibatches over ``batch``.

    Each minibatch is split into ``config.grad_accum_steps`` micro-batches whose gradients accumulate, are summed
    across ranks, clipped to ``config.max_grad_norm`` and applied in one optimizer step. The epochs stop early
    when a minibatch's ``approx_kl`` (one of ``stat_names``) exceeds ``config.target_kl``. The model runs in eval
    mode (no dropout: the new log-probs equal the old ones before the first step) and gets its mode back after.

    Returns:
        The mean over minibatches of each stat and of ``grad_norm`` (before clipping), and ``minibatches`` (the
        steps run).
    """
    params = [p for group in optimizer.param_groups for p in group["params"]]
    mask = batch.loss_mask
    totals = dict.fromkeys((*stat_names, "grad_norm"), 0.0)
    runs = 0
    model = agent.model
    was_training = model.training
    model.eval()
    try:
        for _ in range(config.update_epochs):
            for mb_inds in batch.split(config.num_minibatches, generator):
                # the loss normalizer: sampled tokens in the whole minibatch, over every micro-batch and rank
                n_tokens = distributed.all_reduce_sum(mask[mb_inds].sum()).clamp(min=1)
                optimizer.zero_grad()
                stats = torch.zeros(len(stat_names), device=mask.device)
                for micro in mb_inds.tensor_split(config.grad_accum_steps):
                    if len(micro):
                        stats += backward_micro(micro, n_tokens)
                distributed.all_reduce_sum(stats)  # the global minibatch means
                distributed.sync_gradients(params)  # summed: each rank's loss already divides by the global count
                grad_norm = torch.nn.utils.clip_grad_norm_(params, config.max_grad_norm)
                optimizer.step()
                runs += 1
                for key, value in zip(stat_names, stats.tolist(), strict=True):
                    totals[key] += value
                totals["grad_norm"] += float(grad_norm)
                approx_kl = float(stats[list(stat_names).index("approx_kl")])
                if config.target_kl is not None and approx_kl > config.target_kl:
                    return _means(totals, runs)  # the same decision on every rank: the stats are global
    finally:
        model.train(was_training)
    return _means(totals, runs)


def _means(totals: dict[str, float], runs: int) -> dict[str, float]:
    return {**{key: value / max(runs, 1) for key, value in totals.items()}, "minibatches": float(runs)}
