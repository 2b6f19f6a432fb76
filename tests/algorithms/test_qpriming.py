"""Q-priming: wrong attempts become questions at rate 0.75**t, no question leaks, examples are real transcripts."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import convenv  # noqa: E402
from convenv.agents import OracleStudent  # noqa: E402
from convenv.algorithms.qpriming import (  # noqa: E402
    QPrimingStudent,
    build_qpriming_examples,
    default_question_writer,
    replacement_probability,
)
from convenv.algorithms.sft import SFTConfig, train_sft  # noqa: E402
from convenv.envs.course import split_view  # noqa: E402
from convenv.envs.sharded import MATCHED  # noqa: E402


def close(envs):
    for env in envs:
        env.close()


def primed(env_id, n, correct_at=None, seed=0, **kwargs):
    """n Q-primed episodes (every one kept) of an OracleStudent that is wrong before turn ``correct_at``."""
    envs = [convenv.make(env_id, **kwargs) for _ in range(n)]
    student = OracleStudent(envs, correct_at=correct_at)
    examples = build_qpriming_examples(envs, {"student": student}, seeds=range(n), seed=seed, only_successful=False)
    return envs, examples


def test_replacement_rate_follows_base_to_the_turn():
    # an always-wrong student on GuessNumber level 3 (6 turns): every turn is a wrong attempt or a question
    counts = np.zeros((7, 2))  # per turn: draws, replacements
    for seed in range(3):
        envs, examples = primed("GuessNumber-v0", 300, seed=seed, difficulty=3)
        close(envs)
        for example in examples:
            for turn, replaced in example.meta["decisions"]:
                counts[turn] += (1, replaced)
    draws, hits = counts[1:, 0], counts[1:, 1]
    assert list(draws) == [900] * 6  # each turn is a wrong attempt (a decision) or follows a question
    p = 0.75 ** np.arange(1, 7)
    z = (hits - draws * p) / np.sqrt(draws * p * (1 - p))
    assert np.all(np.abs(z) < 4), z
    assert float(np.sum(z**2)) < 22.5  # chi-square with 6 degrees of freedom, p ~ 0.001


def test_probability_and_edge_bases():
    assert replacement_probability(1) == 0.75 and replacement_probability(3) == pytest.approx(0.421875)
    with pytest.raises(ValueError, match="expected a 1-based student turn, got 0"):
        replacement_probability(0)
    envs = [convenv.make("GuessNumber-v0", difficulty=1) for _ in range(4)]
    with pytest.raises(ValueError, match="expected 0 <= base <= 1, got 1.5"):
        QPrimingStudent(OracleStudent(envs), envs, base=1.5)
    never = build_qpriming_examples(envs, {"student": OracleStudent(envs, correct_at=None)}, seeds=range(4),
                                    base=0.0, only_successful=False)  # fmt: skip
    assert all(not replaced for e in never for _, replaced in e.meta["decisions"])
    always = build_qpriming_examples(envs, {"student": OracleStudent(envs, correct_at=None)}, seeds=range(4),
                                     base=1.0, only_successful=False)  # fmt: skip
    for example in always:  # every turn became "?", answered with "?"
        assert [d for _, d in example.meta["decisions"]] == [True] * 4
        said = [text for role, text in split_view(envs[0].tokenizer, example.tokens) if role != "system"]
        assert said == ["1-15", *(["?"] * 7)]
    close(envs)


@pytest.mark.parametrize("env_id", ["MathTutor-Sharded-v0", "CodeTutor-Sharded-v0", "MathTutor-v0"])
def test_questions_never_leak_and_sharded_questions_get_their_shard(env_id):
    envs, examples = primed(env_id, 8, correct_at=4)
    questions = 0
    for env, example in zip(envs, examples, strict=True):
        task = env.task
        for question in example.meta["questions"]:
            assert not env.domain.leak_check(question, task, public=()).leaked, question
            assert not any(c.isdigit() for c in question)
            questions += 1
        if not task.shards:
            continue
        said = [text for role, text in split_view(env.tokenizer, example.tokens) if role != "system"]
        for i, text in enumerate(said):
            if text in example.meta["questions"] and not text.startswith("Is there any other"):
                # the teacher matched the question to an unrevealed shard and revealed it
                assert said[i + 1].startswith(MATCHED), said[i + 1]
    assert questions >= 6  # with these seeds about 1.7 questions per episode
    close(envs)


@pytest.mark.parametrize(
    "env_id, kwargs", [("GuessNumber-v0", {"difficulty": 1}), ("MathTutor-Sharded-v0", {})], ids=["char", "byte"]
)
def test_examples_are_real_transcripts_that_replay_exactly(env_id, kwargs):
    envs, examples = primed(env_id, 6, correct_at=3, **kwargs)
    assert any(e.meta["questions"] for e in examples)
    for env, example in zip(envs, examples, strict=True):
        replay = convenv.make(env_id, **kwargs)
        tok = replay.tokenizer
        student = [text for role, text in split_view(tok, example.tokens) if role == "student"]
        teacher = replay.default_teacher()
        obs, infos = replay.reset(seed=example.meta["seed"])
        while replay.agents:
            speaker = infos["teacher"]["to_act"]
            if speaker == "teacher":
                action = teacher.act([obs["teacher"]], [infos["teacher"]])[0]
            else:
                action = np.asarray(tok.encode(student.pop(0)), dtype=np.int64)
            obs, _, _, _, infos = replay.step({speaker: action})
        assert not student
        assert np.array_equal(replay.transcript.view_ids("student"), example.tokens)
        assert np.array_equal(replay.transcript.view_ids("teacher"), env.transcript.view_ids("teacher"))
        assert (replay.end_reason == "success") == example.success
        replay.close()
    close(envs)


def test_qprimed_examples_train_with_train_sft():
    transformers = pytest.importorskip("transformers")
    envs, examples = primed("GuessNumber-v0", 8, correct_at=3, difficulty=1)
    close(envs)
    kept = [e for e in examples if e.success]
    assert kept and all(e.trained_tokens > 0 for e in kept)
    torch.manual_seed(0)
    model = transformers.GPT2LMHeadModel(transformers.GPT2Config(n_layer=1, n_head=2, n_embd=32, vocab_size=47,
                                                                 bos_token_id=None, eos_token_id=None))  # fmt: skip
    history = train_sft(model, kept, SFTConfig(epochs=3, batch_size=4, learning_rate=3e-3))
    assert history[-1]["loss"] < history[0]["loss"]


def test_question_writer_errors():
    envs = [convenv.make("MathTutor-v0")]
    leaky = lambda task, messages, rng: f"Is the answer {task.answer}?"  # noqa: E731
    with pytest.raises(ValueError, match="expected a question that does not give the answer away"):
        build_qpriming_examples(envs, {"student": OracleStudent(envs, None)}, seeds=[0], question_writer=leaky,
                                base=1.0)  # fmt: skip
    close(envs)
    envs = [convenv.make("GuessNumber-v0", difficulty=1)]
    wordy = lambda task, messages, rng: "what is it?"  # noqa: E731 -- 11 ids, the env allows 4
    with pytest.raises(ValueError, match="expected a question of at most 4 ids"):
        build_qpriming_examples(envs, {"student": OracleStudent(envs, None)}, seeds=[0], question_writer=wordy,
                                base=1.0)  # fmt: skip
    with pytest.raises(ValueError, match="expected a 'student' agent to wrap"):
        build_qpriming_examples(envs, {}, seeds=[0])
    close(envs)


def test_default_writer_dispatches_on_the_task():
    rng = np.random.default_rng(0)
    for env_id, kwargs, check in [
        ("GuessNumber-v0", {}, lambda q: q == "?"),
        ("MathTutor-v0", {}, lambda q: q.endswith("?") and not any(c.isdigit() for c in q)),
        ("MathTutor-Sharded-v0", {}, lambda q: q.endswith("?") and len(q.split()) > 3),
    ]:
        env = convenv.make(env_id, **kwargs)
        env.reset(seed=0)
        assert check(default_question_writer(env.task, env.transcript.view_messages("student"), rng))
        env.close()


@pytest.mark.parametrize("env_id", ["MathTutor-Sharded-v0", "CodeTutor-Sharded-v0"])
def test_sharded_questions_always_point_at_an_unrevealed_shard(env_id):
    from convenv.algorithms.qpriming import sharded_question
    from convenv.envs.sharded import match_shard
    from convenv.transcript import Message

    env = convenv.make(env_id)
    rng = np.random.default_rng(0)
    for seed in range(100):
        env.reset(seed=seed)
        task, revealed = env.task, []
        for _ in task.shards:  # reveal the asked shard each time, as ShardedTeacher does
            said = Message("teacher", " ".join(task.shards[i] for i in revealed), (), frozenset({"student"}))
            question = sharded_question(task, [said], rng)
            left = [i for i in range(len(task.shards)) if i not in revealed]
            asked = match_shard(question, task, [*left, *revealed])
            assert asked in left, (question, task.shards, revealed)
            revealed.append(asked)
    env.close()
