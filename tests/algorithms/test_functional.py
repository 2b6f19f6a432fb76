import math

import pytest

torch = pytest.importorskip("torch")

from convenv.algorithms.functional import (  # noqa: E402
    clipped_surrogate,
    clipped_value_loss,
    entropy_from_logits,
    gae,
    group_advantages,
    k3_kl,
    masked_entropy,
    masked_mean,
    masked_var,
    masked_whiten,
    sequence_logprobs,
)

# ------------------------------------------------------------------------------- a two-turn episode by hand
#
# pos:       0       1    2    3        4        5    6    7    8
# token:     prompt  s    s    teacher  teacher  s    s    s    pad
# loss_mask: 0       1    1    0        0        1    1    1    0
# turn_ids:  -1      0    0    -1       -1       1    1    1    -1
# rewards:   0       0    1.0  0        0        0    0    2.0  0      (turn 0 earns 1, turn 1 earns 2)
# values:    -       0.5  0.4  -        -        0.8  1.0  1.2  -
#
# gamma = 0.5 (per turn), lam = 0.9; backwards over the sampled tokens, V after pos 7 is 0:
#   pos 7: delta = 2.0 + 0         - 1.2 =  0.8   A = 0.8                       R = 2.0
#   pos 6: delta = 0   + 1.2       - 1.0 =  0.2   A = 0.2 + 0.9 * 0.8  = 0.92    R = 1.92
#   pos 5: delta = 0   + 1.0       - 0.8 =  0.2   A = 0.2 + 0.9 * 0.92 = 1.028   R = 1.828
#   pos 2: delta = 1.0 + 0.5 * 0.8 - 0.4 =  1.0   A = 1.0 + 0.5 * 0.9 * 1.028 = 1.4626    R = 1.8626
#   pos 1: delta = 0   + 0.4       - 0.5 = -0.1   A = -0.1 + 0.9 * 1.4626     = 1.21634   R = 1.71634
# (pos 2 -> pos 5 crosses the turn boundary: discount gamma there, 1 inside a turn; lam at every token.)

MASK = torch.tensor([[0, 1, 1, 0, 0, 1, 1, 1, 0]])
TURNS = torch.tensor([[-1, 0, 0, -1, -1, 1, 1, 1, -1]])
REWARDS = torch.tensor([[0, 0, 1.0, 0, 0, 0, 0, 2.0, 0]])
VALUES = torch.tensor([[0, 0.5, 0.4, 0, 0, 0.8, 1.0, 1.2, 0]])
HAND_ADV = torch.tensor([[0, 1.21634, 1.4626, 0, 0, 1.028, 0.92, 0.8, 0]])
HAND_RET = torch.tensor([[0, 1.71634, 1.8626, 0, 0, 1.828, 1.92, 2.0, 0]])


def test_gae_two_turn_episode_by_hand():
    adv, ret = gae(REWARDS, VALUES, MASK, TURNS, gamma=0.5, lam=0.9)
    torch.testing.assert_close(adv, HAND_ADV)
    torch.testing.assert_close(ret, HAND_RET)


def test_gae_lambda_one_gives_discounted_turn_rewards():
    # rewards 1 (turn 0) and 4 (turn 1), gamma 0.5: turn-0 tokens return 1 + 0.5 * 4 = 3, turn-1 tokens 4
    rewards = torch.tensor([[0, 0, 1.0, 0, 0, 0, 0, 4.0, 0]])
    expected = torch.tensor([[0, 3.0, 3.0, 0, 0, 4.0, 4.0, 4.0, 0]])
    _, ret = gae(rewards, torch.zeros_like(rewards), MASK, TURNS, gamma=0.5, lam=1.0)
    torch.testing.assert_close(ret, expected)
    # with lam = 1 the returns are Monte Carlo: the values do not change them
    _, ret = gae(rewards, torch.randn(rewards.shape), MASK, TURNS, gamma=0.5, lam=1.0)
    torch.testing.assert_close(ret, expected)


