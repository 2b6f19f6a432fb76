"""The ConversationEnv contract on MathTutor-v0 (DESIGN §4)."""

import numpy as np
import pytest

import convenv
from convenv.error import InvalidAction, NotYourTurn, ResetNeeded


@pytest.fixture(scope="module")
def env():
    env = convenv.make("MathTutor-v0", max_turns=3, gamma=0.5)
    yield env
    env.close()


def say(env, text):
    return np.asarray(env.tokenizer.encode(text), dtype=np.int64)


def test_teacher_opens_and_observations_say_whose_turn(env):
    obs, infos = env.reset(seed=3)
    assert env.agents == ["teacher", "student"]
    assert obs["teacher"]["to_act"] == 0 and obs["student"]["to_act"] == 0
    assert infos["teacher"]["to_act"] == "teacher"
    assert obs["teacher"]["tokens"] in env.observation_space("teacher")["tokens"]
    # the teacher's view carries the answer; the student's does not
    assert env.task.answer in env.transcript.view_text("teacher")
    assert "task" in infos["teacher"] and "task" not in infos["student"]


def test_wrong_then_correct_gives_discounted_reward_to_both(env):
    obs, infos = env.reset(seed=5)
    teacher = env.default_teacher()
    rng = np.random.default_rng(0)
    obs, rew, term, trunc, infos = env.step({"teacher": teacher.act([obs["teacher"]], [infos["teacher"]])[0]})
    assert infos["student"]["to_act"] == "student" and obs["student"]["to_act"] == 1
    obs, rew, term, trunc, infos = env.step({"student": say(env, env.domain.wrong_answer(env.task, rng))})
    assert rew == {"teacher": 0.0, "student": 0.0} and not any(term.values()) and not any(trunc.values())
    assert infos["student"]["correct"] is False and infos["teacher"]["verdict"].correct is False
    assert "[verifier] wrong" in env.transcript.view_text("teacher")
    assert "[verifier]" not in env.transcript.view_text("student")
    obs, rew, term, trunc, infos = env.step({"teacher": teacher.act([obs["teacher"]], [infos["teacher"]])[0]})
    obs, rew, term, trunc, infos = env.step({"student": say(env, env.domain.format_answer(env.task))})
    assert rew == {"teacher": 0.5, "student": 0.5}  # gamma ** (2 - 1)
    assert term == {"teacher": True, "student": True} and trunc == {"teacher": False, "student": False}
    assert env.agents == [] and obs["student"]["to_act"] == 2
    assert infos["student"]["episode"] == {
        "success": True,
        "success_turn": 2,
        "turns": 2,
        "return": 0.5,
        "leaks": 0,
        "reason": "success",
        "attempts": 2,
        "questions": 0,
        "premature_attempts": 0,
    }
    with pytest.raises(ResetNeeded, match="call env.reset\\(\\) before stepping again"):
        env.step({"teacher": say(env, "hi")})


def test_turn_limit_truncates(env):
    obs, infos = env.reset(seed=1)
    steps = 0
    while env.agents:
        speaker = infos["teacher"]["to_act"]
        obs, rew, term, trunc, infos = env.step({speaker: say(env, "I do not know")})
        steps += 1
    assert steps == 6 and all(trunc.values()) and not any(term.values())
    assert infos["teacher"]["episode"]["reason"] == "turn_limit"
    assert infos["teacher"]["verdict"].error == "no_answer"


def test_step_before_reset_raises():
    env = convenv.make("MathTutor-v0")
    with pytest.raises(ResetNeeded, match="call env.reset\\(seed=...\\)"):
        env.step({"teacher": np.array([65])})
    env.close()


@pytest.mark.parametrize(
    "action, match",
    [
        (np.array([70, 100000]), r"expected token ids in \[0, 264\) for 'teacher', got 100000 at position 1"),
        (np.array([1.5]), "expected integer token ids for 'teacher', got dtype float64"),
        (np.zeros((1, 3), dtype=np.int64), "expected a 1-D array of token ids for 'teacher', got shape"),
        (np.full(1025, 65), "expected at most 1024 tokens for 'teacher', got 1025"),
        (np.array([72, 262, 72]), r"expected no structural ids inside 'teacher'.s utterance, got 'student'"),
        (np.array([256, 256]), "expected at least 1 token for 'teacher', got an empty utterance"),
        ("hello", "encode text with env.tokenizer.encode"),
    ],
)
def test_invalid_actions_raise_and_leave_the_transcript_intact(env, action, match):
    env.reset(seed=0)
    before = {a: env.transcript.view_ids(a) for a in env.possible_agents}
    with pytest.raises(InvalidAction, match=match):
        env.step({"teacher": action})
    assert all(np.array_equal(env.transcript.view_ids(a), ids) for a, ids in before.items())


