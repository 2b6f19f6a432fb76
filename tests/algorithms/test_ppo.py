"""PPO updates on real rollouts: ratio 1 first, follow the advantages; entropy, KL to a reference, accumulation."""

import copy

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

import convenv  # noqa: E402
from convenv.agents import HFAgent, ValueHead  # noqa: E402
from convenv.algorithms.functional import gae, k3_kl, masked_mean, masked_whiten  # noqa: E402
from convenv.algorithms.ppo import PPOConfig, ppo_update  # noqa: E402
from convenv.algorithms.rollout import collect, reference_logprobs, score  # noqa: E402


def fresh_student(env, seed=0, value_head=True, dtype=torch.float32, **settings):
    """A tiny GPT-2 of its own (PPO changes its weights, so never a shared fixture)."""
    torch.manual_seed(seed)
    tok = env.tokenizer
    config = transformers.GPT2Config(
        n_layer=1, n_head=2, n_embd=32, vocab_size=tok.vocab_size, bos_token_id=tok.eos_id, eos_token_id=tok.eos_id
    )
    model = transformers.GPT2LMHeadModel(config).eval().to(dtype)
    head = ValueHead(32).to(dtype) if value_head else None
    settings = {"do_sample": True, "max_new_tokens": 3, "seed": seed, "value_head": head, **settings}
    return HFAgent.for_env(env, model, role="student", **settings)


def rollout(n=8, **settings):
    """A fresh student and n GuessNumber episodes it played (seeds 0..n-1) against the scripted teacher."""
    envs = [convenv.make("GuessNumber-v0") for _ in range(n)]
    agent = fresh_student(envs[0], **settings)
    batch = collect(envs, agent, envs[0].default_teacher(), seeds=range(n))
    for env in envs:
        env.close()
    return agent, batch


def params_of(agent):
    return list(agent.model.parameters()) + list(agent.value_head.parameters())


def perturbed_copy(model, scale=0.05, seed=1):
    """A frozen reference that differs from the policy (so the KL term has a gradient from the first step)."""
    ref = copy.deepcopy(model).requires_grad_(False)
    g = torch.Generator().manual_seed(seed)
    for p in ref.parameters():
        p.add_(scale * torch.randn(p.shape, generator=g, dtype=p.dtype))
    return ref


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


def test_entropy_is_logged_and_its_bonus_raises_it():
    agent, batch = rollout(top_k=12)  # top-k: -inf logits inside the entropy
    with torch.no_grad():
        _, _, entropy = score(agent, batch.tokens, batch.attention_mask, batch.loss_mask, with_entropy=True)
    before = float(masked_mean(entropy, batch.loss_mask))
    assert 0 < before <= torch.log(torch.tensor(12.0)).item() + 1e-5
    optimizer = torch.optim.SGD(params_of(agent), lr=0.5)
    config = PPOConfig(update_epochs=1, num_minibatches=1, ent_coef=10.0, vf_coef=0.0)
    metrics = ppo_update(agent, optimizer, batch, config)
    assert metrics["entropy"] == pytest.approx(before, abs=1e-5)  # one minibatch: the pre-step entropy
    assert metrics["kl_ref"] == 0.0  # no reference model
    assert all(torch.isfinite(p).all() for p in params_of(agent))
    with torch.no_grad():
        _, _, entropy = score(agent, batch.tokens, batch.attention_mask, batch.loss_mask, with_entropy=True)
    assert float(masked_mean(entropy, batch.loss_mask)) > before


def test_kl_to_a_frozen_reference_pulls_the_policy_towards_it():
    agent, batch = rollout()
    config = PPOConfig(update_epochs=1, num_minibatches=1, kl_coef=1.0)
    same = ppo_update(
        agent, torch.optim.SGD(params_of(agent), lr=0.0), batch, config, ref_model=copy.deepcopy(agent.model)
    )
    assert abs(same["kl_ref"]) < 1e-6  # a copy of the policy: k3 is 0 on the first minibatch
    ref = perturbed_copy(agent.model)

    def kl_to_ref():
        ref_logprobs = reference_logprobs(agent, ref, batch)
        with torch.no_grad():
            logprobs, _ = score(agent, batch.tokens, batch.attention_mask, batch.loss_mask)
        return float(k3_kl(logprobs, ref_logprobs, batch.loss_mask))

    before = kl_to_ref()
    config = PPOConfig(update_epochs=2, num_minibatches=1, kl_coef=50.0, vf_coef=0.0)
    metrics = ppo_update(agent, torch.optim.SGD(params_of(agent), lr=0.05), batch, config, ref_model=ref)
    assert metrics["kl_ref"] > 0
    assert kl_to_ref() < before


def test_grad_accumulation_gives_the_gradient_of_one_big_minibatch():
    # float64 weights and plain SGD: the parameters after the update differ only by rounding
    results = []
    for steps in (1, 4):
        agent, batch = rollout(n=6, dtype=torch.float64)
        ref = perturbed_copy(agent.model)
        config = PPOConfig(update_epochs=2, num_minibatches=1, grad_accum_steps=steps, ent_coef=0.1, kl_coef=0.5)
        metrics = ppo_update(agent, torch.optim.SGD(params_of(agent), lr=0.5), batch, config, ref_model=ref)
        results.append((metrics, [p.detach().clone() for p in params_of(agent)]))
    (one, params_one), (accumulated, params_acc) = results
    initial = [p.detach() for p in params_of(rollout(n=1, dtype=torch.float64)[0])]
    assert max((a - b).abs().max().item() for a, b in zip(params_one, initial, strict=True)) > 1e-3  # it moved
    assert max((a - b).abs().max().item() for a, b in zip(params_one, params_acc, strict=True)) < 1e-6
    for key in ("policy_loss", "value_loss", "entropy", "kl_ref", "approx_kl", "grad_norm"):
        assert accumulated[key] == pytest.approx(one[key], rel=1e-5, abs=1e-7), key


def test_minibatches_are_exactly_num_minibatches_even_when_uneven():
    agent, batch = rollout(n=5)
    config = PPOConfig(update_epochs=2, num_minibatches=2, grad_accum_steps=2)
    metrics = ppo_update(agent, torch.optim.SGD(params_of(agent), lr=0.01), batch, config, torch.Generator())
    assert metrics["minibatches"] == 4  # 3 + 2 episodes per pass, not 2 + 2 + 1


def test_config_errors():
    agent, batch = rollout(n=2)
    optimizer = torch.optim.SGD(params_of(agent), lr=0.1)
    with pytest.raises(ValueError, match="expected a ref_model with kl_coef=0.1 > 0, got None"):
        ppo_update(agent, optimizer, batch, PPOConfig(kl_coef=0.1))
    with pytest.raises(ValueError, match="expected grad_accum_steps >= 1, got 0"):
        ppo_update(agent, optimizer, batch, PPOConfig(grad_accum_steps=0))