def test_gae_lambda_zero_is_one_step_td_error():
    adv, _ = gae(REWARDS, VALUES, MASK, TURNS, gamma=0.5, lam=0.0)
    # the deltas of the table above
    torch.testing.assert_close(adv, torch.tensor([[0, -0.1, 1.0, 0, 0, 0.2, 0.2, 0.8, 0]]))


def test_gae_turn_without_sampled_tokens_counts_one_gamma_per_turn():
    # turns 0 and 2 only (turn 1 cut to nothing): the boundary discounts gamma ** 2
    mask = torch.tensor([[1, 0, 1]])
    turns = torch.tensor([[0, -1, 2]])
    rewards = torch.tensor([[0.0, 0, 8.0]])
    _, ret = gae(rewards, torch.zeros(1, 3), mask, turns, gamma=0.5, lam=1.0)
    torch.testing.assert_close(ret, torch.tensor([[2.0, 0, 8.0]]))


def test_gae_masked_positions_never_matter():
    junk = ~MASK.bool()
    g = torch.Generator().manual_seed(0)
    rewards = torch.where(junk, torch.randn(MASK.shape, generator=g) * 100, REWARDS)
    values = torch.where(junk, torch.randn(MASK.shape, generator=g) * 100, VALUES)
    turns = torch.where(junk, torch.randint(-5, 50, MASK.shape, generator=g), TURNS)
    adv, ret = gae(rewards, values, MASK, turns, gamma=0.5, lam=0.9)
    torch.testing.assert_close(adv, HAND_ADV)
    torch.testing.assert_close(ret, HAND_RET)


def test_gae_padding_and_other_rows_do_not_change_a_row():
    pad = 4
    other_mask = torch.tensor([[0, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 0, 0]])
    other_turns = torch.tensor([[-1, 0, 0, 0, -1, -1, 1, 1, 1, 1, 1, -1, -1]])
    batch = dict(
        rewards=torch.cat([torch.nn.functional.pad(REWARDS, (0, pad), value=9.0), torch.rand(1, 13)]),
        values=torch.cat([torch.nn.functional.pad(VALUES, (0, pad), value=-7.0), torch.rand(1, 13)]),
        loss_mask=torch.cat([torch.nn.functional.pad(MASK, (0, pad)), other_mask]),
        turn_ids=torch.cat([torch.nn.functional.pad(TURNS, (0, pad), value=-1), other_turns]),
    )
    adv, ret = gae(**batch, gamma=0.5, lam=0.9)
    torch.testing.assert_close(adv[:1, :9], HAND_ADV)
    torch.testing.assert_close(ret[:1, :9], HAND_RET)
    assert adv[0, 9:].eq(0).all() and ret[0, 9:].eq(0).all()
    alone, _ = gae(**{k: v[1:] for k, v in batch.items()}, gamma=0.5, lam=0.9)
    torch.testing.assert_close(adv[1:], alone)


def _reference_gae(rewards, values, mask, turns, gamma, lam):
    """The definition, one row at a time, on the compacted sampled positions."""
    adv, ret = torch.zeros_like(rewards), torch.zeros_like(rewards)
    for b in range(rewards.shape[0]):
        pos = mask[b].nonzero().flatten().tolist()
        last = 0.0
        for i in reversed(range(len(pos))):
            p = pos[i]
            if i + 1 < len(pos):
                d = gamma ** (turns[b, pos[i + 1]] - turns[b, p]).item()
                v_next = values[b, pos[i + 1]].item()
            else:
                d, v_next = 0.0, 0.0
            delta = rewards[b, p].item() + d * v_next - values[b, p].item()
            last = delta + d * lam * last
            adv[b, p] = last
            ret[b, p] = last + values[b, p]
    return adv, ret


