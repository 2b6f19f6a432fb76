"""Evaluation metrics, computed from episode records alone (so saved transcripts can be re-scored).

Every metric reads :class:`~convenv.evaluation.transcripts.EpisodeRecord` objects (or the dicts of a JSONL file
read back): nothing here needs the env or the agents that played. Proportions come with 95% Wilson score
intervals, which stay inside [0, 1] and behave at 0 and 1 successes, where the normal approximation collapses to a
zero-width interval.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

__all__ = ["Z95", "AgentMetrics", "success_by_turn_ci", "summarize", "unchanged_after_negative", "wilson_interval"]

Z95 = 1.959963984540054
"""The standard normal quantile of a two-sided 95% interval."""


def wilson_interval(successes: int, n: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval of a proportion ``successes / n`` (95% for the default ``z``).

    >>> [round(x, 4) for x in wilson_interval(5, 10)]
    [0.2366, 0.7634]

    With ``n == 0`` nothing is known: ``(0.0, 1.0)``.

    Raises:
        ValueError: ``successes`` is not in ``0..n``.

    """
    if not 0 <= successes <= n:
        raise ValueError(f"expected 0 <= successes <= n, got successes={successes}, n={n}; count within n trials")
    if n == 0:
        return 0.0, 1.0
    p = successes / n
    denom = 1 + z * z / n
    center = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    # clamp float noise at the ends (the exact interval of 0/n starts at 0, of n/n ends at 1)
    return max(0.0, center - half), min(1.0, center + half)


def _get(record: Any, name: str) -> Any:
    return record[name] if isinstance(record, dict) else getattr(record, name)


