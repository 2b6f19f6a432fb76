"""The training loop: history keys, CSV log, fixed eval seeds, reproducibility, seeds per rank, learning-rate
schedules, the KL reference, GRPO/RLOO and critique steps, config errors, and (slow) learning."""

import csv
import json
import sys

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

import convenv  # noqa: E402
from convenv.agents import HFAgent, ValueHead  # noqa: E402
from convenv.algorithms.ppo import PPOConfig  # noqa: E402
from convenv.algorithms.train import (  # noqa: E402
    TrainConfig,
    eval_seeds,
    evaluate,
    evaluate_agent,
    iteration_seeds,
    train,
    train_ppo,
)
from convenv.error import MissingExtra  # noqa: E402

METRICS = {"policy_loss", "value_loss", "approx_kl", "clipfrac", "ratio_mean", "explained_variance", "grad_norm"}


def tiny_student(n_layer=1, n_embd=32, seed=0, value_head=True):
    """A fresh tiny GPT-2 student for GuessNumber-v0 at difficulty 1 (PPO changes it: never shared)."""
    env = convenv.make("GuessNumber-v0", difficulty=1)
    torch.manual_seed(seed)
    tok = env.tokenizer
    config = transformers.GPT2Config(
        n_layer=n_layer, n_head=2, n_embd=n_embd, vocab_size=tok.vocab_size, bos_token_id=tok.eos_id,
        eos_token_id=tok.eos_id, n_positions=256,
    )  # fmt: skip
    model = transformers.GPT2LMHeadModel(config).eval()
    settings = {
        "do_sample": True,
        "max_new_tokens": 3,
        "seed": seed,
        "value_head": ValueHead(n_embd) if value_head else None,
    }
    agent = HFAgent.for_env(env, model, role="student", device=None, **settings)
    env.close()
    return agent


def tiny_config(**kwargs):
    settings = {
        "env_kwargs": {"difficulty": 1}, "iterations": 2, "episodes_per_iteration": 4, "eval_episodes": 4,
        "eval_every": 1, "ppo": PPOConfig(update_epochs=1, num_minibatches=2, gamma=0.9),
    }  # fmt: skip
    settings.update(kwargs)
    return TrainConfig(**settings)


def test_two_iterations_log_every_key_to_the_history_and_the_csv(tmp_path):
    path = tmp_path / "log.csv"
    history = train_ppo(tiny_student(), tiny_config(log_csv=str(path)), progress=False)
    assert [row["iteration"] for row in history] == [0, 1]
    for row in history:
        assert METRICS | {"train_success", "episode_return", "eval_success_by_turn", "seconds"} <= set(row)
        assert len(row["eval_success_by_turn"]) == 4  # difficulty 1: 4 turns
        assert row["eval_success"] == row["eval_success_by_turn"][-1]
        assert 0 <= row["train_success"] <= 1
    assert history[1]["seconds"] >= history[0]["seconds"] > 0
    with path.open() as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 2 and set(rows[0]) == set(history[0])
    assert json.loads(rows[1]["eval_success_by_turn"]) == history[1]["eval_success_by_turn"]
    assert float(rows[0]["approx_kl"]) == pytest.approx(history[0]["approx_kl"])


def test_eval_runs_on_fixed_seeds_and_runs_are_reproducible():
    assert eval_seeds(3) == eval_seeds(5)[:3]
    # learning rate 0: the model never changes, so the eval on fixed seeds gives the same numbers every time
    history = train_ppo(tiny_student(), tiny_config(learning_rate=0.0), progress=False)
    assert history[0]["eval_success_by_turn"] == history[1]["eval_success_by_turn"]
    # the same seed gives the same run (seconds aside)
    again = [train_ppo(tiny_student(), tiny_config(seed=3), progress=False) for _ in range(2)]
    for a, b in zip(*again, strict=True):
        assert {k: v for k, v in a.items() if k != "seconds"} == {k: v for k, v in b.items() if k != "seconds"}


