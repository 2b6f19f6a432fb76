"""Agent specs: parsing, and an error that says what to do for every spec that cannot be played."""

import pytest

from convenv.evaluation import AgentSpec, evaluate, parse_agent


@pytest.mark.parametrize(
    "spec, role, kind, arg",
    [
        ("scripted", "teacher", "scripted", None),
        ("hints", "teacher", "policy", "hints"),
        ("random", "student", "random", 16),
        ("random:4", "teacher", "random", 4),
        ("oracle", "student", "oracle", 1),
        ("oracle:3", "student", "oracle", 3),
        ("probabilistic:0.4", "student", "probabilistic", 0.4),
        ("bisection", "student", "bisection", None),
        ("no-feedback", "student", "no-feedback", None),
        ("human", "teacher", "human", None),
        ("hf:gpt2", "student", "hf", "gpt2"),
    ],
)
def test_parse_agent(spec, role, kind, arg):
    assert parse_agent(spec, role) == AgentSpec(spec, kind, arg)


def test_an_existing_directory_is_a_model(tmp_path):
    assert parse_agent(str(tmp_path), "student") == AgentSpec(str(tmp_path), "hf", str(tmp_path))


@pytest.mark.parametrize(
    "spec, role, message",
    [
        (
            "bisectoin",
            "student",
            r"expected a student spec \(random, .*\), got 'bisectoin'; did you mean 'bisection'",
        ),
        ("scripted", "student", r"expected a student spec .*, got 'scripted'; use one of random"),
        (
            "oracle",
            "teacher",
            r"expected a teacher spec .*, got 'oracle', which plays the student; pass it as --stu",
        ),
        ("probabilistic", "student", r"expected probabilistic:P with 0 <= P <= 1, got 'probabilistic'; e.g. proba"),
        ("probabilistic:1.5", "student", r"expected probabilistic:FLOAT with 0.0 <= value <= 1.0, got 'probabi"),
        ("random:0", "student", r"expected random:INT with value >= 1, got 'random:0'"),
        ("hf:", "student", r"expected hf:NAME_OR_PATH, got 'hf:'; e.g. hf:gpt2"),
        (
            "runs/nothing-here",
            "student",
            r"expected an existing model directory .*, got 'runs/nothing-here', which",
        ),
    ],
)
def test_bad_specs_say_what_to_do(spec, role, message):
    with pytest.raises(ValueError, match=message):
        parse_agent(spec, role)


def test_errors_found_when_playing(tmp_path):
    with pytest.raises(ValueError, match=r"expected a course env \(GuessNumber-v0 or Arithmetic-v0\) for the 'bis"):
        evaluate("MathTutor-v0", "bisection", episodes=1)
    with pytest.raises(
        ValueError, match=r"expected a teacher spec .* or a feedback policy of GuessNumber-v0, got 'h"
    ):
        evaluate("GuessNumber-v0", "bisection", teacher="hints", episodes=1)
    with pytest.raises(ValueError, match=r"expected the teacher policy once, got teacher='verdict' and env_kwargs"):
        evaluate("GuessNumber-v0", "bisection", teacher="verdict", env_kwargs={"teacher": "direction"}, episodes=1)
    with pytest.raises(ValueError, match=r"expected one or more distinct students, got \['random', 'random'\]"):
        evaluate("GuessNumber-v0", ["random", "random"], episodes=1)
    with pytest.raises(ValueError, match=r"expected episodes >= 1 and batch_size >= 1, got 0 and 32"):
        evaluate("GuessNumber-v0", "random", episodes=0)
    (tmp_path / "empty").mkdir()
    with pytest.raises(
        ValueError, match=r"expected a model directory \(config.json\) or a convenv train --out dir"
    ):
        evaluate("GuessNumber-v0", str(tmp_path / "empty"), episodes=1)


def test_a_hub_name_offline_says_what_to_do(monkeypatch):
    pytest.importorskip("transformers")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ValueError, match=r"expected a loadable model, got 'no-such-org/no-such-model': not found lo"
                                         r"cally, and HF_HUB_OFFLINE is set"):  # fmt: skip
        evaluate("GuessNumber-v0", "hf:no-such-org/no-such-model", episodes=1)


def test_a_teacher_policy_by_name():
    verdict = evaluate("GuessNumber-v0", "bisection", teacher="verdict", episodes=10)
    direction = evaluate("GuessNumber-v0", "bisection", teacher="direction", episodes=10)
    assert direction.metrics[0].success == 1.0 > verdict.metrics[0].success  # "no" carries no direction
    opening, feedback = [m["text"] for m in verdict.records["bisection"][0].messages if m["role"] == "teacher"][:2]
    assert feedback == "no" and verdict.env_kwargs["teacher"] == "verdict"
