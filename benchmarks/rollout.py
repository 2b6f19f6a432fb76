"""Multi-turn rollout cost: KV-cache reuse vs re-encoding vs a single-turn bound vs one conversation at a time.

A Hugging Face model plays the student of B MathTutor conversations against the scripted teacher for T student
turns of up to R generated tokens each (a random tiny model is never right, so every episode runs all T turns).
From one run it prints the time and the tokens fed to the model for

    (a) multi-turn, batched, with KV-cache reuse across turns (each turn prefills only the new tokens),
    (b) the same, re-encoding every conversation's whole history each turn (must produce the same tokens),
    (c) the bound: one single-turn batched generation of the same number of tokens from the first prompt,
    (d) the B conversations of (a) run one at a time,

and the share of (a)'s time spent in the env (``env.step``, the verifier included). The last line is one JSON
object with the ratios ``reuse_over_bound`` (a/c), ``reencode_over_reuse`` (b/a), ``sequential_over_batched``
(d/a) and ``env_share``.

    python benchmarks/rollout.py                          # tiny random GPT-2 on CPU, B=32, T=8, R=64
    python benchmarks/rollout.py --quick                  # CI
    python benchmarks/rollout.py --model Qwen/Qwen2.5-0.5B-Instruct --device cuda   # a real model
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

import torch

import convenv
from convenv.agents import HFAgent
from convenv.play import play_batch, play_episode


def tiny_model(vocab_size: int, seed: int = 0) -> Any:
    """A 2-layer GPT-2 with random weights over the env's byte vocabulary (no download)."""
    from transformers import GPT2Config, GPT2LMHeadModel

    torch.manual_seed(seed)
    eos = convenv.tokenizers.ByteTokenizer().eos_id
    config = GPT2Config(n_layer=2, n_head=4, n_embd=128, vocab_size=vocab_size, n_positions=8192,
                        bos_token_id=eos, eos_token_id=eos)  # fmt: skip
    return GPT2LMHeadModel(config).eval()


def make_envs(args: argparse.Namespace, tokenizer: Any) -> list[Any]:
    return [
        convenv.make("MathTutor-v0", max_turns=args.turns, max_utterance_tokens=max(args.reply_tokens + 8, 1024),
                     tokenizer=tokenizer)  # fmt: skip
        for _ in range(args.batch)
    ]


class StepTimer:
    """Adds up the wall time spent inside ``env.step`` of the envs it wraps."""

    def __init__(self, envs: list[Any]):
        self.seconds = 0.0
        for env in envs:
            env.step = self._timed(env.step)

    def _timed(self, step: Any) -> Any:
        def timed(actions: Any) -> Any:
            start = time.perf_counter()
            try:
                return step(actions)
            finally:
                self.seconds += time.perf_counter() - start

        return timed


def rollout(args: argparse.Namespace, model: Any, tokenizer: Any, reuse: bool) -> dict[str, Any]:
    envs = make_envs(args, tokenizer)
    timer = StepTimer(envs)
    student = HFAgent.for_env(envs[0], model, role="student", max_new_tokens=args.reply_tokens, reuse_cache=reuse)
    teacher = envs[0].default_teacher()
    start = time.perf_counter()
    play_batch(envs, {"teacher": teacher, "student": student}, seeds=range(args.batch))
    seconds = time.perf_counter() - start
    replies = [[m.body for m in env.transcript.messages if m.speaker == "student"] for env in envs]
    for env in envs:
        env.close()
    generated = sum(len(body) for rows in replies for body in rows)
    return {"seconds": seconds, "env_seconds": timer.seconds, "tokens_fed": student.stats["tokens_fed"],
            "generated": generated, "replies": replies}  # fmt: skip


def sequential(args: argparse.Namespace, model: Any, tokenizer: Any) -> dict[str, Any]:
    seconds, fed = 0.0, 0
    for seed in range(args.batch):
        env = make_envs(args, tokenizer)[0]
        student = HFAgent.for_env(env, model, role="student", max_new_tokens=args.reply_tokens)
        start = time.perf_counter()
        play_episode(env, {"teacher": env.default_teacher(), "student": student}, seed=seed)
        seconds += time.perf_counter() - start
        fed += student.stats["tokens_fed"]
        env.close()
    return {"seconds": seconds, "tokens_fed": fed}