def test_gae_matches_reference_on_random_rows():
    g = torch.Generator().manual_seed(1)
    B, T = 6, 40
    mask = torch.rand(B, T, generator=g) < 0.5
    mask[:, 0] = False
    # the turn advances with probability 0.2 at each sampled token
    steps = (torch.rand(B, T, generator=g) < 0.2) & mask
    turns = torch.where(mask, steps.cumsum(1), torch.full((B, T), -1))
    rewards, values = torch.randn(B, T, generator=g), torch.randn(B, T, generator=g)
    adv, ret = gae(rewards, values, mask, turns, gamma=0.7, lam=0.95)
    ref_adv, ref_ret = _reference_gae(rewards, values, mask, turns, 0.7, 0.95)
    torch.testing.assert_close(adv, ref_adv)
    torch.testing.assert_close(ret, ref_ret)


def test_gae_rejects_bad_inputs():
    with pytest.raises(ValueError, match="non-decreasing"):
        gae(REWARDS, VALUES, MASK, torch.tensor([[-1, 1, 1, -1, -1, 0, 0, 0, -1]]), gamma=0.5, lam=0.9)
    with pytest.raises(ValueError, match="turn_ids >= 0"):
        gae(REWARDS, VALUES, MASK, torch.full_like(TURNS, -1), gamma=0.5, lam=0.9)
    with pytest.raises(ValueError, match=r"one \(B, T\) shape"):
        gae(REWARDS, VALUES[:, :5], MASK, TURNS, gamma=0.5, lam=0.9)


# ---------------------------------------------------------------------------------------------- masked stats


def test_masked_mean_and_var_by_hand():
    x = torch.tensor([1.0, 2.0, 3.0, float("nan")])
    mask = torch.tensor([1, 1, 1, 0])
    # mean 2; squared deviations 1, 0, 1: biased 2/3, unbiased 2/2 = 1
    torch.testing.assert_close(masked_mean(x, mask), torch.tensor(2.0))
    torch.testing.assert_close(masked_var(x, mask), torch.tensor(1.0))
    torch.testing.assert_close(masked_var(x, mask, unbiased=False), torch.tensor(2 / 3))
    rows = torch.tensor([[1.0, 3.0, 100.0], [4.0, -9.0, -9.0]])
    rows_mask = torch.tensor([[1, 1, 0], [1, 0, 0]])
    torch.testing.assert_close(masked_mean(rows, rows_mask, dim=1), torch.tensor([2.0, 4.0]))
    assert masked_mean(x, torch.zeros(4)).item() == 0.0  # nothing selected: 0, not NaN


def test_a_shared_normalizer_makes_the_parts_add_up_to_the_whole_mean():
    g = torch.Generator().manual_seed(4)
    x, mask = torch.randn(6, 5, generator=g), torch.rand(6, 5, generator=g) < 0.5
    n = mask.sum()
    parts = sum(masked_mean(x[i : i + 2], mask[i : i + 2], normalizer=n) for i in (0, 2, 4))
    torch.testing.assert_close(parts, masked_mean(x, mask))
    logp, old, adv = torch.randn(6, 5, generator=g), torch.randn(6, 5, generator=g), torch.randn(6, 5, generator=g)
    whole, whole_stats = clipped_surrogate(logp, old, adv, mask, clip=0.2)
    halves = (slice(0, 3), slice(3, 6))
    split = [clipped_surrogate(logp[h], old[h], adv[h], mask[h], 0.2, normalizer=n) for h in halves]
    torch.testing.assert_close(split[0][0] + split[1][0], whole)
    for key in whole_stats:
        torch.testing.assert_close(split[0][1][key] + split[1][1][key], whole_stats[key])
    values, returns = torch.randn(6, 5, generator=g), torch.randn(6, 5, generator=g)
    parts = sum(clipped_value_loss(values[h], old[h], returns[h], mask[h], 0.2, normalizer=n) for h in halves)
    torch.testing.assert_close(parts, clipped_value_loss(values, old, returns, mask, 0.2))


