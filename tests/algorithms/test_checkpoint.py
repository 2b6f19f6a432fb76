"""Checkpoints: atomic writes, the newest K kept, and resuming to exactly the uninterrupted run (in process, and
after a SIGKILL of a real training process)."""

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from algorithms.test_train import tiny_config, tiny_student  # noqa: E402

from convenv.algorithms import checkpoint as ckpt  # noqa: E402
from convenv.algorithms.ppo import PPOConfig  # noqa: E402
from convenv.algorithms.train import train  # noqa: E402


class Unpicklable:
    """Raises while ``torch.save`` is writing it: a crash in the middle of a checkpoint write."""

    def __reduce__(self):
        raise RuntimeError("disk on fire")


def without_seconds(history):
    return [{k: v for k, v in row.items() if k != "seconds"} for row in history]


def test_a_crash_while_writing_leaves_the_previous_checkpoint_readable(tmp_path):
    ckpt.save_checkpoint(tmp_path, 1, {"weights": torch.arange(3.0), "history": [{"iteration": 0}]})
    with pytest.raises(RuntimeError, match="disk on fire"):
        ckpt.save_checkpoint(tmp_path, 2, {"weights": torch.zeros(1000), "bad": Unpicklable()})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint-000001.pt"]  # no half-written file left
    latest = ckpt.latest_checkpoint(tmp_path)
    assert latest == ckpt.checkpoint_path(tmp_path, 1)
    state = ckpt.load_checkpoint(latest)
    assert torch.equal(state["weights"], torch.arange(3.0)) and state["history"] == [{"iteration": 0}]


