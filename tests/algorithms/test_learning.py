"""Proof that the trainers learn (slow): GuessNumber-v0 with a tiny GPT-2, a short SFT warm start, then RL.

A shorter version of the README's main job (``convenv train ... --iterations 150``). The warm start imitates
bisection for 60 steps only: the model learns the answer format and a weak strategy (greedy success within the
4-turn limit about 0.25-0.45 by seed). RL against the scripted ``<`` / ``>`` teacher must then raise it; the
gain must come at the later turns (turn-1 success is capped at 1/15 for any greedy policy), i.e. from reading
the feedback. Measured on this 2-core CPU (one thread), the full 150-iteration PPO run at seed 0 goes from 0.24 to
0.77 at turn 4 (sampled training success 0.23 -> 0.71); these 80-iteration versions take about 100 s each.
"""

import csv
import json

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

from convenv.cli import main  # noqa: E402

RECIPE = [
    "train", "--env", "GuessNumber-v0", "--env-kwargs", '{"difficulty": 1}', "--model", "tiny", "--seed", "0",
    "--warmup-sft-steps", "60", "--warmup-lr", "1e-3", "--warmup-demonstrator", "bisection",
    "--lr", "3e-4", "--episodes", "256", "--gamma", "0.9", "--update-epochs", "2", "--minibatches", "4",
    "--eval-every", "0", "--eval-episodes", "200", "--no-progress",
]  # fmt: skip


def run(tmp_path, algo: str, iterations: int) -> tuple[list[float], list[float], list[float]]:
    out = tmp_path / algo
    assert main([*RECIPE, "--algo", algo, "--iterations", str(iterations), "--out", str(out)]) == 0
    evals = json.loads((out / "evals.json").read_text())
    with (out / "log.csv").open() as f:
        train_success = [float(row["train_success"]) for row in csv.DictReader(f)]
    assert (out / "success_by_turn.png").stat().st_size > 0
    return evals["after warmup SFT"], evals["after"], train_success


def check_learned_to_use_feedback(before, after, train_success):
    gain_last, gain_first = after[-1] - before[-1], after[0] - before[0]
    assert gain_last >= 0.2, (before, after)
    assert gain_last > gain_first, (before, after)
    first, last = sum(train_success[:10]) / 10, sum(train_success[-10:]) / 10
    assert last - first >= 0.2, (first, last)


@pytest.mark.slow
def test_ppo_learns_to_use_the_feedback(tmp_path):
    check_learned_to_use_feedback(*run(tmp_path, "ppo", 80))


@pytest.mark.slow
def test_grpo_learns_to_use_the_feedback(tmp_path):
    check_learned_to_use_feedback(*run(tmp_path, "grpo", 80))
