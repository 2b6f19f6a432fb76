"""Env throughput with scripted agents: steps/s, episodes/s, and the share of time spent in the verifier.

Plays episodes of an env between its default scripted teacher and (1) a ProbabilisticStudent, (2) a
RandomAgent student, timing ``env.step``, the agents, and ``domain.verifier.verify`` (through a timing shim that
this script installs; the library is unchanged). One untimed warm-up episode starts the verifier's worker.

    python benchmarks/env_throughput.py --episodes 200
    python benchmarks/env_throughput.py --env all        # every registered env
    python benchmarks/env_throughput.py --quick          # CI

The last line printed is one JSON object with the figures of the ProbabilisticStudent run (``runs`` holds both);
with ``--env all`` it holds those figures per env under ``by_env``.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from dataclasses import asdict, dataclass
from typing import Any

import convenv
from convenv.agents import ProbabilisticStudent, RandomAgent

STUDENTS = ("probabilistic", "random")


class TimedVerifier:
    """Wraps a verifier and adds up the wall time spent in ``verify``."""

    def __init__(self, inner: Any):
        self.inner = inner
        self.calls = 0
        self.seconds = 0.0

    def verify(self, text: str, task: Any) -> Any:
        start = time.perf_counter()
        try:
            return self.inner.verify(text, task)
        finally:
            self.seconds += time.perf_counter() - start
            self.calls += 1

    def close(self) -> None:
        self.inner.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


@dataclass
class Run:
    student: str
    episodes: int
    steps: int
    wall_s: float
    step_s: float
    agent_s: float
    verify_s: float
    verify_calls: int
    success_rate: float

    @property
    def figures(self) -> dict[str, float]:
        return {
            "steps_per_s": self.steps / self.wall_s,
            "episodes_per_s": self.episodes / self.wall_s,
            "step_ms_mean": 1e3 * self.step_s / self.steps,
            "verify_share": self.verify_s / self.wall_s,
            "verify_ms_mean": 1e3 * self.verify_s / max(self.verify_calls, 1),
            "agent_share": self.agent_s / self.wall_s,
        }


def run_episodes(env: Any, agents: dict[str, Any], episodes: int, seed: int) -> tuple[int, float, float, int]:
    """Play episodes with our own loop, so env and agent time are measured apart."""
    steps, step_s, agent_s, successes = 0, 0.0, 0.0, 0
    for i in range(episodes):
        observations, infos = env.reset(seed=seed + i)
        while env.agents:
            speaker = infos[env.agents[0]]["to_act"]
            t0 = time.perf_counter()
            action = agents[speaker].act([observations[speaker]], [infos[speaker]])[0]
            t1 = time.perf_counter()
            observations, _, _, _, infos = env.step({speaker: action})
            t2 = time.perf_counter()
            agent_s += t1 - t0
            step_s += t2 - t1
            steps += 1
        successes += next(iter(infos.values()))["episode"]["success"]
    return steps, step_s, agent_s, successes


def bench(env_id: str, student_kind: str, episodes: int, seed: int, max_turns: int | None) -> Run:
    env = convenv.make(env_id, **({} if max_turns is None else {"max_turns": max_turns}))
    timed = TimedVerifier(env.domain.verifier)
    env.domain.verifier = timed
    try:
        if student_kind == "probabilistic":
            student: Any = ProbabilisticStudent(env, p_correct=0.4, seed=seed)
        else:
            student = RandomAgent("student", env, seed=seed, max_length=64)
        agents = {"teacher": env.default_teacher(seed=seed), "student": student}
        run_episodes(env, agents, 1, seed=seed - 1)  # warm-up: starts the verifier worker
        timed.calls, timed.seconds = 0, 0.0
        start = time.perf_counter()
        steps, step_s, agent_s, successes = run_episodes(env, agents, episodes, seed)
        wall = time.perf_counter() - start
    finally:
        env.close()
    solved = successes / episodes
    return Run(repr(student), episodes, steps, wall, step_s, agent_s, timed.seconds, timed.calls, solved)


def print_table(env_id: str, runs: dict[str, Run]) -> None:
    print(f"{env_id}: {next(iter(runs.values())).episodes} episodes per run, {platform.python_version()}")
    cols = ("student", "steps", "steps/s", "episodes/s", "step ms", "verify ms", "verify share", "agent share")
    cols += ("solved",)
    print("  ".join(f"{c:>12}" for c in cols))
    for kind, run in runs.items():
        f = run.figures
        row = (kind, run.steps, f"{f['steps_per_s']:.0f}", f"{f['episodes_per_s']:.1f}", f"{f['step_ms_mean']:.3f}",
               f"{f['verify_ms_mean']:.3f}", f"{f['verify_share']:.1%}", f"{f['agent_share']:.1%}",
               f"{run.success_rate:.0%}")  # fmt: skip
        print("  ".join(f"{str(c):>12}" for c in row))


def main() -> None:
    parser = argparse.ArgumentParser(description="Env steps per second with scripted agents.")
    parser.add_argument("--env", default="MathTutor-v0", help="an env id, or 'all' for every registered env")
    parser.add_argument("--episodes", type=int, default=200)
    parser.add_argument("--max-turns", type=int, default=None, help="default: each env's own")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--quick", action="store_true", help="5 episodes per run (CI smoke test)")
    args = parser.parse_args()
    episodes = 5 if args.quick else args.episodes
    env_ids = [spec.id for spec in convenv.registry] if args.env == "all" else [args.env]

    by_env = {}
    for env_id in env_ids:
        runs = {kind: bench(env_id, kind, episodes, args.seed, args.max_turns) for kind in STUDENTS}
        print_table(env_id, runs)
        by_env[env_id] = runs
    if len(env_ids) == 1:
        runs = by_env[env_ids[0]]
        summary = {
            "env": env_ids[0],
            "episodes": episodes,
            **{k: round(v, 4) for k, v in runs["probabilistic"].figures.items()},
            "runs": {kind: {**asdict(run), **run.figures} for kind, run in runs.items()},
        }
    else:
        summary = {
            "env": "all",
            "episodes": episodes,
            "by_env": {
                env_id: {k: round(v, 4) for k, v in runs["probabilistic"].figures.items()}
                for env_id, runs in by_env.items()
            },
        }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
