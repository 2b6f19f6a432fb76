"""The ``convenv`` command: list envs, play one at the terminal, run the quick start.

``convenv list``
    every registered env with its one-line description.
``convenv play ENV_ID --as student|teacher``
    you against the env's scripted teacher (``--as student``), or you as the teacher of a
    :class:`~convenv.agents.ProbabilisticStudent` (``--as teacher``). Type ``/quit`` to stop.
``convenv quickstart``
    episodes between the scripted teacher and a probabilistic student; prints a few dialogues and the
    cumulative success by turn.
``convenv train --env ENV_ID --algo ppo|grpo|rloo|sft --model tiny|NAME``
    train a model in an env and write logs, checkpoints, the model and a plot (:mod:`convenv.cli_train`; needs
    the ``train`` extra, loaded only by this command).
``convenv eval --env ENV_ID --student AGENT [--student AGENT ...] --teacher AGENT --episodes N``
    play the same seeded episodes with each student; print cumulative success by turn with 95% intervals and a
    summary (plasticity, questions, leaks, ...); ``--out DIR`` writes metrics.json, transcripts.jsonl and a plot
    (:mod:`convenv.cli_eval`).
``convenv exercise list|start N|check N PATH``
    the course exercises of ``docs/course/``: write a starter file, grade a solution (:mod:`convenv.cli_exercise`).

``main(argv)`` returns the exit status (0 ok, 1 error, 2 bad usage or unknown env id) and prints errors without a
traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

import numpy as np

from convenv.cli_eval import add_eval_parser
from convenv.cli_exercise import add_exercise_parser
from convenv.cli_train import add_train_parser
from convenv.error import ConvEnvError, RegistrationError

QUICKSTART_ENV = "MathTutor-v0"


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser of the ``convenv`` command."""
    parser = argparse.ArgumentParser(
        prog="convenv", description="Teacher-student dialogues as reinforcement-learning environments."
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.add_parser("list", help="list the registered envs", description="List every registered env.")

    play = sub.add_parser("play", help="play an env at the terminal", description="Play an env at the terminal.")
    play.add_argument("env_id", metavar="ENV_ID", help="a registered env id, e.g. MathTutor-v0")
    play.add_argument(
        "--as", dest="role", choices=("student", "teacher"), default="student",
        help="your role: the student (against the scripted teacher) or the teacher (of a simulated student)",
    )  # fmt: skip
    play.add_argument("--seed", type=int, default=None, help="episode seed (default: random, printed)")
    play.add_argument("--max-turns", type=int, default=None, help="student turns before the episode ends")
    play.add_argument("--teacher", default=None, help="the env's scripted teacher policy, e.g. hints or verdict")
    play.add_argument(
        "--p-correct", type=float, default=0.4, help="with --as teacher: the simulated student's success chance"
    )

    quick = sub.add_parser(
        "quickstart", help="scripted teacher vs simulated student", description=(
            "Play episodes between an env's scripted teacher and a ProbabilisticStudent (which reads the answer "
            "from the env: a demo, not a model), then print cumulative success by turn."
        ),
    )  # fmt: skip
    quick.add_argument("--env", default=QUICKSTART_ENV, help=f"env id (default {QUICKSTART_ENV})")
    quick.add_argument("--episodes", type=int, default=20, help="episodes to play (default 20)")
    quick.add_argument("--seed", type=int, default=0, help="seed of the first episode and of the student")
    quick.add_argument("--max-turns", type=int, default=4, help="student turns per episode (default 4)")
    quick.add_argument("--show", type=int, default=1, help="dialogues to print (default 1)")
    quick.add_argument("--p-correct", type=float, default=0.4, help="student's success chance per turn")
    add_train_parser(sub)
    add_eval_parser(sub)
    add_exercise_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``convenv`` command with ``argv`` (default ``sys.argv[1:]``); returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        if args.command == "list":
            return cmd_list()
        if args.command == "play":
            return cmd_play(args)
        if args.command == "train":
            from convenv.cli_train import cmd_train

            return cmd_train(args)
        if args.command == "eval":
            from convenv.cli_eval import cmd_eval

            return cmd_eval(args)
        if args.command == "exercise":
            from convenv.cli_exercise import cmd_exercise

            return cmd_exercise(args)
        return cmd_quickstart(args)
    except RegistrationError as err:
        print(f"convenv: error: {err}", file=sys.stderr)
        return 2
    except (ConvEnvError, ValueError, TypeError) as err:
        print(f"convenv: error: {err}", file=sys.stderr)
        return 1


def cmd_list() -> int:
    """Print every registered env with its description."""
    from convenv.registration import registry

    specs = list(registry)
    if not specs:
        print("no envs registered")
        return 0
    width = max(len(s.id) for s in specs)
    for s in specs:
        print(f"{s.id:<{width}}  {s.description}")
    return 0


def _make(env_id: str, **kwargs: Any) -> Any:
    """Call ``convenv.make`` with only the options that were given."""
    from convenv.registration import make

    return make(env_id, **{k: v for k, v in kwargs.items() if v is not None})


# ------------------------------------------------------------------------------------------------------- play
def cmd_play(args: argparse.Namespace) -> int:
    """Let a human play one episode at the terminal; print the dialogue, verdicts and the result."""
    from convenv.agents import HumanAgent, HumanQuit, ProbabilisticStudent

    env = _make(args.env_id, max_turns=args.max_turns, teacher=args.teacher)
    try:
        seed = args.seed if args.seed is not None else int(np.random.default_rng().integers(2**31))
        human = HumanAgent(args.role, env.tokenizer)
        if args.role == "student":
            other = env.default_teacher(seed=seed)
        else:
            other = ProbabilisticStudent(env, p_correct=args.p_correct, seed=seed)
        print(f"{env.env_id}  seed {seed}  you are the {args.role}  turn limit {env.max_turns}  (/quit to stop)")
        try:
            _play_loop(env, human, other, seed)
        except HumanQuit:
            print("\nstopped.")
    finally:
        env.close()
    return 0


def _play_loop(env: Any, human: Any, other: Any, seed: int) -> None:
    """Step the env until the episode ends, showing the human its view as it grows."""
    from convenv.error import InvalidAction

    agents = {human.role: human, other.role: other}
    observations, infos = env.reset(seed=seed)
    human.show(observations[human.role])
    while env.agents:
        speaker = infos[env.agents[0]]["to_act"]
        action = agents[speaker].act([observations[speaker]], [infos[speaker]])[0]
        try:
            observations, _, _, _, infos = env.step({speaker: action})
        except InvalidAction as err:
            if speaker != human.role:
                raise
            print(f"(not accepted: {err})")
            continue
        human.show(observations[human.role])
        info = infos[human.role]
        if speaker == "student":
            print(_verdict_line(info))
    episode = infos[human.role]["episode"]
    if episode["success"]:
        print(f"result: solved at student turn {episode['success_turn']}, student return {episode['return']:.3g}")
    else:
        print(f"result: not solved after {episode['turns']} student turn(s) ({episode['reason']})")
    if human.role == "student":
        print(f"the answer was: {env.task.answer}")


def _verdict_line(info: dict[str, Any]) -> str:
    read = "no answer found" if info["extracted"] is None else f"read as {info['extracted']}"
    verdict = "correct" if info["correct"] else "wrong"
    return f"          verdict: {verdict} ({read}) at turn {info['turn']}"


# ------------------------------------------------------------------------------------------------- quickstart
def cmd_quickstart(args: argparse.Namespace) -> int:
    """Play scripted teacher vs probabilistic student; print a few dialogues, then cumulative success by turn."""
    from convenv.agents import ProbabilisticStudent
    from convenv.play import play_episode

    if args.episodes < 1:
        raise ValueError(f"expected --episodes >= 1, got {args.episodes}; play at least one episode")
    env = _make(args.env, max_turns=args.max_turns, render_mode="ansi")
    try:
        teacher = env.default_teacher(seed=args.seed)
        student = ProbabilisticStudent(env, p_correct=args.p_correct, seed=args.seed)
        agents = {"teacher": teacher, "student": student}
        results = []
        for i in range(args.episodes):
            results.append(play_episode(env, agents, seed=args.seed + i))
            if i < args.show:
                print(env.render())
                print()
    finally:
        env.close()
    print(format_success_table(results, env.max_turns, p_correct=args.p_correct))
    returns = np.array([r.returns["student"] for r in results])
    print(f"mean student return {returns.mean():.3f}   ({len(results)} episodes, {teacher!r} vs {student!r})")
    return 0


def format_success_table(results: Sequence[Any], max_turns: int, p_correct: float | None = None) -> str:
    """Format cumulative success by turn k = 1..max_turns as a table (with the coin-flip expectation)."""
    from convenv.play import success_by_turn

    curve = success_by_turn(results, max_turns)
    header = f"{'k':>4}  {'success':>7}  {'':20}" + ("  coin-flip 1-(1-p)^k" if p_correct is not None else "")
    lines = [f"cumulative success by turn ({len(results)} episodes)", header.rstrip()]
    for k, rate in enumerate(curve, start=1):
        row = f"{k:>4}  {rate:7.3f}  {'#' * round(20 * rate):<20}"
        if p_correct is not None:
            row += f"  {1 - (1 - p_correct) ** k:20.3f}"
        lines.append(row.rstrip())
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
