import os
import subprocess
import sys

import pytest

import convenv
from convenv.cli import main

ENV_ID = "MathTutor-v0"


def feed(monkeypatch, *lines):
    """Make the built-in input() return these lines, then raise EOFError."""
    queue = list(lines)

    def fake_input(prompt=""):
        print(prompt, end="")
        if not queue:
            raise EOFError
        return queue.pop(0)

    monkeypatch.setattr("builtins.input", fake_input)


def correct_answer(seed):
    env = convenv.make(ENV_ID)
    try:
        env.reset(seed=seed)
        return env.domain.format_answer(env.task)
    finally:
        env.close()


def test_list_prints_every_registered_env(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for spec in convenv.registry:
        assert spec.id in out and spec.description in out


@pytest.mark.parametrize("argv", [["play", "MathTutr-v0"], ["quickstart", "--env", "MathTutr-v0"]])
def test_unknown_env_id_exits_2_with_did_you_mean(capsys, argv):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "expected a registered env id, got 'MathTutr-v0'; did you mean 'MathTutor-v0'" in err
    assert "Traceback" not in err


def test_no_command_prints_help_and_exits_2(capsys):
    assert main([]) == 2
    assert "quickstart" in capsys.readouterr().out


def test_play_as_student_solves_after_an_empty_line(monkeypatch, capsys):
    feed(monkeypatch, "", correct_answer(seed=3))
    assert main(["play", ENV_ID, "--as", "student", "--seed", "3", "--max-turns", "2"]) == 0
    out = capsys.readouterr().out
    assert "seed 3  you are the student" in out and "[teacher] " in out
    assert "(type a message, or /quit to stop)" in out
    assert "verdict: correct" in out and "result: solved at student turn 1" in out


def test_play_as_student_wrong_then_quit(monkeypatch, capsys):
    feed(monkeypatch, "no idea", "/quit")
    assert main(["play", ENV_ID, "--seed", "0", "--teacher", "verdict"]) == 0
    out = capsys.readouterr().out
    assert "verdict: wrong" in out and "stopped." in out


def test_play_as_teacher_until_the_turn_limit(monkeypatch, capsys):
    feed(monkeypatch, "Solve this one.", "Check your arithmetic.")
    argv = ["play", ENV_ID, "--as", "teacher", "--seed", "0", "--max-turns", "2", "--p-correct", "0"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "[student] " in out and "[verifier] " in out
    assert "result: not solved after 2 student turn(s) (turn_limit)" in out


def test_play_stops_cleanly_at_end_of_input(monkeypatch, capsys):
    feed(monkeypatch)
    assert main(["play", ENV_ID, "--seed", "0"]) == 0
    assert "stopped." in capsys.readouterr().out


def test_quickstart_prints_a_dialogue_and_success_by_turn(capsys):
    assert main(["quickstart", "--episodes", "4", "--seed", "0", "--max-turns", "3", "--show", "1"]) == 0
    out = capsys.readouterr().out
    assert out.count(f"{ENV_ID}  task ") == 1 and "[teacher] " in out and "verdict:" in out
    assert "cumulative success by turn (4 episodes)" in out and "mean student return" in out
    table = out.split("cumulative success by turn")[1].splitlines()[2:5]
    assert [row.split()[0] for row in table] == ["1", "2", "3"]


def test_quickstart_rejects_zero_episodes(capsys):
    assert main(["quickstart", "--episodes", "0"]) == 1
    assert "expected --episodes >= 1, got 0" in capsys.readouterr().err


def test_python_m_convenv_list():
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    proc = subprocess.run(
        [sys.executable, "-m", "convenv", "list"], capture_output=True, text=True, timeout=120, env=env
    )
    assert proc.returncode == 0, proc.stderr
    assert ENV_ID in proc.stdout


@pytest.mark.parametrize("env_id", [spec.id for spec in convenv.registry])
def test_play_works_for_every_env(env_id, monkeypatch, capsys):
    # words inside every env's alphabet (the course envs use a tiny one); a line outside it is refused, re-asked
    feed(monkeypatch, "Please!", *["no!"] * 12)
    assert main(["play", env_id, "--as", "teacher", "--seed", "0"]) == 0
    assert "result:" in capsys.readouterr().out
    feed(monkeypatch, "how?")  # then end of input: the human leaves
    assert main(["play", env_id, "--as", "student", "--seed", "0"]) == 0
