"""GRPO / RLOO: discounted episode scores and group advantages by hand, then updates on real group rollouts."""

import copy
import dataclasses

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

import convenv  # noqa: E402
from convenv.agents import HFAgent  # noqa: E402
from convenv.algorithms.functional import episode_scores  # noqa: E402
from convenv.algorithms.grpo import SML_ENV_KWARGS, GRPOConfig, episode_advantages, grpo_update  # noqa: E402
from convenv.algorithms.rollout import RolloutBatch, collect, score  # noqa: E402

# ------------------------------------------------------------------------------------ episodes built by hand
#
# Each agent turn is 2 sampled ids, the turn's reward on the second, then 1 teacher id; the row opens with a
# prompt id. A turn costs 0.1 and a correct answer earns 1, so with gamma = 0.7 per turn:
#
#   solved at turn 3:  -0.1 + 0.7 * -0.1 + 0.49 * 0.9           = 0.271
#   solved at turn 1:   0.9                                      = 0.9
#   solved at turn 2:  -0.1 + 0.7 * 0.9                          = 0.53
#   4 turns, unsolved: -0.1 * (1 + 0.7 + 0.49 + 0.343)           = -0.2533
#
# Group 0 = (turn 3, turn 1, turn 2): mean 1.701 / 3 = 0.567; deviations -0.296, 0.333, -0.037;
#   unbiased variance (0.087616 + 0.110889 + 0.001369) / 2 = 0.099937, std 0.3161281
#   GRPO: -0.296 / 0.3161281 = -0.936329, 0.333 / 0.3161281 = 1.053370, -0.037 / 0.3161281 = -0.117041
#   (the std + 1e-6 of group_advantages moves these by ~3e-6)
#   RLOO: 0.271 - (0.9 + 0.53) / 2 = -0.444, 0.9 - (0.271 + 0.53) / 2 = 0.4995, 0.53 - (0.271 + 0.9) / 2 = -0.0555
# Group 1 = three unsolved episodes: equal scores, advantages exactly 0 (no signal).

SOLVED_AT_3, SOLVED_AT_1, SOLVED_AT_2, UNSOLVED = [-0.1, -0.1, 0.9], [0.9], [-0.1, 0.9], [-0.1] * 4
HAND_SCORES = [0.271, 0.9, 0.53, -0.2533, -0.2533, -0.2533]
HAND_GRPO = [-0.936329, 1.053370, -0.117041, 0, 0, 0]
HAND_RLOO = [-0.444, 0.4995, -0.0555, 0, 0, 0]


def hand_batch(turn_rewards, group_ids):
    rows = len(turn_rewards)
    width = 1 + 3 * max(len(r) for r in turn_rewards) + 2  # and right padding
    fields = {
        "tokens": torch.zeros(rows, width, dtype=torch.long),
        "attention_mask": torch.zeros(rows, width, dtype=torch.long),
        "loss_mask": torch.zeros(rows, width),
        "rewards": torch.zeros(rows, width),
        "turn_ids": torch.full((rows, width), -1, dtype=torch.long),
    }
    for i, rewards in enumerate(turn_rewards):
        fields["attention_mask"][i, : 1 + 3 * len(rewards)] = 1
        for k, r in enumerate(rewards):
            start = 1 + 3 * k
            fields["loss_mask"][i, start : start + 2] = 1
            fields["turn_ids"][i, start : start + 2] = k
            fields["rewards"][i, start + 1] = r
    return RolloutBatch(
        **fields, old_logprobs=torch.zeros(rows, width), values=None, success=torch.zeros(rows, dtype=torch.bool),
        success_turn=torch.full((rows,), -1), episode_return=fields["rewards"].sum(1),
        group_ids=torch.as_tensor(group_ids), task_ids=[str(g) for g in group_ids],
    )  # fmt: skip


HAND = hand_batch([SOLVED_AT_3, SOLVED_AT_1, SOLVED_AT_2, UNSOLVED, UNSOLVED, UNSOLVED], [0, 0, 0, 1, 1, 1])


