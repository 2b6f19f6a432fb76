"""Checks of what users pass to an env: utterances (actions) and configuration."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from convenv.error import InvalidAction

LEAK_POLICIES = ("report", "penalize", "redact")
TEACHER_KNOWLEDGE = ("privileged", "none")


def validate_utterance(
    action: Any,
    *,
    agent: str,
    vocab_size: int,
    max_length: int,
    structural_ids: frozenset[int],
    pad_id: int,
    strip_ids: tuple[int, ...],
    names: Mapping[int, str] | None = None,
) -> list[int]:
    """Check one utterance and return its body ids (trailing pads and one end-of-turn id stripped).

    Raises:
        InvalidAction: naming the agent, what was wrong, the limit, and the fix.

    """
    if isinstance(action, (str, bytes)):
        raise InvalidAction(
            f"expected token ids for {agent!r}, got {type(action).__name__}; encode text with "
            "env.tokenizer.encode(text) or wrap the env in convenv.wrappers.TextWrapper"
        )
    try:
        ids = np.asarray(action)
    except (TypeError, ValueError) as err:
        raise InvalidAction(f"expected a 1-D array of token ids for {agent!r}, got {action!r}; {err}") from err
    if ids.dtype == object or not (np.issubdtype(ids.dtype, np.integer) or ids.size == 0):
        raise InvalidAction(
            f"expected integer token ids for {agent!r}, got dtype {ids.dtype}; cast with .astype(np.int64)"
        )
    if ids.ndim != 1:
        raise InvalidAction(
            f"expected a 1-D array of token ids for {agent!r}, got shape {ids.shape}; pass one utterance, "
            "not a batch"
        )
    body = [int(i) for i in ids]
    while body and body[-1] == pad_id:
        body.pop()
    if body and body[-1] in strip_ids:
        body.pop()
    if not body:
        raise InvalidAction(f"expected at least 1 token for {agent!r}, got an empty utterance; say something")
    if len(body) > max_length:
        raise InvalidAction(
            f"expected at most {max_length} tokens for {agent!r}, got {len(body)}; shorten the utterance "
            "(e.g. max_new_tokens) or make the env with a larger max_utterance_tokens"
        )
    for pos, i in enumerate(body):
        if not 0 <= i < vocab_size:
            raise InvalidAction(
                f"expected token ids in [0, {vocab_size}) for {agent!r}, got {i} at position {pos}; "
                "use ids from env.tokenizer"
            )
        if i in structural_ids:
            name = (names or {}).get(i, i)
            raise InvalidAction(
                f"expected no structural ids inside {agent!r}'s utterance, got {name!r} (id {i}) at position "
                f"{pos}; only a trailing end-of-turn id is allowed, so strip special tokens from generations"
            )
    return body


def check_config(
    max_turns: int,
    gamma: float,
    max_utterance_tokens: int,
    leak_policy: str,
    render_mode: str | None,
    teacher_knowledge: str = "privileged",
) -> None:
    """Raise a ``ValueError`` naming the first bad env setting and its allowed values."""
    if teacher_knowledge not in TEACHER_KNOWLEDGE:
        raise ValueError(
            f"expected teacher_knowledge in {TEACHER_KNOWLEDGE}, got {teacher_knowledge!r}; 'none' is the "
            "autodidact mode (the teacher sees only the public problem)"
        )
    if int(max_turns) < 1:
        raise ValueError(f"expected max_turns >= 1, got {max_turns}; the student needs at least one turn")
    if not 0.0 < float(gamma) <= 1.0:
        raise ValueError(f"expected 0 < gamma <= 1, got {gamma}; e.g. gamma=0.7 as in SML")
    if int(max_utterance_tokens) < 1:
        raise ValueError(f"expected max_utterance_tokens >= 1, got {max_utterance_tokens}")
    if leak_policy not in LEAK_POLICIES:
        raise ValueError(f"expected leak_policy in {LEAK_POLICIES}, got {leak_policy!r}; pick one of those")
    if render_mode not in (None, "ansi", "human"):
        raise ValueError(f"expected render_mode in (None, 'ansi', 'human'), got {render_mode!r}")
