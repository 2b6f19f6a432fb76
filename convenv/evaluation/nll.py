"""The gold answer's negative log-likelihood under a student model, after each teacher message.

In-context plasticity seen from inside the model: after the opening and after each piece of feedback, how likely
would the student be to reply with the correct answer next? The sequence scored is the student's view up to and
including teacher message j, the student's generation prompt, then the gold answer as the env formats correct
answers (``env.domain.format_answer(task)``), teacher-forced; the score is the mean NLL per answer id, in nats,
with the model's whole vocabulary as the support (as in :func:`~convenv.algorithms.sft.masked_nll`). Falling
values over j mean the feedback moved the model towards the answer.

Needs torch (the ``hf`` extra); imported only when a model student is evaluated.
"""

from __future__ import annotations

import inspect
from typing import Any

from convenv.error import missing_extra
from convenv.tokenizers import generation_prompt

try:
    import torch
except ImportError as e:  # pragma: no cover - exercised through the import-lightness test
    raise missing_extra("torch", "hf") from e

__all__ = ["gold_answer_nll"]


def gold_answer_nll(model: Any, env: Any, *, role: str = "student") -> list[float]:
    """Mean NLL per id of the gold answer after each teacher message of ``env``'s current episode.

    Args:
        model: an ``HFAgent`` (its ``model`` is used) or a causal LM over the env tokenizer's ids.
        env: a :class:`~convenv.env.ConversationEnv` whose episode was played (or is running).
        role: the viewer whose view is scored (the student).

    Returns:
        One value per teacher message in ``role``'s view, in order (the first after the opening).

    """
    model = getattr(model, "model", model)
    transcript = env.transcript
    tok = transcript.tokenizer
    view = transcript.view_ids(role).tolist()
    prompt = [int(i) for i in generation_prompt(tok, role)]
    answer = [int(i) for i in tok.encode(env.domain.format_answer(env.task))]
    if not answer:
        return []
    ends = [end for message, _, end in transcript.view_spans(role) if message.speaker == "teacher"]
    rows = [view[:end] + prompt + answer for end in ends]
    if not rows:
        return []
    device = next(model.parameters()).device
    n, width = len(answer), max(len(r) for r in rows)
    # left padding: every row ends with the answer, so only the last n + 1 positions need logits
    ids = torch.full((len(rows), width), int(tok.pad_id), dtype=torch.long)  # (R, L)
    attention = torch.zeros(len(rows), width, dtype=torch.long)  # (R, L)
    for i, r in enumerate(rows):
        ids[i, width - len(r) :] = torch.tensor(r)
        attention[i, width - len(r) :] = 1
    positions = (attention.cumsum(-1) - 1).clamp(min=0)  # (R, L) each row's own positions, from 0
    kwargs: dict[str, Any] = {}
    if "logits_to_keep" in inspect.signature(model.forward).parameters:
        kwargs["logits_to_keep"] = n + 1
    was_training = model.training
    model.eval()
    try:
        with torch.inference_mode():
            out = model(input_ids=ids.to(device), attention_mask=attention.to(device),
                        position_ids=positions.to(device), use_cache=False, **kwargs)  # fmt: skip
    finally:
        model.train(was_training)
    logits = out.logits[:, -(n + 1) : -1].float()  # (R, n, V'): the positions predicting the answer's ids
    targets = torch.tensor(answer, device=logits.device).expand(len(rows), n)  # (R, n)
    nll = torch.nn.functional.cross_entropy(logits.transpose(1, 2), targets, reduction="none")  # (R, n)
    return nll.mean(-1).tolist()
