"""Rollout collection: the flat sequences, loss mask, one-forward log-probs and values, rewards, groups."""

from collections import defaultdict

import numpy as np
import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from agents.conftest import byte_gpt2, chatml_llama, chatml_tok  # noqa: E402, F401 -- the agent tests' tiny models

import convenv  # noqa: E402
from convenv.agents import HFAgent, ValueHead  # noqa: E402
from convenv.algorithms.rollout import RolloutBatch, collect, reference_logprobs, reply_starts, score  # noqa: E402
from convenv.tokenizers import generation_prompt  # noqa: E402

R = 24  # max_new_tokens: with the biased tiny GPT-2 some replies stop before it, some are cut at it


def recorded(agent):
    """Keep, per conversation row, every Generation the agent returned (in order)."""
    log = defaultdict(list)
    generate = agent.generate

    def wrapper(observations, infos):
        out = generate(observations, infos)
        for row, g in enumerate(out):
            if g is not None:
                log[row].append(g)
        return out

    agent.generate = wrapper
    return log


def math_envs(n, max_turns=3, **kwargs):
    return [convenv.make("MathTutor-v0", max_turns=max_turns, **kwargs) for _ in range(n)]


def close(envs):
    for env in envs:
        env.close()


@pytest.fixture(scope="module")
def math_rollout(byte_gpt2):  # noqa: F811
    """4 MathTutor conversations (2 and 3 turns) of a sampling student with a value head vs the scripted teacher."""
    envs = math_envs(2, max_turns=2, turn_cost=0.1) + math_envs(2, max_turns=3, turn_cost=0.1)
    torch.manual_seed(0)
    student = HFAgent.for_env(
        envs[0],
        byte_gpt2,
        role="student",
        max_new_tokens=R,
        do_sample=True,
        temperature=0.5,
        top_k=20,
        seed=3,
        value_head=ValueHead(64),
    )
    log = recorded(student)
    batch = collect(envs, student, envs[0].default_teacher(), seeds=[0, 1, 2, 3])
    yield envs, student, log, batch
    close(envs)


@pytest.fixture(scope="module")
def char_gpt2():
    """A 2-layer GPT-2 over the course envs' CharTokenizer (47 ids)."""
    torch.manual_seed(2)
    config = transformers.GPT2Config(
        n_layer=2, n_head=2, n_embd=32, vocab_size=47, n_positions=512, bos_token_id=41, eos_token_id=40
    )
    return transformers.GPT2LMHeadModel(config).eval()


def sampled_by_turn(batch, row):
    return [batch.tokens[row][batch.turn_ids[row] == k].tolist() for k in range(int(batch.turn_ids[row].max()) + 1)]


# ------------------------------------------------------------------------------------------------- the mask
def test_loss_mask_covers_exactly_the_students_sampled_ids(math_rollout):
    envs, _, log, batch = math_rollout
    tok = envs[0].tokenizer
    assert isinstance(batch, RolloutBatch) and len(batch) == 4
    assert batch.tokens.shape == batch.loss_mask.shape == batch.old_logprobs.shape == batch.values.shape
    stopped = [g.stopped for row in log.values() for g in row]
    assert any(stopped) and not all(stopped)  # both kinds of replies are covered
    for row, env in enumerate(envs):
        view = env.transcript.view_ids("student")
        n = len(view)
        assert batch.tokens[row, :n].tolist() == view.tolist()
        assert batch.attention_mask[row].sum() == n and not batch.attention_mask[row, n:].any()
        messages = [m for m in env.transcript.messages if m.speaker == "student"]
        assert len(messages) == len(log[row]) == int(batch.turn_ids[row].max()) + 1
        for ids, message, g in zip(sampled_by_turn(batch, row), messages, log[row], strict=True):
            assert ids == g.ids.tolist()  # the body, plus the end-of-turn id when the reply stopped there
            body = ids[:-1] if g.stopped else ids
            assert tuple(body) == message.body and tok.decode(body) == message.text
            assert (ids[-1] == tok.end_of_turn_id) == g.stopped
        assert torch.equal(batch.loss_mask[row] > 0, batch.turn_ids[row] >= 0)
        # header, sampled ids, then the rest of the footer; after a cut reply the footer's end-of-turn id was
        # written by the env, not sampled
        header = len(generation_prompt(tok, "student"))
        spans = [s for s in env.transcript.view_spans("student") if s[0].speaker == "student"]
        for (_, start, end), g in zip(spans, log[row], strict=True):
            lo, hi = start + header, start + header + len(g.ids)
            assert batch.loss_mask[row, start:lo].sum() == 0 and batch.loss_mask[row, hi:end].sum() == 0
            assert bool(batch.loss_mask[row, lo:hi].all())
            if not g.stopped:
                assert batch.tokens[row, hi] == tok.end_of_turn_id


