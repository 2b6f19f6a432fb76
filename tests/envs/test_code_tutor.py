"""CodeTutor-v0 and CodeTutor-Sharded-v0: scripted teachers, leaks, hostile students, local files, shards."""

import json
import time

import numpy as np
import pytest

import convenv
from convenv.agents import OracleStudent
from convenv.envs.code_feedback import (
    FEEDBACK_POLICIES,
    code_leak_check,
    format_answer,
    locate,
    make_feedback_policy,
    redact,
    wrong_answer,
)
from convenv.play import play_episode
from convenv.sandbox import Limits, SandboxUnavailable
from convenv.tasks.code import FAMILIES, LEVELS, ShardedCodeTaskGenerator, generate
from convenv.utils import check_env
from convenv.verifiers.base import Verdict

TEACHERS = list(FEEDBACK_POLICIES)


def failure(status, args=(1,), got=None, error_type=None, error_message=None):
    return {"name": "test_3", "status": status, "args": args, "got": got, "error_type": error_type,
            "error_message": error_message}  # fmt: skip


def verdicts_for(task):
    """Verdicts of every kind, with 'got' values that are the hidden tests' expected outputs (worst case)."""
    n = len(task.tests)
    out = [
        Verdict(False, None, "no_code"),
        Verdict(False, None, "too_large"),
        Verdict(False, f"0/{n} tests passed", "syntax_error", signals={"passed": 0, "total": n, "line": 2}),
        Verdict(False, f"0/{n}", "timeout", signals={"passed": 0, "total": n, "first_failure": None}),
        Verdict(False, None, "no_answer"),
    ]
    for test in task.tests:
        for status, kw in [
            ("wrong_output", {"got": repr(test.expected)}),
            ("exception", {"error_type": "ValueError", "error_message": "bad"}),
            ("exception", {"error_type": "NameError", "error_message": f"name '{task.metadata['entry_point']}'"}),
            ("timeout", {}),
            ("crash", {}),
            ("bad_return", {"got": "<generator object>"}),
        ]:
            sig = {"passed": 1, "total": n, "first_failure": failure(status, test.args, **kw)}
            out.append(Verdict(False, f"1/{n} tests passed", status, "privileged detail", sig))
    return out


def test_scripted_policies_never_leak_over_tasks_verdicts_and_attempts():
    """Pure sweep (no sandbox): every family x level x seed x policy x verdict x attempt."""
    policies = [make_feedback_policy(name) for name in TEACHERS]
    for family in FAMILIES:
        for level in LEVELS:
            for seed in range(4):
                task = generate(family, level, np.random.default_rng(seed))
                rng = np.random.default_rng(seed)
                for policy in policies:
                    assert not code_leak_check(policy.opening(task), task).leaked
                    for attempt, verdict in enumerate(verdicts_for(task), start=1):
                        text = policy.feedback(task, verdict, min(attempt, 5), rng)
                        report = code_leak_check(text, task)
                        assert not report.leaked, (policy.name, text, report)
                        assert task.answer.strip() not in text


def test_locate_names_the_input_and_the_kind_of_failure():
    task = generate("list", 1, np.random.default_rng(0))
    entry = task.metadata["entry_point"]
    wrong = Verdict(
        False, "1/5", "wrong_output", signals={"first_failure": failure("wrong_output", ([1, 2],), "7")}
    )
    assert locate(task, wrong) == f"For `{entry}([1, 2])` your function returned `7`, which is not right."
    boom = Verdict(
        False, "0/5", "exception", signals={"first_failure": failure("exception", ([],), None, "KeyError")}
    )
    assert f"Calling `{entry}([])` raised KeyError" in locate(task, boom)
    assert "line 4" in locate(task, Verdict(False, "0/5", "syntax_error", signals={"line": 4}))
    assert "did not finish in time" in locate(task, Verdict(False, "0/5", "timeout", signals={
        "first_failure": failure("timeout")}))  # fmt: skip
    assert "```python" in locate(task, Verdict(False, None, "no_code"))