def test_missing_speaker_action_raises_not_your_turn(env):
    env.reset(seed=0)
    with pytest.raises(NotYourTurn, match="expected an action for 'teacher', whose turn it is"):
        env.step({"student": say(env, "me first")})
    with pytest.raises(InvalidAction, match=r"expected actions keyed by agents in \['teacher', 'student'\], got"):
        env.step({"teacher": say(env, "hi"), "narrator": say(env, "psst")})
    with pytest.raises(InvalidAction, match="expected a dict of actions keyed by agent, got list"):
        env.step([say(env, "hi")])
    assert len(env.transcript) == 2  # only the two system prompts


def test_trailing_end_of_turn_and_pads_are_stripped(env):
    env.reset(seed=0)
    tok = env.tokenizer
    env.step({"teacher": np.array([*tok.encode("Hello"), tok.end_of_turn_id, tok.pad_id, tok.pad_id])})
    assert env.transcript.messages[-1].body == tuple(tok.encode("Hello"))


def test_reset_options_task_replays_the_same_problem(env):
    env.reset(seed=11)
    task = env.task
    env.reset(seed=99, options={"task": task})
    assert env.task is task
    with pytest.raises(TypeError, match="expected options\\['task'\\] to be a convenv Task"):
        env.reset(options={"task": "2+2"})


def test_same_seed_same_task_and_no_global_rng():
    a, b = convenv.make("MathTutor-v0"), convenv.make("MathTutor-v0")
    state = np.random.get_state()[1].copy()
    ids = [(a.reset(seed=s)[0]["student"]["tokens"].tolist(), a.task.id) for s in range(5)]
    assert ids == [(b.reset(seed=s)[0]["student"]["tokens"].tolist(), b.task.id) for s in range(5)]
    assert np.array_equal(np.random.get_state()[1], state)
    assert len({t for _, t in ids}) > 1
    a.close()
    b.close()


def test_leak_policies(env):
    leaky = convenv.make("MathTutor-v0", leak_policy="penalize", leak_penalty=0.25)
    obs, infos = leaky.reset(seed=2)
    _, rew, _, _, infos = leaky.step({"teacher": say(leaky, f"The answer is {leaky.task.answer}.")})
    assert infos["teacher"]["leaked"] is True and rew["teacher"] == -0.25
    redacting = convenv.make("MathTutor-v0", leak_policy="redact")
    redacting.reset(seed=2)
    redacting.step({"teacher": say(redacting, f"The answer is {redacting.task.answer}.")})
    assert "[redacted]" in redacting.transcript.view_text("student")
    leaky.close()
    redacting.close()


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"max_turns": 0}, "expected max_turns >= 1"),
        ({"gamma": 0.0}, "expected 0 < gamma <= 1"),
        ({"leak_policy": "ignore"}, "expected leak_policy in"),
        ({"render_mode": "rgb_array"}, "expected render_mode in"),
    ],
)
def test_bad_config_is_rejected(kwargs, match):
    with pytest.raises(ValueError, match=match):
        convenv.make("MathTutor-v0", **kwargs)


def test_render_ansi_shows_roles_and_verdicts():
    env = convenv.make("MathTutor-v0", render_mode="ansi")
    obs, infos = env.reset(seed=4)
    teacher = env.default_teacher()
    env.step({"teacher": teacher.act([obs["teacher"]], [infos["teacher"]])[0]})
    env.step({"student": say(env, "Answer: \\boxed{123456}")})
    text = env.render()
    assert text.startswith(f"MathTutor-v0  task {env.task.id}  turn limit 4")
    assert "[teacher]" in text and "[student]" in text and "verdict: wrong (123456)" in text
    assert env.task.answer not in text.split("[student]")[0].split("\n", 1)[1] or env.task.answer in env.task.prompt
    env.close()


def test_context_limit_truncates_without_appending():
    env = convenv.make("MathTutor-v0", max_context_tokens=700)
    env.reset(seed=0)
    before = len(env.transcript)
    _, _, _, trunc, infos = env.step({"teacher": np.full(600, 65)})
    assert all(trunc.values()) and infos["teacher"]["episode"]["reason"] == "context_limit"
    assert len(env.transcript) == before
    env.close()