def test_masked_var_needs_two_entries():
    with pytest.raises(ValueError, match="at least 2 masked entries"):
        masked_var(torch.tensor([1.0, 2.0]), torch.tensor([1, 0]))


def test_masked_whiten_uses_masked_stats_only():
    g = torch.Generator().manual_seed(2)
    x = torch.randn(4, 10, generator=g) * 3 + 5
    mask = torch.rand(4, 10, generator=g) < 0.6
    junk = torch.where(mask, x, torch.full_like(x, 1e6))
    w = masked_whiten(junk, mask)
    assert w[~mask].eq(0).all()
    torch.testing.assert_close(masked_mean(w, mask), torch.tensor(0.0), atol=1e-5, rtol=0)
    torch.testing.assert_close(masked_var(w, mask), torch.tensor(1.0), atol=1e-4, rtol=0)
    kept = masked_whiten(junk, mask, shift_mean=False)
    torch.testing.assert_close(masked_mean(kept, mask), masked_mean(x, mask))
    torch.testing.assert_close(masked_var(kept, mask), torch.tensor(1.0), atol=1e-4, rtol=0)


# ------------------------------------------------------------------------------------------------ PPO losses


@pytest.mark.parametrize(
    ("ratio", "advantage", "loss", "clipped", "has_grad"),
    [
        (1.5, 1.0, -1.2, True, False),  # A > 0, ratio above 1 + clip: capped at 1.2, no push further
        (0.5, 1.0, -0.5, True, True),  # A > 0, ratio below 1 - clip: the unclipped term is worse, keeps grad
        (1.5, -1.0, 1.5, True, True),  # A < 0, ratio above 1 + clip: the unclipped term is worse, keeps grad
        (0.5, -1.0, 0.8, True, False),  # A < 0, ratio below 1 - clip: capped at 0.8, no push further
        (1.1, 1.0, -1.1, False, True),  # inside the range: plain -A * ratio
    ],
)
def test_clipped_surrogate_cases(ratio, advantage, loss, clipped, has_grad):
    logprobs = torch.tensor([[0.0, math.log(ratio)]], requires_grad=True)
    old = torch.zeros(1, 2)
    mask = torch.tensor([[0, 1]])
    out, stats = clipped_surrogate(logprobs, old, torch.full((1, 2), advantage), mask, clip=0.2)
    torch.testing.assert_close(out, torch.tensor(loss))
    assert stats["clipfrac"].item() == float(clipped)
    torch.testing.assert_close(stats["ratio_mean"], torch.tensor(ratio))
    out.backward()
    # d/dlogp of -A * ratio is -A * ratio
    expected_grad = -advantage * ratio if has_grad else 0.0
    torch.testing.assert_close(logprobs.grad, torch.tensor([[0.0, expected_grad]]))


def test_clipped_surrogate_stats():
    logprobs = torch.tensor([[0.3, -1.2, 0.0]])
    mask = torch.tensor([[1, 1, 0]])
    _, stats = clipped_surrogate(logprobs, logprobs.clone(), torch.ones(1, 3), mask, clip=0.2)
    assert stats["approx_kl"].item() == 0.0 and stats["clipfrac"].item() == 0.0
    assert stats["ratio_mean"].item() == 1.0
    # ratio 2: (2 - 1) - log 2
    _, stats = clipped_surrogate(
        torch.tensor([[math.log(2)]]), torch.zeros(1, 1), torch.ones(1, 1), mask[:, :1], 0.2
    )
    torch.testing.assert_close(stats["approx_kl"], torch.tensor(1 - math.log(2)))


