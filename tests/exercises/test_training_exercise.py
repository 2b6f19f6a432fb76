"""Exercise 3's checker: an untrained model fails quickly; the reference recipe passes (slow)."""

import os
import pathlib
import subprocess
import sys

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

import convenv  # noqa: E402
from convenv.cli_train import build_tiny_model  # noqa: E402
from convenv.exercises.training import ENV_ID, ENV_KWARGS, check_training  # noqa: E402

SOLUTIONS = pathlib.Path(__file__).parent / "solutions"


def test_an_untrained_model_is_below_the_baseline(tmp_path):
    env = convenv.make(ENV_ID, **ENV_KWARGS)
    try:
        build_tiny_model(env, seed=0).save_pretrained(tmp_path / "run" / "model")  # the shape of a --out directory
    finally:
        env.close()
    report = check_training(str(tmp_path / "run"), episodes=100)
    assert report.check("loads").passed and not report.passed, report.format()
    check = report.check("beats the baseline")
    assert not check.passed and "yours 0.00 0.00 0.00 0.00" in check.detail and "no-feedback" in check.detail
    assert "the measured recipe: 256 episodes per iteration" in check.hint


def test_a_directory_without_a_model(tmp_path):
    report = check_training(str(tmp_path))
    assert report.score == 0 and report.total == 3
    assert report.check("loads").detail == f"no config.json in {tmp_path} or {tmp_path}/model"


@pytest.mark.slow
def test_the_reference_recipe_beats_the_baseline(tmp_path):
    env = dict(os.environ, PATH=f"{pathlib.Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    run = subprocess.run(
        ["bash", str(SOLUTIONS / "train.sh"), str(tmp_path / "run")], capture_output=True, text=True, env=env,
        timeout=600,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert "[pass] beats the baseline" in run.stdout and "score 3/3: passed" in run.stdout
