"""Train stable-baselines3 PPO as the student of GuessNumber-v0 through the fixed-size adapter.

The student's view (its last ``--obs-length`` token ids, one-hot by SB3) is the observation; the scripted teacher
answers each guess with ``<`` or ``>``. Actions are token level by default: two ``MultiDiscrete`` slots over the
digits, the second one able to end the utterance (``--action choices``: one ``Discrete`` action per answer
``1..N``, which learns faster). Prints success before and after training, next to a uniformly random policy, the
best feedback-ignoring student (k/N) and bisection (the optimum), and a JSON summary last.

Run: python examples/sb3_guess_number.py --timesteps 150000
"""

import argparse
import json
import time

import numpy as np
import torch
from stable_baselines3 import PPO
from stable_baselines3.common.env_util import make_vec_env

import convenv
from convenv.envs.course import BisectionStudent
from convenv.play import play_episode
from convenv.wrappers import FixedSizeEnv, StudentEnv

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--timesteps", type=int, default=150_000, help="PPO environment steps (student turns)")
parser.add_argument("--action", choices=["tokens", "choices"], default="tokens")
parser.add_argument("--difficulty", type=int, default=1, help="1: secret in 1..15, 4 turns")
parser.add_argument("--obs-length", type=int, default=24, help="last ids of the student's view observed")
parser.add_argument("--n-envs", type=int, default=8)
parser.add_argument("--eval-episodes", type=int, default=300)
parser.add_argument("--seed", type=int, default=0)
args = parser.parse_args()
torch.set_num_threads(1)  # a 64-unit MLP: threads cost more than they give

n = convenv.make("GuessNumber-v0", difficulty=args.difficulty).domain.tasks.n
if args.action == "tokens":  # digits only, as many slots as N has digits; slot 2 may say "end"
    codec = {"alphabet": "0123456789", "max_tokens": len(str(n))}
else:
    codec = {"choices": [str(i) for i in range(1, n + 1)]}


def make_env():
    return FixedSizeEnv(
        StudentEnv(convenv.make("GuessNumber-v0", difficulty=args.difficulty)), obs_length=args.obs_length, **codec
    )


def evaluate(policy, env):
    """Success rate of ``policy(obs) -> action`` on the same held-out tasks for every policy."""
    wins = 0
    for i in range(args.eval_episodes):
        obs, _ = env.reset(seed=100_000 + i)
        done = False
        while not done:
            obs, _, terminated, truncated, info = env.step(policy(obs))
            done = terminated or truncated
        wins += info["episode"]["success"]
    return wins / args.eval_episodes


def scripted(use_feedback):
    """The BisectionStudent (with or without reading < and >) on the same tasks."""
    env = convenv.make("GuessNumber-v0", difficulty=args.difficulty)
    agents = {"teacher": env.default_teacher(), "student": BisectionStudent(env.tokenizer, use_feedback)}
    rate = np.mean([play_episode(env, agents, seed=100_000 + i).success for i in range(args.eval_episodes)])
    env.close()
    return float(rate)


eval_env = make_env()
eval_env.action_space.seed(args.seed)
random_rate = evaluate(lambda obs: eval_env.action_space.sample(), eval_env)
model = PPO(
    "MlpPolicy",
    make_vec_env(make_env, n_envs=args.n_envs, seed=args.seed),
    n_steps=256,
    batch_size=128,
    n_epochs=10,
    learning_rate=1e-3,
    gamma=0.95,
    seed=args.seed,
    device="cpu",
)
before = evaluate(lambda obs: model.predict(obs, deterministic=True)[0], eval_env)
start = time.perf_counter()
model.learn(total_timesteps=args.timesteps)
wall = time.perf_counter() - start
after = evaluate(lambda obs: model.predict(obs, deterministic=True)[0], eval_env)

turns = eval_env.unwrapped_env.max_turns
summary = {
    "action": args.action,
    "random": random_rate,
    "before": before,
    "after": after,
    "ignore_feedback_k_over_n": turns / n,
    "ignore_feedback_measured": scripted(False),
    "bisection": scripted(True),
    "timesteps": args.timesteps,
    "train_seconds": round(wall, 1),
}
print(f"GuessNumber-v0 difficulty {args.difficulty}: secret in 1..{n}, {turns} turns, actions: {args.action}")
print(f"uniformly random policy:          {random_rate:.3f}")
print(f"PPO before training:              {before:.3f}")
print(f"PPO after {args.timesteps} steps ({wall:.0f} s): {after:.3f}")
print(f"feedback-ignoring student (k/N):  {turns / n:.3f} (measured {summary['ignore_feedback_measured']:.3f})")
print(f"bisection student (optimal):      {summary['bisection']:.3f}")
print(json.dumps(summary))
eval_env.close()