def test_episode_scores_by_hand():
    torch.testing.assert_close(episode_scores(HAND.rewards, HAND.turn_ids, 0.7), torch.tensor(HAND_SCORES))
    undiscounted = [0.7, 0.9, 0.8, -0.4, -0.4, -0.4]
    torch.testing.assert_close(episode_scores(HAND.rewards, HAND.turn_ids, 1.0), torch.tensor(undiscounted))
    with pytest.raises(ValueError, match="expected rewards only on the agent's sampled tokens"):
        episode_scores(torch.tensor([[1.0, 0.0]]), torch.tensor([[-1, 0]]), 0.7)
    with pytest.raises(ValueError, match=r"one \(B, T\) shape"):
        episode_scores(HAND.rewards, HAND.turn_ids[:, :3], 0.7)


@pytest.mark.parametrize(("kind", "expected"), [("grpo", HAND_GRPO), ("rloo", HAND_RLOO)])
def test_group_advantages_by_hand(kind, expected):
    scores, advantages = episode_advantages(HAND, GRPOConfig(kind=kind, group_size=3, gamma=0.7))
    torch.testing.assert_close(scores, torch.tensor(HAND_SCORES))
    torch.testing.assert_close(advantages, torch.tensor(expected), atol=1e-5, rtol=0)
    assert advantages[3:].eq(0).all()  # exactly, not a rounding residue


def test_groups_must_be_whole():
    # e.g. a shard boundary inside a group under data parallelism: rows 0-3 on one rank
    with pytest.raises(ValueError, match=r"expected every group to hold group_size=3 episodes, got sizes \[1, 3\]"):
        episode_advantages(HAND[[0, 1, 2, 3]], GRPOConfig(group_size=3))


# ---------------------------------------------------------------------------------------- real rollouts


def group_rollout(n_groups=2, group_size=4, dtype=torch.float32, seed=0):
    """A fresh tiny GPT-2 student (no value head) and its GuessNumber episodes, `group_size` per task."""
    envs = [convenv.make("GuessNumber-v0") for _ in range(n_groups * group_size)]
    torch.manual_seed(seed)
    tok = envs[0].tokenizer
    config = transformers.GPT2Config(
        n_layer=1, n_head=2, n_embd=32, vocab_size=tok.vocab_size, bos_token_id=tok.eos_id, eos_token_id=tok.eos_id
    )
    model = transformers.GPT2LMHeadModel(config).eval().to(dtype)
    agent = HFAgent.for_env(envs[0], model, role="student", do_sample=True, max_new_tokens=3, seed=seed)
    batch = collect(envs, agent, envs[0].default_teacher(), seeds=range(n_groups), group_size=group_size)
    for env in envs:
        env.close()
    return agent, batch


def with_rewards(batch, rewards):
    """The batch with `rewards[i]` on row i's last sampled id (the random student rarely wins on its own)."""
    out = torch.zeros_like(batch.rewards)
    for i, r in enumerate(rewards):
        out[i, int(torch.nonzero(batch.loss_mask[i]).max())] = r
    return dataclasses.replace(batch, rewards=out)


def gain(agent, batch, advantages):
    """How far the sampled ids' log-probs moved along their episode's advantage."""
    with torch.no_grad():
        new, _ = score(agent, batch.tokens, batch.attention_mask, batch.loss_mask)
    return float(((new - batch.old_logprobs) * advantages[:, None] * batch.loss_mask).sum())


@pytest.mark.parametrize("kind", ["grpo", "rloo"])
def test_update_starts_at_ratio_one_and_follows_the_group_advantages(kind):
    agent, batch = group_rollout()
    batch = with_rewards(batch, [1.0, 0.0, 0.0, 1.0, 0.5, 0.5, 0.5, 0.5])  # group 1 has no signal
    config = GRPOConfig(kind=kind, group_size=4, update_epochs=1, num_minibatches=1)
    _, advantages = episode_advantages(batch, config)
    metrics = grpo_update(agent, torch.optim.Adam(agent.model.parameters(), lr=1e-3), batch, config)
    assert set(metrics) == {
        "policy_loss", "approx_kl", "clipfrac", "ratio_mean", "entropy", "kl_ref", "grad_norm", "score_mean",
        "advantage_std", "zero_std_groups", "minibatches",
    }  # fmt: skip
    assert abs(metrics["ratio_mean"] - 1) < 1e-4 and abs(metrics["approx_kl"]) < 1e-6  # same forward as collect
    assert metrics["zero_std_groups"] == 0.5 and metrics["score_mean"] == pytest.approx(0.5)
    # group 0 (1, 0, 0, 1): GRPO ±1 / (2 / sqrt(3)) = ±0.866, RLOO ±2/3; over all 8 episodes (unbiased)
    spread = (3 / 4) ** 0.5 if kind == "grpo" else 2 / 3
    assert metrics["advantage_std"] == pytest.approx(spread * (4 / 7) ** 0.5, rel=1e-4)
    assert metrics["entropy"] > 0 and metrics["kl_ref"] == 0.0 and metrics["minibatches"] == 1
    assert gain(agent, batch, advantages) > 0


