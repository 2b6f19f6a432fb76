"""Data parallelism: 2 gloo processes (torchrun) with half the episodes each end where one process with all ends."""

import os
import subprocess
import sys

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

import convenv  # noqa: E402
from convenv.agents import HFAgent, ValueHead  # noqa: E402
from convenv.algorithms import distributed  # noqa: E402
from convenv.algorithms.functional import masked_whiten  # noqa: E402
from convenv.algorithms.rollout import collect  # noqa: E402

# ------------------------------------------------------------------------------------------ one process alone


def test_alone_every_helper_is_a_no_op():
    assert not distributed.is_distributed() and distributed.rank() == 0 and distributed.world_size() == 1
    assert distributed.is_main_process() and not distributed.init_from_env()  # WORLD_SIZE unset: nothing to join
    x = torch.tensor([1.0, 2.0])
    assert distributed.all_reduce_sum(x) is x and x.tolist() == [1.0, 2.0]
    layer = torch.nn.Linear(2, 1)
    layer(x).sum().backward()
    grads = [p.grad.clone() for p in layer.parameters()]
    distributed.sync_gradients(layer.parameters())
    distributed.broadcast_parameters(layer.parameters())
    assert all(torch.equal(p.grad, g) for p, g in zip(layer.parameters(), grads, strict=True))
    assert distributed.shard(12, group_size=4) == slice(0, 12)


def test_alone_whitening_matches_the_functional_one():
    g = torch.Generator().manual_seed(0)
    x, mask = torch.randn(5, 7, generator=g) * 3 + 1, torch.rand(5, 7, generator=g) < 0.6
    torch.testing.assert_close(distributed.masked_whiten(x, mask), masked_whiten(x, mask))
    torch.testing.assert_close(
        distributed.masked_whiten(x, mask, shift_mean=False), masked_whiten(x, mask, shift_mean=False)
    )
    mean, var, count = distributed.masked_moments(x, mask)
    assert int(count) == int(mask.sum())
    torch.testing.assert_close(var, x[mask].var())
    with pytest.raises(ValueError, match="expected at least 2 masked entries over all ranks to whiten, got 1"):
        distributed.masked_whiten(torch.ones(3), torch.tensor([1, 0, 0]))
    with pytest.raises(ValueError, match="expected n_items divisible by group_size >= 1, got n_items=10"):
        distributed.shard(10, group_size=4)


# ------------------------------------------------------------------------------------- two processes vs one

# Run by every torchrun worker, and by this test process alone for the reference: the same code, where only
# distributed.shard and the reductions differ. SGD, not Adam: Adam's first step is about lr * sign(grad), which
# turns rounding-level differences of near-zero gradients into visible ones.
WORKER = r"""
import copy
import sys

import torch
import transformers

import convenv
from convenv.agents import HFAgent, ValueHead
from convenv.algorithms import distributed
from convenv.algorithms.grpo import GRPOConfig, grpo_update
from convenv.algorithms.ppo import PPOConfig, ppo_update


def run(payload_path, out_path):
    torch.set_num_threads(1)
    payload = torch.load(payload_path, weights_only=False)
    env = convenv.make("GuessNumber-v0")
    batch = payload["batch"]
    mine = batch[list(range(len(batch)))[distributed.shard(len(batch), group_size=2)]]  # whole groups
    results = {"rows": len(mine), "shard": distributed.shard(10, group_size=2)}
    results["sum"] = distributed.all_reduce_sum(torch.tensor([distributed.rank() + 1.0])).item()
    for algo in ("ppo", "grpo", "ppo-3"):  # ppo-3: 3 minibatches, so rank 1 (one group) has an empty one
        model = transformers.GPT2LMHeadModel(transformers.GPT2Config(**payload["config"])).eval()
        model.load_state_dict(payload["model"])
        ref = copy.deepcopy(model).requires_grad_(False)
        ref.load_state_dict(payload["ref"])
        head = ValueHead(model.config.n_embd) if algo != "grpo" else None
        if head is not None:
            head.load_state_dict(payload["head"])
        agent = HFAgent.for_env(env, model, role="student", device=None, max_new_tokens=3, value_head=head)
        params = list(model.parameters()) + (list(head.parameters()) if head is not None else [])
        optimizer = torch.optim.SGD(params, lr=0.5)
        common = {"update_epochs": 2, "num_minibatches": 1, "grad_accum_steps": 2, "ent_coef": 0.1, "kl_coef": 0.5}
        if algo != "grpo":
            config = PPOConfig(**{**common, "num_minibatches": 3 if algo == "ppo-3" else 1})
            metrics = ppo_update(agent, optimizer, mine, config, torch.Generator(), ref_model=ref)
        else:
            config = GRPOConfig(group_size=2, **common)
            metrics = grpo_update(agent, optimizer, mine, config, torch.Generator(), ref_model=ref)
        results[algo] = {"metrics": metrics, "params": [p.detach().clone() for p in params]}
    torch.save(results, out_path.format(rank=distributed.rank()))


if __name__ == "__main__":
    distributed.init_from_env()
    run(sys.argv[1], sys.argv[2])
"""


