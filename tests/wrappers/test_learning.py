"""Learning through the fixed-size adapters: the two examples, run as scripts, must beat their baselines (slow).

The SB3 check uses the token-level action space (two MultiDiscrete digit slots), the adapter's default kind of
action, rather than one Discrete action per answer: it is the harder and more general parametrization, and it
already learns well above random in 60k steps (about a minute). Its margin is measured against the uniformly
random policy; after 60k steps it is typically near or above the feedback-ignoring bound k/N, after 150k clearly
above it (see docs/rl_libraries.md). The two-role check must beat k/N: only a shared meaning of the teacher's
symbols gets there.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run_example(*argv):
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    proc = subprocess.run([sys.executable, *argv], cwd=ROOT, capture_output=True, text=True, timeout=400, env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_sb3_ppo_learns_guess_number_with_token_actions():
    pytest.importorskip("stable_baselines3")
    summary = run_example("examples/sb3_guess_number.py", "--timesteps", "60000", "--eval-episodes", "200")
    assert summary["action"] == "tokens"
    assert summary["after"] >= summary["random"] + 0.15, summary
    assert summary["after"] >= summary["before"] + 0.1, summary
    assert summary["bisection"] == 1.0


@pytest.mark.slow
def test_two_independent_learners_beat_the_feedback_ignoring_bound():
    summary = run_example("examples/two_roles_pettingzoo.py", "--episodes", "50000", "--eval-episodes", "200")
    assert summary["after"] >= summary["ignore_feedback_k_over_n"] + 0.15, summary
    assert summary["bisection_with_scripted_teacher"] == 1.0
