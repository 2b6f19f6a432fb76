"""Pure maths of the trainers: masked statistics, GAE over the agent's tokens, policy losses, group baselines.

Every function here is stateless and works on right-padded ``(B, T)`` tensors: one row per episode, the flat
token sequence of the trained agent's view. Per-token tensors share that layout and are aligned with the tokens:

- ``loss_mask``: 1 on the tokens the agent sampled, 0 on prompt, other roles' (environment, teacher) tokens and
  padding.
- ``rewards``: each agent turn's reward on the last token the agent sampled in that turn, 0 elsewhere.
- ``turn_ids``: the agent's turn index ``0..K-1`` on its sampled tokens, -1 elsewhere.
- ``values``, ``logprobs``: for the token at position ``t``, computed from the hidden state that produced it
  (position ``t - 1``), as :class:`~convenv.agents.HFAgent` records them.

Masked positions never change a result, whatever they hold (the tests fill them with junk), and the outputs are 0
there.
"""

from __future__ import annotations

from typing import Literal

import torch

__all__ = [
    "clipped_surrogate",
    "clipped_value_loss",
    "entropy_from_logits",
    "episode_scores",
    "gae",
    "group_advantages",
    "k3_kl",
    "masked_entropy",
    "masked_mean",
    "masked_var",
    "masked_whiten",
    "sequence_logprobs",
]


# ------------------------------------------------------------------------------------------------ masked stats


def masked_mean(
    x: torch.Tensor, mask: torch.Tensor, dim: int | None = None, *, normalizer: float | torch.Tensor | None = None
) -> torch.Tensor:
    """Mean of ``x`` over the entries where ``mask`` is nonzero.

    Args:
        x: any shape.
        mask: same shape as ``x``; bool or 0/1.
        dim: reduce over this dimension only; None reduces over all entries to a scalar.
        normalizer: divide the masked sum by this instead of the number of masked entries. A trainer passes the
            token count of a whole minibatch (over every micro-batch and rank), so that the parts' results add up
            to the minibatch mean exactly.

    Returns:
        The masked mean (0 where the mask selects nothing, rather than NaN).
    """
    mask = mask.bool()
    x = torch.where(mask, x, torch.zeros((), dtype=x.dtype, device=x.device))  # junk in masked entries is dropped
    total = x.sum() if dim is None else x.sum(dim)
    if normalizer is not None:
        return total / normalizer
    return total / (mask.sum() if dim is None else mask.sum(dim)).clamp(min=1)


def masked_var(x: torch.Tensor, mask: torch.Tensor, unbiased: bool = True) -> torch.Tensor:
    """Variance of ``x`` over all the entries where ``mask`` is nonzero (a scalar).

    Args:
        x: any shape.
        mask: same shape as ``x``; bool or 0/1.
        unbiased: apply Bessel's correction ``n / (n - 1)``, ``n`` the number of masked entries.

    Raises:
        ValueError: with ``unbiased=True`` and fewer than 2 masked entries.
    """
    mask = mask.bool()
    n = int(mask.sum())
    if unbiased and n < 2:
        raise ValueError(
            f"expected at least 2 masked entries for an unbiased variance, got {n}; pass unbiased=False"
        )
    centered = x - masked_mean(x, mask)
    var = masked_mean(centered**2, mask)
    if unbiased:
        var = var * n / (n - 1)
    return var


def masked_whiten(x: torch.Tensor, mask: torch.Tensor, shift_mean: bool = True, eps: float = 1e-8) -> torch.Tensor:
    """Scale ``x`` to unit variance (and zero mean) using the statistics of its masked entries only.

    Args:
        x: any shape.
        mask: same shape as ``x``; bool or 0/1.
        shift_mean: subtract the masked mean; False keeps the mean and only divides by the standard deviation.
        eps: added to the (unbiased) variance before the square root.

    Returns:
        ``(x - mean) / sqrt(var + eps)`` (``+ mean`` back when ``shift_mean=False``) on masked entries, 0 elsewhere.
    """
    mask = mask.bool()
    mean, var = masked_mean(x, mask), masked_var(x, mask)
    whitened = (x - mean) * torch.rsqrt(var + eps)
    if not shift_mean:
        whitened = whitened + mean
    return torch.where(mask, whitened, torch.zeros((), dtype=whitened.dtype, device=whitened.device))


# -------------------------------------------------------------------------------------------------------- GAE


