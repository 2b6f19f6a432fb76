import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def run_script(*argv):
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    proc = subprocess.run([sys.executable, *argv], cwd=ROOT, capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def test_quickstart_example():
    out = run_script("examples/quickstart.py", "--episodes", "3", "--seed", "0")
    assert "solved by turn 4:" in out and "mean student return" in out


@pytest.mark.parametrize("script", ["benchmarks/env_throughput.py"])
def test_benchmark_quick_prints_json_last(script):
    out = run_script(script, "--quick")
    summary = json.loads(out.strip().splitlines()[-1])
    assert summary["env"] == "MathTutor-v0"
    for key in ("steps_per_s", "episodes_per_s", "verify_share", "verify_ms_mean"):
        assert summary[key] > 0
    assert 0 < summary["verify_share"] < 1