def test_two_gloo_processes_with_half_the_episodes_each_match_one_process(tmp_path):
    # 3 groups of 2 GuessNumber episodes: rank 0 gets 2 groups, rank 1 one (uneven on purpose)
    envs = [convenv.make("GuessNumber-v0") for _ in range(6)]
    torch.manual_seed(0)
    tok = envs[0].tokenizer
    config = {"n_layer": 1, "n_head": 2, "n_embd": 32, "vocab_size": tok.vocab_size}
    config.update(bos_token_id=tok.eos_id, eos_token_id=tok.eos_id)
    model = transformers.GPT2LMHeadModel(transformers.GPT2Config(**config)).eval()
    head = ValueHead(32)
    agent = HFAgent.for_env(envs[0], model, role="student", do_sample=True, max_new_tokens=3, seed=0)
    batch = collect(envs, agent, envs[0].default_teacher(), seeds=range(3), group_size=2)
    for env in envs:
        env.close()
    # rewards and values with some spread (the random student never wins): varied advantages in every group
    rewards = torch.zeros_like(batch.rewards)
    for i, r in enumerate([1.0, 0.0, 0.5, -0.5, 0.0, 2.0]):
        rewards[i, int(torch.nonzero(batch.loss_mask[i]).max())] = r
    batch.rewards, batch.values = rewards, 0.1 * torch.randn(batch.loss_mask.shape) * batch.loss_mask
    ref = {k: v * 0.9 for k, v in model.state_dict().items()}  # a reference that differs from the policy
    payload = {"config": config, "model": model.state_dict(), "head": head.state_dict(), "ref": ref, "batch": batch}
    torch.save(payload, tmp_path / "payload.pt")
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    out = str(tmp_path / "rank{rank}.pt")

    env = dict(os.environ, OMP_NUM_THREADS="1", HF_HUB_OFFLINE="1")
    env.pop("WORLD_SIZE", None)
    launch = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"]
    done = subprocess.run(
        [*launch, str(script), str(tmp_path / "payload.pt"), out],
        capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]

    namespace: dict = {}
    exec(WORKER, namespace)  # the reference: this process alone, every episode
    namespace["run"](str(tmp_path / "payload.pt"), str(tmp_path / "alone{rank}.pt"))
    alone = torch.load(tmp_path / "alone0.pt", weights_only=False)
    ranks = [torch.load(tmp_path / f"rank{r}.pt", weights_only=False) for r in range(2)]
    assert alone["rows"] == 6 and [r["rows"] for r in ranks] == [4, 2]
    assert [r["shard"] for r in ranks] == [slice(0, 6), slice(6, 10)] and ranks[0]["sum"] == 3.0
    for algo in ("ppo", "grpo"):
        assert alone[algo]["metrics"]["grad_norm"] > 0
        initial = list(model.parameters()) + (list(head.parameters()) if algo == "ppo" else [])
        moved = max((a - b).abs().max().item() for a, b in zip(alone[algo]["params"], initial, strict=True))
        assert moved > 1e-3
        for result in ranks:
            pairs = zip(alone[algo]["params"], result[algo]["params"], strict=True)
            diff = max((a - b).abs().max().item() for a, b in pairs)
            assert diff < 1e-5, (algo, diff)
            for key, value in alone[algo]["metrics"].items():
                assert result[algo]["metrics"][key] == pytest.approx(value, rel=1e-4, abs=1e-6), (algo, key)
    # more minibatches than rank 1 has episodes: both ranks still step together, on the same summed gradients
    assert [r["ppo-3"]["metrics"]["minibatches"] for r in ranks] == [6.0, 6.0]
    assert all(
        torch.equal(a, b) for a, b in zip(ranks[0]["ppo-3"]["params"], ranks[1]["ppo-3"]["params"], strict=True)
    )
