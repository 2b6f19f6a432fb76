"""Metrics: Wilson intervals, success by turn (equal to play_batch's), answers unchanged after negative feedback."""

import numpy as np
import pytest

import convenv
from convenv.agents import OracleStudent, ProbabilisticStudent
from convenv.envs.course import BisectionStudent
from convenv.evaluation import evaluate, success_by_turn_ci, summarize, unchanged_after_negative, wilson_interval
from convenv.play import play_batch, success_by_turn


class RepeatStudent:
    """Says the same number every turn, whatever the teacher says."""

    role = "student"

    def __init__(self, tokenizer, guess="7"):
        self.ids = np.asarray(tokenizer.encode(guess), dtype=np.int64)

    def act(self, observations, infos):
        return [self.ids if info.get("to_act") == self.role else None for info in infos]


@pytest.mark.parametrize(
    "successes, n, expected",
    [
        (5, 10, (0.236593, 0.763407)),  # the textbook values (e.g. statsmodels' proportion_confint, wilson)
        (0, 10, (0.0, 0.277533)),
        (10, 10, (0.722467, 1.0)),
        (1, 1, (0.206549, 1.0)),
    ],
)
def test_wilson_interval_known_values(successes, n, expected):
    assert wilson_interval(successes, n) == pytest.approx(expected, abs=1e-6)


def test_wilson_interval_edge_and_error():
    assert wilson_interval(0, 0) == (0.0, 1.0)
    with pytest.raises(ValueError, match=r"expected 0 <= successes <= n, got successes=3, n=2; count within n"):
        wilson_interval(3, 2)


def test_success_by_turn_equals_play_batch():
    seeds = list(range(8))
    envs = [convenv.make("MathTutor-v0", max_turns=3) for _ in seeds]
    try:
        agents = {"teacher": envs[0].default_teacher(), "student": ProbabilisticStudent(envs, 0.4, seed=3)}
        expected = success_by_turn(play_batch(envs, agents, seeds=seeds), 3)
    finally:
        for env in envs:
            env.close()
    report = evaluate(
        "MathTutor-v0", {"p": lambda envs: ProbabilisticStudent(envs, 0.4, seed=3)}, episodes=8, max_turns=3,
        batch_size=8,
    )  # fmt: skip
    [metrics] = report.metrics
    assert metrics.success_by_turn == pytest.approx(expected.tolist())
    rate, low, high = success_by_turn_ci(report.records["p"], 3)
    assert np.all(low <= rate) and np.all(rate <= high)
    assert [r.seed for r in report.records["p"]] == seeds


def test_same_seeds_for_every_student_pair_the_episodes():
    report = evaluate("GuessNumber-v0", ["bisection", "oracle:2"], episodes=6, seed=10, batch_size=4)
    tasks = [[r.task_id for r in report.records[label]] for label in ("bisection", "oracle:2")]
    assert tasks[0] == tasks[1] and len(set(tasks[0])) > 1
    oracle = report.metrics[1]
    assert oracle.success_by_turn == [0.0, 1.0, 1.0, 1.0, 1.0] and oracle.mean_turns_to_success == 2.0


def test_unchanged_after_negative_feedback():
    report = evaluate(
        "GuessNumber-v0",
        {"repeat": lambda envs: RepeatStudent(envs[0].tokenizer),
         "bisection": lambda envs: BisectionStudent(envs[0].tokenizer),
         "never": lambda envs: OracleStudent(envs, correct_at=None)},
        episodes=8,
    )  # fmt: skip
    by_label = {m.label: m for m in report.metrics}
    repeat = by_label["repeat"]
    # every wrong "7" is followed by "7" again: 4 pairs in a 5-turn episode it never solves
    solved = sum(r.success for r in report.records["repeat"])
    assert repeat.unchanged_after_negative == 1.0 and repeat.unchanged_pairs == 4 * (8 - solved)
    assert by_label["bisection"].unchanged_after_negative == 0.0 and by_label["bisection"].unchanged_pairs > 0
    never = by_label["never"]  # random wrong answers near the secret: some repeats, not all
    assert 0.0 < never.unchanged_after_negative < 1.0
    assert never.unchanged_low <= never.unchanged_after_negative <= never.unchanged_high


def test_unchanged_skips_unread_and_correct_attempts():
    def record(*verdicts):
        return {"messages": [{"role": "student", "verdict": v} for v in verdicts]}

    wrong = {"correct": False, "extracted": "3"}
    assert unchanged_after_negative([record(wrong, dict(wrong))]) == (1, 1)
    assert unchanged_after_negative([record({"correct": False, "extracted": None}, wrong)]) == (0, 0)
    assert unchanged_after_negative([record({"correct": True, "extracted": "3"}, wrong)]) == (0, 0)


def test_summarize_errors():
    with pytest.raises(ValueError, match=r"expected at least one episode record for 'x', got none; play some"):
        summarize([], "x")
    report = evaluate("GuessNumber-v0", "bisection", episodes=1)
    mixed = [*report.records["bisection"], {**report.records["bisection"][0].to_dict(), "max_turns": 9}]
    with pytest.raises(ValueError, match=r"expected records with one turn limit, got \[5, 9\]; summarize each"):
        summarize(mixed, "mixed")
