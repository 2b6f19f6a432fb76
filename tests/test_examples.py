import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import convenv

ROOT = Path(__file__).resolve().parents[1]


def run_script(*argv):
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    proc = subprocess.run([sys.executable, *argv], cwd=ROOT, capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def test_quickstart_example():
    out = run_script("examples/quickstart.py", "--episodes", "3", "--seed", "0")
    assert "solved by turn 4:" in out and "mean student return" in out


def test_benchmark_quick_prints_json_last():
    out = run_script("benchmarks/env_throughput.py", "--quick")
    summary = json.loads(out.strip().splitlines()[-1])
    assert summary["env"] == "MathTutor-v0"
    for key in ("steps_per_s", "episodes_per_s", "verify_share", "verify_ms_mean"):
        assert summary[key] > 0
    assert 0 < summary["verify_share"] < 1


def test_sandbox_benchmark_prints_its_ratios():
    summary = json.loads(run_script("benchmarks/sandbox_overhead.py", "--quick").strip().splitlines()[-1])
    assert summary["bwrap_ms"] > 0 and summary["bare_python_ms"] > 0 and summary["ratio"] > 0


@pytest.mark.slow
def test_throughput_benchmark_covers_every_env():
    out = run_script("benchmarks/env_throughput.py", "--env", "all", "--quick")
    summary = json.loads(out.strip().splitlines()[-1])
    assert set(summary["by_env"]) == {spec.id for spec in convenv.registry}


@pytest.mark.parametrize("teacher", ["llm", "autodidact"])
def test_llm_tutor_example(teacher):
    out = run_script("examples/llm_tutor.py", "--episodes", "2", "--max-turns", "2", "--max-new-tokens", "8",
                     "--teacher", teacher)  # fmt: skip
    assert "solved by turn 2:" in out and "[teacher]" in out


def test_rollout_benchmark_quick_prints_the_ratios():
    summary = json.loads(run_script("benchmarks/rollout.py", "--quick").strip().splitlines()[-1])
    for key in ("reuse_over_bound", "reencode_over_reuse", "sequential_over_batched"):
        assert summary[key] > 0
    assert 0 < summary["env_share"] < 1
    assert summary["tokens_fed"]["reencode"] > summary["tokens_fed"]["reuse"]


@pytest.mark.slow
def test_ppo_update_benchmark_quick_prints_the_ratios():
    out = run_script("benchmarks/ppo_update.py", "--quick", "--threads", "1", "--rounds", "1")
    summary = json.loads(out.strip().splitlines()[-1])
    assert summary["update_over_fwdbwd"] > 0 and summary["peak_mem_ratio"] > 0


def test_sb3_guess_number_example():
    argv = ["examples/sb3_guess_number.py", "--timesteps", "512", "--n-envs", "2", "--eval-episodes", "10"]
    summary = json.loads(run_script(*argv).strip().splitlines()[-1])
    assert summary["bisection"] == 1.0 and 0 <= summary["after"] <= 1


def test_two_roles_pettingzoo_example():
    argv = ["examples/two_roles_pettingzoo.py", "--episodes", "200", "--eval-episodes", "10"]
    summary = json.loads(run_script(*argv).strip().splitlines()[-1])
    assert summary["bisection_with_scripted_teacher"] == 1.0
