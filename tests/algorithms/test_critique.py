"""Critique prediction: the teacher's feedback masked in the student's view, no privileged context, loss falls."""

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

import convenv  # noqa: E402
from convenv.agents import HFAgent, OracleStudent  # noqa: E402
from convenv.algorithms.critique import critique_examples, critique_loss, critique_update  # noqa: E402
from convenv.algorithms.sft import collate  # noqa: E402
from convenv.envs.course import BisectionStudent  # noqa: E402
from convenv.play import play_batch  # noqa: E402


def tiny_gpt2(vocab_size, seed=0):
    torch.manual_seed(seed)
    config = transformers.GPT2Config(n_layer=1, n_head=2, n_embd=32, vocab_size=vocab_size, n_positions=2048,
                                     bos_token_id=None, eos_token_id=None)  # fmt: skip
    return transformers.GPT2LMHeadModel(config).eval()


def played(env_id, n, student, **kwargs):
    envs = [convenv.make(env_id, **kwargs) for _ in range(n)]
    play_batch(envs, {"teacher": envs[0].default_teacher(), "student": student(envs)}, seeds=range(n))
    return envs


def close(envs):
    for env in envs:
        env.close()


def runs(mask):
    edges = np.diff(np.concatenate([[0], (np.asarray(mask) > 0).astype(int), [0]]))
    return list(zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1), strict=True))


@pytest.mark.parametrize(
    "env_id, kwargs",
    [("GuessNumber-v0", {"difficulty": 1}), ("MathTutor-v0", {"max_turns": 3})],
    ids=["char", "byte"],
)
def test_mask_covers_exactly_the_teacher_feedback_in_the_students_view(env_id, kwargs):
    envs = played(env_id, 4, lambda envs: OracleStudent(envs, correct_at=None), **kwargs)  # never right
    examples = critique_examples(envs)
    openings = critique_examples(envs, include_opening=True)
    assert len(examples) == len(openings) == 4
    for env, example, with_opening in zip(envs, examples, openings, strict=True):
        tok = env.tokenizer
        view = env.transcript.view_ids("student")
        assert np.array_equal(example.tokens, view) and example.meta["kind"] == "critique"
        feedback = [m for m in env.transcript.messages if m.speaker == "teacher"]
        spans = runs(example.loss_mask)
        assert len(spans) == len(feedback) - 1 == env.max_turns - 1  # every feedback but the opening
        for message, (lo, hi) in zip(feedback[1:], spans, strict=True):
            ids = view[lo:hi].tolist()
            assert ids[:-1] == list(message.body) and ids[-1] == tok.end_of_turn_id
            assert tok.decode(ids[:-1]) == message.text
        assert len(runs(with_opening.loss_mask)) == len(feedback)
        # the context holds no privileged knowledge: no teacher system prompt, no verifier report, no answer
        text = tok.decode(view)
        teacher_prompt = next(m.text for m in env.transcript.messages if m.visible_to == frozenset({"teacher"}))
        assert teacher_prompt not in text and env.task.solution not in text
        assert not any(m.speaker == "verifier" for m, _, _ in env.transcript.view_spans("student"))
        said = [m.text for m in env.transcript.messages if m.speaker == "student"]  # wrong, but may share parts
        assert not env.domain.leak_check(text, env.task, public=said).leaked
    close(envs)


def test_first_attempt_successes_give_no_example_and_the_teacher_view_is_refused():
    envs = played("GuessNumber-v0", 3, lambda envs: OracleStudent(envs, correct_at=1), difficulty=1)
    assert critique_examples(envs) == []
    assert len(critique_examples(envs, include_opening=True)) == 3
    with pytest.raises(ValueError, match="expected the view of a role without the privileged knowledge"):
        critique_examples(envs, role="teacher")
    model = tiny_gpt2(47)
    metrics = critique_update(model, torch.optim.Adam(model.parameters()), [])
    assert math.isnan(metrics["critique_loss"]) and metrics["critique_tokens"] == 0
    with pytest.raises(ValueError, match="expected batch_size >= 1"):
        critique_update(model, torch.optim.Adam(model.parameters()), [], batch_size=0)
    close(envs)


def test_a_few_updates_lower_the_critique_loss_and_leave_the_value_head_alone():
    from convenv.agents import ValueHead

    envs = played("GuessNumber-v0", 16, lambda envs: BisectionStudent(envs[0].tokenizer), difficulty=1)
    examples = critique_examples(envs)
    agent = HFAgent.for_env(envs[0], tiny_gpt2(47), role="student", device=None, max_new_tokens=3,
                            value_head=ValueHead(32))  # fmt: skip
    params = list(agent.model.parameters()) + list(agent.value_head.parameters())
    optimizer = torch.optim.Adam(params, lr=3e-3)
    head = [p.detach().clone() for p in agent.value_head.parameters()]
    batch = collate(examples)
    with torch.no_grad():
        before = critique_loss(agent, *batch).item()
    history = [critique_update(agent, optimizer, examples, coef=1.0, batch_size=8) for _ in range(6)]
    with torch.no_grad():
        after = critique_loss(agent, *batch).item()
    assert after < 0.5 * before, (before, after)
    assert history[-1]["critique_loss"] < history[0]["critique_loss"]
    assert history[0]["critique_tokens"] == sum(e.trained_tokens for e in examples)
    assert history[0]["critique_steps"] == 2
    assert all(torch.equal(a, b) for a, b in zip(head, agent.value_head.parameters(), strict=True))
    close(envs)


def test_the_critique_trained_model_plays_the_autodidact_teacher():
    envs = played("MathTutor-v0", 2, lambda envs: OracleStudent(envs, correct_at=None), max_turns=2)
    model = tiny_gpt2(264)
    metrics = critique_update(model, torch.optim.Adam(model.parameters(), lr=1e-3), critique_examples(envs))
    assert metrics["critique_tokens"] > 0 and metrics["critique_loss"] > 0
    close(envs)
    # the same model now critiques without the privileged knowledge (teacher_knowledge="none")
    envs = [convenv.make("MathTutor-v0", max_turns=2, teacher_knowledge="none") for _ in range(2)]
    teacher = HFAgent.for_env(envs[0], model, role="teacher", device=None, max_new_tokens=8)
    play_batch(envs, {"teacher": teacher, "student": OracleStudent(envs, correct_at=None)}, seeds=range(2))
    examples = critique_examples(envs)
    assert len(examples) == 2 and all(e.trained_tokens > 0 for e in examples)
    close(envs)
