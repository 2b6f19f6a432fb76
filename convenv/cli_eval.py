"""The ``convenv eval`` command: compare students against one teacher on the same fixed seeds.

``convenv eval --env GuessNumber-v0 --student bisection --student no-feedback --episodes 200 --out runs/eval``

Prints cumulative success by turn with 95% Wilson intervals and a summary per student
(:func:`convenv.evaluation.evaluate`); ``--out DIR`` also receives ``metrics.json``, ``transcripts.jsonl`` and
``success_by_turn.png``. The agent specs are listed in :mod:`convenv.evaluation.agents`. Nothing heavy is imported
until a model agent or the plot needs it.
"""

from __future__ import annotations

import argparse
from typing import Any

from convenv.cli_train import _json_object

__all__ = ["add_eval_parser", "cmd_eval"]


def add_eval_parser(sub: Any) -> None:
    """Add the ``eval`` subcommand to the ``convenv`` parser's subparsers."""
    p = sub.add_parser(
        "eval", help="evaluate students against a teacher on fixed seeds (success by turn, plasticity, leaks)",
        description=(
            "Play the same seeded episodes with each --student against --teacher; print cumulative success by turn "
            "(95%% Wilson intervals) and a summary per student; with --out also write metrics.json, "
            "transcripts.jsonl and success_by_turn.png. Agent specs: scripted (teacher), a feedback policy of the "
            "env (teacher, e.g. hints), random[:L], oracle[:K], probabilistic:P, bisection, no-feedback, human, "
            "hf:NAME_OR_PATH, or a convenv train --out directory."
        ),
    )  # fmt: skip
    p.add_argument("--env", required=True, help="a registered env id, e.g. GuessNumber-v0")
    p.add_argument(
        "--student", action="append", required=True, metavar="AGENT",
        help="a student spec; repeat for several students side by side (same seeds for all)",
    )  # fmt: skip
    p.add_argument("--teacher", default="scripted", metavar="AGENT", help="the teacher spec (default scripted)")
    p.add_argument("--episodes", type=int, default=100, help="episodes per student (default 100)")
    p.add_argument("--seed", type=int, default=0, help="episode i uses reset seed SEED + i (default 0)")
    p.add_argument("--out", default=None, help="directory for metrics.json, transcripts.jsonl, success_by_turn.png")
    p.add_argument(
        "--env-kwargs",
        type=_json_object,
        default={},
        help="JSON passed to convenv.make, e.g. '{\"difficulty\": 1}'",
    )
    p.add_argument("--max-turns", type=int, default=None, help="student turns per episode (default: the env's)")
    p.add_argument("--batch-size", type=int, default=32, help="conversations played at once (default 32)")
    p.add_argument("--max-new-tokens", type=int, default=None, help="model agents: most ids a turn (default 64)")
    p.add_argument("--device", default=None, help="model agents: auto (default), cpu, cuda, ...")
    p.add_argument("--style", choices=("auto", "rich", "plain"), default="auto", help="table style (default auto)")


def cmd_eval(args: argparse.Namespace) -> int:
    """Run ``convenv eval``; returns the exit status."""
    from convenv.agents import HumanQuit
    from convenv.evaluation import evaluate

    hf_kwargs = {}
    if args.max_new_tokens is not None:
        hf_kwargs["max_new_tokens"] = args.max_new_tokens
    if args.device is not None:
        hf_kwargs["device"] = args.device
    try:
        report = evaluate(
            args.env, args.student, teacher=args.teacher, episodes=args.episodes, seed=args.seed,
            env_kwargs=args.env_kwargs, max_turns=args.max_turns, batch_size=args.batch_size, hf_kwargs=hf_kwargs,
            progress=True,
        )  # fmt: skip
    except HumanQuit:  # a human player typed /quit: nothing complete to report
        print("\nstopped.")
        return 1
    print(report.table(style=args.style))
    if args.out is not None:
        written = report.write(args.out)
        print(f"\nwrote to {args.out}/: " + ", ".join(written))
    return 0
