"""Cost of one PPO update against a plain forward+backward over the same tokens and minibatches.

A student with a value head plays B MathTutor conversations (T student turns of up to R tokens) against the
scripted teacher; :func:`convenv.algorithms.rollout.collect` turns them into one ``RolloutBatch``. Then, from the
same initial weights and the same minibatch shuffles (``update_epochs`` passes of ``num_minibatches``
minibatches), it measures

    (a) ``convenv.algorithms.ppo.ppo_update``: GAE and whitening, then per minibatch the teacher-forced forward with
        hidden states, the value head, the agent's processed logits (banned ids, temperature), the clipped
        surrogate and value losses, backward, clipping and an Adam step;
    (b) the plain reference: per minibatch the forward, the LM loss (mean NLL over the same sampled ids, logits
        projected at the same positions, ``convenv.algorithms.sft.masked_nll``), backward, clipping, an Adam step.

Tokens per second count every id fed forward (the right-padded rows' real ids, ``update_epochs`` times). Peak
memory is measured in a fresh subprocess per measurement, so neither run inherits the other's allocator caches:
on CUDA ``torch.cuda.max_memory_allocated()`` minus the memory allocated before the update (tensors only); on CPU
the increase of the process's peak resident set (Linux ``VmHWM``, reset through ``/proc/self/clear_refs`` just
before the update; where that is not possible, the ``getrusage`` high-water mark minus the resident set before),
which counts everything the process touched: activations, gradients, Adam's state, allocator slack. Timing is the
median of ``--repeats`` further updates in the same subprocess; the two measurements alternate for ``--rounds``
rounds; the fastest time and the lowest peak of each count (on a shared machine, load drifts between runs). The last
line is one JSON object with ``update_over_fwdbwd`` (a's seconds over b's), ``peak_mem_ratio`` (a over b) and
the raw numbers.

    python benchmarks/ppo_update.py                   # tiny random GPT-2 on CPU, B=16, T=3, R=48
    python benchmarks/ppo_update.py --quick           # CI
    python benchmarks/ppo_update.py --threads 1       # steadier on a shared CPU (oversubscribed threads spin)
    python benchmarks/ppo_update.py --model Qwen/Qwen2.5-0.5B-Instruct --device cuda   # a real model
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from typing import Any

import torch

import convenv
from convenv.agents import HFAgent, ValueHead
from convenv.algorithms.ppo import PPOConfig, ppo_update
from convenv.algorithms.rollout import RolloutBatch, collect
from convenv.algorithms.sft import masked_nll


def build(args: argparse.Namespace) -> tuple[Any, Any, list[Any]]:
    """The model, its value head and the envs (tiny random GPT-2 over the byte tokenizer unless --model)."""
    torch.manual_seed(args.seed)
    if args.model is None:
        from transformers import GPT2Config, GPT2LMHeadModel

        tokenizer = "byte"
        vocab = convenv.tokenizers.ByteTokenizer().vocab_size
        config = GPT2Config(n_layer=args.layers, n_head=4, n_embd=args.width, vocab_size=vocab, n_positions=8192,
                            bos_token_id=None, eos_token_id=None)  # fmt: skip
        model = GPT2LMHeadModel(config)
    else:
        from transformers import AutoModelForCausalLM, AutoTokenizer

        tokenizer = AutoTokenizer.from_pretrained(args.model)
        model = AutoModelForCausalLM.from_pretrained(args.model)
    hidden = model.config.get_text_config().hidden_size
    envs = [
        convenv.make(
            "MathTutor-v0",
            max_turns=args.turns,
            max_utterance_tokens=max(args.reply_tokens, 1024),
            tokenizer=tokenizer,
        )
        for _ in range(args.batch)
    ]
    return model.eval().to(args.device), ValueHead(hidden), envs


def agent_for(args: argparse.Namespace, model: Any, head: Any, env: Any) -> Any:
    return HFAgent.for_env(env, model, role="student", device=None, do_sample=True, temperature=1.0,
                           max_new_tokens=args.reply_tokens, seed=args.seed, value_head=head)  # fmt: skip


def ppo_config(args: argparse.Namespace) -> PPOConfig:
    return PPOConfig(gamma=0.9, update_epochs=args.epochs, num_minibatches=args.minibatches)


def fwdbwd(agent: Any, optimizer: Any, batch: RolloutBatch, config: PPOConfig, generator: Any) -> None:
    """(b): ppo_update's minibatches (split, shared padding trimmed), the plain LM loss on the sampled ids."""
    params = [p for group in optimizer.param_groups for p in group["params"]]
    agent.model.eval()  # as ppo_update: no dropout
    for _ in range(config.update_epochs):
        for mb_inds in batch.split(config.num_minibatches, generator):
            mb = batch[mb_inds].trim()
            loss = masked_nll(agent.model, mb.tokens, mb.attention_mask, mb.loss_mask)
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, config.max_grad_norm)
            optimizer.step()


def _status() -> dict[str, int]:
    with open("/proc/self/status") as f:
        text = f.read()
    return {k: int(re.search(rf"{k}:\s+(\d+)", text).group(1)) * 1024 for k in ("VmRSS", "VmHWM")}


