"""The ``convenv train`` command: train a model in one role of an env, then save logs, checkpoints, model and plot.

``convenv train --env GuessNumber-v0 --env-kwargs '{"difficulty": 1}' --algo ppo --model tiny --out runs/guess``

``--model tiny`` builds a fresh GPT-2 sized for the env's tokenizer (:data:`TINY_GPT2`); any other value is a hub
name or a local directory, loaded with ``transformers`` (the env then speaks that model's tokenizer). ``--algo``
is ``ppo`` / ``grpo`` / ``rloo`` (:func:`convenv.algorithms.train.train`) or ``sft`` (expert iteration,
:func:`convenv.algorithms.sft.train_filtered_sft`). ``--warmup-sft-seconds S`` first fine-tunes for ``S`` seconds
on successful dialogues of a scripted demonstrator (:data:`DEMONSTRATORS`). ``--out DIR`` receives:

- ``log.csv``: one row per iteration; ``tensorboard/``: the same numbers as TensorBoard scalars;
- ``checkpoints/``: resumable checkpoints (``--resume`` continues from the newest);
- ``model/``: the final model (``save_pretrained``; LoRA merged in) and ``value_head.pt`` (PPO);
- ``evals.json`` and ``success_by_turn.png``: greedy success by turn before and after training, and the eval
  success over iterations.

This module imports nothing heavy at import time: torch and transformers are loaded when the command runs.
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from convenv.error import missing_extra

__all__ = ["DEMONSTRATORS", "TINY_GPT2", "add_train_parser", "build_tiny_model", "cmd_train"]

TINY_GPT2: dict[str, int] = {"n_layer": 2, "n_head": 2, "n_embd": 64}
"""``--model tiny``: GPT-2 with these sizes, ``vocab_size`` = the env tokenizer's and ``n_positions`` = the env's
``max_context_tokens + max_utterance_tokens + 64`` (about 0.1M parameters plus 64 per position: ~0.13M for the
course envs, ~0.95M for MathTutor-v0)."""


def _bisection(env: Any, use_feedback: bool, pick: str = "median") -> Any:
    from convenv.envs.course import BisectionStudent

    return BisectionStudent(env.tokenizer, use_feedback=use_feedback, pick=pick, seed=0)


DEMONSTRATORS: dict[str, Callable[[Any], Any]] = {
    "bisection": lambda env: _bisection(env, use_feedback=True),
    "no-feedback": lambda env: _bisection(env, use_feedback=False),
    "random-guesser": lambda env: _bisection(env, use_feedback=False, pick="random"),
}
"""``--warmup-demonstrator`` names: a factory ``env -> scripted student`` each (the course envs' students)."""

WARMUP_EPISODES = 256
"""Demonstrator episodes played for ``--warmup-sft-seconds`` (the successful ones are trained on)."""


def _json_object(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as e:
        raise argparse.ArgumentTypeError(
            f"expected a JSON object, got {text!r} ({e}); e.g. '{{\"difficulty\": 1}}'"
        ) from e
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError(f"expected a JSON object, got {text!r}; e.g. '{{\"difficulty\": 1}}'")
    return value


def add_train_parser(sub: Any) -> None:
    """Add the ``train`` subcommand to the ``convenv`` parser's subparsers."""
    p = sub.add_parser(
        "train", help="train a model in an env (PPO, GRPO, RLOO or filtered SFT)",
        description="Train a model in one role of an env; write logs, checkpoints, the model and a plot to --out.",
    )  # fmt: skip
    p.add_argument("--env", required=True, help="a registered env id, e.g. GuessNumber-v0")
    p.add_argument(
        "--env-kwargs",
        type=_json_object,
        default={},
        help="JSON passed to convenv.make, e.g. '{\"difficulty\": 1}'",
    )
    p.add_argument(
        "--algo", choices=("ppo", "grpo", "rloo", "sft"), default="ppo", help="the algorithm (default ppo)"
    )
    p.add_argument("--model", default="tiny", help="'tiny' (a fresh GPT-2 for the env), a hub name or a local path")
    p.add_argument("--role", choices=("student", "teacher"), default="student", help="the trained role")
    p.add_argument("--iterations", type=int, default=100, help="training iterations (default 100)")
    p.add_argument("--episodes", type=int, default=32, help="episodes per iteration (default 32)")
    p.add_argument("--lr", type=float, default=1e-3, help="learning rate (default 1e-3)")
    p.add_argument(
        "--lr-schedule", choices=("constant", "linear"), default="constant", help="learning-rate schedule"
    )
    p.add_argument("--seed", type=int, default=0, help="seeds the model init, episodes and shuffles (default 0)")
    p.add_argument(
        "--eval-every", type=int, default=10, help="greedy eval every K iterations (0: only before/after)"
    )
    p.add_argument("--eval-episodes", type=int, default=64, help="greedy eval episodes, fixed seeds (default 64)")
    p.add_argument("--out", default=None, help="output directory (default runs/ENV-ALGO-sSEED)")
    p.add_argument("--resume", action="store_true", help="continue from the newest checkpoint in --out")
    p.add_argument(
        "--checkpoint-every", type=int, default=10, help="checkpoint every K iterations (and at the end)"
    )
    p.add_argument(
        "--lora-rank", type=int, default=0, help="train a LoRA adapter of this rank (0: the whole model)"
    )
    p.add_argument("--gamma", type=float, default=None, help="discount per turn (default: the algorithm's)")
    p.add_argument("--group-size", type=int, default=None, help="GRPO/RLOO conversations per task (default 8)")
    p.add_argument("--kl-coef", type=float, default=None, help="KL penalty towards the initial model")
    p.add_argument("--ent-coef", type=float, default=None, help="entropy bonus")
    p.add_argument("--vf-coef", type=float, default=None, help="PPO: weight of the value loss (default 0.5)")
    p.add_argument("--update-epochs", type=int, default=None, help="passes over each batch per update (default 2)")
    p.add_argument("--minibatches", type=int, default=None, help="minibatches per pass (default 2)")
    p.add_argument("--critique-coef", type=float, default=0.0, help="critique-prediction loss weight (0: off)")
    p.add_argument("--sml", action="store_true", help="the SML recipe (GRPO groups of 8, gamma 0.7, 4 turns)")
    p.add_argument("--max-new-tokens", type=int, default=None, help="most ids per reply (default min(64, env's))")
    p.add_argument("--temperature", type=float, default=None, help="sampling temperature while collecting")
    p.add_argument("--warmup-sft-seconds", type=float, default=0.0, help="SFT on a demonstrator first, this long")
    p.add_argument("--warmup-lr", type=float, default=None, help="learning rate of the warmup SFT (default: --lr)")
    p.add_argument(
        "--warmup-sft-steps", type=int, default=0, help="SFT on a demonstrator first, this many steps (repeatable)"
    )
    p.add_argument(
        "--warmup-demonstrator", choices=sorted(DEMONSTRATORS), default="bisection", help="for the warmup"
    )
    p.add_argument("--device", default="auto", help="auto (cuda when available), cpu, cuda, cuda:1, ...")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


# ------------------------------------------------------------------------------------------------- command
def cmd_train(args: argparse.Namespace) -> int:
    """Run ``convenv train``; returns the exit status."""
    try:
        import torch  # noqa: F401 -- checked here so the error names the extra
        import transformers  # noqa: F401
    except ImportError as e:
        raise missing_extra(e.name or "torch", "train") from e
    from convenv.algorithms import checkpoint as ckpt
    from convenv.algorithms.train import evaluate_agent

    _check_args(args)
    out = Path(args.out or f"runs/{args.env}-{args.algo}-s{args.seed}")
    main = int(os.environ.get("RANK", "0")) == 0  # under torchrun only rank 0 evaluates, writes and prints
    env_kwargs, model, hf_tokenizer = _load_model(args)
    config = _train_config(args, out, env_kwargs)
    agent = _build_agent(args, config, model)
    latest = ckpt.latest_checkpoint(out / "checkpoints")
    if latest is not None and not args.resume:  # checked before the eval: fail fast
        raise ValueError(
            f"expected an --out without checkpoints (or --resume), got {latest}; pass --resume to continue that "
            "run, or another --out"
        )
    resuming = args.resume and latest is not None
    evals = _load_evals(out) if resuming else {}
    if main and not resuming:
        evals = {"before": evaluate_agent(agent, config)}
        print(f"greedy eval before training: {_fmt(evals['before'])}", flush=True)
        if args.warmup_sft_seconds > 0 or args.warmup_sft_steps > 0:
            steps = _warmup(agent, config, args)
            evals["after warmup SFT"] = evaluate_agent(agent, config)
            print(f"warmup SFT: {steps} steps; greedy eval {_fmt(evals['after warmup SFT'])}", flush=True)
    history = _run(agent, config, args)
    if not main:
        return 0
    evals["after"] = _final_eval(history) or evaluate_agent(agent, config)
    written = _save(out, agent, hf_tokenizer, evals, history, args.algo)
    print(f"greedy eval after training:  {_fmt(evals['after'])}")
    print(f"wrote to {out}/: " + ", ".join(written))
    return 0


def _check_args(args: argparse.Namespace) -> None:
    if args.iterations < 1 or args.episodes < 1 or args.eval_episodes < 1:
        raise ValueError(
            f"expected --iterations, --episodes and --eval-episodes >= 1, got {args.iterations}, {args.episodes} "
            f"and {args.eval_episodes}; use positive counts"
        )
    if args.algo == "sft" and (args.resume or args.lora_rank or args.critique_coef):
        raise ValueError(
            "expected --algo ppo, grpo or rloo with --resume, --lora-rank or --critique-coef, got --algo sft; "
            "drop those options or pick an RL algorithm"
        )
    if args.group_size is not None and args.algo not in ("grpo", "rloo"):
        raise ValueError(
            f"expected --algo grpo or rloo with --group-size, got --algo {args.algo}; drop --group-size"
        )
    rl_only = ("gamma", "kl_coef", "ent_coef", "update_epochs", "minibatches")
    if args.algo == "sft" and any(getattr(args, k) is not None for k in rl_only):
        raise ValueError(
            "expected --algo ppo, grpo or rloo with --gamma, --kl-coef, --ent-coef, --update-epochs or "
            "--minibatches, got --algo sft"
        )
    if args.warmup_sft_seconds < 0 or args.warmup_sft_steps < 0:
        raise ValueError(
            f"expected --warmup-sft-seconds and --warmup-sft-steps >= 0, got {args.warmup_sft_seconds} and "
            f"{args.warmup_sft_steps}; 0 skips the warmup"
        )
    if (args.warmup_sft_seconds > 0 or args.warmup_sft_steps > 0) and args.role != "student":
        raise ValueError(
            f"expected --role student with --warmup-sft-seconds, got {args.role!r}; demonstrators are students"
        )


def _train_config(args: argparse.Namespace, out: Path, env_kwargs: dict[str, Any]) -> Any:
    from convenv.algorithms.ppo import PPOConfig
    from convenv.algorithms.train import TrainConfig

    ppo, grpo = PPOConfig(), None
    if args.algo in ("grpo", "rloo"):
        from convenv.algorithms.grpo import SML_ENV_KWARGS, GRPOConfig

        grpo = GRPOConfig.sml(kind=args.algo) if args.sml else GRPOConfig(kind=args.algo)
        env_kwargs = {**SML_ENV_KWARGS, **env_kwargs} if args.sml else env_kwargs
    elif args.sml:
        ppo = PPOConfig(gamma=0.7)
    algo_config = grpo if grpo is not None else ppo
    options = {"gamma": "gamma", "group_size": "group_size", "kl_coef": "kl_coef", "ent_coef": "ent_coef"}
    options.update(update_epochs="update_epochs", minibatches="num_minibatches")
    if args.vf_coef is not None:
        if args.algo != "ppo":
            raise ValueError(f"expected --algo ppo with --vf-coef, got --algo {args.algo}; only PPO has values")
        ppo.vf_coef = args.vf_coef
    for name, field in options.items():  # the options given win over the presets
        value = getattr(args, name)
        if value is not None:
            setattr(algo_config, field, value)
    return TrainConfig(
        env_id=args.env, env_kwargs=env_kwargs, algo="ppo" if args.algo == "sft" else args.algo,
        iterations=args.iterations, episodes_per_iteration=args.episodes, learning_rate=args.lr,
        lr_schedule=args.lr_schedule, seed=args.seed, eval_episodes=args.eval_episodes, eval_every=args.eval_every,
        max_new_tokens=args.max_new_tokens, temperature=args.temperature, ppo=ppo, grpo=grpo,
        critique_coef=args.critique_coef, lora_rank=args.lora_rank, log_csv=str(out / "log.csv"),
        log_dir=str(out / "tensorboard"), checkpoint_dir=str(out / "checkpoints"),
        checkpoint_every=args.checkpoint_every, resume=args.resume,
    )  # fmt: skip


# --------------------------------------------------------------------------------------------------- model
def build_tiny_model(env: Any, seed: int = 0) -> Any:
    """A fresh GPT-2 of :data:`TINY_GPT2`'s size for ``env``'s tokenizer and context (seeded init)."""
    import torch
    import transformers

    tok = env.tokenizer
    positions = int(env.max_context_tokens) + int(env.max_utterance_tokens) + 64
    config = transformers.GPT2Config(
        **TINY_GPT2, vocab_size=int(tok.vocab_size), n_positions=positions, bos_token_id=int(tok.eos_id),
        eos_token_id=int(tok.eos_id), pad_token_id=int(tok.pad_id),
    )  # fmt: skip
    with torch.random.fork_rng(devices=[]):  # the init is seeded; the caller's global RNG is left alone
        torch.manual_seed(seed)
        return transformers.GPT2LMHeadModel(config)


def _load_model(args: argparse.Namespace) -> tuple[dict[str, Any], Any, Any]:
    """``(env_kwargs, model, hf_tokenizer or None)``: the env speaks the model's tokenizer unless it is tiny."""
    import convenv

    env_kwargs = dict(args.env_kwargs)
    if args.model == "tiny":
        env = convenv.make(args.env, **env_kwargs)
        try:
            return env_kwargs, build_tiny_model(env, args.seed), None
        finally:
            env.close()
    from transformers import AutoModelForCausalLM, AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(args.model)
        model = AutoModelForCausalLM.from_pretrained(args.model)
    except (OSError, ValueError) as e:
        offline = os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes", "on")
        where = (
            "not found locally, and HF_HUB_OFFLINE is set, so the hub was not asked; download it first "
            f"(unset HF_HUB_OFFLINE, or `huggingface-cli download {args.model}`), pass a local directory"
            if offline
            else "not found locally or on the hub; check the name or pass a local directory"
        )
        raise ValueError(f"expected a loadable model, got {args.model!r}: {where}, or use --model tiny") from e
    env_kwargs.setdefault("tokenizer", args.model)  # a name, so the config stays JSON
    return env_kwargs, model, tokenizer


def _build_agent(args: argparse.Namespace, config: Any, model: Any) -> Any:
    import torch

    import convenv
    from convenv.agents import HFAgent, ValueHead

    env = convenv.make(config.env_id, **config.env_kwargs)
    try:
        hidden = int(model.config.get_text_config().hidden_size)
        new_tokens = args.max_new_tokens or min(64, int(env.max_utterance_tokens))
        value_head = None
        if args.algo == "ppo":
            with torch.random.fork_rng(devices=[]):  # a seeded init, so one --seed gives one run
                torch.manual_seed(args.seed)
                value_head = ValueHead(hidden)
        return HFAgent.for_env(
            env, model, role=args.role, device=_device(args.device), do_sample=True, max_new_tokens=new_tokens,
            seed=args.seed, value_head=value_head,
        )  # fmt: skip
    finally:
        env.close()


def _device(device: str) -> str:
    import torch

    if device == "auto":  # under torchrun each process takes its own GPU
        return f"cuda:{int(os.environ.get('LOCAL_RANK', '0'))}" if torch.cuda.is_available() else "cpu"
    return device


# ------------------------------------------------------------------------------------------------ training
def _warmup(agent: Any, config: Any, args: argparse.Namespace) -> int:
    """SFT on the demonstrator's successful dialogues (``--warmup-sft-steps`` / ``-seconds``); returns the steps."""
    import numpy as np

    import convenv
    from convenv.algorithms.sft import SFTConfig, build_examples, train_sft

    envs = [convenv.make(config.env_id, **config.env_kwargs) for _ in range(WARMUP_EPISODES)]
    try:
        student = DEMONSTRATORS[args.warmup_demonstrator](envs[0])
        seeds = [int(s) for s in np.random.SeedSequence([args.seed, 1 << 30]).generate_state(len(envs))]
        examples = build_examples(envs, {"student": student}, role="student", seeds=seeds)
    finally:
        for env in envs:
            env.close()
    sft = SFTConfig(
        epochs=1_000_000, batch_size=16, learning_rate=args.warmup_lr or args.lr, seed=args.seed,
        max_seconds=args.warmup_sft_seconds or None, max_steps=args.warmup_sft_steps or None,
    )
    return len(train_sft(agent.model, examples, sft))


def _run(agent: Any, config: Any, args: argparse.Namespace) -> list[dict[str, Any]]:
    progress = not args.no_progress
    if args.algo != "sft":
        from convenv.algorithms.train import train

        return train(agent, config, progress=progress)
    from convenv.algorithms.logger import RunLogger
    from convenv.algorithms.sft import SFTConfig, train_filtered_sft

    sft = SFTConfig(learning_rate=config.learning_rate, seed=config.seed)
    history = train_filtered_sft(
        agent, config.env_id, config.env_kwargs, iterations=config.iterations,
        episodes_per_iteration=config.episodes_per_iteration, config=sft, seed=config.seed, progress=progress,
    )  # fmt: skip
    logger = RunLogger(config.log_csv, config.log_dir, total=len(history), progress=False)
    for row in history:
        logger.write(row)
    logger.close()
    return history


def _final_eval(history: list[dict[str, Any]]) -> list[float] | None:
    last = history[-1].get("eval_success_by_turn") if history else None
    return list(last) if last else None


# ---------------------------------------------------------------------------------------------- artifacts
def _load_evals(out: Path) -> dict[str, list[float]]:
    path = out / "evals.json"
    return json.loads(path.read_text()) if path.exists() else {}


def _save(out: Path, agent: Any, hf_tokenizer: Any, evals: dict, history: list, algo: str) -> list[str]:
    """Write the final model, value head, evals and plot; return the names of everything in ``out``."""
    import torch

    from convenv.algorithms.lora import has_lora, merged_copy

    model_dir = out / "model"
    model = merged_copy(agent.model) if has_lora(agent.model) else agent.model
    model.save_pretrained(model_dir)
    if hf_tokenizer is not None:
        hf_tokenizer.save_pretrained(model_dir)
    if agent.value_head is not None:
        torch.save(agent.value_head.state_dict(), model_dir / "value_head.pt")
    (out / "evals.json").write_text(json.dumps(evals, indent=1))
    plot_success(out / "success_by_turn.png", evals, history, algo)
    return sorted(p.name + ("/" if p.is_dir() else "") for p in out.iterdir())


def plot_success(path: str | os.PathLike, evals: dict[str, list[float]], history: list[dict], algo: str) -> None:
    """Greedy success by turn for each eval in ``evals`` (left) and eval success over iterations (right)."""
    try:
        from matplotlib.figure import Figure  # no pyplot: the caller's backend is left alone
    except ImportError as e:
        raise missing_extra("matplotlib", "train") from e
    fig = Figure(figsize=(10, 4), layout="constrained")
    left, right = fig.subplots(1, 2)
    for label, curve in evals.items():
        left.plot(range(1, len(curve) + 1), curve, marker="o", label=label)
    turns = max((len(curve) for curve in evals.values()), default=0)
    left.set_xticks(range(1, turns + 1))
    left.set(xlabel="student turn", ylabel="greedy success by turn (cumulative)", ylim=(-0.02, 1.02))
    left.legend()
    key = "eval_success" if algo != "sft" else "success_rate"  # filtered SFT logs sampled success only
    points = [(row["iteration"] + 1, row[key]) for row in history if row.get(key) is not None]
    start = evals.get("after warmup SFT") or evals.get("before")  # where the RL iterations started from
    if start and algo != "sft":
        points.insert(0, (0, start[-1]))
    if points:
        right.plot(*zip(*points, strict=True), marker=".")
    right.set(
        xlabel="iteration", ylabel="greedy eval success" if algo != "sft" else "sampled success", ylim=(-0.02, 1.02)
    )
    fig.savefig(path, dpi=100)


def _fmt(curve: list[float]) -> str:
    return " ".join(f"{x:.2f}" for x in curve) + f"  (turns 1-{len(curve)}, cumulative)"
