"""MathTutor with a Hugging Face student and teacher: play a batch of dialogues, print one, report success by turn.

By default both roles are played by a tiny randomly initialised GPT-2 over the env's byte vocabulary, so it
runs offline in seconds (and talks nonsense). With a hub model (when online), the env uses that model's
tokenizer and chat template, and the model can play both roles:

    python examples/llm_tutor.py
    python examples/llm_tutor.py --model Qwen/Qwen2.5-0.5B-Instruct --episodes 8 --teacher llm
    python examples/llm_tutor.py --teacher autodidact      # the teacher sees only the public problem
"""

from __future__ import annotations

import argparse

import convenv
from convenv.agents import HFAgent
from convenv.play import play_batch, success_by_turn


def load(name: str | None):
    """A (model, tokenizer) pair: a tiny random GPT-2 with the byte tokenizer, or a hub model and its tokenizer."""
    if name is None:
        import torch
        from transformers import GPT2Config, GPT2LMHeadModel

        torch.manual_seed(0)
        vocab = convenv.tokenizers.ByteTokenizer().vocab_size
        eos = convenv.tokenizers.ByteTokenizer().eos_id
        config = GPT2Config(n_layer=2, n_head=2, n_embd=64, vocab_size=vocab, n_positions=4096, bos_token_id=eos,
                            eos_token_id=eos)  # fmt: skip
        return GPT2LMHeadModel(config).eval(), "byte"
    from transformers import AutoModelForCausalLM, AutoTokenizer

    return AutoModelForCausalLM.from_pretrained(name).eval(), AutoTokenizer.from_pretrained(name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="hub name or local path (default: tiny random GPT-2)")
    parser.add_argument("--teacher", choices=["scripted", "llm", "autodidact"], default="llm")
    parser.add_argument("--episodes", type=int, default=4)
    parser.add_argument("--max-turns", type=int, default=4)
    parser.add_argument("--max-new-tokens", type=int, default=48)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    model, tokenizer = load(args.model)
    knowledge = "none" if args.teacher == "autodidact" else "privileged"
    envs = [
        convenv.make("MathTutor-v0", tokenizer=tokenizer, max_turns=args.max_turns, teacher_knowledge=knowledge,
                     render_mode="ansi", families=["arithmetic", "linear"], difficulty=1)  # fmt: skip
        for _ in range(args.episodes)
    ]
    generation = {"max_new_tokens": args.max_new_tokens, "seed": args.seed}
    student = HFAgent.for_env(envs[0], model, role="student", **generation)
    if args.teacher == "scripted":
        teacher = envs[0].default_teacher()
    else:  # the same model plays the teacher, from the teacher's view (with or without the privileged knowledge)
        teacher = HFAgent.for_env(envs[0], model, role="teacher", **generation)
    seeds = range(args.seed, args.seed + args.episodes)
    results = play_batch(envs, {"teacher": teacher, "student": student}, seeds=seeds)

    print(envs[0].render())
    print(f"\ncumulative success by turn ({len(results)} episodes, teacher: {args.teacher})")
    for k, rate in enumerate(success_by_turn(results, args.max_turns), start=1):
        print(f"  solved by turn {k}: {rate:.2f}")
    print(f"leaking teacher messages: {sum(r.leaks for r in results)}")
    for env in envs:
        env.close()


if __name__ == "__main__":
    main()