def test_equal_scores_give_zero_gradient():
    agent, batch = group_rollout()
    batch = with_rewards(batch, [0.3] * 4 + [-0.1] * 4)
    before = [p.detach().clone() for p in agent.model.parameters()]
    config = GRPOConfig(group_size=4, update_epochs=2, num_minibatches=2)
    metrics = grpo_update(agent, torch.optim.Adam(agent.model.parameters(), lr=1e-2), batch, config)
    assert metrics["zero_std_groups"] == 1.0 and metrics["advantage_std"] == 0.0
    assert metrics["grad_norm"] == 0.0 and metrics["policy_loss"] == 0.0
    assert all(torch.equal(a, b) for a, b in zip(before, agent.model.parameters(), strict=True))


def test_grad_accumulation_with_kl_and_entropy_gives_the_gradient_of_one_big_minibatch():
    results = []
    for steps in (1, 3):
        agent, batch = group_rollout(n_groups=2, group_size=3, dtype=torch.float64)
        batch = with_rewards(batch, [1.0, 0.0, 0.2, 0.0, 0.0, 1.0])
        ref = copy.deepcopy(agent.model).requires_grad_(False)
        with torch.no_grad():
            for p in ref.parameters():
                p.mul_(0.9)  # differs from the policy: the KL term has a gradient from the first step
        config = GRPOConfig(
            group_size=3, update_epochs=2, num_minibatches=1, grad_accum_steps=steps, kl_coef=0.5, ent_coef=0.1
        )
        optimizer = torch.optim.SGD(agent.model.parameters(), lr=0.5)
        metrics = grpo_update(agent, optimizer, batch, config, ref_model=ref)
        results.append((metrics, [p.detach().clone() for p in agent.model.parameters()]))
    (one, params_one), (accumulated, params_acc) = results
    assert max((a - b).abs().max().item() for a, b in zip(params_one, params_acc, strict=True)) < 1e-6
    assert one["kl_ref"] > 0 and one["grad_norm"] > 0
    for key in ("policy_loss", "entropy", "kl_ref", "approx_kl", "grad_norm"):
        assert accumulated[key] == pytest.approx(one[key], rel=1e-5, abs=1e-7), key


def test_sml_preset():
    config = GRPOConfig.sml()
    assert (config.kind, config.group_size, config.gamma, config.kl_coef) == ("grpo", 8, 0.7, 0.0)
    assert GRPOConfig.sml(num_minibatches=4).num_minibatches == 4
    assert SML_ENV_KWARGS == {"max_turns": 4}
    assert convenv.make("GuessNumber-v0", **SML_ENV_KWARGS).max_turns == 4


def test_config_errors():
    agent, batch = group_rollout(n_groups=1, group_size=2)
    optimizer = torch.optim.SGD(agent.model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="expected kind 'grpo' or 'rloo', got 'ppo'"):
        grpo_update(agent, optimizer, batch, GRPOConfig(kind="ppo", group_size=2))
    with pytest.raises(ValueError, match="expected a ref_model with kl_coef=0.1 > 0, got None"):
        grpo_update(agent, optimizer, batch, GRPOConfig(group_size=2, kl_coef=0.1))
    with pytest.raises(ValueError, match="expected num_minibatches >= 1, got 0"):
        grpo_update(agent, optimizer, batch, GRPOConfig(group_size=2, num_minibatches=0))
    with pytest.raises(ValueError, match="expected every group to hold group_size=8 episodes, got sizes \\[2\\]"):
        grpo_update(agent, optimizer, batch, GRPOConfig())