def test_eval_every_and_config_checks():
    history = train_ppo(tiny_student(), tiny_config(iterations=3, eval_every=2), progress=False)
    assert [bool(row["eval_success_by_turn"]) for row in history] == [False, True, True]  # and after the last
    assert history[0]["eval_success"] is None
    with pytest.raises(ValueError, match="expected 1 <= max_new_tokens"):
        train_ppo(tiny_student(), tiny_config(max_new_tokens=99), progress=False)
    with pytest.raises(ValueError, match="expected an agent with a value head"):
        agent = tiny_student()
        agent.value_head = None
        train_ppo(agent, tiny_config(), progress=False)


def test_evaluate_is_greedy_success_by_turn():
    agent = tiny_student()
    greedy = HFAgent.for_env(
        convenv.make("GuessNumber-v0", difficulty=1), agent.model, role="student", device=None, max_new_tokens=3
    )
    envs = [convenv.make("GuessNumber-v0", difficulty=1) for _ in range(3)]
    first = evaluate(greedy, envs, envs[0].default_teacher())
    assert first == evaluate(greedy, envs, envs[0].default_teacher())
    assert len(first) == 4 and first == sorted(first)  # cumulative
    for env in envs:
        env.close()


def test_iteration_seeds_split_one_process_run_over_ranks():
    single, sampling = iteration_seeds(7, 3, n_groups=6)
    assert len(single) == 6 and sampling not in single
    for world in (2, 3, 4):
        parts = [iteration_seeds(7, 3, 6, rank, world) for rank in range(world)]
        assert sum((seeds for seeds, _ in parts), []) == single  # the same tasks, in order, none split
        assert parts[0][1] == sampling and len({s for _, s in parts}) == world  # rank-distinct sampling seeds
    assert iteration_seeds(7, 4, 6)[0] != single
    with pytest.raises(ValueError, match="expected at least one task group per process, got 2 groups for 3"):
        iteration_seeds(7, 3, 2, 0, 3)


def test_learning_rate_schedules_are_logged():
    constant = train(tiny_student(), tiny_config(eval_every=0), progress=False)
    assert [row["lr"] for row in constant] == [1e-3, 1e-3]
    linear = train(tiny_student(), tiny_config(eval_every=0, lr_schedule="linear"), progress=False)
    assert [row["lr"] for row in linear] == pytest.approx([1e-3, 5e-4])
    assert linear[0]["approx_kl"] == constant[0]["approx_kl"]  # same first step
    with pytest.raises(ValueError, match="expected lr_schedule 'constant' or 'linear', got 'cosine'"):
        train(tiny_student(), tiny_config(lr_schedule="cosine"), progress=False)


def test_kl_penalty_keeps_the_initial_model_as_reference():
    agent = tiny_student()
    initial = [p.detach().clone() for p in agent.model.parameters()]
    ppo = PPOConfig(update_epochs=1, num_minibatches=2, gamma=0.9, kl_coef=0.5)
    history = train(agent, tiny_config(eval_every=0, ppo=ppo), progress=False)
    assert history[0]["kl_ref"] >= 0 and history[1]["kl_ref"] > 0  # the policy moved away from the reference
    assert any(not torch.equal(a, b) for a, b in zip(initial, agent.model.parameters(), strict=True))


def test_tensorboard_gets_every_numeric_metric_and_success_by_turn(tmp_path):
    event_accumulator = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")
    history = train(tiny_student(), tiny_config(log_dir=str(tmp_path / "tb")), progress=False)
    events = event_accumulator.EventAccumulator(str(tmp_path / "tb"))
    events.Reload()
    tags = set(events.Tags()["scalars"])
    numeric = {k for k, v in history[0].items() if isinstance(v, float) and k != "eval_success"} | {"eval_success"}
    assert METRICS | {"lr", "train_success", "episode_return", "seconds"} <= numeric <= tags
    assert {f"eval_success_by_turn/{turn}" for turn in range(1, 5)} <= tags
    for key in ("approx_kl", "train_success", "eval_success"):
        scalars = events.Scalars(key)
        assert [s.step for s in scalars] == [0, 1]
        assert [s.value for s in scalars] == pytest.approx([row[key] for row in history], rel=1e-6)
    by_turn = [events.Scalars(f"eval_success_by_turn/{turn}")[-1].value for turn in range(1, 5)]
    assert by_turn == pytest.approx(history[-1]["eval_success_by_turn"])


