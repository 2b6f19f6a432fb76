"""Critique prediction (RL²F §4): learn to predict the teacher's feedback from the student's view alone.

An auxiliary loss on the *teacher's* turns computed in the *student's* view. The student's view holds the
problem and the dialogue but none of the teacher's privileged knowledge (its system prompt with the answer,
solution and hints, the verifier reports), so the model cannot copy the critique from its context: it has to
learn what a good critique of its own attempts looks like. The payoff is the *autodidact* mode: the same model then
plays the teacher of an env built with ``teacher_knowledge="none"``, where the teacher sees only the public
problem and the dialogue, and critiques its own attempts.

A trainer calls :func:`critique_update` after its RL update with the envs of the batch it just collected
(``critique_update(agent, optimizer, critique_examples(envs))``). Examples come from finished (or running)
episodes; the mask covers each teacher feedback message's body and the end-of-turn id after it, in the student's
view, found from the transcript's spans and the tokenizer's renders (:func:`~convenv.algorithms.sft.message_mask`).
The teacher's opening (the problem statement) is left out unless asked for.

With a chat-template tokenizer the teacher's messages are ``user`` turns in the student's view but ``assistant``
turns in the teacher's own view, so what is learned under one header is generated under the other; the byte and
char tokenizers use one header per speaker in every view.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from convenv.algorithms.sft import SFTExample, collate, masked_nll, message_mask

__all__ = ["critique_examples", "critique_loss", "critique_update"]


def critique_examples(
    envs: Sequence[Any], *, role: str = "student", include_opening: bool = False
) -> list[SFTExample]:
    """One example per env whose episode holds teacher feedback: ``role``'s view, the teacher's bodies masked.

    Args:
        envs: envs whose episodes were played (the current transcript of each is used).
        role: the view the critique is predicted in; never ``"teacher"`` (that view holds the answer).
        include_opening: also mask the teacher's first message (the problem statement).

    Returns:
        The examples, in env order; an episode with no masked id (solved at the first attempt) gives none.
        ``meta["kind"]`` is ``"critique"``.

    """
    if role == "teacher":
        raise ValueError(
            "expected the view of a role without the privileged knowledge (role='student'), got 'teacher', whose "
            "view holds the answer; critique prediction must not see it"
        )
    examples = []
    for env in envs:
        transcript = env.transcript
        mask = message_mask(transcript, role, "teacher", skip=0 if include_opening else 1)
        if not mask.any():
            continue
        examples.append(
            SFTExample(
                tokens=transcript.view_ids(role),
                loss_mask=mask,
                task_id=env.task.id,
                success=env.end_reason == "success",
                meta={"kind": "critique"},
            )
        )
    return examples


def critique_loss(
    model: Any, tokens: torch.Tensor, attention_mask: torch.Tensor, mask: torch.Tensor
) -> torch.Tensor:
    """Mean NLL of the teacher's masked ids given the student's view before them (a scalar).

    ``model`` is an ``HFAgent`` or a bare causal LM; ``tokens``, ``attention_mask`` and ``mask`` are (B, T),
    right-padded (see :func:`~convenv.algorithms.sft.collate`). The same loss as SFT, on other ids.
    """
    return masked_nll(model, tokens, attention_mask, mask)


def critique_update(
    agent: Any,
    optimizer: torch.optim.Optimizer,
    examples: Sequence[SFTExample],
    coef: float = 1.0,
    *,
    batch_size: int = 8,
    max_grad_norm: float | None = 1.0,
) -> dict[str, float]:
    """One pass over ``examples`` in minibatches, one optimizer step each, on ``coef * critique_loss``.

    Dropout is off during the steps, as in :func:`~convenv.algorithms.sft.train_sft`; the model's mode is
    restored after. Parameters the loss does not reach (a value head) get no gradient, so the optimizer leaves
    them alone.

    Args:
        agent: an ``HFAgent`` (its ``model`` is trained) or a bare causal LM.
        optimizer: over the model's parameters (e.g. the RL optimizer).
        examples: from :func:`critique_examples`.
        coef: weight of the loss.
        batch_size: examples per step.
        max_grad_norm: gradient clipping; None: no clipping.

    Returns:
        ``critique_loss`` (mean NLL per critique id, measured before each step, weighted by ids; NaN without
        examples), ``critique_tokens`` (critique ids trained on) and ``critique_steps``.

    """
    if int(batch_size) < 1:
        raise ValueError(f"expected batch_size >= 1, got {batch_size}; e.g. batch_size=8")
    model = getattr(agent, "model", agent)
    params = [p for group in optimizer.param_groups for p in group["params"]]
    max_norm = float("inf") if max_grad_norm is None else float(max_grad_norm)
    total, tokens_seen, steps = 0.0, 0, 0
    was_training = model.training
    model.eval()  # no dropout, as in train_sft and ppo_update
    try:
        for i in range(0, len(examples), int(batch_size)):
            tokens, attention_mask, mask = collate(examples[i : i + int(batch_size)])
            n = int(mask[:, 1:].sum())
            if n == 0:
                continue
            loss = critique_loss(model, tokens, attention_mask, mask)
            optimizer.zero_grad()
            (float(coef) * loss).backward()
            torch.nn.utils.clip_grad_norm_([p for p in params if p.grad is not None], max_norm)
            optimizer.step()
            total += loss.item() * n
            tokens_seen += n
            steps += 1
    finally:
        model.train(was_training)
    return {
        "critique_loss": total / tokens_seen if tokens_seen else float("nan"),
        "critique_tokens": float(tokens_seen),
        "critique_steps": float(steps),
    }