def test_turn_ids_run_in_order_and_reply_starts_mark_each_first_id(math_rollout):
    _, _, log, batch = math_rollout
    for row in range(len(batch)):
        turns = batch.turn_ids[row][batch.turn_ids[row] >= 0]
        assert torch.equal(turns, torch.sort(turns).values)
        starts = torch.nonzero(reply_starts(batch.loss_mask[row : row + 1])[0]).flatten()
        assert batch.turn_ids[row, starts].tolist() == list(range(len(log[row])))


# ------------------------------------------------------------------------------------- log-probs and values
def test_one_forward_logprobs_and_values_equal_the_sampling_ones(math_rollout):
    _, _, log, batch = math_rollout
    for row in range(len(batch)):
        on = batch.loss_mask[row] > 0
        sampled = np.concatenate([g.logprobs for g in log[row]])
        values = np.concatenate([g.values for g in log[row]])
        np.testing.assert_allclose(batch.old_logprobs[row][on].numpy(), sampled, atol=1e-4, rtol=0)
        np.testing.assert_allclose(batch.values[row][on].numpy(), values, atol=1e-4, rtol=0)
        assert not batch.old_logprobs[row][~on].any() and not batch.values[row][~on].any()


def test_right_padding_does_not_change_a_rows_logprobs(math_rollout):
    _, student, _, batch = math_rollout
    lengths = batch.attention_mask.sum(1)
    row = int(lengths.argmin())
    assert lengths[row] < batch.tokens.shape[1]  # the row is padded in the batch
    n = int(lengths[row])
    with torch.no_grad():
        alone, values = score(
            student, batch.tokens[row : row + 1, :n], torch.ones(1, n), batch.loss_mask[row : row + 1, :n]
        )
    torch.testing.assert_close(alone[0], batch.old_logprobs[row, :n], atol=1e-5, rtol=0)
    torch.testing.assert_close(values[0], batch.values[row, :n], atol=1e-5, rtol=0)


def test_extra_right_padding_and_trimming_change_no_score(math_rollout):
    envs, student, _, batch = math_rollout
    pad = 7
    wider = {
        "tokens": torch.cat([batch.tokens, torch.full((len(batch), pad), envs[0].tokenizer.pad_id)], 1),
        "attention_mask": torch.cat([batch.attention_mask, torch.zeros(len(batch), pad, dtype=torch.long)], 1),
        "loss_mask": torch.cat([batch.loss_mask, torch.zeros(len(batch), pad)], 1),
    }
    with torch.no_grad():
        logprobs, values, entropy = score(
            student, batch.tokens, batch.attention_mask, batch.loss_mask, with_entropy=True
        )
        padded = score(student, wider["tokens"], wider["attention_mask"], wider["loss_mask"], with_entropy=True)
        short = batch[
            [int(batch.attention_mask.sum(1).argmin())]
        ].trim()  # the shortest row alone, cut to its length
        alone = score(student, short.tokens, short.attention_mask, short.loss_mask, with_entropy=True)
    assert short.tokens.shape[1] < batch.tokens.shape[1] and short.attention_mask.all()
    row = int(batch.attention_mask.sum(1).argmin())
    for full, wide, one in zip((logprobs, values, entropy), padded, alone, strict=True):
        torch.testing.assert_close(wide[:, : full.shape[1]], full, atol=1e-5, rtol=0)
        assert not wide[:, full.shape[1] :].any()
        torch.testing.assert_close(one[0], full[row, : one.shape[1]], atol=1e-5, rtol=0)
    torch.testing.assert_close(logprobs, batch.old_logprobs, atol=1e-5, rtol=0)
    # entropy of the processed distribution (temperature 0.5, top-k 20): within [0, log 20], 0 off the sampled ids
    on = batch.loss_mask > 0
    assert (entropy[on] > 0).all() and (entropy[on] <= np.log(20) + 1e-5).all() and not entropy[~on].any()


