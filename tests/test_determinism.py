"""Same seed → identical transcripts, across processes (no global RNG, no hash randomization)."""

import os
import subprocess
import sys

SCRIPT = """
import hashlib, numpy as np, convenv
from convenv.agents import ProbabilisticStudent
from convenv.play import play_episode
env = convenv.make("MathTutor-v0")
student = ProbabilisticStudent(env, p_correct=0.3, seed=5)
digest = hashlib.sha256()
for seed in range(6):
    play_episode(env, {"teacher": env.default_teacher(), "student": student}, seed=seed)
    for viewer in env.possible_agents:
        digest.update(env.transcript.view_ids(viewer).tobytes())
print(digest.hexdigest())
env.close()
"""


def run(hash_seed):
    env = dict(os.environ, PYTHONHASHSEED=str(hash_seed), HF_HUB_OFFLINE="1")
    return subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, check=True, env=env
    ).stdout


def test_transcripts_identical_across_processes():
    assert run(1) == run(2)
