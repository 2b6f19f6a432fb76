"""Property tests of env stepping: any mix of valid, invalid and stray actions keeps the contract."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import convenv
from convenv.error import InvalidAction, ResetNeeded

ENV = convenv.make("MathTutor-v0", max_turns=3, max_utterance_tokens=48)
VOCAB = ENV.tokenizer.vocab_size

utterance = st.one_of(
    st.lists(st.integers(0, 255), min_size=1, max_size=48),  # plain bytes: valid
    st.lists(st.integers(-3, VOCAB + 3), min_size=0, max_size=60),  # may hold specials, OOV ids, be empty/long
    st.sampled_from(["answer", "wrong", "hostile"]),
)
moves = st.lists(st.tuples(utterance, st.booleans(), st.booleans()), min_size=1, max_size=14)


def materialize(choice, rng):
    if choice == "answer":
        return ENV.tokenizer.encode(ENV.domain.format_answer(ENV.task))
    if choice == "wrong":
        return ENV.tokenizer.encode(ENV.domain.wrong_answer(ENV.task, rng))
    if choice == "hostile":
        return ENV.tokenizer.encode("\\boxed{9^9^9^9} __import__('os')")
    return choice


def play(seed, script):
    rng = np.random.default_rng(seed)
    obs, infos = ENV.reset(seed=seed)
    views = {a: ENV.transcript.view_ids(a) for a in ENV.possible_agents}
    total = 0.0
    for choice, also_stray, speaker_present in script:
        if not ENV.agents:
            with pytest.raises(ResetNeeded):
                ENV.step({"teacher": [65]})
            break
        speaker = infos["teacher"]["to_act"]
        other = "student" if speaker == "teacher" else "teacher"
        actions = {speaker: np.asarray(materialize(choice, rng), dtype=np.int64)} if speaker_present else {}
        if also_stray:
            actions[other] = np.array([66])
        before = len(ENV.transcript)
        try:
            obs, rewards, terms, truncs, infos = ENV.step(actions)
        except InvalidAction:
            assert len(ENV.transcript) == before  # nothing appended, views untouched
            for agent, ids in views.items():
                assert np.array_equal(ENV.transcript.view_ids(agent), ids)
            continue
        total += rewards["student"]
        assert infos[other]["ignored_action"] is also_stray
        for agent, ob in obs.items():  # append-only, and always inside the observation space
            assert np.array_equal(ob["tokens"][: len(views[agent])], views[agent])
            assert ob in ENV.observation_space(agent)
            views[agent] = ob["tokens"]
        assert all(m.speaker != "verifier" for m in ENV.transcript.view_messages("student"))
        assert 0.0 <= total <= 1.0
    return [m.body for m in ENV.transcript.messages], total


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), script=moves)
def test_random_scripts_keep_the_contract(seed, script):
    first = play(seed, script)
    assert play(seed, script) == first  # same seed, same actions: same transcript and return


@pytest.mark.slow
@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), script=moves)
def test_random_scripts_keep_the_contract_at_length(seed, script):
    first = play(seed, script)
    assert play(seed, script) == first