@torch.no_grad()
def bound(args: argparse.Namespace, model: Any, tokenizer: Any, new_tokens: int) -> dict[str, Any]:
    """Greedy decoding of ``new_tokens`` per row after one prefill of each row's first student prompt."""
    from transformers import DynamicCache

    envs = make_envs(args, tokenizer)
    prompts = []
    for seed, env in enumerate(envs):
        obs, infos = env.reset(seed=seed)
        obs, *_ = env.step({"teacher": env.default_teacher().act([obs["teacher"]], [infos["teacher"]])[0]})
        prompts.append(obs["student"]["tokens"].tolist())
        env.close()
    device = next(model.parameters()).device
    width = max(map(len, prompts))
    ids = torch.tensor([[0] * (width - len(p)) + p for p in prompts], device=device)
    mask = torch.tensor([[0] * (width - len(p)) + [1] * len(p) for p in prompts], device=device)
    start = time.perf_counter()
    cache = DynamicCache(config=model.config)
    step_ids, fed = ids, int(ids.numel())
    for _ in range(new_tokens):
        positions = (mask.cumsum(-1) - 1).clamp(min=0)[:, -step_ids.shape[1] :]
        out = model(input_ids=step_ids, attention_mask=mask, position_ids=positions, past_key_values=cache)
        cache = out.past_key_values
        step_ids = out.logits[:, -1:].argmax(-1)
        mask = torch.cat([mask, torch.ones_like(step_ids)], dim=1)
        fed += int(step_ids.numel())
    return {"seconds": time.perf_counter() - start, "tokens_fed": fed}


def main() -> None:
    parser = argparse.ArgumentParser(description="Multi-turn rollout: cache reuse vs re-encoding vs bound.")
    parser.add_argument("--model", default=None, help="a hub name or path (default: a tiny random GPT-2)")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--turns", type=int, default=8)
    parser.add_argument("--reply-tokens", type=int, default=64)
    parser.add_argument("--quick", action="store_true", help="B=4, T=3, R=16 (CI smoke test)")
    args = parser.parse_args()
    if args.quick:
        args.batch, args.turns, args.reply_tokens = 4, 3, 16
    torch.set_num_threads(max(torch.get_num_threads(), 1))
    if args.model is None:
        tokenizer = "byte"
        model = tiny_model(convenv.tokenizers.ByteTokenizer().vocab_size)
    else:
        from transformers import AutoModelForCausalLM, AutoTokenizer

        tokenizer = AutoTokenizer.from_pretrained(args.model)
        model = AutoModelForCausalLM.from_pretrained(args.model).eval()
    if args.device == "auto":
        args.device = "cuda" if torch.cuda.is_available() else "cpu"
    model.to(args.device)

    reuse = rollout(args, model, tokenizer, reuse=True)
    reencode = rollout(args, model, tokenizer, reuse=False)
    assert reuse["replies"] == reencode["replies"], "cache reuse must generate exactly the re-encoding tokens"
    per_row = -(-reuse["generated"] // args.batch)  # the same number of generated tokens per row
    single = bound(args, model, tokenizer, per_row)
    one_at_a_time = sequential(args, model, tokenizer)

    rows = [("(a) multi-turn, cache reuse", reuse), ("(b) multi-turn, re-encoding", reencode),
            ("(c) single-turn bound", single), ("(d) one conversation at a time", one_at_a_time)]  # fmt: skip
    print(f"B={args.batch} conversations x T={args.turns} turns x up to R={args.reply_tokens} tokens, "
          f"{reuse['generated']} student tokens generated, device {args.device}")  # fmt: skip
    print(f"{'':34}{'seconds':>10}{'tokens fed':>14}")
    for name, run in rows:
        print(f"{name:34}{run['seconds']:>10.3f}{run['tokens_fed']:>14}")
    summary = {
        "reuse_over_bound": round(reuse["seconds"] / single["seconds"], 3),
        "reencode_over_reuse": round(reencode["seconds"] / reuse["seconds"], 3),
        "sequential_over_batched": round(one_at_a_time["seconds"] / reuse["seconds"], 3),
        "env_share": round(reuse["env_seconds"] / reuse["seconds"], 4),
        "tokens_fed": {"reuse": reuse["tokens_fed"], "reencode": reencode["tokens_fed"],
                       "bound": single["tokens_fed"], "sequential": one_at_a_time["tokens_fed"]},  # fmt: skip
        "batch": args.batch,
        "turns": args.turns,
        "reply_tokens": args.reply_tokens,
        "device": args.device,
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
