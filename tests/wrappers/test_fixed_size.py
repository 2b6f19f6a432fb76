import warnings

import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env as gym_check_env
from hypothesis import given, settings
from hypothesis import strategies as st
from pettingzoo.test import api_test, parallel_api_test

import convenv
from convenv.agents import ProbabilisticStudent
from convenv.error import InvalidAction
from convenv.tokenizers import CharTokenizer
from convenv.wrappers import FixedSizeCodec, FixedSizeEnv, FixedSizeParallelEnv, StudentEnv, TeacherEnv, to_aec

ANSWERS = [str(i) for i in range(1, 16)]
OPTIONS = {
    "tokens": {},
    "digits": {"alphabet": "0123456789", "max_tokens": 2, "obs_length": 24},
    "box": {"obs_type": "box", "obs_length": 16},
    "choices": {"choices": ANSWERS},
}


@pytest.fixture
def guess():
    env = convenv.make("GuessNumber-v0", difficulty=1)
    yield env
    env.close()


@pytest.mark.parametrize("option", OPTIONS)
def test_fixed_size_env_passes_gymnasium_and_sb3_checkers(guess, option):
    sb3_check_env = pytest.importorskip("stable_baselines3.common.env_checker").check_env
    env = FixedSizeEnv(StudentEnv(guess), **OPTIONS[option])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # neither checker may warn either
        gym_check_env(env, skip_render_check=True)  # render is the inner env's (no render_mode here)
        sb3_check_env(env)


def test_observation_is_the_last_ids_left_padded(guess):
    env = FixedSizeEnv(StudentEnv(guess), obs_length=80, obs_type="box")
    obs, _ = env.reset(seed=0)
    view = guess.transcript.view_ids("student")
    assert obs.shape == (80,) and obs.dtype == np.int64
    assert obs[-len(view) :].tolist() == list(view) and set(obs[: -len(view)]) == {guess.tokenizer.pad_id}
    short = FixedSizeEnv(StudentEnv(guess), obs_length=5)
    obs, _ = short.reset(seed=0)
    assert obs.tolist() == list(guess.transcript.view_ids("student"))[-5:]


def test_token_actions_end_at_the_end_value_and_say_alphabet_ids(guess):
    codec = FixedSizeCodec(guess, alphabet="0123456789", max_tokens=3)
    assert codec.action_space.nvec.tolist() == [10, 11, 11] and codec.end_value == 10
    assert codec.text([1, 2, 10]) == "12" and codec.text([7, 10, 3]) == "7" and codec.text([1, 0, 0]) == "100"
    default = FixedSizeCodec(guess)  # every non-structural id; for the char tokenizer a value is the token id
    assert default.action_space.nvec.tolist() == [39, 40, 40, 40]
    assert default.utterance([15, 1, 39, 39]).tolist() == [15, 1]


def test_choice_actions_say_the_choice(guess):
    env = FixedSizeEnv(StudentEnv(guess), choices=ANSWERS)
    env.reset(seed=3)
    _, _, _, _, info = env.step(np.int64(7))
    assert info["said"] == "8" and student_said(guess) == "8"
    _, _, _, _, info = env.step(np.array([3]))  # SB3 may hand Discrete actions over as 1-element arrays
    assert info["said"] == "4" and student_said(guess) == "4"


def student_said(env):
    return [m.text for m in env.transcript.messages if m.speaker == "student"][-1]


@pytest.fixture(scope="module")
def shared_guess():
    env = convenv.make("GuessNumber-v0", difficulty=1)
    yield env
    env.close()


@settings(max_examples=40, deadline=None)
@given(values=st.lists(st.integers(0, 39), min_size=4, max_size=4), seed=st.integers(0, 2**16))
def test_every_point_of_the_token_action_space_is_a_valid_utterance(shared_guess, values, seed):
    env = shared_guess
    fixed = FixedSizeEnv(StudentEnv(env))
    fixed.reset(seed=seed)
    values[0] = min(values[0], 38)  # the first slot has no end value
    assert values in fixed.action_space
    before = len(env.transcript.messages)
    fixed.step(np.asarray(values))  # never raises: structural ids cannot be produced
    said = env.transcript.messages[before].body
    assert 1 <= len(said) <= 4 and not set(said) & set(env.tokenizer.special_ids.values())


def test_invalid_actions_raise_and_leave_the_transcript_untouched(guess):
    tokens = FixedSizeEnv(StudentEnv(guess), alphabet="0123456789", max_tokens=2)
    tokens.reset(seed=0)
    length = len(guess.transcript.messages)
    with pytest.raises(InvalidAction, match=r"expected slot values below \[10, 11\], got \[10, 3\]"):
        tokens.step(np.array([10, 3]))  # the first slot cannot end the utterance
    with pytest.raises(InvalidAction, match=r"expected an integer array of shape \(2,\).*got shape \(3,\)"):
        tokens.step(np.array([1, 2, 3]))
    assert len(guess.transcript.messages) == length
    choices = FixedSizeEnv(StudentEnv(guess), choices=ANSWERS)
    choices.reset(seed=0)
    length = len(guess.transcript.messages)
    with pytest.raises(InvalidAction, match=r"expected an action in Discrete\(15\).*got 15"):
        choices.step(15)
    assert len(guess.transcript.messages) == length


