"""``convenv train``: tiny jobs in process (files written, resume, GRPO + LoRA, SFT, warmup), errors, torchrun."""

import csv
import json
import os
import shutil
import subprocess
import sys

import pytest

from convenv.cli import main

TINY = ["--env", "GuessNumber-v0", "--env-kwargs", '{"difficulty": 1}', "--model", "tiny", "--max-new-tokens", "3"]
SMALL = ["--iterations", "1", "--episodes", "4", "--eval-episodes", "4", "--no-progress"]


def rows(path):
    with open(path) as f:
        return list(csv.DictReader(f))


def test_import_cli_stays_light():
    code = "import sys, convenv.cli, convenv.cli_train; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_tiny_ppo_writes_logs_checkpoints_model_and_plot_then_resumes(tmp_path, capsys):
    pytest.importorskip("torch")
    out = tmp_path / "run"
    argv = ["train", *TINY, *SMALL, "--iterations", "2", "--eval-every", "1", "--out", str(out)]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "greedy eval before training: " in printed and "greedy eval after training: " in printed
    assert (
        f"wrote to {out}/: checkpoints/, evals.json, log.csv, model/, success_by_turn.png, tensorboard/" in printed
    )
    assert [row["iteration"] for row in rows(out / "log.csv")] == ["0", "1"]
    assert any(p.name.startswith("events.out.tfevents") for p in (out / "tensorboard").iterdir())
    assert [p.name for p in (out / "checkpoints").iterdir()] == ["checkpoint-000002.pt"]
    assert {"config.json", "model.safetensors", "value_head.pt"} <= {p.name for p in (out / "model").iterdir()}
    assert (out / "success_by_turn.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    evals = json.loads((out / "evals.json").read_text())
    assert set(evals) == {"before", "after"} and len(evals["after"]) == 4
    assert json.loads(rows(out / "log.csv")[1]["eval_success_by_turn"]) == evals["after"]
    # the same command again would overwrite the run: refused; with --resume it continues (here: nothing left)
    assert main(argv) == 1
    assert "expected an --out without checkpoints (or --resume), got " in capsys.readouterr().err
    assert main([*argv, "--resume"]) == 0
    assert "greedy eval before training" not in capsys.readouterr().out  # kept from the first run
    assert json.loads((out / "evals.json").read_text())["before"] == evals["before"]


def test_one_seed_gives_one_run(tmp_path):
    # every random draw is seeded (model, value head, episodes, sampling, shuffles): two runs log the same numbers
    logs = []
    for name in ("a", "b"):
        out = tmp_path / name
        assert main(["train", *TINY, *SMALL, "--iterations", "2", "--seed", "3", "--out", str(out)]) == 0
        logs.append([{k: v for k, v in row.items() if k != "seconds"} for row in rows(out / "log.csv")])
    assert logs[0] == logs[1]


def test_grpo_with_lora_saves_the_merged_model(tmp_path):
    pytest.importorskip("convenv.algorithms.grpo")
    pytest.importorskip("peft")
    transformers = pytest.importorskip("transformers")
    out = tmp_path / "grpo"
    argv = ["train", *TINY, *SMALL, "--algo", "grpo", "--group-size", "2", "--lora-rank", "2", "--out", str(out)]
    assert main(argv) == 0
    assert not (out / "model" / "value_head.pt").exists()
    model = transformers.AutoModelForCausalLM.from_pretrained(out / "model")  # a plain GPT-2, no peft needed
    assert not any("lora" in name for name, _ in model.named_parameters())
    assert "zero_std_groups" in rows(out / "log.csv")[0]  # GRPO's metrics


def test_filtered_sft(tmp_path):
    pytest.importorskip("convenv.algorithms.sft")
    out = tmp_path / "sft"
    assert main(["train", *TINY, *SMALL, "--algo", "sft", "--out", str(out)]) == 0
    assert "success_rate" in rows(out / "log.csv")[0] and (out / "success_by_turn.png").exists()


def test_warmup_sft_on_a_demonstrator(tmp_path, capsys):
    pytest.importorskip("convenv.algorithms.sft")
    warm = tmp_path / "warm"
    argv = ["train", *TINY, *SMALL, "--warmup-sft-seconds", "0.3", "--warmup-demonstrator", "no-feedback"]
    assert main([*argv, "--out", str(warm)]) == 0
    assert "warmup SFT: " in capsys.readouterr().out
    assert set(json.loads((warm / "evals.json").read_text())) == {"before", "after warmup SFT", "after"}
    steps = tmp_path / "steps"
    argv = ["train", *TINY, *SMALL, "--warmup-sft-steps", "3", "--warmup-demonstrator", "random-guesser"]
    argv += ["--warmup-lr", "1e-3", "--vf-coef", "0.25", "--update-epochs", "1", "--minibatches", "1"]
    assert main([*argv, "--out", str(steps)]) == 0
    assert "warmup SFT: 3 steps" in capsys.readouterr().out
    assert float(rows(steps / "log.csv")[0]["minibatches"]) == 1.0


def test_a_missing_model_offline_says_what_to_do(tmp_path, capsys, monkeypatch):
    pytest.importorskip("transformers")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    argv = ["train", "--env", "GuessNumber-v0", "--model", "no-such-org/no-such-model", "--out", str(tmp_path)]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert (
        "expected a loadable model, got 'no-such-org/no-such-model': not found locally, and HF_HUB_OFFLINE" in err
    )
    assert "--model tiny" in err and "Traceback" not in err


def test_missing_train_extra_names_it(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "torch", None)  # `import torch` now raises ImportError
    assert main(["train", "--env", "GuessNumber-v0"]) == 1
    assert "pip install 'convenv[train]'" in capsys.readouterr().err


def test_bad_arguments(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["train", "--env", "GuessNumber-v0", "--env-kwargs", "[1]"])
    assert exit_info.value.code == 2 and "expected a JSON object, got '[1]'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["train", "--env", "GuessNumber-v0", "--env-kwargs", "{difficulty: 1}"])
    assert "expected a JSON object, got '{difficulty: 1}' (Expecting property name" in capsys.readouterr().err
    assert main(["train", "--env", "GuessNumber-v0", "--iterations", "0"]) == 1
    assert "expected --iterations, --episodes and --eval-episodes >= 1, got 0" in capsys.readouterr().err
    assert main(["train", "--env", "GuessNumber-v0", "--algo", "sft", "--resume"]) == 1
    assert "expected --algo ppo, grpo or rloo with --resume" in capsys.readouterr().err
    assert main(["train", "--env", "GuessNumber-v0", "--group-size", "4"]) == 1
    assert "expected --algo grpo or rloo with --group-size, got --algo ppo" in capsys.readouterr().err
    assert main(["train", "--env", "GuessNumber-v0", "--algo", "sft", "--gamma", "0.9"]) == 1
    assert "expected --algo ppo, grpo or rloo with --gamma, --kl-coef, --ent-coef" in capsys.readouterr().err
    assert main(["train", "--env", "GuessNumber-v0", "--algo", "grpo", "--vf-coef", "0.1"]) == 1
    assert "expected --algo ppo with --vf-coef, got --algo grpo" in capsys.readouterr().err
    assert main(["train", "--env", "GuessNumber-v0", "--warmup-sft-steps", "-1"]) == 1
    assert "expected --warmup-sft-seconds and --warmup-sft-steps >= 0, got 0.0 and -1" in capsys.readouterr().err
    assert main(["train", "--env", "GuessNumber-v0", "--role", "teacher", "--warmup-sft-seconds", "1"]) == 1
    assert "expected --role student with --warmup-sft-seconds, got 'teacher'" in capsys.readouterr().err


def test_plot_without_matplotlib_names_the_extra(monkeypatch, tmp_path):
    from convenv.cli_train import plot_success
    from convenv.error import MissingExtra

    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with pytest.raises(MissingExtra, match=r"'matplotlib'.*pip install 'convenv\[train\]'"):
        plot_success(tmp_path / "plot.png", {"before": [0.0]}, [], "ppo")


@pytest.mark.slow
def test_torchrun_two_processes(tmp_path):
    pytest.importorskip("torch")
    torchrun = shutil.which("torchrun", path=os.path.dirname(sys.executable)) or shutil.which("torchrun")
    if torchrun is None:
        pytest.skip("torchrun is not installed")
    out = tmp_path / "ddp"
    argv = [torchrun, "--nproc_per_node", "2", "-m", "convenv", "train", *TINY, *SMALL, "--iterations", "2"]
    env = dict(os.environ, HF_HUB_OFFLINE="1", OMP_NUM_THREADS="1")
    proc = subprocess.run([*argv, "--out", str(out)], capture_output=True, text=True, timeout=600, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.count("wrote to ") == 1  # rank 0 only
    log = rows(out / "log.csv")
    assert [row["iteration"] for row in log] == ["0", "1"] and json.loads(log[1]["eval_success_by_turn"])
    assert (out / "checkpoints" / "checkpoint-000002.pt").exists() and (out / "success_by_turn.png").exists()
