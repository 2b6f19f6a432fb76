import numpy as np
import pytest
from pettingzoo.test import api_test, parallel_api_test

import convenv
from convenv.agents import ProbabilisticStudent
from convenv.error import InvalidAction, ResetNeeded
from convenv.wrappers import StudentEnv, TeacherEnv, TextWrapper, to_aec


@pytest.fixture
def env():
    env = convenv.make("MathTutor-v0", max_turns=3)
    yield env
    env.close()


def test_student_env_embeds_the_default_teacher(env):
    student_env = StudentEnv(env)
    obs, info = student_env.reset(seed=0)
    assert info["to_act"] == "student" and "task" not in info
    assert env.task.prompt[:20] in env.tokenizer.decode(obs)
    answer = np.asarray(env.tokenizer.encode(env.domain.format_answer(env.task)))
    obs, reward, terminated, truncated, info = student_env.step(answer)
    assert (reward, terminated, truncated) == (1.0, True, False)
    with pytest.raises(ResetNeeded, match="call reset\\(\\) before step\\(\\)"):
        student_env.step(answer)


def test_student_env_wrong_attempts_get_feedback_then_truncate(env):
    student_env = StudentEnv(env)
    obs, _ = student_env.reset(seed=1)
    for turn in range(3):
        length = len(obs)
        obs, reward, terminated, truncated, info = student_env.step(np.asarray(env.tokenizer.encode("no idea")))
        assert reward == 0.0 and not terminated
        if turn < 2:  # the teacher replied, so the view grew by more than the attempt
            assert info["last_speaker"] == "teacher" and len(obs) > length
    assert truncated


def test_student_env_same_seed_same_episode(env):
    a = StudentEnv(env)
    first = a.reset(seed=42)[0].tolist()
    a.reset(seed=7)
    assert a.reset(seed=42)[0].tolist() == first


def test_teacher_env_against_a_simple_student(env):
    teacher_env = TeacherEnv(env, student=ProbabilisticStudent(env, p_correct=1.0, seed=0))
    obs, info = teacher_env.reset(seed=0)
    assert "task" in info  # the teacher sees the privileged task
    opening = env.default_teacher().act([{"tokens": obs}], [info])[0]
    obs, reward, terminated, truncated, info = teacher_env.step(opening)
    assert terminated and reward == 1.0


def test_text_wrapper_round_trip_and_api(env):
    text_env = TextWrapper(env)
    obs, infos = text_env.reset(seed=0)
    assert "<teacher>" not in obs["student"]["text"] and "<system>" in obs["student"]["text"]
    obs, *_ = text_env.step({"teacher": "Solve it, please."})
    assert obs["student"]["text"].endswith("<teacher>Solve it, please.<end>")
    with pytest.raises(InvalidAction, match="expected a str action for 'student'"):
        text_env.step({"student": np.array([1, 2])})
    parallel_api_test(TextWrapper(convenv.make("MathTutor-v0")), num_cycles=20)


def test_aec_conversion_passes_pettingzoo_api_test():
    aec = to_aec(convenv.make("MathTutor-v0", max_turns=2))
    api_test(aec, num_cycles=20)
    aec.close()