def test_clipped_surrogate_ignores_masked_junk():
    logprobs = torch.tensor([[-0.5, float("inf"), 50.0]], requires_grad=True)
    old = torch.tensor([[-0.7, 0.0, float("-inf")]])
    adv = torch.tensor([[2.0, float("nan"), 1e9]])
    loss, stats = clipped_surrogate(logprobs, old, adv, torch.tensor([[1, 0, 0]]), clip=0.2)
    ratio = math.exp(0.2)
    torch.testing.assert_close(loss, torch.tensor(-2.0 * min(ratio, 1.2)))
    loss.backward()
    assert torch.isfinite(logprobs.grad).all() and logprobs.grad[0, 1:].eq(0).all()
    assert all(torch.isfinite(v) for v in stats.values())


def test_clipped_value_loss_by_hand():
    mask = torch.tensor([[1, 0]])
    old = torch.zeros(1, 2)
    values = torch.tensor([[1.0, 99.0]])
    # return 2: unclipped (1 - 2)^2 = 1, clipped (0.2 - 2)^2 = 3.24 -> 0.5 * 3.24
    loss = clipped_value_loss(values, old, torch.tensor([[2.0, 0.0]]), mask, clip=0.2)
    torch.testing.assert_close(loss, torch.tensor(1.62))
    # return 0.5: unclipped 0.25, clipped (0.2 - 0.5)^2 = 0.09 -> 0.5 * 0.25
    loss = clipped_value_loss(values, old, torch.tensor([[0.5, 0.0]]), mask, clip=0.2)
    torch.testing.assert_close(loss, torch.tensor(0.125))
    loss = clipped_value_loss(values, old, torch.tensor([[2.0, 0.0]]), mask, clip=None)
    torch.testing.assert_close(loss, torch.tensor(0.5))


def test_masked_entropy():
    V = 8
    logits = torch.zeros(1, 3, V)
    logits[0, 1, :4] = float("-inf")  # uniform over the 4 others
    logits[0, 2] = torch.randn(V) * 50  # masked: never counts
    logits.requires_grad_(True)
    ent = masked_entropy(logits, torch.tensor([[1, 1, 0]]))
    torch.testing.assert_close(ent, torch.tensor((math.log(8) + math.log(4)) / 2))
    ent.backward()
    assert torch.isfinite(logits.grad).all()


def test_entropy_from_logits_per_position():
    logits = torch.zeros(2, 6)
    logits[1, :2] = float("-inf")  # uniform over the 4 others
    torch.testing.assert_close(entropy_from_logits(logits), torch.tensor([math.log(6), math.log(4)]))


def test_k3_kl_by_hand():
    # d = ref - new: 0 -> 0; log 2 -> 2 - log 2 - 1; -1 -> e^-1 + 1 - 1; masked junk never counts
    new = torch.tensor([[-1.0, -2.0, -0.5, 7.0]], requires_grad=True)
    ref = torch.tensor([[-1.0, -2.0 + math.log(2), -1.5, float("nan")]])
    mask = torch.tensor([[1, 1, 1, 0]])
    expected = (0 + (1 - math.log(2)) + math.exp(-1)) / 3
    kl = k3_kl(new, ref, mask)
    torch.testing.assert_close(kl, torch.tensor(expected))
    kl.backward()
    # d/dnew of exp(d) - d - 1 with d = ref - new: 1 - exp(d)
    torch.testing.assert_close(new.grad, torch.tensor([[0.0, 1 - 2.0, 1 - math.exp(-1), 0.0]]) / 3)
    torch.testing.assert_close(k3_kl(new, ref, mask, normalizer=6.0), torch.tensor(expected / 2))
    assert k3_kl(new, new.detach(), mask).item() == 0.0


def test_k3_kl_stays_finite_when_a_sampled_id_left_the_support():
    # top-k / top-p sampling: after a step a sampled id can get log-prob -inf under the policy
    new = torch.tensor([[float("-inf"), -1.0]], requires_grad=True)
    kl = k3_kl(new, torch.tensor([[-1.0, -1.0]]), torch.tensor([[1, 1]]))
    assert torch.isfinite(kl) and kl.item() == pytest.approx((math.exp(20) - 21) / 2)
    kl.backward()
    assert torch.isfinite(new.grad).all()