def measure(args: argparse.Namespace) -> None:
    """Child process: load the saved weights and batch, run (a) or (b) once for memory, then time repeats."""
    state = torch.load(args.state, weights_only=False)
    model, head, envs = build(args)
    model.load_state_dict(state["model"])
    head.load_state_dict(state["head"])
    agent = agent_for(args, model, head, envs[0])
    batch = RolloutBatch(**state["batch"])
    config = ppo_config(args)
    params = list(agent.model.parameters()) + list(agent.value_head.parameters())
    optimizer = torch.optim.Adam(params, lr=1e-5)
    generator = torch.Generator().manual_seed(args.seed)
    run = ppo_update if args.measure == "ppo" else fwdbwd
    cuda = args.device.startswith("cuda")
    if cuda:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        before = torch.cuda.memory_allocated()
    else:
        try:  # reset the peak resident set (Linux >= 4.0), so the peak is the update's
            with open("/proc/self/clear_refs", "w") as f:
                f.write("5")
            before, how = _status()["VmRSS"], "VmHWM"
        except OSError:
            before, how = _status()["VmRSS"], "ru_maxrss"
    run(agent, optimizer, batch, config, generator)
    if cuda:
        torch.cuda.synchronize()
        peak, how = torch.cuda.max_memory_allocated() - before, "cuda.max_memory_allocated"
    elif how == "VmHWM":
        peak = _status()["VmHWM"] - before
    else:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - before
    seconds = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        run(agent, optimizer, batch, config, generator)
        if cuda:
            torch.cuda.synchronize()
        seconds.append(time.perf_counter() - start)
    print(json.dumps({"seconds": statistics.median(seconds), "peak_bytes": peak, "memory": how}))


def child(args: argparse.Namespace, mode: str, path: str) -> dict[str, Any]:
    argv = [sys.executable, os.path.abspath(__file__), "--measure", mode, "--state", path, *args.forward]
    out = subprocess.run(argv, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"the {mode} measurement failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description="One PPO update vs a plain forward+backward on the same tokens.")
    parser.add_argument("--model", default=None, help="a hub name or path (default: a tiny random GPT-2)")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--layers", type=int, default=2, help="tiny GPT-2 layers")
    parser.add_argument("--width", type=int, default=128, help="tiny GPT-2 n_embd")
    parser.add_argument("--batch", type=int, default=16, help="conversations (rows)")
    parser.add_argument("--turns", type=int, default=3, help="student turns per conversation")
    parser.add_argument("--reply-tokens", type=int, default=48, help="max_new_tokens per reply")
    parser.add_argument("--epochs", type=int, default=2, help="update_epochs")
    parser.add_argument("--minibatches", type=int, default=2, help="num_minibatches")
    parser.add_argument("--repeats", type=int, default=3, help="timed updates per measurement (median)")
    parser.add_argument("--rounds", type=int, default=2, help="(a), (b) subprocess pairs; fastest counts")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="B=4, T=2, R=16, one repeat (CI smoke test)")
    parser.add_argument("--measure", choices=("ppo", "fwdbwd"), help=argparse.SUPPRESS)
    parser.add_argument("--state", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.quick:
        args.batch, args.turns, args.reply_tokens, args.repeats, args.rounds = 4, 2, 16, 1, 1
    if args.device == "auto":
        args.device = "cuda" if torch.cuda.is_available() else "cpu"
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    if args.measure:
        measure(args)
        return
    names = ("model", "device", "layers", "width", "batch", "turns", "reply_tokens", "epochs", "minibatches",
             "repeats", "threads", "seed")  # fmt: skip
    args.forward = [
        f"--{name.replace('_', '-')}={getattr(args, name)}" for name in names if getattr(args, name) is not None
    ]

    model, head, envs = build(args)
    agent = agent_for(args, model, head, envs[0])
    batch = collect(envs, agent, envs[0].default_teacher(), seeds=range(args.batch))
    for env in envs:
        env.close()
    fed = int(batch.attention_mask.sum()) * args.epochs  # ids fed forward by one update
    sampled = int(batch.loss_mask.sum()) * args.epochs
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "state.pt")
        torch.save({"model": model.state_dict(), "head": head.state_dict(), "batch": asdict(batch)}, path)
        rounds = [(child(args, "ppo", path), child(args, "fwdbwd", path)) for _ in range(max(1, args.rounds))]
    # the fastest round of each, and the lowest peak (load and allocator slack only ever add)
    ppo, plain = (
        {key: min(r[i][key] for r in rounds) for key in ("seconds", "peak_bytes")}
        | {"memory": rounds[0][i]["memory"]}
        for i in (0, 1)
    )

    print(f"B={args.batch} rows x up to {batch.tokens.shape[1]} ids ({fed // args.epochs} real ids, "
          f"{sampled // args.epochs} sampled), {args.epochs} epochs x {args.minibatches} minibatches, "
          f"device {args.device} ({torch.get_num_threads()} threads), memory: {ppo['memory']}")  # fmt: skip
    print(f"{'':28}{'seconds':>10}{'tokens/s':>12}{'peak MiB':>10}")
    for name, run in (("(a) ppo_update", ppo), ("(b) forward+backward", plain)):
        print(f"{name:28}{run['seconds']:>10.3f}{fed / run['seconds']:>12.0f}{run['peak_bytes'] / 2**20:>10.1f}")
    summary = {
        "update_over_fwdbwd": round(ppo["seconds"] / plain["seconds"], 3),
        "peak_mem_ratio": round(ppo["peak_bytes"] / max(plain["peak_bytes"], 1), 3),
        "tokens_per_s": {"ppo": round(fed / ppo["seconds"]), "fwdbwd": round(fed / plain["seconds"])},
        "peak_mib": {"ppo": round(ppo["peak_bytes"] / 2**20, 1), "fwdbwd": round(plain["peak_bytes"] / 2**20, 1)},
        "memory_measure": ppo["memory"],
        "tokens_fed": fed,
        "sampled_tokens": sampled,
        "batch": args.batch,
        "seq_len": int(batch.tokens.shape[1]),
        "epochs": args.epochs,
        "minibatches": args.minibatches,
        "device": args.device,
        "threads": torch.get_num_threads(),
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