def test_codec_settings_errors(guess):
    with pytest.raises(ValueError, match="expected obs_type in"):
        FixedSizeCodec(guess, obs_type="onehot")
    with pytest.raises(ValueError, match="expected obs_length >= 1, got 0"):
        FixedSizeCodec(guess, obs_length=0)
    with pytest.raises(ValueError, match=r"expected 1 <= max_tokens <= 4 .*got 5"):
        FixedSizeCodec(guess, max_tokens=5)
    with pytest.raises(ValueError, match="expected a non-empty alphabet of distinct ids"):
        FixedSizeCodec(guess, alphabet="11")
    with pytest.raises(ValueError, match=r"expected alphabet ids in \[0, 47\) that are not structural, got \[42\]"):
        FixedSizeCodec(guess, alphabet=[1, guess.tokenizer.end_of_turn_id])
    with pytest.raises(ValueError, match="expected an alphabet character the env's tokenizer can encode, got 'Z'"):
        FixedSizeCodec(guess, alphabet="0Z")
    with pytest.raises(ValueError, match="expected a non-empty sequence of strings as choices"):
        FixedSizeCodec(guess, choices="12")
    with pytest.raises(ValueError, match=r"expected every choice to encode to 1..4 ids .*got 5 for '12345'"):
        FixedSizeCodec(guess, choices=["1", "12345"])
    with pytest.raises(ValueError, match=r"expected every choice to encode to 1..4 ids .*got 0 for ''"):
        FixedSizeCodec(guess, choices=[""])


def test_alphabet_of_multi_id_characters_is_refused():
    env = convenv.make("MathTutor-v0")  # byte tokenizer: "é" is two bytes
    with pytest.raises(ValueError, match="expected each alphabet character to encode to exactly one id, got 'é'"):
        FixedSizeCodec(env, alphabet="aé")
    env.close()


def test_fixed_size_env_needs_a_single_agent_view(guess):
    with pytest.raises(TypeError, match="expected a single-agent view .*got ConversationEnv; wrap it first"):
        FixedSizeEnv(guess)


def test_parallel_env_passes_pettingzoo_tests_and_aec_conversion():
    def make():
        return FixedSizeParallelEnv(
            convenv.make("GuessNumber-v0", difficulty=1),
            {"teacher": {"choices": ["<", ">"], "obs_length": 5}, "student": {"choices": ANSWERS}},
        )

    parallel_api_test(make(), num_cycles=30)
    aec = to_aec(make())
    api_test(aec, num_cycles=30)
    aec.close()


def test_parallel_env_steps_the_speaker_and_checks_keys(guess):
    env = FixedSizeParallelEnv(guess, {"teacher": {"choices": ["1-15", "<", ">"]}, "student": {"choices": ANSWERS}})
    obs, infos = env.reset(seed=0)
    assert obs["student"]["tokens"].shape == (64,) and infos["teacher"]["to_act"] == "teacher"
    obs, _, _, _, infos = env.step({"teacher": 0, "student": 4})  # the student's action is ignored
    assert infos["student"]["ignored_action"] and guess.transcript.messages[-1].text == "1-15"
    with pytest.raises(InvalidAction, match=r"expected actions keyed by agents in \['teacher', 'student'\]"):
        env.step({"pupil": 1})
    with pytest.raises(ValueError, match=r"expected codecs keyed by agents in \['teacher', 'student'\], got"):
        FixedSizeParallelEnv(guess, {"pupil": {}})


class EndMarkTokenizer(CharTokenizer):
    """Encodes "|" as the end-of-turn id, as tokenizers that parse special-token text do."""

    def encode(self, text):
        ids = super().encode(text.replace("|", "0"))
        return [self.end_of_turn_id if ch == "|" else i for ch, i in zip(text, ids, strict=True)]


def test_choices_that_forge_structural_ids_are_refused():
    env = convenv.make("GuessNumber-v0", difficulty=1, tokenizer=EndMarkTokenizer())
    with pytest.raises(ValueError, match=r"expected a choice without structural ids, got '7\|' encoding to \[42\]"):
        FixedSizeCodec(env, choices=["7|"])
    env.close()


def test_teacher_view_with_choices_passes_the_checkers(guess):
    sb3_check_env = pytest.importorskip("stable_baselines3.common.env_checker").check_env
    student = ProbabilisticStudent(guess, p_correct=0.0, seed=0)  # always wrong, whatever the opening
    env = FixedSizeEnv(TeacherEnv(guess, student=student), choices=["1-15", "<", ">"], obs_length=8)
    gym_check_env(env, skip_render_check=True)
    sb3_check_env(env)
    env.reset(seed=0)
    for action in (0, 1, 2, 1):  # open, then any words: the student stays wrong until the turn limit
        _, _, terminated, truncated, info = env.step(action)
    assert truncated and not terminated and info["said"] == "<"
    assert [m.text for m in guess.transcript.messages if m.speaker == "teacher"] == ["1-15", "<", ">", "<"]
