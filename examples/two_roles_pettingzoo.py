"""Train BOTH roles of GuessNumber-v0 with independent learners on the PettingZoo parallel API.

Neither role starts out knowing anything: the teacher (who sees the secret and the verifier's report) picks one
of two symbols after each guess, the student picks a guess from 1..N. Both get the shared success reward. The
feedback only helps once the two agree on what the symbols mean, which they must discover together: the student
alone can reach k/N by guessing k distinct numbers; above that, the teacher's symbols carry information.

Each role is a tabular Monte-Carlo learner (epsilon-greedy, one Q-row per fixed-size observation), plugged in
through ``FixedSizeParallelEnv``: one ``Discrete`` action per candidate utterance and the last few ids of the
role's view as the state. Prints success before and after training, with the baselines, and a JSON summary last.

Run: python examples/two_roles_pettingzoo.py --episodes 50000
"""

import argparse
import json
import time
from collections import defaultdict

import numpy as np

import convenv
from convenv.envs.course import BisectionStudent
from convenv.play import play_episode
from convenv.wrappers import FixedSizeParallelEnv

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--episodes", type=int, default=50_000, help="training episodes")
parser.add_argument("--eval-episodes", type=int, default=300)
parser.add_argument("--difficulty", type=int, default=1, help="1: secret in 1..15, 4 turns")
parser.add_argument("--epsilon", type=float, default=0.05, help="exploration rate of both learners")
parser.add_argument("--lr", type=float, default=0.1, help="step size of the Monte-Carlo update")
parser.add_argument("--seed", type=int, default=0)
args = parser.parse_args()


class TabularLearner:
    """Epsilon-greedy over Q[observation]; after each episode, Q moves towards the return of every choice made."""

    def __init__(self, n_actions, epsilon, lr, rng):
        self.q = defaultdict(lambda: np.zeros(n_actions))
        self.n_actions, self.epsilon, self.lr, self.rng = n_actions, epsilon, lr, rng
        self.visited = []

    def act(self, obs, explore):
        key = obs.tobytes()  # the fixed-size observation is the state
        if explore and self.rng.random() < self.epsilon:
            action = int(self.rng.integers(self.n_actions))
        else:
            q = self.q[key]
            action = int(self.rng.choice(np.flatnonzero(q == q.max())))  # ties broken at random
        if explore:
            self.visited.append((key, action))
        return action

    def learn(self, episode_return):
        for key, action in self.visited:  # rewards arrive only at the end: every choice gets the return
            self.q[key][action] += self.lr * (episode_return - self.q[key][action])
        self.visited = []


base = convenv.make("GuessNumber-v0", difficulty=args.difficulty)
n, turns = base.domain.tasks.n, base.max_turns
answers = [str(i) for i in range(1, n + 1)]
symbols = ["<", ">"]  # the teacher's words; which one means "lower" is up to the two learners
env = FixedSizeParallelEnv(
    base,
    {
        "teacher": {"choices": symbols, "obs_length": 5},  # "high<end>" or " low<end>": the verifier's report
        "student": {"choices": answers, "obs_length": 4 * turns + 8},  # every guess and reply so far
    },
)
rng = np.random.default_rng(args.seed)
learners = {
    "teacher": TabularLearner(len(symbols), args.epsilon, args.lr, rng),
    "student": TabularLearner(len(answers), args.epsilon, args.lr, rng),
}


def episode(seed, explore):
    """One episode of the two learners; returns whether the student succeeded."""
    observations, infos = env.reset(seed=seed)
    while env.agents:
        speaker = infos[env.agents[0]]["to_act"]  # only the speaker's action counts
        action = learners[speaker].act(observations[speaker]["tokens"], explore)
        observations, rewards, _, _, infos = env.step({speaker: action})
    result = infos["student"]["episode"]
    if explore:
        for learner in learners.values():
            learner.learn(result["return"])
    return bool(result["success"])


def evaluate():
    return float(np.mean([episode(100_000 + i, explore=False) for i in range(args.eval_episodes)]))


def scripted(use_feedback):
    agents = {"teacher": base.default_teacher(), "student": BisectionStudent(base.tokenizer, use_feedback)}
    return float(np.mean([play_episode(base, agents, seed=100_000 + i).success for i in range(args.eval_episodes)]))


before = evaluate()
start = time.perf_counter()
for i in range(args.episodes):
    episode(args.seed * 1_000_003 + i, explore=True)
wall = time.perf_counter() - start
after = evaluate()
summary = {
    "before": before,
    "after": after,
    "ignore_feedback_k_over_n": turns / n,
    "ignore_feedback_measured": scripted(False),
    "bisection_with_scripted_teacher": scripted(True),
    "episodes": args.episodes,
    "train_seconds": round(wall, 1),
    "states": {role: len(learner.q) for role, learner in learners.items()},
}
print(f"GuessNumber-v0 difficulty {args.difficulty}: secret in 1..{n}, {turns} turns")
print(f"success before training (both roles greedy, untrained): {before:.3f}")
print(f"success after {args.episodes} episodes ({wall:.0f} s): {after:.3f}")
print(f"feedback-ignoring student: k/N = {turns / n:.3f} (measured {summary['ignore_feedback_measured']:.3f})")
print(f"scripted teacher + bisection student: {summary['bisection_with_scripted_teacher']:.3f}")
print(json.dumps(summary))
env.close()