def test_reference_logprobs_of_the_policy_itself_are_the_old_logprobs(math_rollout):
    _, student, _, batch = math_rollout
    for chunk in (None, 3):  # one forward, or chunks of 3 rows cut to their longest
        ref = reference_logprobs(student, student.model, batch, chunk)
        torch.testing.assert_close(ref, batch.old_logprobs, atol=1e-5, rtol=0)


# ---------------------------------------------------------------------------------------------- rewards
def test_rewards_sum_to_the_returns_on_each_turns_last_sampled_id(math_rollout):
    envs, _, log, batch = math_rollout
    for row, env in enumerate(envs):
        info_return = env._returns["student"]
        assert batch.rewards[row].sum().item() == pytest.approx(info_return, abs=1e-6)
        assert batch.episode_return[row].item() == pytest.approx(info_return, abs=1e-6)
        ends = [int(torch.nonzero(batch.turn_ids[row] == k).max()) for k in range(len(log[row]))]
        assert torch.nonzero(batch.rewards[row]).flatten().tolist() == ends  # -turn_cost on every turn
        assert bool(batch.success[row]) == (env.end_reason == "success")
        assert int(batch.success_turn[row]) == (-1 if not batch.success[row] else env._success_turn)


class CountingStudent:
    """Guesses 15, 14, 13, ... ignoring the teacher: on GuessNumber (1-15, 4 turns) it wins 4 times in 15."""

    role = "student"

    def __init__(self, tokenizer):
        self.tokenizer = tokenizer

    def act(self, observations, infos):
        return [
            np.asarray(self.tokenizer.encode(str(15 - info["turn"])), dtype=np.int64)
            if info.get("to_act") == "student"
            else None
            for info in infos
        ]


@pytest.mark.parametrize("role", ["teacher", "student"])
def test_course_env_either_role(role, char_gpt2):
    envs = [convenv.make("GuessNumber-v0", difficulty=1, turn_cost=0.05) for _ in range(8)]
    agent = HFAgent.for_env(envs[0], char_gpt2, role=role, max_new_tokens=4, do_sample=True, seed=1)
    partner = CountingStudent(envs[0].tokenizer) if role == "teacher" else envs[0].default_teacher()
    log = recorded(agent)
    batch = collect(envs, agent, partner, seeds=range(8))
    assert batch.values is None
    for row, env in enumerate(envs):
        view = env.transcript.view_ids(role)
        assert batch.tokens[row, : len(view)].tolist() == view.tolist()
        assert sampled_by_turn(batch, row) == [g.ids.tolist() for g in log[row]]
        on = batch.loss_mask[row] > 0
        sampled = np.concatenate([g.logprobs for g in log[row]])
        np.testing.assert_allclose(batch.old_logprobs[row][on].numpy(), sampled, atol=1e-4, rtol=0)
        assert batch.rewards[row].sum().item() == pytest.approx(env._returns[role], abs=1e-6)
        assert batch.episode_return[row].item() == pytest.approx(env._returns[role], abs=1e-6)
    if role == "teacher":  # the student succeeds now and then; the teacher's reward lands on its last turn
        assert batch.success.any()
        for row in torch.nonzero(batch.success).flatten().tolist():
            last = int(torch.nonzero(batch.turn_ids[row] >= 0).max())
            assert batch.rewards[row, last] == pytest.approx(1.0)
    close(envs)


