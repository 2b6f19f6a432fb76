"""Exercise 3: train a tiny student on GuessNumber-v0 (difficulty 1) that beats the best feedback-ignoring student.

The submission is a ``convenv train --out`` directory (or any saved model directory). The checker evaluates it
greedily with :func:`convenv.evaluation.evaluate` on its own fixed seeds (:data:`SEED` .. ``SEED + EPISODES -
1``, none of which training ever plays), side by side with ``no-feedback`` (the best student that ignores the
teacher: 4 distinct guesses, success 4/15 = 0.27) and ``bisection`` (1.0), and grades:

- that the model loads and plays the env;
- that it answers with numbers (the verifier reads a number from at least :data:`MIN_READ` of its attempts);
- that it beats the baseline: success within the 4-turn limit above ``no-feedback``'s on the same seeds, with the
  lower end of its 95% Wilson interval above 4/15, so the win is not luck.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from convenv.exercises.base import Report

__all__ = ["BASELINE", "ENV_ID", "ENV_KWARGS", "EPISODES", "SEED", "check_training"]

TITLE = "train a tiny student that beats the feedback-ignoring baseline"
ENV_ID = "GuessNumber-v0"
ENV_KWARGS: dict[str, Any] = {"difficulty": 1}
SEED = 100_000
EPISODES = 300
BASELINE = 4 / 15
"""Success of the best student that ignores the feedback: 4 distinct guesses among 15 values."""
MIN_READ = 0.9


def _curve(values: list[float]) -> str:
    return " ".join(f"{v:.2f}" for v in values)


def check_training(path: str, *, episodes: int = EPISODES) -> Report:
    """Grade the model in ``path`` (a ``convenv train --out`` directory or a saved model directory).

    Args:
        path: the directory.
        episodes: evaluation episodes (seeds ``SEED ..``); fewer only for quick tests of the checker itself.

    """
    report = Report(3, TITLE, str(path))
    later = ["answers with numbers", "beats the baseline"]
    directory = Path(path)
    model_dir = directory / "model" if (directory / "model" / "config.json").exists() else directory
    if not (model_dir / "config.json").exists():
        report.add(
            "loads", False, f"no config.json in {path} or {path}/model",
            "pass the --out directory of convenv train (it holds model/), or a save_pretrained directory",
        )  # fmt: skip
        report.skip(later, "no model")
        return report
    try:
        from convenv.evaluation import evaluate

        result = evaluate(
            ENV_ID, {"yours": str(directory), "no-feedback": "no-feedback", "bisection": "bisection"},
            episodes=episodes, seed=SEED, env_kwargs=ENV_KWARGS, batch_size=100, gold_nll=False,
            hf_kwargs={"device": "cpu"},
        )  # fmt: skip
    except Exception as exc:  # a broken or mismatched model is the student's to fix: report it
        report.add(
            "loads", False, f"{type(exc).__name__}: {exc}",
            "install the train extra (pip install -e '.[train]'); train with --model tiny so that the model speaks "
            "the env's character tokenizer (47 ids), or save your model with its tokenizer",
        )  # fmt: skip
        report.skip(later, "the model did not play")
        return report
    mine, baseline, best = result.metrics
    report.add("loads", True, f"played {episodes} episodes of {ENV_ID} {ENV_KWARGS} (seeds {SEED}..)")
    attempts = [
        m["verdict"] for r in result.records["yours"] for m in r.messages if m.get("verdict") is not None
    ]  # fmt: skip
    read = sum(v["extracted"] is not None for v in attempts) / max(len(attempts), 1)
    report.add(
        "answers with numbers", read >= MIN_READ, f"a number was read from {read:.0%} of {len(attempts)} attempts",
        "warm-start with SFT on a demonstrator (--warmup-sft-steps, --warmup-demonstrator bisection) so the model "
        "learns the answer format before RL",
    )  # fmt: skip
    low = mine.success_low[-1]
    beats = mine.success > baseline.success and low > BASELINE
    report.add(
        "beats the baseline", beats,
        f"success by turn 1..4: yours {_curve(mine.success_by_turn)} (95% interval at turn 4 "
        f"[{low:.2f}, {mine.success_high[-1]:.2f}]); no-feedback {_curve(baseline.success_by_turn)}; "
        f"bisection {_curve(best.success_by_turn)}; need turn 4 above no-feedback and the interval above "
        f"{BASELINE:.2f}",
        "train longer or with larger batches (the measured recipe: 256 episodes per iteration, lr 3e-4, gamma "
        "0.9, 2 epochs x 4 minibatches, after 60 warm-start steps at lr 1e-3): the gain must come at turns 3-4, "
        "from reading '<' / '>'",
    )  # fmt: skip
    return report
