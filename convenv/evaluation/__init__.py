"""Evaluation: fixed-seed, paired comparisons of students (or teachers), their metrics, transcripts and plots.

>>> from convenv.evaluation import evaluate
>>> report = evaluate("GuessNumber-v0", ["bisection", "random"], episodes=10)
>>> [round(m.success, 2) for m in report.metrics]
[1.0, 0.0]

- :func:`evaluate` plays and scores; ``convenv eval`` is its command (:mod:`convenv.cli_eval`).
- :mod:`~convenv.evaluation.metrics`: Wilson intervals, success by turn, answers unchanged after negative
  feedback, :func:`summarize` over episode records.
- :mod:`~convenv.evaluation.transcripts`: JSONL episode records, loadable back as SFT examples.
- :func:`~convenv.evaluation.plot.plot_success_by_turn` (matplotlib) and
  :func:`~convenv.evaluation.nll.gold_answer_nll` (torch) load their dependencies only when called.
"""

from __future__ import annotations

from typing import Any

from convenv.evaluation.agents import AgentSpec, build_agent, parse_agent
from convenv.evaluation.metrics import (
    AgentMetrics,
    success_by_turn_ci,
    summarize,
    unchanged_after_negative,
    wilson_interval,
)
from convenv.evaluation.run import EvalReport, evaluate
from convenv.evaluation.table import format_report
from convenv.evaluation.transcripts import (
    EpisodeRecord,
    read_jsonl,
    rebuild_transcript,
    record_episode,
    sft_examples,
    write_jsonl,
)

__all__ = [
    "AgentMetrics",
    "AgentSpec",
    "EpisodeRecord",
    "EvalReport",
    "build_agent",
    "evaluate",
    "format_report",
    "gold_answer_nll",
    "parse_agent",
    "plot_success_by_turn",
    "read_jsonl",
    "rebuild_transcript",
    "record_episode",
    "sft_examples",
    "success_by_turn_ci",
    "summarize",
    "unchanged_after_negative",
    "wilson_interval",
    "write_jsonl",
]


def __getattr__(name: str) -> Any:
    # lazy: importing convenv.evaluation must not import matplotlib or torch
    if name == "plot_success_by_turn":
        from convenv.evaluation.plot import plot_success_by_turn

        return plot_success_by_turn
    if name == "gold_answer_nll":
        from convenv.evaluation.nll import gold_answer_nll

        return gold_answer_nll
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
