"""Text tables of an :class:`~convenv.evaluation.run.EvalReport`: rich when installed, plain text otherwise."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from convenv.error import missing_extra

__all__ = ["OPTIONAL_COLUMNS", "SUMMARY_COLUMNS", "format_report"]

SUMMARY_COLUMNS = (
    "student", "success [95% CI]", "turns to success", "unchanged after neg. (pairs)", "attempts/ep",
    "questions/ep", "premature/ep", "leak rate", "return", "gold NLL first -> last",
)  # fmt: skip
OPTIONAL_COLUMNS = ("questions/ep", "premature/ep", "gold NLL first -> last")
"""Summary columns left out when no student has them (questions and premature attempts occur only in envs that
classify student turns, e.g. the sharded ones; the gold NLL only for model students)."""


def _rate(x: float, low: float | None = None, high: float | None = None) -> str:
    return f"{x:.2f}" if low is None else f"{x:.2f} [{low:.2f}, {high:.2f}]"


def _nll(m: Any) -> str:
    if not m.gold_nll_by_turn:
        return "-"
    curve = m.gold_nll_by_turn
    change = "" if m.gold_nll_change is None else f" (Δ {m.gold_nll_change:+.2f})"
    return f"{curve[0]:.2f} -> {curve[-1]:.2f}{change}"


def _by_turn(metrics: Sequence[Any]) -> tuple[list[str], list[list[str]]]:
    turns = max(m.max_turns for m in metrics)
    rows = [
        [str(k), *[_rate(m.success_by_turn[k - 1], m.success_low[k - 1], m.success_high[k - 1])
                   if k <= m.max_turns else "" for m in metrics]]
        for k in range(1, turns + 1)
    ]  # fmt: skip
    return ["k", *[m.label for m in metrics]], rows


def _summary(metrics: Sequence[Any]) -> tuple[list[str], list[list[str]]]:
    rows = [
        [
            m.label,
            _rate(m.success, m.success_low[-1], m.success_high[-1]),
            "-" if m.mean_turns_to_success is None else f"{m.mean_turns_to_success:.2f}",
            "-" if m.unchanged_after_negative is None
            else f"{m.unchanged_after_negative:.2f} ({m.unchanged_pairs})",
            f"{m.attempts_per_episode:.2f}",
            f"{m.questions_per_episode:.2f}",
            f"{m.premature_per_episode:.2f}",
            f"{m.leak_rate:.3f}",
            f"{m.mean_return:.3f}",
            _nll(m),
        ]
        for m in metrics
    ]  # fmt: skip
    present = {
        "questions/ep": any(m.questions_per_episode for m in metrics),
        "premature/ep": any(m.premature_per_episode for m in metrics),
        "gold NLL first -> last": any(m.gold_nll_by_turn for m in metrics),
    }
    keep = [i for i, c in enumerate(SUMMARY_COLUMNS) if present.get(c, True)]
    return [SUMMARY_COLUMNS[i] for i in keep], [[row[i] for i in keep] for row in rows]


def _title(report: Any) -> str:
    last = report.seed + report.episodes - 1
    return (
        f"{report.env_id}, teacher {report.teacher}, {report.episodes} episodes per student (seeds {report.seed}-"
        f"{last}), 95% Wilson intervals"
    )


def _plain(title: str, header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows, strict=True)]
    line = "  ".join("-" * w for w in widths)
    out = [title, "  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip(), line]
    out += ["  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows]
    return "\n".join(out)


def _rich(title: str, header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    try:
        from rich.console import Console
        from rich.table import Table
    except ImportError as e:
        raise missing_extra("rich", "train") from e

    table = Table()
    for i, h in enumerate(header):
        table.add_column(h, justify="left" if i == 0 else "right")
    for row in rows:
        table.add_row(*row)
    buffer = io.StringIO()
    console = Console(file=buffer, width=200, color_system=None, force_terminal=False)
    console.print(title, highlight=False, markup=False)
    console.print(table)
    return buffer.getvalue().rstrip()


def format_report(report: Any, style: str = "auto") -> str:
    """Two tables: cumulative success by turn (rows k, one column per student) and a summary row per student.

    Args:
        report: an :class:`~convenv.evaluation.run.EvalReport`.
        style: ``"rich"`` (box tables; needs ``rich``), ``"plain"`` (aligned text) or ``"auto"`` (rich when
            installed).

    """
    if style not in ("auto", "rich", "plain"):
        raise ValueError(f"expected style 'auto', 'rich' or 'plain', got {style!r}")
    if style == "auto":
        try:
            import rich  # noqa: F401
        except ImportError:
            style = "plain"
        else:
            style = "rich"
    render = _rich if style == "rich" else _plain
    return "\n\n".join(
        [
            render(f"{_title(report)}\ncumulative success by student turn k", *_by_turn(report.metrics)),
            render("summary", *_summary(report.metrics)),
        ]
    )
