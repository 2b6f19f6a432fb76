"""Plot cumulative success by turn for one or more agents, with their 95% confidence bands (matplotlib PNG)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from convenv.error import missing_extra

__all__ = ["plot_success_by_turn"]


def plot_success_by_turn(metrics: Any, path: str | os.PathLike, *, title: str | None = None) -> None:
    """Draw success by turn k = 1..T of each agent, its Wilson interval as a shaded band, and save a PNG.

    Args:
        metrics: an :class:`~convenv.evaluation.run.EvalReport`, or a sequence of
            :class:`~convenv.evaluation.metrics.AgentMetrics` (e.g. from :func:`~convenv.evaluation.summarize`
            over saved transcripts).
        path: where to write the image.
        title: the figure's title.

    """
    try:
        from matplotlib.figure import Figure  # no pyplot: the caller's backend is left alone
    except ImportError as e:
        raise missing_extra("matplotlib", "train") from e
    agents: Sequence[Any] = getattr(metrics, "metrics", metrics)
    if not agents:
        raise ValueError("expected metrics of at least one agent, got none; pass report.metrics")
    fig = Figure(figsize=(6.4, 4.2), layout="constrained")
    ax = fig.subplots()
    for m in agents:
        k = list(range(1, len(m.success_by_turn) + 1))
        (line,) = ax.plot(k, m.success_by_turn, marker="o", label=f"{m.label} (n={m.episodes})")
        ax.fill_between(k, m.success_low, m.success_high, color=line.get_color(), alpha=0.2, linewidth=0)
    turns = max(len(m.success_by_turn) for m in agents)
    ax.set_xticks(range(1, turns + 1))
    ax.set(xlabel="student turn k", ylabel="cumulative success by turn k", ylim=(-0.02, 1.02))
    if title:
        ax.set_title(title, fontsize="medium")
    ax.grid(alpha=0.3)
    ax.legend(loc="best", fontsize="small")
    fig.savefig(path, dpi=100)
