import numpy as np
import pytest

import convenv
from convenv.agents import ProbabilisticStudent
from convenv.play import play_batch, play_episode, success_by_turn


class ThirdTimeLucky:
    """Deterministic per row: 'no idea' twice, then the answer (an oracle; keeps no state across rows)."""

    role = "student"

    def __init__(self, envs):
        self.envs = envs

    def act(self, observations, infos):
        actions = []
        for env, info in zip(self.envs, infos, strict=True):
            text = env.domain.format_answer(env.task) if info["turn"] >= 2 else "no idea"
            actions.append(np.array(env.tokenizer.encode(text)) if info["to_act"] == "student" else None)
        return actions


def test_play_batch_equals_playing_each_episode_alone():
    envs = [convenv.make("MathTutor-v0", max_turns=4) for _ in range(5)]
    seeds = list(range(5))
    teacher = envs[0].default_teacher()
    batched = play_batch(envs, {"teacher": teacher, "student": ThirdTimeLucky(envs)}, seeds=seeds)
    views = [env.transcript.view_ids("student").tolist() for env in envs]
    alone = [
        play_episode(env, {"teacher": teacher, "student": ThirdTimeLucky([env])}, seed=s)
        for env, s in zip(envs, seeds, strict=True)
    ]
    assert all(r.success_turn == 3 for r in batched)
    assert batched == alone
    assert views == [env.transcript.view_ids("student").tolist() for env in envs]
    for env in envs:
        env.close()


def test_play_batch_with_ragged_episode_lengths():
    envs = [convenv.make("MathTutor-v0", max_turns=5) for _ in range(6)]
    student = ProbabilisticStudent(envs, p_correct=0.4, seed=3)
    results = play_batch(envs, {"teacher": envs[0].default_teacher(), "student": student}, seeds=range(6))
    assert len({r.turns for r in results}) > 1  # some conversations ended earlier than others
    curve = success_by_turn(results, 5)
    assert np.all(np.diff(curve) >= 0)
    with pytest.raises(ValueError, match="expected 6 seeds and options"):
        play_batch(envs, {"teacher": envs[0].default_teacher(), "student": student}, seeds=[0])
    for env in envs:
        env.close()
