"""One PPO update on real rollouts: starts at ratio 1, moves log-probs along the advantages, needs a value head."""

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

import convenv  # noqa: E402
from convenv.agents import HFAgent, ValueHead  # noqa: E402
from convenv.algorithms.functional import gae, masked_whiten  # noqa: E402
from convenv.algorithms.ppo import PPOConfig, ppo_update  # noqa: E402
from convenv.algorithms.rollout import collect, score  # noqa: E402


def fresh_student(env, seed=0, value_head=True):
    """A tiny GPT-2 of its own (PPO changes its weights, so never a shared fixture)."""
    torch.manual_seed(seed)
    tok = env.tokenizer
    config = transformers.GPT2Config(
        n_layer=1, n_head=2, n_embd=32, vocab_size=tok.vocab_size, bos_token_id=tok.eos_id, eos_token_id=tok.eos_id
    )
    model = transformers.GPT2LMHeadModel(config).eval()
    head = ValueHead(32) if value_head else None
    settings = {"do_sample": True, "max_new_tokens": 3, "seed": seed, "value_head": head}
    return HFAgent.for_env(env, model, role="student", **settings)


def test_one_update_starts_at_ratio_one_and_follows_the_advantages():
    envs = [convenv.make("GuessNumber-v0") for _ in range(8)]
    agent = fresh_student(envs[0])
    batch = collect(envs, agent, envs[0].default_teacher(), seeds=range(8))
    params = list(agent.model.parameters()) + list(agent.value_head.parameters())
    before = [p.detach().clone() for p in params]
    optimizer = torch.optim.Adam(params, lr=1e-3)
    config = PPOConfig(update_epochs=1, num_minibatches=1, gamma=0.9)
    metrics = ppo_update(agent, optimizer, batch, config, torch.Generator().manual_seed(0))
    assert metrics["minibatches"] == 1
    assert abs(metrics["ratio_mean"] - 1) < 1e-4 and abs(metrics["approx_kl"]) < 1e-6  # same forward as collect
    assert any(not torch.equal(a, b) for a, b in zip(before, params, strict=True))
    # the step moved the sampled ids' log-probs in the direction of their (whitened) advantages
    advantages, _ = gae(batch.rewards, batch.values, batch.loss_mask, batch.turn_ids, 0.9, config.gae_lambda)
    advantages = masked_whiten(advantages, batch.loss_mask)
    with torch.no_grad():
        new_logprobs, _ = score(agent, batch.tokens, batch.attention_mask, batch.loss_mask)
    gain = ((new_logprobs - batch.old_logprobs) * advantages * batch.loss_mask).sum()
    assert gain > 0
    for env in envs:
        env.close()


def test_update_needs_a_value_head():
    env = convenv.make("GuessNumber-v0")
    agent = fresh_student(env, value_head=False)
    batch = collect([env], agent, env.default_teacher(), seeds=[0])
    with pytest.raises(ValueError, match="expected an agent with a value head"):
        ppo_update(agent, torch.optim.SGD(agent.model.parameters(), lr=0.1), batch, PPOConfig())
    env.close()