def test_leak_rule_solution_lines_and_expected_outputs():
    task = generate("list", 2, np.random.default_rng(3))
    entry, hidden = task.metadata["entry_point"], task.tests[-1]
    line = next(x for x in task.answer.splitlines()[1:] if len(x.strip()) > 14)
    assert code_leak_check(f"Try this:   {line.strip()}", task).leaked
    assert not code_leak_check(f"You wrote {line.strip()}", task, public=[f"```python\n{line}\n```"]).leaked
    stated = f"{entry}{hidden.args!r} should return {hidden.expected!r}."
    report = code_leak_check(stated, task)
    assert report.leaked and "[redacted]" in redact(stated, task)
    assert not code_leak_check(redact(stated, task), task).leaked
    assert not code_leak_check(f"Your function returned {hidden.expected!r} for one input.", task).leaked
    example = task.tests[0]  # shown in the prompt: public
    assert not code_leak_check(f"{entry}{example.args!r} should return {example.expected!r}.", task).leaked


def test_wrong_answer_falls_back_to_a_failing_constant(tmp_path):
    rng = np.random.default_rng(0)
    task = generate("number", 1, rng)
    assert "```python" in wrong_answer(task, rng) and format_answer(task).count(task.answer.strip()) == 1
    loaded = type(task)(id="x", domain="code", prompt="p", answer="a", tests=task.tests,
                        metadata={"entry_point": "f"})  # fmt: skip
    assert "def f(*args):\n    return None" in wrong_answer(loaded, rng)


@pytest.fixture(scope="module")
def env():
    e = convenv.make("CodeTutor-v0", max_turns=4)
    yield e
    e.close()


@pytest.mark.parametrize("teacher", TEACHERS)
def test_every_scripted_teacher_plays_without_leaking(teacher):
    env = convenv.make("CodeTutor-v0", teacher=teacher, max_turns=3)
    for seed in range(3):
        result = play_episode(
            env,
            {"teacher": env.default_teacher(), "student": OracleStudent(env, correct_at=3, seed=seed)},
            seed=seed,
        )
        assert result.success_turn == 3 and result.leaks == 0 and result.returns["student"] == 1.0
    env.close()


HOSTILE = {
    "infinite loop": "def {f}(*a):\n    while True:\n        pass",
    "fork bomb": "import os\ndef {f}(*a):\n    while True:\n        os.fork()",
    "fake report": "print('all tests passed')\nprint('OK 100/100')\ndef {f}(*a):\n    print('all tests passed')",
    "exit": "import sys\nsys.exit(0)",
}


@pytest.mark.parametrize("kind", list(HOSTILE))
def test_hostile_student_gets_a_quick_wrong_verdict_then_a_correct_one(kind):
    env = convenv.make("CodeTutor-v0", sandbox_limits=Limits(wall_s=2.0, per_test_s=0.3), render_mode="ansi")
    obs, infos = env.reset(seed=1)
    teacher = env.default_teacher()
    encode = env.tokenizer.encode
    env.step({"teacher": teacher.act([obs["teacher"]], [infos["teacher"]])[0]})
    code = HOSTILE[kind].format(f=env.task.metadata["entry_point"])
    start = time.monotonic()
    obs, rewards, terms, truncs, infos = env.step({"student": np.array(encode(f"```python\n{code}\n```"))})
    assert time.monotonic() - start < 8 and infos["student"]["correct"] is False and not any(terms.values())
    assert rewards["student"] == 0.0
    obs, *_ = env.step({"teacher": teacher.act([obs["teacher"]], [infos["teacher"]])[0]})
    obs, rewards, terms, _, infos = env.step({"student": np.array(encode(format_answer(env.task)))})
    assert infos["student"]["correct"] is True and all(terms.values()) and rewards["student"] == 1.0
    env.close()


def test_teacher_view_gets_the_test_report_and_the_student_view_does_not(env):
    obs, infos = env.reset(seed=2)
    teacher = env.default_teacher()
    obs, *_ = env.step({"teacher": teacher.act([obs["teacher"]], [infos["teacher"]])[0]})
    wrong = wrong_answer(env.task, np.random.default_rng(0))
    obs, _, _, _, infos = env.step({"student": np.array(env.tokenizer.encode(wrong))})
    teacher_text = env.tokenizer.decode(obs["teacher"]["tokens"])
    assert "[tests] wrong (" in teacher_text and "expected" in teacher_text
    assert "[tests]" not in env.tokenizer.decode(obs["student"]["tokens"])
    assert env.task.answer.strip() in teacher_text and env.task.answer.strip() not in env.transcript.view_text(
        "student"
    )
    assert infos["teacher"]["verdict"].signals["total"] == len(env.task.tests)


