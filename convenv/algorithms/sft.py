"""Filtered SFT: supervised fine-tuning on a role's own turns of (successful) dialogues, and expert iteration.

The offline variant of the reference papers (SML, RL²F): play episodes with any agents (a scripted expert such as
:class:`~convenv.envs.course.BisectionStudent`, a cheating :class:`~convenv.agents.OracleStudent`, or the model
itself), keep the dialogues that succeeded, and train the model to say what the trained role said in them.

One :class:`SFTExample` per episode is the trained role's final view (``env.transcript.view_ids(role)``, the very
ids a model playing that role is fed) with ``loss_mask`` 1 exactly on the ids that role would have sampled: each
of its message bodies and the end-of-turn id after it, the convention of
:mod:`convenv.algorithms.rollout`. Where a message lies in the view is read from the transcript's spans and the
tokenizer's header render (:func:`message_mask`), never guessed from ids, so chat-template tokenizers work too.

:func:`train_sft` minimizes the mean NLL over the masked ids (right-padded batches, shuffles from a seeded
``torch.Generator``); :func:`train_filtered_sft` is the expert-iteration loop: sample episodes with the sampling
``HFAgent`` itself, keep the successes, one SFT pass on them, repeat.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import torch

import convenv
from convenv.play import play_batch

__all__ = [
    "SFTConfig",
    "SFTExample",
    "build_examples",
    "collate",
    "masked_nll",
    "message_mask",
    "train_filtered_sft",
    "train_sft",
    "view_example",
]


@dataclass(frozen=True)
class SFTExample:
    """One dialogue as a training sequence.

    Attributes:
        tokens: (T,) int64, one viewer's final view.
        loss_mask: (T,) float32, 1 on the ids trained on (a message body and the end-of-turn id after it).
        task_id: the task played.
        success: whether the episode ended with a verified correct answer.
        meta: where it came from (e.g. ``seed``, ``success_turn``; Q-priming adds its ``decisions``).

    """

    tokens: np.ndarray
    loss_mask: np.ndarray
    task_id: str = ""
    success: bool = False
    meta: Mapping[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.tokens)

    @property
    def trained_tokens(self) -> int:
        """Number of ids with ``loss_mask`` 1."""
        return int(np.count_nonzero(self.loss_mask))


@dataclass
class SFTConfig:
    """Settings of :func:`train_sft` (and of each pass of :func:`train_filtered_sft`)."""

    epochs: int = 1
    """passes over the examples"""
    batch_size: int = 8
    """examples per optimizer step"""
    learning_rate: float = 1e-4
    """AdamW step size (when train_sft builds the optimizer)"""
    weight_decay: float = 0.0
    """AdamW weight decay (when train_sft builds the optimizer)"""
    max_grad_norm: float | None = 1.0
    """gradient clipping; None: no clipping"""
    seed: int = 0
    """seeds the shuffles (a torch.Generator; the global RNG is never used)"""
    max_seconds: float | None = None
    """stop early once this much wall time has passed (checked before each step); None: no limit"""
    max_steps: int | None = None
    """stop after this many optimizer steps (reproducible, unlike ``max_seconds``); None: no limit"""


# ------------------------------------------------------------------------------------------------- examples
def message_mask(transcript: Any, viewer: str, speaker: str, *, skip: int = 0) -> np.ndarray:
    """(T,) float32 over ``viewer``'s view: 1 on each body of ``speaker``'s messages and the end-of-turn id after.

    Spans come from ``transcript.view_spans(viewer)``; the header of each render is the tokenizer's
    ``render_header(template_role(speaker, viewer))``, so any tokenizer following the protocol works.

    Args:
        transcript: a :class:`~convenv.transcript.Transcript` (``env.transcript``).
        viewer: whose view.
        speaker: whose messages are masked (``"student"``, ``"teacher"``).
        skip: leave out the first ``skip`` of those messages (e.g. 1 for the teacher's opening).

    Raises:
        ValueError: a render is not header + body + footer starting with the end-of-turn id.

    """
    ids = transcript.view_ids(viewer)
    tok = transcript.tokenizer
    eot = int(tok.end_of_turn_id)
    mask = np.zeros(len(ids), dtype=np.float32)
    seen = 0
    for message, start, end in transcript.view_spans(viewer):
        if message.speaker != speaker:
            continue
        seen += 1
        if seen <= skip:
            continue
        header = [int(i) for i in tok.render_header(tok.template_role(speaker, viewer))]
        lo = start + len(header)
        hi = lo + len(message.body)  # the end-of-turn id, first id of the footer
        if (
            ids[start:lo].tolist() != header
            or ids[lo:hi].tolist() != list(message.body)
            or hi >= end
            or ids[hi] != eot
        ):
            raise ValueError(
                f"expected {speaker}'s message at ids {start}:{end} of the {viewer}'s view to render as header + "
                f"body + footer starting with the end-of-turn id {eot}, got {ids[start:end].tolist()[:32]}; the "
                "tokenizer's render_header / render_footer do not match the transcript"
            )
        mask[lo : hi + 1] = 1.0
    return mask


def view_example(env: Any, role: str = "student", *, meta: Mapping[str, Any] | None = None) -> SFTExample:
    """The :class:`SFTExample` of ``env``'s current episode: ``role``'s view, its own messages masked."""
    transcript = env.transcript
    return SFTExample(
        tokens=transcript.view_ids(role),
        loss_mask=message_mask(transcript, role, role),
        task_id=env.task.id,
        success=env.end_reason == "success",
        meta=dict(meta or {}),
    )


def build_examples(
    envs: Sequence[Any],
    agents: Mapping[str, Any],
    *,
    role: str = "student",
    seeds: Sequence[int | None] | None,
    only_successful: bool = True,
    options: Sequence[Mapping[str, Any] | None] | None = None,
) -> list[SFTExample]:
    """Play one episode per env (batched, :func:`~convenv.play.play_batch`) and return them as SFT examples.

    Args:
        envs: one env per conversation.
        agents: one batched agent per role (scripted, ``OracleStudent``, ``HFAgent``, ...); a missing
            ``"teacher"`` is the env's scripted ``default_teacher()``.
        role: the role whose view and messages make the examples.
        seeds: reset seed of each env (None: unseeded).
        only_successful: keep only episodes that ended with a verified correct answer (filtered SFT).
        options: reset options of each env (e.g. ``{"task": task}``).

    Returns:
        One example per kept episode, in env order; ``meta`` holds ``seed``, ``success_turn`` and ``turns``.

    """
    if not envs:
        raise ValueError("expected at least one env, got none; pass e.g. [convenv.make(id) for _ in range(8)]")
    names = list(envs[0].possible_agents)
    if role not in names:
        raise ValueError(f"expected role to be one of the env's agents {names}, got {role!r}; pick one of those")
    agents = dict(agents)
    if "teacher" not in agents:
        agents["teacher"] = envs[0].default_teacher()
    missing = [name for name in names if name not in agents]
    if missing:
        raise ValueError(f"expected an agent for every role {names}, got none for {missing}; add them to agents")
    seeds = [None] * len(envs) if seeds is None else list(seeds)
    results = play_batch(envs, agents, seeds=seeds, options=options)
    examples = []
    for env, result, seed in zip(envs, results, seeds, strict=True):
        if only_successful and not result.success:
            continue
        meta = {"seed": seed, "success_turn": result.success_turn, "turns": result.turns}
        examples.append(view_example(env, role, meta=meta))
    return examples


def collate(examples: Sequence[SFTExample], pad_id: int = 0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Right-pad examples into ``(tokens (B, T) long, attention_mask (B, T) long, loss_mask (B, T) float)``."""
    b, t = len(examples), max(len(e) for e in examples)
    tokens = torch.full((b, t), int(pad_id), dtype=torch.long)  # (B, T), pad after each view
    attention_mask = torch.zeros(b, t, dtype=torch.long)  # (B, T)
    loss_mask = torch.zeros(b, t, dtype=torch.float32)  # (B, T) 1 on trained ids only
    for i, e in enumerate(examples):
        n = len(e)
        tokens[i, :n] = torch.as_tensor(np.asarray(e.tokens, dtype=np.int64))
        attention_mask[i, :n] = 1
        loss_mask[i, :n] = torch.as_tensor(np.asarray(e.loss_mask, dtype=np.float32))
    return tokens, attention_mask, loss_mask


# ---------------------------------------------------------------------------------------------------- loss
def masked_nll(
    model: Any, tokens: torch.Tensor, attention_mask: torch.Tensor, loss_mask: torch.Tensor
) -> torch.Tensor:
    """Mean negative log-likelihood of ``tokens[:, t]`` given ``tokens[:, :t]`` over the ids with ``loss_mask`` 1.

    One teacher-forced forward of a causal LM (an ``HFAgent`` or a bare model) on right-padded rows; logits are
    only projected for the positions that predict a masked id when the model accepts ``logits_to_keep`` (as
    :func:`~convenv.algorithms.rollout.score` does). The full model vocabulary is the softmax's support.

    Returns:
        A scalar (0 with no masked id, still part of the graph).

    """
    model = getattr(model, "model", model)
    device = next(model.parameters()).device
    tokens = tokens.to(device)
    attention_mask = attention_mask.to(device).long()
    wanted = loss_mask.to(device) > 0  # (B, T)
    wanted[:, 0] = False  # nothing predicts the first id
    keep = torch.nonzero(wanted.any(0)).flatten() - 1  # (K,) positions whose outputs predict a wanted id
    if keep.numel() == 0:
        return next(model.parameters()).sum() * 0.0
    positions = (attention_mask.cumsum(-1) - 1).clamp(min=0)  # (B, T)
    kwargs: dict[str, Any] = {}
    if "logits_to_keep" in inspect.signature(model.forward).parameters:
        kwargs["logits_to_keep"] = keep
    out = model(input_ids=tokens, attention_mask=attention_mask, position_ids=positions, use_cache=False, **kwargs)
    logits = out.logits if kwargs else out.logits[:, keep]  # (B, K, V')
    targets = tokens[:, keep + 1]  # (B, K)
    nll = torch.nn.functional.cross_entropy(logits.float().transpose(1, 2), targets, reduction="none")  # (B, K)
    mask = wanted[:, keep + 1].float()  # (B, K)
    return (nll * mask).sum() / mask.sum().clamp(min=1)


def _check_config(config: SFTConfig) -> None:
    if int(config.epochs) < 1 or int(config.batch_size) < 1:
        raise ValueError(
            f"expected epochs >= 1 and batch_size >= 1, got epochs={config.epochs}, "
            f"batch_size={config.batch_size}; use positive integers"
        )
    if not float(config.learning_rate) >= 0:
        raise ValueError(f"expected learning_rate >= 0, got {config.learning_rate}; e.g. 1e-4")
    if config.max_seconds is not None and not float(config.max_seconds) > 0:
        raise ValueError(f"expected max_seconds > 0 or None, got {config.max_seconds}; None trains every epoch")
    if config.max_steps is not None and int(config.max_steps) < 1:
        raise ValueError(f"expected max_steps >= 1 or None, got {config.max_steps}; None trains every epoch")


def _check_lengths(model: Any, examples: Sequence[SFTExample]) -> None:
    config = model.config.get_text_config() if hasattr(model.config, "get_text_config") else model.config
    limit = getattr(config, "max_position_embeddings", None) or getattr(config, "n_positions", None)
    longest = max(len(e) for e in examples)
    if limit is not None and longest > int(limit):
        raise ValueError(
            f"expected examples of at most {limit} ids (the model's positions), got one of {longest}; make the env "
            "with a smaller max_turns / max_context_tokens or use a model with more positions"
        )


# ---------------------------------------------------------------------------------------------------- train
def train_sft(
    model: Any,
    examples: Sequence[SFTExample],
    config: SFTConfig,
    *,
    optimizer: torch.optim.Optimizer | None = None,
    progress: bool = False,
) -> list[dict[str, float]]:
    """Fine-tune ``model`` on ``examples``: minimize the mean NLL over their masked ids.

    Dropout is off during the steps (eval mode, as in :func:`~convenv.algorithms.ppo.ppo_update`: the loss is
    taken on the distribution the agent samples from, and nothing draws from the global RNG); the model's mode
    is restored after.

    Args:
        model: an ``HFAgent`` (its ``model`` is trained) or a bare causal LM.
        examples: from :func:`build_examples`, :func:`~convenv.algorithms.qpriming.build_qpriming_examples` or
            :func:`~convenv.algorithms.critique.critique_examples`.
        config: the settings.
        optimizer: over the model's parameters (default: a new AdamW with the config's learning rate and weight
            decay; pass one to keep its state across calls).
        progress: print one line per epoch.

    Returns:
        One dict per optimizer step: ``epoch``, ``step``, ``loss`` (mean NLL per trained id of the minibatch,
        before the step), ``tokens`` (trained ids in it), ``grad_norm`` (before clipping) and ``seconds`` (wall
        time since the call started). Minibatches without a trained id are skipped.

    """
    _check_config(config)
    if not examples:
        raise ValueError(
            "expected at least one SFTExample, got none; play more episodes, or pass only_successful=False to "
            "build_examples when none succeeded"
        )
    model = getattr(model, "model", model)
    _check_lengths(model, examples)
    params = [p for p in model.parameters() if p.requires_grad]
    if optimizer is None:
        optimizer = torch.optim.AdamW(params, lr=config.learning_rate, weight_decay=config.weight_decay)
    max_norm = float("inf") if config.max_grad_norm is None else float(config.max_grad_norm)
    generator = torch.Generator().manual_seed(int(config.seed))  # shuffles only, never the global RNG
    history: list[dict[str, float]] = []
    start = time.perf_counter()
    was_training = model.training
    model.eval()  # no dropout (see the docstring); gradients flow all the same
    try:
        for epoch in range(int(config.epochs)):
            for mb_inds in torch.randperm(len(examples), generator=generator).split(int(config.batch_size)):
                if config.max_seconds is not None and time.perf_counter() - start >= config.max_seconds:
                    return history
                if config.max_steps is not None and len(history) >= int(config.max_steps):
                    return history
                tokens, attention_mask, loss_mask = collate([examples[i] for i in mb_inds.tolist()])
                n = int(loss_mask[:, 1:].sum())
                if n == 0:
                    continue
                loss = masked_nll(model, tokens, attention_mask, loss_mask)
                optimizer.zero_grad()
                loss.backward()
                grad_norm = torch.nn.utils.clip_grad_norm_(params, max_norm)
                optimizer.step()
                history.append(
                    {"epoch": epoch, "step": len(history), "loss": loss.item(), "tokens": n,
                     "grad_norm": grad_norm.item(), "seconds": time.perf_counter() - start}
                )  # fmt: skip
            if progress and history:
                print(f"sft epoch {epoch}: loss {history[-1]['loss']:.4f}, {len(history)} steps", flush=True)
    finally:
        model.train(was_training)
    return history


def train_filtered_sft(
    agent: Any,
    env_id: str,
    env_kwargs: Mapping[str, Any] | None = None,
    *,
    iterations: int = 10,
    episodes_per_iteration: int = 32,
    teacher: Any = None,
    config: SFTConfig | None = None,
    seed: int = 0,
    progress: bool = False,
) -> list[dict[str, Any]]:
    """Expert iteration: per iteration, sample episodes with ``agent``, keep the successes, one SFT pass on them.

    Env seeds and the agent's sampling seed of iteration ``i`` come from ``numpy.random.SeedSequence([seed, i])``;
    the SFT shuffles of iteration ``i`` from ``config.seed + i``. One AdamW optimizer lives across iterations.
    ``config.max_seconds`` bounds the whole loop (no new iteration starts after it).

    Args:
        agent: a sampling ``HFAgent`` (``do_sample=True``) playing the trained role; its model is updated in place.
        env_id: the registered env.
        env_kwargs: passed to ``convenv.make``.
        iterations: sample → filter → SFT rounds.
        episodes_per_iteration: episodes sampled per round.
        teacher: the partner playing every other role (default: the env's scripted ``default_teacher()``).
        config: the SFT settings of each pass (``epochs`` passes over that round's successes).
        seed: seeds the env seeds and the agent's sampling.
        progress: print one line per iteration.

    Returns:
        One dict per iteration: ``iteration``, ``success_rate`` (fraction of the sampled episodes solved),
        ``kept`` (examples trained on), ``loss`` (mean step loss of the pass; None without a step), ``tokens``
        (trained ids), ``steps`` and ``seconds`` (since the loop started).

    """
    config = config or SFTConfig()
    _check_config(config)
    if not getattr(agent, "do_sample", False):
        raise ValueError(
            "expected a sampling agent (HFAgent with do_sample=True), got a greedy one; greedy play gives the same "
            "episodes every iteration, so build the agent with do_sample=True"
        )
    envs = [convenv.make(env_id, **dict(env_kwargs or {})) for _ in range(int(episodes_per_iteration))]
    role = agent.role
    partner = envs[0].default_teacher() if teacher is None else teacher
    agents = {name: agent if name == role else partner for name in envs[0].possible_agents}
    params = [p for p in agent.model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=config.learning_rate, weight_decay=config.weight_decay)
    history: list[dict[str, Any]] = []
    start = time.perf_counter()
    try:
        for iteration in range(int(iterations)):
            # 1. sample with the agent itself, seeded from (seed, iteration)
            state = np.random.SeedSequence([seed, iteration]).generate_state(len(envs) + 1)
            agent.reset(seed=int(state[-1]))
            examples = build_examples(envs, agents, role=role, seeds=[int(s) for s in state[:-1]],
                                      only_successful=False)  # fmt: skip
            agent.reset()  # free the cache before training
            # 2. filter: keep the successes
            kept = [e for e in examples if e.success]
            # 3. one SFT pass on them, within what is left of the time budget
            left = None if config.max_seconds is None else config.max_seconds - (time.perf_counter() - start)
            steps: list[dict[str, float]] = []
            if kept and (left is None or left > 0):
                sft = replace(config, seed=config.seed + iteration, max_seconds=left)
                steps = train_sft(agent.model, kept, sft, optimizer=optimizer)
            # 4. log
            row = {
                "iteration": iteration,
                "success_rate": float(np.mean([e.success for e in examples])),
                "kept": len(kept),
                "loss": float(np.mean([s["loss"] for s in steps])) if steps else None,
                "tokens": int(sum(s["tokens"] for s in steps)),
                "steps": len(steps),
                "seconds": time.perf_counter() - start,
            }
            history.append(row)
            if progress:
                print(f"iteration {iteration}: success {row['success_rate']:.2f}, kept {row['kept']}", flush=True)
            if config.max_seconds is not None and row["seconds"] >= config.max_seconds:
                break
    finally:
        agent.reset()
        for env in envs:
            env.close()
    return history
