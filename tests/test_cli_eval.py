"""``convenv eval``: the table, metrics.json, transcripts.jsonl and the plot; model students; errors."""

import json

import pytest

from convenv.cli import main


def test_eval_writes_table_json_jsonl_and_plot(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    out = tmp_path / "eval"
    argv = ["eval", "--env", "GuessNumber-v0", "--student", "bisection", "--student", "no-feedback", "--student",
            "random", "--episodes", "12", "--seed", "5", "--out", str(out), "--style", "plain"]  # fmt: skip
    assert main(argv) == 0
    captured = capsys.readouterr()
    printed = captured.out
    assert "eval bisection: 12/12 episodes" in captured.err and "eval random: 12/12 episodes" in captured.err
    assert "GuessNumber-v0, teacher scripted, 12 episodes per student (seeds 5-16)" in printed
    assert "k  bisection          no-feedback        random" in printed
    assert f"wrote to {out}/: metrics.json, success_by_turn.png, transcripts.jsonl" in printed
    metrics = json.loads((out / "metrics.json").read_text())
    assert list(metrics["students"]) == ["bisection", "no-feedback", "random"]
    assert len((out / "transcripts.jsonl").read_text().splitlines()) == 36
    assert (out / "success_by_turn.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_eval_options(capsys):
    argv = ["eval", "--env", "MathTutor-v0", "--student", "probabilistic:0.5", "--teacher", "verdict", "--style",
            "plain", "--max-turns", "2", "--episodes", "4", "--env-kwargs", '{"difficulty": 1}']  # fmt: skip
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "MathTutor-v0, teacher verdict, 4 episodes" in printed and "\n2  " in printed and "\n3  " not in printed


def test_eval_a_train_out_directory(tmp_path, capsys):
    pytest.importorskip("transformers")
    import convenv
    from convenv.cli_train import build_tiny_model

    env = convenv.make("GuessNumber-v0")
    build_tiny_model(env).save_pretrained(tmp_path / "run" / "model")  # what convenv train --out leaves
    env.close()
    model = tmp_path / "run" / "model"
    argv = ["eval", "--env", "GuessNumber-v0", "--student", str(tmp_path / "run"), "--student", f"hf:{model}",
            "--episodes", "3", "--style", "plain", "--device", "cpu"]  # fmt: skip
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "gold NLL first -> last" in printed
    lines = [line for line in printed.splitlines() if line.startswith((str(tmp_path), "hf:"))]
    assert len(lines) == 2 and lines[0].split()[1:] == lines[1].split()[1:]  # the same model, the same numbers


def test_eval_errors(capsys):
    assert main(["eval", "--env", "GuessNumber-v0", "--student", "bisectoin"]) == 1
    assert "convenv: error: expected a student spec" in capsys.readouterr().err
    assert main(["eval", "--env", "GuessNuber-v0", "--student", "random"]) == 2
    assert "GuessNumber-v0" in capsys.readouterr().err  # did you mean
    with pytest.raises(SystemExit):
        main(["eval", "--env", "GuessNumber-v0", "--student", "random", "--env-kwargs", "[1]"])
    assert "--env-kwargs: expected a JSON object, got '[1]'; e.g. '{\"difficulty\": 1}'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["eval", "--env", "GuessNumber-v0"])
    assert "the following arguments are required: --student" in capsys.readouterr().err
