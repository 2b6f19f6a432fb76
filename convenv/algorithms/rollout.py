"""Rollout collection: play a batch of episodes with the trained agent, then score them in one forward pass.

:func:`collect` plays one episode per env in lockstep (as :func:`convenv.play.play_batch` does), the trained
:class:`~convenv.agents.hf.HFAgent` answering every conversation where it is its turn in one batched ``generate``
call. After the episodes it turns each conversation into one flat token sequence, the trained role's final view
(``env.transcript.view_ids(role)``, append-only by DESIGN §3, so every reply sits in it exactly as it was
sampled), and computes the old log-probs and values of the whole batch with ONE teacher-forced forward pass
(:func:`score`), not one per turn.

Where a reply lies in its view: the agent's message render is ``header + body + footer``, the header being the
generation prompt the agent was fed and the footer starting with the end-of-turn id. The agent sampled the body
and, when the reply stopped (``Generation.stopped``), the end-of-turn id right after it; a reply cut at
``max_new_tokens`` ends at its body (the env wrote that footer, not the agent). Those ids get ``loss_mask`` 1.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
import torch

from convenv.tokenizers import generation_prompt

__all__ = ["RolloutBatch", "collect", "reference_logprobs", "reply_starts", "score"]


@dataclass
class RolloutBatch:
    """Finished episodes as flat token sequences (one row per episode, right-padded to the longest).

    Position ``t`` holds ``tokens[:, t]`` and everything about *predicting* it from ``tokens[:, :t]``.

    Attributes:
        tokens: the trained role's final view, pad id after its end.
        attention_mask: 1 on the view, 0 on the right padding.
        loss_mask: 1 on the ids the trained agent sampled (each reply's body, plus the end-of-turn id after it when
            the reply stopped there), 0 elsewhere.
        old_logprobs: log-prob of ``tokens[:, t]`` under the agent's processed sampling distribution
            (``agent.processed_logits``); 0 where ``loss_mask`` is 0.
        values: the value head on the hidden state that predicts ``tokens[:, t]`` (the state before the id, as in
            ``Generation.values``); 0 where ``loss_mask`` is 0; None without a value head.
        rewards: each step reward the trained role received, on the last sampled id of the turn it belongs to.
        turn_ids: the agent's turn index (0-based) on its sampled ids, -1 elsewhere.
        success: whether the episode ended with a verified correct answer.
        success_turn: the env's (1-based) student turn of the correct answer, -1 if none.
        episode_return: the trained role's summed reward.
        group_ids: the task index (rows with the same task share it).
        task_ids: the task id of each row.

    """

    tokens: torch.Tensor  # (B, T) long
    attention_mask: torch.Tensor  # (B, T) long
    loss_mask: torch.Tensor  # (B, T) float
    old_logprobs: torch.Tensor  # (B, T) float
    values: torch.Tensor | None  # (B, T) float
    rewards: torch.Tensor  # (B, T) float
    turn_ids: torch.Tensor  # (B, T) long
    success: torch.Tensor  # (B,) bool
    success_turn: torch.Tensor  # (B,) long
    episode_return: torch.Tensor  # (B,) float
    group_ids: torch.Tensor  # (B,) long
    task_ids: list[str]

    def __len__(self) -> int:
        return int(self.tokens.shape[0])

    def to(self, device: Any) -> RolloutBatch:
        """A copy with every tensor on ``device``."""
        return RolloutBatch(
            **{
                f.name: v.to(device) if isinstance(v := getattr(self, f.name), torch.Tensor) else v
                for f in fields(self)
            }
        )

    def __getitem__(self, index: torch.Tensor | Sequence[int]) -> RolloutBatch:
        """The rows ``index`` (a 1-D index tensor or a list of row numbers), in that order."""
        index = torch.as_tensor(index, dtype=torch.long).reshape(-1)
        out = {}
        for f in fields(self):
            v = getattr(self, f.name)
            if isinstance(v, torch.Tensor):
                out[f.name] = v[index.to(v.device)]
            elif v is None:
                out[f.name] = None
            else:
                out[f.name] = [v[i] for i in index.tolist()]
        return RolloutBatch(**out)

    def minibatches(self, size: int, generator: torch.Generator | None = None) -> Iterator[torch.Tensor]:
        """Row indices (1-D long tensors of at most ``size`` rows) covering every row once.

        Shuffled with ``generator`` (a ``torch.Generator``, never the global RNG); in row order when it is None.
        """
        if int(size) < 1:
            raise ValueError(f"expected a minibatch size >= 1, got {size}")
        n = len(self)
        order = torch.arange(n) if generator is None else torch.randperm(n, generator=generator)
        yield from order.split(int(size))

    def split(self, parts: int, generator: torch.Generator | None = None) -> list[torch.Tensor]:
        """Row indices in exactly ``parts`` near-equal chunks (sizes differ by at most 1; empty ones come last).

        Shuffled with ``generator`` as :meth:`minibatches`. Always ``parts`` chunks, even when the batch has fewer
        rows: under data parallelism every rank must take the same number of optimizer steps.
        """
        if int(parts) < 1:
            raise ValueError(f"expected parts >= 1, got {parts}; split into at least one part")
        n = len(self)
        order = torch.arange(n) if generator is None else torch.randperm(n, generator=generator)
        return list(order.tensor_split(int(parts)))

    def trim(self) -> RolloutBatch:
        """A copy without the columns that are right padding in every row (scores are unchanged; less compute)."""
        n = int(self.attention_mask.sum(1).max()) if len(self) else 0
        return RolloutBatch(
            **{
                f.name: v[:, :n] if isinstance(v := getattr(self, f.name), torch.Tensor) and v.dim() == 2 else v
                for f in fields(self)
            }
        )


def reply_starts(loss_mask: torch.Tensor) -> torch.Tensor:
    """(B, T) bool: the first sampled id of each reply (where ``agent.processed_logits(first=True)`` applies).

    A reply's sampled ids are one run of ``loss_mask`` 1s, and two replies are always separated by other
    messages, so the first id of a reply is a 1 after a 0.
    """
    on = loss_mask > 0
    before = torch.zeros_like(on)
    before[:, 1:] = on[:, :-1]
    return on & ~before


def score(
    agent: Any,
    tokens: torch.Tensor,
    attention_mask: torch.Tensor,
    loss_mask: torch.Tensor,
    *,
    with_entropy: bool = False,
    entropy_grad: bool = True,
    model: Any = None,
) -> tuple[torch.Tensor, ...]:
    """Teacher-forced log-probs and values of ``agent`` (an ``HFAgent``) on right-padded sequences, one forward.

    Log-probs come from ``log_softmax(agent.processed_logits(logits, first=reply_starts(loss_mask)))``, the
    distribution ``HFAgent.generate`` sampled from; logits are only computed where ``loss_mask`` is 1. Runs with
    whatever grad mode and train/eval mode the caller set (``collect`` uses eval mode without grad; a trainer
    calls it with grad to get new log-probs). Right padding never changes a row's results.

    Args:
        agent: the agent (its ``model``, ``value_head`` and ``processed_logits`` are used).
        tokens: (B, T) long ids.
        attention_mask: (B, T), 1 on the sequence, 0 on the right padding.
        loss_mask: (B, T), 1 where log-probs and values are wanted.
        with_entropy: also return the entropy of the processed sampling distribution at each wanted position.
        entropy_grad: False computes that entropy without building its graph (for logging only: a large
            vocabulary's (B, K, V) intermediates are then not kept for the backward pass).
        model: score with this model instead of ``agent.model`` (a frozen reference on the agent's device, same
            tokenizer), through the agent's ``processed_logits``; no values then.

    Returns:
        ``(logprobs, values)``, or ``(logprobs, values, entropy)`` with ``with_entropy``: (B, T) float32, 0 where
        ``loss_mask`` is 0; ``values`` is None without a value head (or with ``model``).

    """
    device = agent.device
    model = agent.model if model is None else model
    value_head = agent.value_head if model is agent.model else None
    tokens = tokens.to(device)
    attention_mask = attention_mask.to(device).long()
    wanted = loss_mask.to(device) > 0  # (B, T)
    wanted[:, 0] = False  # nothing predicts the first id (a reply never starts a view)
    b, t = tokens.shape
    logprobs = torch.zeros(b, t, dtype=torch.float32, device=device)
    values = torch.zeros(b, t, dtype=torch.float32, device=device) if value_head is not None else None
    entropy = torch.zeros(b, t, dtype=torch.float32, device=device)
    done = (logprobs, values, entropy) if with_entropy else (logprobs, values)
    if not bool(wanted.any()):
        return done
    # the positions whose outputs predict a wanted id, the same for every row (what logits_to_keep accepts)
    keep = torch.nonzero(wanted.any(0)).flatten() - 1  # (K,)
    positions = (attention_mask.cumsum(-1) - 1).clamp(min=0)  # (B, T), as the agent's cache counts them
    kwargs: dict[str, Any] = {}
    if value_head is not None:
        kwargs["output_hidden_states"] = True
    if "logits_to_keep" in inspect.signature(model.forward).parameters:  # project only the K positions
        kwargs["logits_to_keep"] = keep
    out = model(input_ids=tokens, attention_mask=attention_mask, position_ids=positions, use_cache=False, **kwargs)
    logits = out.logits if "logits_to_keep" in kwargs else out.logits[:, keep]  # (B, K, V')
    first = reply_starts(loss_mask.to(device))[:, keep + 1]  # (B, K)
    x = agent.processed_logits(logits, first=first)  # (B, K, V)
    targets = tokens[:, keep + 1]  # (B, K)
    logp = torch.log_softmax(x, dim=-1)  # (B, K, V)
    picked = logp.gather(-1, targets[..., None])[..., 0]  # (B, K)
    mask = wanted[:, keep + 1]
    logprobs[:, keep + 1] = torch.where(mask, picked, torch.zeros_like(picked))
    if with_entropy:
        with torch.set_grad_enabled(torch.is_grad_enabled() and entropy_grad):
            ent = -(logp.exp() * logp.clamp(min=torch.finfo(logp.dtype).min)).sum(-1)  # (B, K); -inf * 0 is NaN
            entropy[:, keep + 1] = torch.where(mask, ent, torch.zeros_like(ent))
    if values is not None:
        hidden = out.hidden_states[-1][:, keep]  # (B, K, H), after the final norm as in generation
        param = next(value_head.parameters(), None)
        if param is not None:
            hidden = hidden.to(param.dtype)
        v = value_head(hidden).reshape(b, len(keep)).float()
        values[:, keep + 1] = torch.where(mask, v, torch.zeros_like(v))
    return done


@torch.no_grad()
def reference_logprobs(
    agent: Any, ref_model: Any, batch: RolloutBatch, chunk_size: int | None = None
) -> torch.Tensor:
    """Log-probs of the batch's sampled ids under a frozen reference model, in the agent's sampling distribution.

    Runs :func:`score` with ``model=ref_model`` in eval mode without grad, ``chunk_size`` rows at a time (None:
    the whole batch in one forward), each chunk cut to its longest row.

    Args:
        agent: the trained ``HFAgent`` (its ``processed_logits`` and device are used).
        ref_model: the reference causal LM (e.g. a frozen copy of the initial policy), on the agent's device.
        batch: the rollouts.
        chunk_size: rows per forward.

    Returns:
        (B, T) float32 on the agent's device, 0 where ``loss_mask`` is 0.
    """
    out = torch.zeros(batch.loss_mask.shape, dtype=torch.float32, device=agent.device)
    training = ref_model.training
    ref_model.eval()
    try:
        for rows in batch.minibatches(chunk_size or max(len(batch), 1)):
            part = batch[rows].trim()
            logprobs, _ = score(agent, part.tokens, part.attention_mask, part.loss_mask, model=ref_model)
            out[rows.to(out.device), : logprobs.shape[1]] = logprobs
    finally:
        ref_model.train(training)
    return out


def collect(
    envs: Sequence[Any],
    agent: Any,
    partner: Any,
    *,
    seeds: Sequence[int | None] | None = None,
    tasks: Sequence[Any] | None = None,
    group_size: int = 1,
) -> RolloutBatch:
    """Play one episode per env with the trained ``agent`` and its ``partner``; return them as a batch.

    ``agent`` is an ``HFAgent`` whose role is the trained role; ``partner`` is any batched agent playing the other
    role (e.g. ``env.default_teacher()``).

    Rows come in groups of ``group_size`` consecutive envs playing the same task: for group i the task is
    ``tasks[i]`` or, without ``tasks``, the one ``envs[i * group_size].reset(seed=seeds[i])`` draws; every env of
    the group is then reset with ``seed=seeds[i]`` and ``options={"task": task}``. Rows of a group differ only
    through the agents' sampling (use ``do_sample=True`` for distinct conversations).

    Args:
        envs: ``n_tasks * group_size`` conversation envs sharing one tokenizer (the agent's ``env_tokenizer``).
        agent: the trained ``HFAgent``.
        partner: the agent playing every other role (``act(observations, infos)``).
        seeds: one reset seed per group (default None: unseeded).
        tasks: one ``Task`` per group (default: drawn by the seeded reset).
        group_size: conversations per task (G of GRPO/RLOO).

    Returns:
        The batch; its tensors are on the CPU.

    """
    group_size = int(group_size)
    if group_size < 1 or len(envs) % group_size or not envs:
        raise ValueError(
            f"expected a positive number of envs divisible by group_size={group_size}, got {len(envs)} envs; "
            "pass n_tasks * group_size envs"
        )
    n_groups = len(envs) // group_size
    seeds = [None] * n_groups if seeds is None else list(seeds)
    if len(seeds) != n_groups or (tasks is not None and len(tasks) != n_groups):
        raise ValueError(
            f"expected one seed and task per group ({n_groups} = {len(envs)} envs / group_size {group_size}), got "
            f"{len(seeds)} seeds and {'no' if tasks is None else len(tasks)} tasks"
        )
    role = agent.role
    tasks = (
        list(tasks) if tasks is not None else [_draw_task(envs[i * group_size], seeds[i]) for i in range(n_groups)]
    )
    group = [i // group_size for i in range(len(envs))]
    resets = [env.reset(seed=seeds[g], options={"task": tasks[g]}) for env, g in zip(envs, group, strict=True)]
    episodes = _play(envs, agent, partner, [dict(o) for o, _ in resets], [dict(i) for _, i in resets])
    rows = [
        _row(env, role, ep, generation_prompt(env.tokenizer, role)) for env, ep in zip(envs, episodes, strict=True)
    ]

    b, t = len(rows), max(len(r["tokens"]) for r in rows)
    pad = int(envs[0].tokenizer.pad_id)
    tokens = torch.full((b, t), pad, dtype=torch.long)  # (B, T)
    attention_mask = torch.zeros(b, t, dtype=torch.long)  # (B, T)
    loss_mask = torch.zeros(b, t, dtype=torch.float32)  # (B, T)
    rewards = torch.zeros(b, t, dtype=torch.float32)  # (B, T)
    turn_ids = torch.full((b, t), -1, dtype=torch.long)  # (B, T)
    for i, r in enumerate(rows):
        n = len(r["tokens"])
        tokens[i, :n] = torch.as_tensor(r["tokens"])
        attention_mask[i, :n] = 1
        loss_mask[i, :n] = torch.as_tensor(r["loss_mask"])
        rewards[i, :n] = torch.as_tensor(r["rewards"])
        turn_ids[i, :n] = torch.as_tensor(r["turn_ids"])

    training = agent.model.training
    agent.model.eval()  # no dropout: the distribution generate sampled from
    try:
        with torch.no_grad():
            old_logprobs, values = score(agent, tokens, attention_mask, loss_mask)
    finally:
        agent.model.train(training)

    return RolloutBatch(
        tokens=tokens,
        attention_mask=attention_mask,
        loss_mask=loss_mask,
        old_logprobs=old_logprobs.cpu(),
        values=None if values is None else values.cpu(),
        rewards=rewards,
        turn_ids=turn_ids,
        success=torch.as_tensor([ep["success"] for ep in episodes], dtype=torch.bool),
        success_turn=torch.as_tensor([ep["success_turn"] for ep in episodes], dtype=torch.long),
        episode_return=torch.as_tensor([ep["return"] for ep in episodes], dtype=torch.float32),
        group_ids=torch.as_tensor(group, dtype=torch.long),
        task_ids=[env.task.id for env in envs],
    )


# ------------------------------------------------------------------------------------------------- internals
def _draw_task(env: Any, seed: int | None) -> Any:
    env.reset(seed=seed)
    return env.task


def _play(
    envs: Sequence[Any], agent: Any, partner: Any, observations: list[dict], infos: list[dict]
) -> list[dict[str, Any]]:
    """Step every env to its end like ``play_batch``, recording the trained role's replies and rewards.

    Returns per env: ``turns`` (one ``[ids, stopped, reward]`` per reply of the trained role, in order; a reward
    received on a partner's step goes to the latest reply, or to the next one before any), ``return``,
    ``success`` and ``success_turn`` (-1 if none).
    """
    role = agent.role
    turns: list[list[list[Any]]] = [[] for _ in envs]
    early = [0.0] * len(envs)  # rewards received before the role's first reply
    total = [0.0] * len(envs)
    while any(env.agents for env in envs):
        for speaker in envs[0].possible_agents:
            acting = [i for i, env in enumerate(envs) if env.agents and infos[i][speaker]["to_act"] == speaker]
            if not acting:
                continue
            obs = [o[speaker] for o in observations]
            info = [i[speaker] for i in infos]
            if speaker == role:
                generations = agent.generate(obs, info)
                actions = [None if g is None else g.ids for g in generations]
            else:
                actions = partner.act(obs, info)
            for i in acting:
                if speaker == role:
                    g = generations[i]
                    turns[i].append([g.ids, bool(g.stopped), early[i]])
                    early[i] = 0.0
                o, rewards, _, _, inf = envs[i].step({speaker: actions[i]})
                observations[i], infos[i] = dict(o), dict(inf)
                r = float(rewards.get(role, 0.0))
                total[i] += r
                if turns[i]:
                    turns[i][-1][2] += r
                else:
                    early[i] += r
    out = []
    for i in range(len(envs)):
        episode = next(iter(infos[i].values()))["episode"]
        st = episode["success_turn"]
        out.append(
            {
                "turns": turns[i],
                "return": total[i],
                "success": bool(episode["success"]),
                "success_turn": -1 if st is None else int(st),
            }
        )
    return out


def _row(env: Any, role: str, episode: dict[str, Any], header: list[int]) -> dict[str, np.ndarray]:
    """One flat sequence: the role's final view, the mask of its sampled ids, rewards and turn ids.

    The k-th message of ``role`` in the view is its k-th reply. A reply the env did not keep as sampled (a
    redacted teacher message) gets no loss mask; one the env never appended (the context overflowed, which ends
    the episode) neither. Their rewards go to the last sampled id of the closest earlier reply that has one, else
    of the closest later one.
    """
    ids = env.transcript.view_ids(role)
    n = len(ids)
    loss_mask = np.zeros(n, dtype=np.float32)
    rewards = np.zeros(n, dtype=np.float32)
    turn_ids = np.full(n, -1, dtype=np.int64)
    eot = int(env.tokenizer.end_of_turn_id)
    mine = [(m, s, e) for m, s, e in env.transcript.view_spans(role) if m.speaker == role]
    anchors: list[int | None] = []  # per reply, its last sampled position in the view
    for k, (sampled, stopped, _) in enumerate(episode["turns"]):
        anchor = None
        if k < len(mine):
            message, start, end = mine[k]
            body = [int(i) for i in sampled[:-1]] if stopped else [int(i) for i in sampled]
            lo = start + len(header)
            hi = lo + len(body) + int(stopped)  # the end-of-turn id opens the footer
            if (
                list(message.body) == body
                and hi <= end
                and list(ids[start:lo]) == list(header)
                and (not stopped or ids[hi - 1] == eot)
            ):
                loss_mask[lo:hi] = 1.0
                turn_ids[lo:hi] = k
                anchor = hi - 1
        anchors.append(anchor)
    for k, (_, _, reward) in enumerate(episode["turns"]):
        earlier = [a for a in anchors[: k + 1] if a is not None]
        later = [a for a in anchors[k + 1 :] if a is not None]
        if earlier or later:
            rewards[earlier[-1] if earlier else later[0]] += reward
    return {"tokens": ids, "loss_mask": loss_mask, "rewards": rewards, "turn_ids": turn_ids}