def success_by_turn_ci(records: Sequence[Any], max_turns: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cumulative success by student turn k = 1..``max_turns`` with 95% Wilson intervals.

    Returns:
        ``(rate, low, high)``, each of shape ``(max_turns,)``: the fraction of episodes solved by turn k, and its
        interval. The rates equal :func:`convenv.play.success_by_turn` on the same episodes.

    """
    n = len(records)
    solved_at = np.array([_get(r, "success_turn") if _get(r, "success") else max_turns + 1 for r in records])
    counts = [int((solved_at <= k).sum()) for k in range(1, max_turns + 1)]
    rate = np.array([c / n if n else 0.0 for c in counts])
    bounds = np.array([wilson_interval(c, n) for c in counts]).reshape(max_turns, 2)
    return rate, bounds[:, 0], bounds[:, 1]


def unchanged_after_negative(records: Sequence[Any]) -> tuple[int, int]:
    """Count the student's answers left unchanged after negative feedback.

    A *pair* is two consecutive answer attempts of one episode (questions in between are skipped) where the first
    was verified wrong, so the teacher's feedback came between them, and the verifier read an answer from both
    (``verdict.extracted`` not None). The pair is *unchanged* when both extracted answers are equal.

    Returns:
        ``(unchanged, pairs)``; ``unchanged / pairs`` is the repeat rate (0: the student always moves after
        negative feedback; 1: it never does).

    """
    unchanged = pairs = 0
    for record in records:
        verdicts = [m["verdict"] for m in _get(record, "messages") if m["role"] == "student" and m.get("verdict")]
        for before, after in zip(verdicts, verdicts[1:], strict=False):
            if before["correct"] or before["extracted"] is None or after["extracted"] is None:
                continue
            pairs += 1
            unchanged += str(before["extracted"]).strip() == str(after["extracted"]).strip()
    return unchanged, pairs


@dataclass(frozen=True)
class AgentMetrics:
    """Every metric of one student (or teacher) over the same fixed seeds.

    Attributes:
        label: the agent spec (or the name given to it).
        episodes: episodes played.
        max_turns: the env's turn limit: the curves have this length.
        success_by_turn: cumulative success rate by student turn k = 1..max_turns.
        success_low, success_high: 95% Wilson interval of each ``success_by_turn`` entry.
        success: ``success_by_turn[-1]``: the fraction solved within the turn limit.
        mean_turns_to_success: mean ``success_turn`` of the solved episodes (None if none was solved).
        unchanged_after_negative: repeat rate, see :func:`unchanged_after_negative` (None without a pair).
        unchanged_low, unchanged_high: its 95% Wilson interval.
        unchanged_pairs: pairs it was computed over.
        attempts_per_episode: mean answer attempts per episode.
        questions_per_episode: mean student questions per episode (envs that classify turns, e.g. sharded ones).
        premature_per_episode: mean attempts made before the task was fully revealed (sharded envs).
        leak_rate: leaking teacher messages / teacher messages (the opening included).
        leaks: leaking teacher messages in all.
        mean_return: mean student return.
        gold_nll_by_turn: for model students, the mean NLL per id of the gold answer under the student model
            after teacher message j = 1.. (1: the opening), over the episodes that reached it; None otherwise.
        gold_nll_change: mean, over episodes with feedback, of (NLL after the last teacher message) - (NLL after
            the opening): negative when the feedback made the model more likely to give the answer.

    """

    label: str
    episodes: int
    max_turns: int
    success_by_turn: list[float]
    success_low: list[float]
    success_high: list[float]
    success: float
    mean_turns_to_success: float | None
    unchanged_after_negative: float | None
    unchanged_low: float
    unchanged_high: float
    unchanged_pairs: int
    attempts_per_episode: float
    questions_per_episode: float
    premature_per_episode: float
    leak_rate: float
    leaks: int
    mean_return: float
    gold_nll_by_turn: list[float] | None = None
    gold_nll_change: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """The metrics as a JSON-ready dict."""
        return asdict(self)


def summarize(records: Sequence[Any], label: str, max_turns: int | None = None) -> AgentMetrics:
    """Compute :class:`AgentMetrics` from episode records (objects or dicts read from JSONL).

    Args:
        records: the episodes of one agent, all played with the same turn limit.
        label: the name shown in tables and plots.
        max_turns: the turn limit (default: the records' ``max_turns``).

    Raises:
        ValueError: no records, or records with different turn limits.

    """
    if not records:
        raise ValueError(f"expected at least one episode record for {label!r}, got none; play some episodes")
    limits = {int(_get(r, "max_turns")) for r in records}
    if max_turns is None:
        if len(limits) != 1:
            raise ValueError(
                f"expected records with one turn limit, got {sorted(limits)}; summarize each turn limit separately"
            )
        max_turns = limits.pop()
    rate, low, high = success_by_turn_ci(records, max_turns)
    turns = [_get(r, "success_turn") for r in records if _get(r, "success")]
    unchanged, pairs = unchanged_after_negative(records)
    u_low, u_high = wilson_interval(unchanged, pairs)
    teacher_messages = sum(sum(m["role"] == "teacher" for m in _get(r, "messages")) for r in records)
    leaks = sum(int(_get(r, "leaks")) for r in records)
    nll_by_turn, nll_change = _gold_nll(records)
    return AgentMetrics(
        label=label,
        episodes=len(records),
        max_turns=int(max_turns),
        success_by_turn=rate.tolist(),
        success_low=low.tolist(),
        success_high=high.tolist(),
        success=float(rate[-1]) if len(rate) else 0.0,
        mean_turns_to_success=float(np.mean(turns)) if turns else None,
        unchanged_after_negative=unchanged / pairs if pairs else None,
        unchanged_low=u_low,
        unchanged_high=u_high,
        unchanged_pairs=pairs,
        attempts_per_episode=float(np.mean([_get(r, "attempts") for r in records])),
        questions_per_episode=float(np.mean([_get(r, "questions") for r in records])),
        premature_per_episode=float(np.mean([_get(r, "premature_attempts") for r in records])),
        leak_rate=leaks / teacher_messages if teacher_messages else 0.0,
        leaks=leaks,
        mean_return=float(np.mean([_get(r, "returns")["student"] for r in records])),
        gold_nll_by_turn=nll_by_turn,
        gold_nll_change=nll_change,
    )


def _gold_nll(records: Sequence[Any]) -> tuple[list[float] | None, float | None]:
    """Mean gold-answer NLL after each teacher message, and the mean within-episode change first -> last."""
    curves = [_get(r, "gold_nll") for r in records if _get(r, "gold_nll")]
    if not curves:
        return None, None
    longest = max(len(c) for c in curves)
    by_turn = [float(np.mean([c[j] for c in curves if len(c) > j])) for j in range(longest)]
    # paired within each episode: unlike by_turn's later entries, not skewed towards the episodes still unsolved
    changes = [c[-1] - c[0] for c in curves if len(c) > 1]
    return by_turn, float(np.mean(changes)) if changes else None
