"""TRL's GRPOTrainer with convenv's multi-turn rollout function, on a tiny GPT-2 built from a config (offline)."""

import os

import pytest

pytest.importorskip("trl")
pytest.importorskip("datasets")

import torch  # noqa: E402 -- after the skips
from tiny_hf import chatml_tokenizer  # noqa: E402
from transformers import GPT2Config, GPT2LMHeadModel  # noqa: E402
from trl import GRPOConfig, GRPOTrainer  # noqa: E402

from convenv.integrations.trl import ConvenvRollout, episode_return  # noqa: E402

os.environ.setdefault("TRL_EXPERIMENTAL_SILENCE", "1")  # rollout_func is experimental in TRL 1.x


def completion_length(completions, **kwargs):
    """A second reward that varies even for an untrained model, so the GRPO advantages are not all zero."""
    return [float(len(c)) for c in completions]


def make_trainer(tmp_path, rollout, tok, max_steps=2):
    torch.manual_seed(0)
    config = GPT2Config(
        n_layer=2, n_head=2, n_embd=32, vocab_size=len(tok), n_positions=512, pad_token_id=tok.pad_token_id
    )
    args = GRPOConfig(
        output_dir=str(tmp_path),
        per_device_train_batch_size=4,
        num_generations=4,
        max_steps=max_steps,
        learning_rate=1e-2,
        logging_steps=1,
        report_to="none",
        use_cpu=True,
        save_strategy="no",
        seed=0,
    )
    return GRPOTrainer(
        model=GPT2LMHeadModel(config),
        reward_funcs=[episode_return, completion_length],
        args=args,
        train_dataset=rollout.dataset(8),
        processing_class=tok,
        rollout_func=rollout,
    )


@pytest.fixture(scope="module")
def tok():
    tok = chatml_tokenizer()
    tok.padding_side = "left"  # TRL requires left padding
    return tok


@pytest.fixture
def rollout(tok):
    rollout = ConvenvRollout("GuessNumber-v0", tok, env_kwargs={"difficulty": 1, "max_turns": 2})
    yield rollout
    rollout.close()


def test_rollout_fields_are_the_conversations_with_the_sampled_ids_masked(tmp_path, rollout, tok):
    trainer = make_trainer(tmp_path, rollout, tok)
    prompts = [p for p in trainer.train_dataset["prompt"][:2] for _ in range(2)]  # groups of 2, as TRL repeats
    fields = rollout(prompts, trainer)
    assert set(fields) == {"prompt_ids", "completion_ids", "logprobs", "env_mask", "episode_return", "success"}
    for i, env in enumerate(rollout.envs[:4]):
        assert env.task.id == prompts[i]
        view = list(env.transcript.view_ids("student"))
        assert fields["prompt_ids"][i] + fields["completion_ids"][i] == view  # exact ids, never re-tokenized
        mask, completion = fields["env_mask"][i], fields["completion_ids"][i]
        assert len(mask) == len(completion) == len(fields["logprobs"][i]) and mask[0] == 1
        sampled = [t for t, m in zip(completion, mask, strict=True) if m]
        replies = [m.body for m in env.transcript.messages if m.speaker == "student"]
        eot = env.tokenizer.end_of_turn_id
        assert [t for t in sampled if t != eot] == [t for body in replies for t in body]
        assert all(lp < 0 for lp, m in zip(fields["logprobs"][i], mask, strict=True) if m)
        assert fields["success"][i] == (env.end_reason == "success")  # gamma 1, no turn cost: return = success
        assert fields["episode_return"][i] == float(fields["success"][i])


def test_grpo_trainer_trains_on_conversations(tmp_path, rollout, tok):
    trainer = make_trainer(tmp_path, rollout, tok)
    before = [p.detach().clone() for p in trainer.model.parameters()]
    trainer.train()
    assert trainer.state.global_step == 2
    assert any(not torch.equal(a, b) for a, b in zip(before, trainer.model.parameters(), strict=True))
    logged = trainer.state.log_history[0]
    assert "rewards/episode_return/mean" in logged and logged["completions/mean_length"] > 0


def test_rollout_errors(tmp_path, rollout, tok):
    trainer = make_trainer(tmp_path, rollout, tok)
    with pytest.raises(KeyError, match=r"expected prompts made by ConvenvRollout.dataset\(\), got 'Guess 7'"):
        rollout(["Guess 7"], trainer)
    with pytest.raises(ValueError, match="expected a partner agent for role 'teacher', got None"):
        ConvenvRollout("GuessNumber-v0", tok, role="teacher", env_kwargs={"difficulty": 1})
    with pytest.raises(ValueError, match="expected role in"):
        ConvenvRollout("GuessNumber-v0", tok, role="judge", env_kwargs={"difficulty": 1})


def test_episode_return_reward_errors():
    assert episode_return(["a", "b"], episode_return=[1.0, 0]) == [1.0, 0.0]
    with pytest.raises(ValueError, match="expected an 'episode_return' field from the rollout, got none"):
        episode_return(["a"])
    with pytest.raises(ValueError, match=r"expected one episode_return per completion \(2\), got 1"):
        episode_return(["a", "b"], episode_return=[1.0])