@torch.no_grad()
def gae(
    rewards: torch.Tensor,
    values: torch.Tensor,
    loss_mask: torch.Tensor,
    turn_ids: torch.Tensor,
    gamma: float,
    lam: float,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Generalized advantage estimation over the agent's sampled tokens only, discounting once per agent turn.

    For one row, let ``p_0 < p_1 < ... < p_{n-1}`` be the positions where ``loss_mask`` is 1: everything else
    (prompt, environment and teacher tokens, padding) is skipped entirely, as if the row were compacted to those
    ``n`` tokens. With ``r_i = rewards[p_i]``, ``V_i = values[p_i]``, ``k_i = turn_ids[p_i]``:

    - ``V_n = 0`` and ``A_n = 0``: the episode ends after its last sampled token (no bootstrap).
    - ``d_i = gamma ** (k_{i+1} - k_i)``: 1 between tokens of the same turn, ``gamma`` from the last token of
      turn ``k`` to the first of turn ``k + 1`` (the per-turn discount, as SML's ``gamma ** (t - 1)`` for the
      student's turn ``t``; a turn without sampled tokens still counts as one step).
    - ``delta_i = r_i + d_i * V_{i+1} - V_i``
    - ``A_i = delta_i + d_i * lam * A_{i+1}`` (trace decay ``lam`` at every token, within and across turns)
    - ``returns_i = A_i + V_i``

    With ``lam = 1`` the returns are the discounted sums of the turn rewards, ``sum_j gamma ** (k_j - k_i) r_j``
    over ``j >= i``, whatever the values; with ``lam = 0`` the advantage is the one-step TD error.

    The loop runs backwards over ``T`` for all rows at once, carrying the next sampled token's value, advantage
    and turn; masked positions pass that state through unchanged.

    Args:
        rewards: (B, T) float, per-turn rewards on the last sampled token of each agent turn.
        values: (B, T) float, the value head's output; read only on sampled tokens.
        loss_mask: (B, T), 1 on the agent's sampled tokens.
        turn_ids: (B, T) int, the agent's turn index on sampled tokens (non-decreasing along the row).
        gamma: discount per agent turn.
        lam: GAE trace decay per sampled token.

    Returns:
        ``(advantages, returns)``, both (B, T) float32, 0 on masked positions.

    Raises:
        ValueError: on mismatched shapes, or when turn ids on sampled tokens are negative or decrease along a row.
    """
    if not rewards.shape == values.shape == loss_mask.shape == turn_ids.shape or rewards.dim() != 2:
        raise ValueError(
            "expected rewards, values, loss_mask and turn_ids of one (B, T) shape, got "
            f"{tuple(rewards.shape)}, {tuple(values.shape)}, {tuple(loss_mask.shape)}, {tuple(turn_ids.shape)}"
        )
    mask = loss_mask.bool()  # (B, T)
    rewards, values = rewards.float(), values.float()
    turns = turn_ids.long()
    if bool((turns[mask] < 0).any()):
        raise ValueError("expected turn_ids >= 0 on every sampled token, got a negative id; check the rollout")
    B, T = rewards.shape
    zero = torch.zeros((), device=rewards.device)
    advantages = torch.zeros(B, T, device=rewards.device)  # (B, T)
    next_value = torch.zeros(B, device=rewards.device)  # (B,) V_{i+1}: 0 after the last sampled token
    next_adv = torch.zeros(B, device=rewards.device)  # (B,) A_{i+1}
    next_turn = torch.full((B,), -1, dtype=torch.long, device=rewards.device)  # (B,) k_{i+1}; -1: none yet
    for t in reversed(range(T)):
        m = mask[:, t]  # (B,) rows where position t is a sampled token
        has_next = next_turn >= 0
        if bool((m & has_next & (next_turn < turns[:, t])).any()):
            raise ValueError(
                f"expected turn_ids non-decreasing along each row's sampled tokens, got a drop at t={t}"
            )
        gaps = (next_turn - turns[:, t]).clamp(min=0).float()  # (B,) turn boundaries crossed to the next token
        discount = torch.where(has_next, gamma**gaps, zero)  # (B,) d_i; 0 with no next token (V_n = A_n = 0)
        delta = rewards[:, t] + discount * next_value - values[:, t]  # (B,)
        adv = delta + discount * lam * next_adv  # (B,)
        advantages[:, t] = torch.where(m, adv, zero)
        next_value = torch.where(m, values[:, t], next_value)
        next_adv = torch.where(m, adv, next_adv)
        next_turn = torch.where(m, turns[:, t], next_turn)
    returns = torch.where(mask, advantages + values, zero)  # (B, T)
    return advantages, returns


# ------------------------------------------------------------------------------------------------- PPO losses


def clipped_surrogate(
    logprobs: torch.Tensor,
    old_logprobs: torch.Tensor,
    advantages: torch.Tensor,
    mask: torch.Tensor,
    clip: float,
    *,
    normalizer: float | torch.Tensor | None = None,
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """PPO's clipped policy-gradient loss, averaged over the masked tokens.

    ``ratio = exp(logprobs - old_logprobs)``; the loss is the token mean of
    ``max(-A * ratio, -A * clamp(ratio, 1 - clip, 1 + clip))``, so a token whose ratio has already moved past
    ``1 ± clip`` in the direction its advantage favours gets no gradient.

    Args:
        logprobs: (B, T) log-probs of the sampled tokens under the current policy (with grad).
        old_logprobs: (B, T) log-probs recorded at collection time.
        advantages: (B, T) per-token advantages.
        mask: (B, T), 1 on the agent's sampled tokens.
        clip: the clip range epsilon (e.g. 0.2).
        normalizer: divide token sums (loss and stats) by this instead of the masked token count (see
            :func:`masked_mean`).

    Returns:
        ``(loss, stats)``: the scalar loss and detached scalars ``approx_kl`` (the ``(ratio - 1) - log(ratio)``
        estimator of KL(old || new): >= 0, 0 when the policies agree; healthy below about 0.02), ``clipfrac``
        (the fraction of tokens with ``|ratio - 1| > clip``) and ``ratio_mean`` (about 1).
    """
    mask = mask.bool()
    logratio = torch.where(mask, logprobs - old_logprobs, torch.zeros((), device=logprobs.device))  # (B, T)
    ratio = logratio.exp()  # (B, T); 1 on masked positions
    pg_loss1 = -advantages * ratio
    pg_loss2 = -advantages * torch.clamp(ratio, 1 - clip, 1 + clip)
    loss = masked_mean(torch.max(pg_loss1, pg_loss2), mask, normalizer=normalizer)
    with torch.no_grad():
        stats = {
            "approx_kl": masked_mean((ratio - 1) - logratio, mask, normalizer=normalizer),
            "clipfrac": masked_mean(((ratio - 1).abs() > clip).float(), mask, normalizer=normalizer),
            "ratio_mean": masked_mean(ratio, mask, normalizer=normalizer),
        }
    return loss, stats


def clipped_value_loss(
    values: torch.Tensor,
    old_values: torch.Tensor,
    returns: torch.Tensor,
    mask: torch.Tensor,
    clip: float | None,
    *,
    normalizer: float | torch.Tensor | None = None,
) -> torch.Tensor:
    """PPO's value loss: ``0.5 * max((V - R)**2, (V_clipped - R)**2)`` averaged over the masked tokens.

    ``V_clipped = old_values + clamp(values - old_values, -clip, clip)`` keeps the new value within ``clip`` of the
    one recorded at collection time (CleanRL's ``clip_vloss``).

    Args:
        values: (B, T) current value predictions (with grad).
        old_values: (B, T) values recorded at collection time.
        returns: (B, T) the regression targets (:func:`gae`'s returns).
        mask: (B, T), 1 on the agent's sampled tokens.
        clip: the clip range; None gives the plain ``0.5 * (V - R)**2``.
        normalizer: divide the token sum by this instead of the masked token count (see :func:`masked_mean`).

    Returns:
        The scalar loss.
    """
    mask = mask.bool()
    v_loss_unclipped = (values - returns) ** 2  # (B, T)
    if clip is None:
        return 0.5 * masked_mean(v_loss_unclipped, mask, normalizer=normalizer)
    v_clipped = old_values + torch.clamp(values - old_values, -clip, clip)
    v_loss_clipped = (v_clipped - returns) ** 2
    return 0.5 * masked_mean(torch.max(v_loss_unclipped, v_loss_clipped), mask, normalizer=normalizer)


def k3_kl(
    logprobs: torch.Tensor,
    ref_logprobs: torch.Tensor,
    mask: torch.Tensor,
    *,
    normalizer: float | torch.Tensor | None = None,
    max_log_ratio: float = 20.0,
) -> torch.Tensor:
    """Schulman's k3 estimator of KL(policy || reference), averaged over the masked (sampled) tokens.

    Per token, with ``d = ref_logprobs - logprobs``: ``exp(d) - d - 1``. It is >= 0, 0 where the policies agree,
    and its expectation under the policy (the tokens were sampled from it) is the KL; its gradient pulls the
    policy towards the reference. ``d`` is clamped to ``[-max_log_ratio, max_log_ratio]``: with top-k or top-p
    sampling an update can push a sampled id out of the policy's support (log-prob -inf), which would make the
    estimate and every gradient inf/NaN; such a token gets a large finite penalty and no gradient instead.

    Args:
        logprobs: (B, T) log-probs of the sampled tokens under the current policy (with grad).
        ref_logprobs: (B, T) the same under the frozen reference (no grad).
        mask: (B, T), 1 on the agent's sampled tokens.
        normalizer: divide the token sum by this instead of the masked token count (see :func:`masked_mean`).
        max_log_ratio: the clamp on ``d``.

    Returns:
        The scalar estimate.
    """
    mask = mask.bool()
    d = torch.where(mask, ref_logprobs - logprobs, torch.zeros((), dtype=logprobs.dtype, device=logprobs.device))
    d = d.clamp(-max_log_ratio, max_log_ratio)
    return masked_mean(d.exp() - d - 1, mask, normalizer=normalizer)


def entropy_from_logits(logits: torch.Tensor) -> torch.Tensor:
    """Entropy (in nats) of ``softmax(logits)`` over the last dimension; -inf entries (banned ids) are allowed.

    Args:
        logits: (..., V); computed in float32 at least.

    Returns:
        (...) the entropy of each distribution.
    """
    logp = torch.log_softmax(logits.float() if logits.dtype != torch.float64 else logits, dim=-1)
    finite_logp = logp.clamp(min=torch.finfo(logp.dtype).min)  # -inf * 0 would be NaN
    return -(logp.exp() * finite_logp).sum(-1)


def masked_entropy(logits: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean entropy (in nats) of the per-position distributions ``softmax(logits)`` over the masked positions.

    Args:
        logits: (B, T, V); computed in float32; -inf entries (banned ids) are allowed.
        mask: (B, T), 1 where the entropy counts.

    Returns:
        The scalar mean entropy.
    """
    return masked_mean(entropy_from_logits(logits), mask)


def sequence_logprobs(logits: torch.Tensor, tokens: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Log-probs of each token under the logits of the position before it, aligned with ``tokens``.

    A causal LM's ``logits[:, t]`` predicts ``tokens[:, t + 1]``, so this scores ``tokens[:, 1:]`` under
    ``logits[:, :-1]`` and writes the result at the token's own position:
    ``out[:, t] = log_softmax(logits[:, t - 1])[tokens[:, t]]``. Column 0 has no logits predicting it and is
    always 0, so the output has the same ``(B, T)`` layout as ``loss_mask``, ``rewards`` and ``values``.

    Args:
        logits: (B, T, V) from the model on ``tokens``; computed in float32.
        tokens: (B, T) int ids; masked entries may hold anything (padding ids, -100).
        mask: (B, T), 1 on the tokens to score; ``mask[:, 0]`` must be 0.

    Returns:
        (B, T) float32 log-probs, 0 where ``mask`` is 0.

    Raises:
        ValueError: on mismatched shapes, or when ``mask[:, 0]`` selects a token.
    """
    if logits.shape[:2] != tokens.shape or tokens.shape != mask.shape:
        raise ValueError(
            f"expected logits (B, T, V) with tokens and mask (B, T), got {tuple(logits.shape)}, "
            f"{tuple(tokens.shape)}, {tuple(mask.shape)}"
        )
    mask = mask.bool()
    if bool(mask[:, 0].any()):
        raise ValueError("expected mask[:, 0] == 0: no logits predict the first token; mask the prompt")
    targets = torch.where(mask[:, 1:], tokens[:, 1:], torch.zeros((), dtype=tokens.dtype, device=tokens.device))
    shifted = logits[:, :-1].float()  # (B, T-1, V): position t predicts token t + 1
    picked = shifted.gather(-1, targets.long().unsqueeze(-1)).squeeze(-1)  # (B, T-1)
    logp = picked - torch.logsumexp(shifted, dim=-1)  # (B, T-1), log p(tokens[:, t + 1])
    logp = torch.where(mask[:, 1:], logp, torch.zeros((), device=logp.device))
    return torch.cat([torch.zeros_like(logp[:, :1]), logp], dim=1)  # (B, T), column 0 = 0


# ------------------------------------------------------------------------------------------- group baselines


def group_advantages(
    rewards: torch.Tensor,
    group_ids: torch.Tensor,
    kind: Literal["grpo", "rloo"] = "grpo",
    normalize_std: bool = True,
    eps: float = 1e-6,
) -> torch.Tensor:
    """Per-episode advantages from a group baseline: the episodes of one group share a prompt (task instance).

    A group whose rewards are all equal carries no signal: its advantages are exactly 0 (not a rounding residue
    of ``r - mean``, which the ``std + eps`` division would blow up).

    - ``"grpo"``: ``r_i - mean_g``, divided by ``std_g + eps`` when ``normalize_std`` (``std_g`` the unbiased
      standard deviation of the group's rewards, taken as 0 for a group of one, whose advantage is then 0).
    - ``"rloo"``: ``r_i - (sum_g - r_i) / (n_g - 1)``, the reward minus the mean of the *other* members
      (``normalize_std`` is ignored).

    Args:
        rewards: (N,) float, one scalar reward per episode.
        group_ids: (N,) int, any ids; episodes with equal ids form a group.
        kind: ``"grpo"`` or ``"rloo"``.
        normalize_std: GRPO only: divide by the group standard deviation.
        eps: added to the standard deviation.

    Returns:
        (N,) float32 advantages; broadcast them over each episode's sampled tokens.

    Raises:
        ValueError: on an unknown ``kind``, mismatched shapes, or (RLOO) a group of size 1.
    """
    if kind not in ("grpo", "rloo"):
        raise ValueError(f"expected kind 'grpo' or 'rloo', got {kind!r}")
    if rewards.dim() != 1 or rewards.shape != group_ids.shape:
        raise ValueError(
            "expected rewards and group_ids of one (N,) shape, got "
            f"{tuple(rewards.shape)}, {tuple(group_ids.shape)}"
        )
    rewards = rewards.float()
    _, group = torch.unique(group_ids, return_inverse=True)  # (N,) group index 0..G-1
    G = int(group.max()) + 1 if group.numel() else 0
    count = torch.zeros(G, device=rewards.device).index_add_(0, group, torch.ones_like(rewards))  # (G,)
    total = torch.zeros(G, device=rewards.device).index_add_(0, group, rewards)  # (G,)
    if kind == "rloo" and bool((count < 2).any()):
        lonely = group_ids[count[group] < 2].tolist()
        raise ValueError(f"expected groups of at least 2 episodes for RLOO, got size 1 for group ids {lonely}")
    top = torch.full((G,), float("-inf"), device=rewards.device).scatter_reduce(0, group, rewards, "amax")
    bottom = torch.full((G,), float("inf"), device=rewards.device).scatter_reduce(0, group, rewards, "amin")
    flat = (top == bottom)[group]  # (N,) the episode's group has one reward value
    zero = torch.zeros((), device=rewards.device)
    if kind == "rloo":
        n = count[group]  # (N,)
        return torch.where(flat, zero, rewards - (total[group] - rewards) / (n - 1))
    mean = (total / count)[group]  # (N,)
    advantages = rewards - mean
    if normalize_std:
        sq = torch.zeros(G, device=rewards.device).index_add_(0, group, advantages**2)  # (G,)
        std = (sq / (count - 1).clamp(min=1)).sqrt()[group]  # (N,) unbiased; 0 for a group of one
        advantages = advantages / (std + eps)
    return torch.where(flat, zero, advantages)


def episode_scores(rewards: torch.Tensor, turn_ids: torch.Tensor, gamma: float) -> torch.Tensor:
    """Each episode's score: its per-turn rewards discounted once per agent turn, ``sum_k gamma ** k * r_k``.

    ``r_k`` is the reward of the agent's turn ``k`` (0-based), which the rollout puts on that turn's last sampled
    token; with ``gamma = 0.7`` and a single success reward of 1 at turn ``t`` (1-based) the score is
    ``0.7 ** (t - 1)``, SML's discounted reward.

    Args:
        rewards: (B, T) float, per-turn rewards on sampled tokens, 0 elsewhere.
        turn_ids: (B, T) int, the agent's turn index on its sampled tokens, -1 elsewhere.
        gamma: discount per agent turn.

    Returns:
        (B,) float32 scores.

    Raises:
        ValueError: on mismatched shapes, or a nonzero reward on a position without a turn id.
    """
    if rewards.shape != turn_ids.shape or rewards.dim() != 2:
        raise ValueError(
            "expected rewards and turn_ids of one (B, T) shape, got "
            f"{tuple(rewards.shape)}, {tuple(turn_ids.shape)}"
        )
    rewards = rewards.float()
    if bool(((rewards != 0) & (turn_ids < 0)).any()):
        raise ValueError(
            "expected rewards only on the agent's sampled tokens (turn_ids >= 0), got one elsewhere; pass the "
            "rollout's rewards and turn_ids"
        )
    discount = torch.pow(torch.tensor(float(gamma), device=rewards.device), turn_ids.clamp(min=0).float())
    return (rewards * discount).sum(1)