def test_keeps_the_newest_checkpoints_and_ignores_temp_files(tmp_path):
    (tmp_path / ".tmp-checkpoint-000009.pt.123").write_bytes(b"half")  # a killed writer's leftover
    for i in range(1, 6):
        ckpt.save_checkpoint(tmp_path, i, {"i": i}, keep=2)
    assert [p.name for p in ckpt.list_checkpoints(tmp_path)] == ["checkpoint-000004.pt", "checkpoint-000005.pt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint-000004.pt", "checkpoint-000005.pt"]
    assert ckpt.load_checkpoint(ckpt.latest_checkpoint(tmp_path))["i"] == 5
    assert ckpt.latest_checkpoint(tmp_path / "none") is None
    with pytest.raises(ValueError, match="expected keep >= 1 checkpoints, got 0"):
        ckpt.save_checkpoint(tmp_path, 6, {}, keep=0)
    (tmp_path / "checkpoint-000007.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="expected a readable convenv checkpoint at .*checkpoint-000007.pt"):
        ckpt.load_checkpoint(ckpt.latest_checkpoint(tmp_path))


def test_load_model_state_refuses_a_different_model():
    agent = tiny_student()
    other = tiny_student(n_layer=2)
    with pytest.raises(ValueError, match="expected checkpoint tensors matching the model, got .* unknown"):
        ckpt.load_model_state(agent.model, ckpt.model_state(other.model))
    state = ckpt.model_state(agent.model)
    state.pop("transformer.h.0.ln_1.weight")
    with pytest.raises(ValueError, match="expected a checkpoint holding every trainable parameter, got 1 missing"):
        ckpt.load_model_state(agent.model, state)


def resumable_config(directory, **kwargs):
    """Linear schedule and a KL reference: the scheduler and the reference must come back too."""
    ppo = PPOConfig(update_epochs=1, num_minibatches=2, gamma=0.9, kl_coef=0.1)
    settings = {"iterations": 3, "checkpoint_dir": str(directory), "checkpoint_every": 1, "ppo": ppo}
    return tiny_config(**{"lr_schedule": "linear", "eval_every": 2, **settings, **kwargs})


def test_resume_gives_exactly_the_uninterrupted_run(tmp_path):
    agent = tiny_student()
    history = train(agent, resumable_config(tmp_path, log_csv=str(tmp_path / "log.csv")), progress=False)
    assert [p.name for p in ckpt.list_checkpoints(tmp_path)][-1] == "checkpoint-000003.pt"
    assert (tmp_path / "reference.pt").exists()
    saved = ckpt.load_checkpoint(ckpt.latest_checkpoint(tmp_path))
    assert saved["iteration"] == 3 and json.loads(saved["config"])["iterations"] == 3
    # as if killed during the last iteration: its checkpoint never got written
    ckpt.checkpoint_path(tmp_path, 3).unlink()
    again = tiny_student()
    resumed = train(
        again, resumable_config(tmp_path, log_csv=str(tmp_path / "log.csv")), progress=False, resume=True
    )
    assert without_seconds(resumed) == without_seconds(history)
    assert resumed[2]["seconds"] >= resumed[1]["seconds"] == history[1]["seconds"]
    for a, b in zip(agent.model.state_dict().values(), again.model.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    assert torch.equal(agent.value_head.linear.weight, again.value_head.linear.weight)
    assert (tmp_path / "log.csv").read_text().count("\n") == 4  # header + 3 rows, none twice


def test_resume_refuses_a_different_config_and_fresh_runs_refuse_old_checkpoints(tmp_path):
    train(tiny_student(), resumable_config(tmp_path, iterations=1), progress=False)
    with pytest.raises(ValueError, match=r"expected the config .* got different learning_rate \(0.001 there, 0.01"):
        train(tiny_student(), resumable_config(tmp_path, iterations=1, learning_rate=1e-2, resume=True))
    with pytest.raises(ValueError, match="expected a checkpoint_dir without checkpoints \\(or resume=True\\)"):
        train(tiny_student(), resumable_config(tmp_path, iterations=1), progress=False)
    path = ckpt.latest_checkpoint(tmp_path)
    ckpt.atomic_save({**ckpt.load_checkpoint(path), "format": 99}, path)
    with pytest.raises(ValueError, match="expected a checkpoint of format 1, got 99"):
        train(tiny_student(), resumable_config(tmp_path, iterations=1, resume=True), progress=False)
    ckpt.atomic_save({**ckpt.load_checkpoint(path), "format": 1}, path)
    # where things are logged may change; with every iteration done, resuming returns the history as it was
    done = train(tiny_student(), resumable_config(tmp_path, iterations=1, resume=True), progress=False)
    assert [row["iteration"] for row in done] == [0]


# ------------------------------------------------------------------------------------------ a real SIGKILL
SCRIPT = textwrap.dedent(
    """
    import json, sys
    import torch
    torch.set_num_threads(1)
    sys.path.insert(0, {tests!r})
    from algorithms.test_checkpoint import resumable_config
    from algorithms.test_train import tiny_student
    from convenv.algorithms.train import train

    directory, out, resume = sys.argv[1], sys.argv[2], sys.argv[3] == "1"
    agent = tiny_student()
    history = train(agent, resumable_config(directory, iterations=8, eval_every=3), progress=False, resume=resume)
    state = {{"model": agent.model.state_dict(), "head": agent.value_head.state_dict(), "history": history}}
    torch.save(state, out)
    """
)


def run_training(tmp_path, name, resume=False, kill_after=None):
    """Train in a fresh process; with ``kill_after=k``, SIGKILL it once checkpoint k is on disk."""
    directory, out = tmp_path / name, tmp_path / f"{name}.pt"
    env = dict(os.environ, HF_HUB_OFFLINE="1", PYTHONPATH=os.pathsep.join(sys.path))
    code = SCRIPT.format(tests=os.path.dirname(os.path.dirname(__file__)))
    args = [sys.executable, "-c", code, str(directory), str(out), "1" if resume else "0"]
    proc = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if kill_after is None:
        _, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err[-3000:]
        return torch.load(out, weights_only=True)
    deadline = time.monotonic() + 600
    while not ckpt.checkpoint_path(directory, kill_after).exists():
        assert proc.poll() is None, proc.communicate()[1][-3000:]
        assert time.monotonic() < deadline
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.communicate()
    assert proc.returncode == -signal.SIGKILL and not out.exists()
    return None


@pytest.mark.slow
def test_sigkill_then_resume_equals_the_uninterrupted_run(tmp_path):
    kill_after = int(np.random.default_rng(2026).integers(1, 8))  # after at least one checkpoint, before the end
    reference = run_training(tmp_path, "whole")
    run_training(tmp_path, "killed", kill_after=kill_after)
    done = len(ckpt.load_checkpoint(ckpt.latest_checkpoint(tmp_path / "killed"))["history"])
    assert kill_after <= done < 8
    resumed = run_training(tmp_path, "killed", resume=True)
    assert without_seconds(resumed["history"]) == without_seconds(reference["history"])
    for part in ("model", "head"):
        for key, value in reference[part].items():
            torch.testing.assert_close(resumed[part][key], value, rtol=0, atol=1e-6)
