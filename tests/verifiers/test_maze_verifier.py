import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from convenv.tasks.maze import make_task
from convenv.verifiers.maze import MAX_MOVES, check, parse_moves
from convenv.verifiers.pooled import PooledVerifier

# S at row 1 column 1, G at row 3 column 1; the only path goes around the wall: R R D D L L
TASK = make_task(["S..", "##.", "G.."], 1)


@pytest.mark.parametrize(
    "text",
    [
        "moves: R R D D L L",
        "moves: RRDDLL",
        "Moves: right, right, down, down, left, left.",
        "I go around the wall.\nmoves: r r d d l l",
        "moves: R -> R -> D -> D -> L -> L",
        "moves:\nR R D D L L",
        "\\boxed{RRDDLL}",
        "RRDDLL",
    ],
)
def test_correct_paths_in_every_accepted_form(text):
    verdict = check(text, TASK)
    assert verdict.correct and verdict.extracted == "R R D D L L" and verdict.error is None


def test_wall_hit_reports_step_and_position():
    verdict = check("moves: R D", TASK)
    assert not verdict.correct and verdict.error == "wall"
    assert verdict.signals["first_wall_at"] == {"step": 2, "position": (0, 1), "target": (1, 1), "move": "D"}
    assert verdict.signals["left_grid_at"] is None
    assert verdict.signals["end_position"] == (0, 1) and verdict.signals["distance_to_goal"] == 5


def test_leaving_the_grid_is_reported():
    verdict = check("moves: R R R", TASK)
    assert verdict.error == "off_grid" and verdict.signals["left_grid_at"]["step"] == 3
    assert verdict.signals["first_wall_at"] is None


def test_ending_short_and_going_past_the_goal():
    short = check("moves: R R D", TASK)
    assert short.error == "wrong_end" and short.signals["distance_to_goal"] == 3
    past = check("moves: R R D D L L R", TASK)
    assert past.error == "past_goal" and past.signals["reached_goal_at"] == 6
    assert past.signals["end_position"] == (2, 1)


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("", "no_answer"),
        ("I am not sure where to go.", "no_answer"),
        ("moves: R R jump", "parse_error"),
        ("moves: __import__('os').system('ls')", "parse_error"),
        ("moves: " + "R " * (MAX_MOVES + 1), "too_large"),
        ("moves: " + "R" * 5000, "too_large"),
        ("moves: ", "no_answer"),
        ("moves: \x00\x01", "parse_error"),
    ],
)
def test_bad_and_hostile_answers_are_wrong_with_a_code(text, error):
    verdict = check(text, TASK)
    assert not verdict.correct and verdict.error == error


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_any_text_gives_a_verdict(text):
    verdict = check(text, TASK)
    assert verdict.correct in (True, False)
    if verdict.error is None:
        assert verdict.correct


@given(st.lists(st.sampled_from("UDLR"), max_size=50))
def test_parse_moves_round_trips(moves):
    assert parse_moves(" ".join(moves)) == moves and parse_moves("".join(moves)) == moves


def test_pooled_check_keeps_its_deadline_on_huge_input():
    verifier = PooledVerifier(check, timeout=2.0)
    try:
        task = make_task(["S..", "##.", "G.."], 1)
        start = time.perf_counter()
        verdict = verifier.verify("moves: " + "(" * 1_000_000, task)  # only the last 4000 characters are read
        assert time.perf_counter() - start < 3.0
        assert not verdict.correct and verdict.error == "no_answer"
        rng = np.random.default_rng(0)
        assert not verifier.verify("moves: " + " ".join(rng.choice(list("UD"), 50)), task).correct
    finally:
        verifier.close()