def test_sequence_logprobs_matches_log_softmax_gather():
    g = torch.Generator().manual_seed(3)
    B, T, V = 3, 7, 11
    logits = torch.randn(B, T, V, generator=g)
    tokens = torch.randint(0, V, (B, T), generator=g)
    mask = torch.rand(B, T, generator=g) < 0.7
    mask[:, 0] = False
    tokens = torch.where(mask, tokens, torch.full_like(tokens, -100))  # masked ids may be anything
    out = sequence_logprobs(logits, tokens, mask)
    assert out.shape == (B, T) and out[:, 0].eq(0).all()
    logp = torch.log_softmax(logits, dim=-1)
    for b in range(B):
        for t in range(1, T):
            # the token at t is scored by the logits at t - 1
            expected = logp[b, t - 1, tokens[b, t]] if mask[b, t] else torch.tensor(0.0)
            torch.testing.assert_close(out[b, t], expected)


def test_sequence_logprobs_rejects_a_scored_first_token():
    with pytest.raises(ValueError, match=r"mask\[:, 0\] == 0"):
        sequence_logprobs(torch.zeros(1, 2, 3), torch.zeros(1, 2, dtype=torch.long), torch.ones(1, 2))


# ------------------------------------------------------------------------------------------- group baselines


def test_grpo_by_hand():
    # group 7: rewards 1, 2, 3 -> mean 2, unbiased std 1; group 3: 5, 5 -> all 0; ids interleaved
    rewards = torch.tensor([1.0, 5.0, 2.0, 5.0, 3.0])
    ids = torch.tensor([7, 3, 7, 3, 7])
    torch.testing.assert_close(
        group_advantages(rewards, ids, normalize_std=False), torch.tensor([-1.0, 0, 0, 0, 1])
    )
    adv = group_advantages(rewards, ids, eps=1e-6)
    torch.testing.assert_close(adv, torch.tensor([-1.0, 0, 0, 0, 1]) / (1 + 1e-6))
    # a group of one: advantage 0
    assert group_advantages(torch.tensor([4.0]), torch.tensor([0])).item() == 0.0


def test_rloo_by_hand():
    # group 0: 1, 2, 3 -> 1 - (2+3)/2 = -1.5, 2 - (1+3)/2 = 0, 3 - (1+2)/2 = 1.5; group 1: 5, 7 -> -2, 2
    rewards = torch.tensor([1.0, 5.0, 2.0, 7.0, 3.0])
    ids = torch.tensor([0, 1, 0, 1, 0])
    torch.testing.assert_close(group_advantages(rewards, ids, kind="rloo"), torch.tensor([-1.5, -2.0, 0, 2.0, 1.5]))


@pytest.mark.parametrize("kind", ["grpo", "rloo"])
def test_a_group_of_equal_rewards_gets_exactly_zero_advantages(kind):
    # 0.1 * 3 / 3 != 0.1 in floating point: without the exact zero, GRPO's (r - mean) / (0 + eps) is not 0
    rewards = torch.tensor([0.1, 0.1, 0.1, 1.0, 0.0, 1.0])
    adv = group_advantages(rewards, torch.tensor([0, 0, 0, 1, 1, 1]), kind=kind)
    assert adv[:3].eq(0).all() and adv[3:].ne(0).all()


def test_group_advantages_errors():
    with pytest.raises(ValueError, match=r"groups of at least 2 episodes for RLOO, got size 1 for group ids \[9\]"):
        group_advantages(torch.tensor([1.0, 2.0, 3.0]), torch.tensor([0, 0, 9]), kind="rloo")
    with pytest.raises(ValueError, match="expected kind 'grpo' or 'rloo', got 'ppo'"):
        group_advantages(torch.tensor([1.0]), torch.tensor([0]), kind="ppo")
