"""LoRA: only the adapter trains, PPO runs on it, checkpoints hold only it and resume exactly, generation and the
one-forward log-probs still agree, and the merged model equals the adapted one."""

import sys
from collections import defaultdict

import numpy as np
import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
pytest.importorskip("peft")

from algorithms.test_train import tiny_config, tiny_student  # noqa: E402

import convenv  # noqa: E402
from convenv.agents import HFAgent  # noqa: E402
from convenv.algorithms import checkpoint as ckpt  # noqa: E402
from convenv.algorithms.lora import apply_lora, has_lora, merged_copy, trainable_parameters  # noqa: E402
from convenv.algorithms.rollout import collect  # noqa: E402
from convenv.algorithms.train import train  # noqa: E402
from convenv.error import MissingExtra  # noqa: E402


def tiny_llama():
    config = transformers.LlamaConfig(
        hidden_size=32, intermediate_size=64, num_hidden_layers=1, num_attention_heads=2, num_key_value_heads=1,
        vocab_size=47, max_position_embeddings=256,
    )  # fmt: skip
    return transformers.LlamaForCausalLM(config)


def perturb_adapter(model, seed=0):
    """LoRA's B starts at 0 (the adapter does nothing); give it random weights so that it changes the outputs."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "lora_B" in name:
                p.copy_(0.3 * torch.randn(p.shape, generator=generator))


def layer(name):
    """The adapted layer of an adapter parameter: ``...attn.c_attn.lora_A.default.weight`` -> ``c_attn``."""
    return name.split(".lora_")[0].rsplit(".", 1)[-1]


def test_only_the_adapter_trains_with_default_targets_for_gpt2_and_llama():
    agent = tiny_student()
    total = sum(p.numel() for p in agent.model.parameters())
    wrapper = apply_lora(agent.model, r=4)
    assert has_lora(agent.model) and has_lora(wrapper)
    trainable = [n for n, p in agent.model.named_parameters() if p.requires_grad]
    assert trainable and all("lora_" in n for n in trainable)
    assert {layer(n) for n in trainable} == {"c_attn", "c_proj", "c_fc"}
    assert 0 < trainable_parameters(agent.model) < total / 5
    llama = tiny_llama()
    apply_lora(llama, r=2)
    targets = {layer(n) for n, p in llama.named_parameters() if p.requires_grad}
    assert targets == {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"}
    with pytest.raises(ValueError, match="expected a LoRA rank r >= 1, got 0"):
        apply_lora(tiny_llama(), r=0)


def test_missing_peft_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "peft", None)  # `import peft` now raises ImportError
    with pytest.raises(MissingExtra, match=r"pip install 'convenv\[lora\]'"):
        apply_lora(tiny_llama())


def test_generation_and_score_agree_and_merging_keeps_the_outputs(tmp_path):
    envs = [convenv.make("GuessNumber-v0", difficulty=1) for _ in range(4)]
    model = tiny_student().model
    apply_lora(model, r=4)
    perturb_adapter(model)
    agent = HFAgent.for_env(envs[0], model, role="student", device=None, max_new_tokens=3, do_sample=True, seed=1)
    log = defaultdict(list)
    generate = agent.generate

    def recording(observations, infos):
        out = generate(observations, infos)
        for row, g in enumerate(out):
            if g is not None:
                log[row].append(g)
        return out

    agent.generate = recording
    batch = collect(envs, agent, envs[0].default_teacher(), seeds=range(4))
    for row in range(len(batch)):
        on = batch.loss_mask[row] > 0
        sampled = np.concatenate([g.logprobs for g in log[row]])
        np.testing.assert_allclose(batch.old_logprobs[row][on].numpy(), sampled, atol=1e-4, rtol=0)
    plain = merged_copy(model)
    assert not has_lora(plain) and has_lora(model)
    with torch.no_grad():
        tokens = batch.tokens[:, :20]
        torch.testing.assert_close(plain(tokens).logits, model(tokens).logits, atol=1e-5, rtol=0)
    plain.save_pretrained(tmp_path)
    reloaded = transformers.AutoModelForCausalLM.from_pretrained(tmp_path)
    with torch.no_grad():
        torch.testing.assert_close(reloaded(tokens).logits, model(tokens).logits, atol=1e-5, rtol=0)
    for env in envs:
        env.close()


def test_ppo_on_an_adapter_checkpoints_only_it_and_resumes_exactly(tmp_path):
    agent = tiny_student()
    base = {n: p.detach().clone() for n, p in agent.model.named_parameters()}
    config = tiny_config(lora_rank=4, eval_every=2, checkpoint_dir=str(tmp_path), checkpoint_every=1)
    history = train(agent, config, progress=False)
    assert has_lora(agent.model) and len(history) == 2
    for name, p in agent.model.named_parameters():  # peft renames the adapted layers' weights to base_layer
        original = base.get(name.replace(".base_layer", ""))
        if original is not None:
            assert torch.equal(p, original), name  # the base model is frozen
    adapted = [p for n, p in agent.model.named_parameters() if "lora_B" in n]
    assert any(bool(p.abs().sum() > 0) for p in adapted)  # B starts at 0: the adapter learned
    state = ckpt.load_checkpoint(ckpt.latest_checkpoint(tmp_path))
    assert state["model"] and all("lora_" in k for k in state["model"]) and state["value_head"]
    ckpt.checkpoint_path(tmp_path, 2).unlink()
    again = tiny_student()
    resumed = train(again, tiny_config(**{**vars(config), "resume": True}), progress=False)
    strip = [{k: v for k, v in row.items() if k != "seconds"} for row in resumed]
    assert strip == [{k: v for k, v in row.items() if k != "seconds"} for row in history]
    for a, b in zip(agent.model.state_dict().values(), again.model.state_dict().values(), strict=True):
        assert torch.equal(a, b)
