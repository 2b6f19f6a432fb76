"""Exercise 1's checker: the reference teacher passes every check; plausible wrong teachers fail where intended."""

import pathlib
import textwrap

import numpy as np
import pytest

import convenv
from convenv.envs.course import BisectionStudent
from convenv.exercises.teacher import ENV_ID, ENV_KWARGS, ForgetfulStudent, check_teacher, parse_bounds
from convenv.play import play_episode

SOLUTIONS = pathlib.Path(__file__).parent / "solutions"
STARTER = pathlib.Path(convenv.__file__).parent / "exercises" / "starters" / "teacher.py"

# A teacher agent whose reply is ``say(guesses, secret, prompt)``: the wrong solutions differ only there.
TEMPLATE = """
import re
import numpy as np
from convenv.exercises.teacher import read_view

def number(text):
    found = re.findall(r"[0-9]+", text)
    return int(found[-1]) if found else None

{say}

class Teacher:
    role = "teacher"
    def __init__(self, env):
        self.tokenizer = env.tokenizer
    def act(self, observations, infos):
        out = []
        for obs, info in zip(observations, infos):
            if info.get("to_act") != "teacher":
                out.append(None)
                continue
            task = info["task"]
            guesses = [number(t) for r, t in read_view(self.tokenizer, obs["tokens"]) if r == "student"]
            text = task.prompt if info["turn"] == 0 else say(guesses, int(task.answer), task.prompt)
            out.append(np.asarray(self.tokenizer.encode(text), dtype=np.int64))
        return out

def make_teacher(env):
    return Teacher(env)
"""

BOUNDS = """
def interval(guesses, secret):
    low = max([g for g in guesses if g < secret], default=0)
    high = min([g for g in guesses if g > secret], default=32)
    return low, high
"""


def submission(tmp_path, say, name="teacher.py"):
    path = tmp_path / name
    path.write_text(TEMPLATE.format(say=textwrap.dedent(say)))
    return str(path)


def failed(report):
    return {c.name for c in report.checks if not c.passed}


def test_reference_solution_passes_every_check():
    report = check_teacher(str(SOLUTIONS / "teacher.py"))
    assert report.passed and report.score == report.total == 8, report.format()
    assert "score 8/8: passed" in report.format()


def test_the_starter_fails_only_the_forgetful_student():
    report = check_teacher(str(STARTER))
    assert failed(report) == {"student: forgetful"}, report.format()
    check = report.check("student: forgetful")
    assert "0.39 (need >= 0.55 by turn 5)" in check.detail
    assert "Once its guess is outside what earlier replies allow" in check.hint


def test_an_inclusive_range_leaks(tmp_path):
    say = (
        BOUNDS
        + """
def say(guesses, secret, prompt):
    low, high = interval(guesses, secret)
    return f"{low + 1}-{high - 1}"
"""
    )
    report = check_teacher(submission(tmp_path, say))
    assert {"no leak", "earned numbers only", "student: bisection"} <= failed(report), report.format()
    assert "An inclusive range like '17-23' leaks" in report.check("no leak").hint


def test_a_teacher_that_states_the_secret_is_rejected(tmp_path):
    report = check_teacher(submission(tmp_path, "def say(guesses, secret, prompt):\n    return f'x={secret}'\n"))
    assert {"no leak", "earned numbers only"} <= failed(report)
    assert "was never guessed" in report.check("earned numbers only").detail


def test_tight_bounds_pass_the_leak_check_but_are_unearned(tmp_path):
    say = "def say(guesses, secret, prompt):\n    return f'{secret - 1}<x<{secret + 1}'\n"
    report = check_teacher(submission(tmp_path, say))
    assert "no leak" not in failed(report) and "earned numbers only" in failed(report), report.format()


def test_always_bounds_helps_the_forgetful_student_and_breaks_bisection(tmp_path):
    say = (
        BOUNDS
        + """
def say(guesses, secret, prompt):
    low, high = interval(guesses, secret)
    return f"{low}<x<{high}"
"""
    )
    report = check_teacher(submission(tmp_path, say))
    assert failed(report) == {"student: bisection", "student: random-picker"}, report.format()
    assert "understands exactly '<' or '>'" in report.check("student: bisection").hint


def test_a_lying_teacher_is_caught(tmp_path):
    report = check_teacher(submission(tmp_path, "def say(guesses, secret, prompt):\n    return '>'\n"))
    assert "truthful" in failed(report)
    assert "but the secret is" in report.check("truthful").detail


def test_characters_outside_the_alphabet_fail_runs_with_a_hint(tmp_path):
    report = check_teacher(submission(tmp_path, "def say(guesses, secret, prompt):\n    return 'Lower!'\n"))
    assert report.score == 0 and report.check("runs").detail.startswith("ValueError: expected characters")
    assert "course alphabet" in report.check("runs").hint
    assert report.check("no leak").detail == "not run: the teacher did not run"


def test_a_file_without_make_teacher(tmp_path):
    path = tmp_path / "empty.py"
    path.write_text("x = 1\n")
    report = check_teacher(str(path))
    assert "expected a function make_teacher(env) in your file, got none" in report.check("runs").detail


def test_a_feedback_policy_is_accepted(tmp_path):
    path = tmp_path / "policy.py"
    path.write_text(
        "from convenv.envs.course import HigherLower\n\n\ndef make_teacher(env):\n    return HigherLower()\n"
    )
    assert failed(check_teacher(str(path))) == {"student: forgetful"}


def test_forgetful_student_reads_only_the_last_message():
    env = convenv.make(ENV_ID, **ENV_KWARGS)
    try:
        student = ForgetfulStudent(env.tokenizer)  # seed 6, secret 14: 16 '<', 8 '>', then it forgets the '<'
        result = play_episode(env, {"teacher": env.default_teacher(), "student": student}, seed=6)
        guesses = [m.text for m in env.transcript.messages if m.speaker == "student"]
        assert guesses[:3] == ["16", "8", "20"] and not result.success
        opening = [env.tokenizer.special_ids["teacher"], *env.tokenizer.encode("1-31")]
        assert student.guess(np.array(opening)) == 16
    finally:
        env.close()


def test_bisection_student_still_wins_with_the_reference_teacher():
    from convenv.exercises.base import load_student_module

    env = convenv.make(ENV_ID, **ENV_KWARGS)
    try:
        teacher = load_student_module(SOLUTIONS / "teacher.py").make_teacher(env)
        for seed in range(10):
            result = play_episode(env, {"teacher": teacher, "student": BisectionStudent(env.tokenizer)}, seed=seed)
            assert result.success and result.leaks == 0
    finally:
        env.close()


def test_parse_bounds():
    assert parse_bounds(" 8 < x < 16 ") == (8, 16) and parse_bounds("x<3") == (None, 3)
    assert parse_bounds("x>20") == (20, None) and parse_bounds("8-16") is None and parse_bounds(">") is None


def test_loading_a_missing_file_raises():
    from convenv.exercises.base import load_student_module

    with pytest.raises(ValueError, match="expected an existing .py file, got 'nope.txt'; pass the path"):
        load_student_module("nope.txt")