# ----------------------------------------------------------------------------------------------- groups
def test_group_sampling_plays_each_seeded_task_group_size_times(byte_gpt2):  # noqa: F811
    envs = math_envs(6, max_turns=2)
    student = HFAgent.for_env(envs[0], byte_gpt2, role="student", max_new_tokens=8, do_sample=True, seed=0)
    batch = collect(envs, student, envs[0].default_teacher(), seeds=[11, 12], group_size=3)
    expected = []
    for seed in (11, 12):
        env = convenv.make("MathTutor-v0")
        env.reset(seed=seed)
        expected.append(env.task.id)
        env.close()
    assert batch.task_ids == [expected[0]] * 3 + [expected[1]] * 3
    assert batch.group_ids.tolist() == [0, 0, 0, 1, 1, 1]
    replies = [tuple(m.body for m in env.transcript.messages if m.speaker == "student") for env in envs[:3]]
    assert len(set(replies)) > 1  # the rows of a group differ through sampling
    tasks = [envs[0].task, envs[3].task]
    again = collect(envs, student, envs[0].default_teacher(), tasks=tasks, group_size=3)
    assert again.task_ids == batch.task_ids
    with pytest.raises(ValueError, match="group_size"):
        collect(envs[:5], student, envs[0].default_teacher(), group_size=3)
    close(envs)


# ---------------------------------------------------------------------------------------------- helpers
def test_batch_helpers(math_rollout):
    _, _, _, batch = math_rollout
    seen = torch.cat(list(batch.minibatches(3, torch.Generator().manual_seed(0))))
    assert sorted(seen.tolist()) == list(range(len(batch)))
    assert [len(i) for i in batch.minibatches(3)] == [3, 1]
    sub = batch[torch.tensor([2, 0])]
    assert len(sub) == 2 and sub.task_ids == [batch.task_ids[2], batch.task_ids[0]]
    assert torch.equal(sub.tokens[1], batch.tokens[0])
    moved = batch.to("cpu")
    assert moved.tokens.device.type == "cpu" and moved.task_ids == batch.task_ids
    with pytest.raises(ValueError, match="size"):
        next(batch.minibatches(0))
    # split: exactly `parts` chunks covering every row once, sizes differing by at most one (empty ones last)
    parts = batch.split(3, torch.Generator().manual_seed(1))
    assert [len(i) for i in parts] == [2, 1, 1] and sorted(torch.cat(parts).tolist()) == list(range(len(batch)))
    assert [len(i) for i in batch.split(6)] == [1, 1, 1, 1, 0, 0]
    with pytest.raises(ValueError, match="expected parts >= 1, got 0"):
        batch.split(0)


def test_chat_template_tokenizer_with_multi_id_headers_and_footers(chatml_llama, chatml_tok):  # noqa: F811
    envs = math_envs(3, max_turns=2, tokenizer=chatml_tok)
    student = HFAgent.for_env(envs[0], chatml_llama, role="student", max_new_tokens=R, do_sample=True, seed=5)
    log = recorded(student)
    batch = collect(envs, student, envs[0].default_teacher(), seeds=[0, 1, 2])
    assert len(generation_prompt(chatml_tok, "student")) > 1
    for row, env in enumerate(envs):
        bodies = [m.body for m in env.transcript.messages if m.speaker == "student"]
        assert [
            tuple(ids[:-1] if g.stopped else ids)
            for ids, g in zip(sampled_by_turn(batch, row), log[row], strict=True)
        ] == bodies
        on = batch.loss_mask[row] > 0
        sampled = np.concatenate([g.logprobs for g in log[row]])
        np.testing.assert_allclose(batch.old_logprobs[row][on].numpy(), sampled, atol=1e-4, rtol=0)
    close(envs)