def test_missing_tensorboard_names_the_train_extra(monkeypatch, tmp_path):
    for name in ("tensorboard", "torch.utils.tensorboard"):
        monkeypatch.setitem(sys.modules, name, None)  # `import` now raises ImportError
    with pytest.raises(MissingExtra, match=r"'tensorboard'.*pip install 'convenv\[train\]'"):
        train(tiny_student(), tiny_config(log_dir=str(tmp_path)), progress=False)


def test_progress_prints_a_line_per_iteration_without_tqdm(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    train(tiny_student(), tiny_config(iterations=1, eval_every=1), progress=True)
    out = capsys.readouterr().out
    assert out.startswith("iteration 0: success ") and ", kl " in out and ", eval " in out


def test_config_errors():
    with pytest.raises(ValueError, match="expected algo in \\('ppo', 'grpo', 'rloo'\\), got 'sft'"):
        train(tiny_student(), tiny_config(algo="sft"), progress=False)
    with pytest.raises(ValueError, match="expected TrainConfig.algo='ppo' for train_ppo, got 'grpo'"):
        train_ppo(tiny_student(), tiny_config(algo="grpo"), progress=False)
    with pytest.raises(ValueError, match="expected a checkpoint_dir to resume from, got None"):
        train(tiny_student(), tiny_config(resume=True), progress=False)
    with pytest.raises(ValueError, match="expected critique_coef >= 0 and lora_rank >= 0"):
        train(tiny_student(), tiny_config(lora_rank=-1), progress=False)
    with pytest.raises(ValueError, match="expected checkpoint_every >= 1 and keep_checkpoints >= 1"):
        train(tiny_student(), tiny_config(checkpoint_every=0), progress=False)
    with pytest.raises(ValueError, match="expected temperature > 0, got 0"):
        train(tiny_student(), tiny_config(temperature=0), progress=False)
    with pytest.raises(ValueError, match="expected eval_episodes >= 1, got 0"):
        evaluate_agent(tiny_student(), tiny_config(eval_episodes=0))


def test_missing_update_modules_are_named(monkeypatch):
    monkeypatch.setitem(sys.modules, "convenv.algorithms.grpo", None)  # `import` now raises ImportError
    with pytest.raises(ValueError, match="expected convenv.algorithms.grpo for algo='rloo', got ImportError"):
        train(tiny_student(value_head=False), tiny_config(algo="rloo"), progress=False)
    monkeypatch.setitem(sys.modules, "convenv.algorithms.critique", None)
    with pytest.raises(
        ValueError, match="expected convenv.algorithms.critique for critique_coef=0.5, got ImportError"
    ):
        train(tiny_student(), tiny_config(critique_coef=0.5), progress=False)


def test_evaluate_agent_matches_the_loops_eval():
    agent = tiny_student()
    config = tiny_config(learning_rate=0.0, iterations=1)
    before = evaluate_agent(agent, config)
    assert train(agent, config, progress=False)[0]["eval_success_by_turn"] == before


@pytest.mark.parametrize("algo", ["grpo", "rloo"])
def test_group_baselines_train_without_a_value_head(algo):
    grpo = pytest.importorskip("convenv.algorithms.grpo")
    config = tiny_config(algo=algo, episodes_per_iteration=6, grpo=grpo.GRPOConfig(group_size=3))
    agent = tiny_student(value_head=False)
    before = [p.detach().clone() for p in agent.model.parameters()]
    history = train(agent, config, progress=False)
    assert [row["iteration"] for row in history] == [0, 1]
    assert len(history[-1]["eval_success_by_turn"]) == 4 and 0 <= history[-1]["train_success"] <= 1
    assert any(not torch.equal(a, b) for a, b in zip(before, agent.model.parameters(), strict=True))
    with pytest.raises(ValueError, match="expected episodes_per_iteration a positive multiple of the group size 3"):
        train(tiny_student(value_head=False), tiny_config(algo=algo, grpo=grpo.GRPOConfig(group_size=3)))


def test_critique_step_after_the_update():
    pytest.importorskip("convenv.algorithms.critique")
    history = train(tiny_student(), tiny_config(eval_every=0, critique_coef=0.5), progress=False)
    keys = [k for k in history[0] if k.startswith("critique")]
    assert keys and all(isinstance(history[0][k], float) for k in keys)
