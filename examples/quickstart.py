"""Quick start: a scripted teacher and a simulated student on MathTutor-v0, then success by turn k.

Run: python examples/quickstart.py --episodes 50 --seed 0
"""

import argparse

import convenv
from convenv.agents import ProbabilisticStudent
from convenv.play import play_episode, success_by_turn

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--episodes", type=int, default=50)
parser.add_argument("--seed", type=int, default=0)
args = parser.parse_args()

env = convenv.make("MathTutor-v0", max_turns=4, render_mode="ansi")
observations, infos = env.reset(seed=args.seed)  # a PettingZoo ParallelEnv over token ids
print(f"student view: {len(observations['student']['tokens'])} token ids; to act: {infos['student']['to_act']}")

teacher = env.default_teacher(seed=args.seed)  # a ScriptedTeacher: knows the answer, never says it
student = ProbabilisticStudent(env, p_correct=0.4, seed=args.seed)  # a stand-in for your model
agents = {"teacher": teacher, "student": student}
results = [play_episode(env, agents, seed=args.seed + i) for i in range(args.episodes)]
print(env.render())  # the last dialogue, with verdicts

for k, rate in enumerate(success_by_turn(results, env.max_turns), start=1):
    print(f"solved by turn {k}: {rate:.2f}")
print(f"mean student return: {sum(r.returns['student'] for r in results) / len(results):.3f}")
env.close()