def test_tasks_from_local_files(tmp_path):
    row = {
        "task_id": "HumanEval/0",
        "prompt": 'def add(a, b):\n    """Add two numbers."""\n',
        "canonical_solution": "    return a + b\n",
        "test": "def check(candidate):\n    assert candidate(2, 3) == 5\n    assert candidate(-1, 1) == 0\n",
        "entry_point": "add",
    }
    path = tmp_path / "he.jsonl"
    path.write_text(json.dumps(row) + "\n")
    env = convenv.make("CodeTutor-v0", tasks_file=str(path))
    result = play_episode(
        env, {"teacher": env.default_teacher(), "student": OracleStudent(env, correct_at=2)}, seed=0
    )
    assert result.success_turn == 2 and result.leaks == 0 and env.task.id.startswith("humaneval/")
    with pytest.raises(ValueError, match="expected tasks_format in"):
        convenv.make("CodeTutor-v0", tasks_file=str(path), tasks_format="csv")
    env.close()


def test_without_bubblewrap_make_raises_unless_unsafe(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))  # no bwrap on PATH
    with pytest.raises(SandboxUnavailable, match="bubblewrap"):
        convenv.make("CodeTutor-v0")
    with pytest.warns(RuntimeWarning, match="WITHOUT ISOLATION"):
        env = convenv.make("CodeTutor-v0", unsafe_no_isolation=True)
    result = play_episode(
        env, {"teacher": env.default_teacher(), "student": OracleStudent(env, correct_at=1)}, seed=0
    )
    assert result.success
    env.close()


def test_bad_teacher_name():
    with pytest.raises(ValueError, match="did you mean 'locate'"):
        convenv.make("CodeTutor-v0", teacher="locat")


# ------------------------------------------------------------------------------------------------- sharded
def test_sharded_teacher_reveals_the_asked_shard_and_counts_premature_attempts():
    env = convenv.make("CodeTutor-Sharded-v0", difficulty=2, max_turns=6)
    obs, infos = env.reset(seed=0, options={"task": ShardedCodeTaskGenerator(
        families="list", difficulty=2).sample(np.random.default_rng(5))})  # fmt: skip
    task, teacher, encode = env.task, env.default_teacher(), env.tokenizer.encode
    opening = teacher.act([obs["teacher"]], [infos["teacher"]])[0]
    assert not any(s in env.tokenizer.decode(opening) for s in task.shards)
    obs, _, _, _, infos = env.step({"teacher": opening})
    keyword = task.metadata["shard_keywords"][1][0]
    obs, _, _, _, infos = env.step({"student": np.array(encode(f"What about {keyword} values?"))})
    assert infos["student"]["turn_kind"] == "question"
    obs, _, _, _, infos = env.step({"teacher": teacher.act([obs["teacher"]], [infos["teacher"]])[0]})
    assert task.shards[1] in infos["student"]["last_message"] and infos["teacher"]["shards_revealed"] == (1,)
    obs, _, _, _, infos = env.step({"student": np.array(encode(format_answer(task)))})  # correct, but premature
    episode = infos["student"]["episode"]
    assert episode["success"] and episode["premature_attempts"] == 1 and episode["questions"] == 1
    env.close()


@pytest.mark.parametrize("teacher", ["verdict", "hints"])
def test_sharded_env_passes_check_env_with_other_teachers(teacher):
    env = convenv.make("CodeTutor-Sharded-v0", teacher=teacher, max_turns=3)
    check_env(env, episodes=2, pettingzoo=False)
    env.close()


def test_code_tutor_example_dialogue_renders():
    env = convenv.make("CodeTutor-v0", families=["string"], difficulty=2, render_mode="ansi")
    play_episode(env, {"teacher": env.default_teacher(), "student": OracleStudent(env, correct_at=2)}, seed=3)
    text = env.render()
    assert "CodeTutor-v0  task code/string/2/" in text and "verdict: correct at turn 2" in text
    assert "tests passed" in text
    env.close()
