"""MazeTutor-v0 beyond the registry-wide checks: teachers, leak rule, hints pacing, hostile attempts."""

import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env as gym_check_env
from pettingzoo.test import parallel_api_test, parallel_seed_test

import convenv
from convenv.agents import OracleStudent
from convenv.envs.maze import TEACHERS, make_domain, maze_leak, maze_redact
from convenv.envs.maze_feedback import make_feedback_policy
from convenv.play import play_episode
from convenv.tasks.maze import generate, make_task
from convenv.utils import check_env
from convenv.verifiers.maze import check
from convenv.wrappers import StudentEnv


def test_maze_passes_every_api_check_at_each_level_and_teacher():
    for level, teacher in zip((1, 2, 3), ("verdict", "locate", "direction"), strict=True):
        env = convenv.make("MazeTutor-v0", difficulty=level, teacher=teacher, max_turns=3)
        parallel_api_test(env, num_cycles=20)
        check_env(env, episodes=2, pettingzoo=False)
        env.close()
    envs = []

    def factory():
        envs.append(convenv.make("MazeTutor-v0", difficulty=3))
        return envs[-1]

    parallel_seed_test(factory, num_cycles=10)
    student = StudentEnv(convenv.make("MazeTutor-v0", difficulty=2, teacher="hints"))
    gym_check_env(student, skip_render_check=True)
    for env in [*envs, student]:
        env.close()


def random_path(rng, length):
    return "moves: " + " ".join(rng.choice(list("UDLR"), size=length))


@pytest.mark.parametrize("teacher", TEACHERS)
def test_scripted_teachers_never_leak(teacher):
    domain = make_domain(teacher=teacher, max_turns=5)
    rng = np.random.default_rng(0)
    for seed in range(60):
        task = generate(1 + seed % 3, np.random.default_rng(seed))
        opening = domain.feedback.opening(task)
        assert not maze_leak(opening, task).leaked
        said = []
        for attempt in range(1, 5):
            text = domain.wrong_answer(task, rng) if attempt % 2 else random_path(rng, int(rng.integers(1, 30)))
            said.append(text)
            verdict = check(text, task)
            assert not verdict.correct
            message = domain.feedback.feedback(task, verdict, attempt, rng)
            report = maze_leak(message, task, public=said)
            assert not report.leaked, (message, report)
            assert not maze_leak(message, task).leaked  # not even without counting the student's own words


def test_hints_reveal_at_most_half_a_shortest_path_by_the_last_feedback():
    policy = make_feedback_policy("hints", max_turns=4)
    task = generate(3, np.random.default_rng(1))
    half = len(task.answer.split()) // 2
    lengths = [policy.hint_length(task, attempt) for attempt in range(1, 8)]
    assert lengths == sorted(lengths) and lengths[2] == half and max(lengths) == half and lengths[0] >= 1
    verdict = check("moves: U", task)
    message = policy.feedback(task, verdict, 3, np.random.default_rng(0))
    assert " ".join(task.answer.split()[:half]) in message


LINE = make_task(["S..", "##.", "G.."], 1)  # the only path: R R D D L L


@pytest.mark.parametrize(
    "text",
    [
        "The path is R R D D L L.",
        "Go right, right, down, down, left, left.",
        "Start with R R D. Then D L L and you are there.",
        "Try RRDDLLR.",
        "moves: R R D D L L",
    ],
)
def test_leak_rule_catches_written_out_paths(text):
    report = maze_leak(text, LINE)
    assert report.leaked and report.matches
    cleaned = maze_redact(text, LINE)
    assert "[redacted]" in cleaned and not maze_leak(cleaned, LINE).leaked


@pytest.mark.parametrize(
    "text",
    [
        LINE.prompt,
        "Start with R R D.",
        "Move 3 of your path runs into a wall.",
        "Your path R R D D L stops one square short.",
        "Go down the corridor on the right, then turn left.",
    ],
)
def test_leak_rule_lets_partial_paths_and_the_prompt_through(text):
    assert not maze_leak(text, LINE).leaked
    assert maze_redact(text, LINE) == text


def test_a_path_the_student_already_wrote_is_not_a_leak():
    said = "moves: R R D D L L R"
    assert maze_leak("You wrote R R D D L L R: one move too many.", LINE, public=[said]).leaked is False
    assert maze_leak("You wrote R R D D L L R: one move too many.", LINE).leaked is True


def test_leaking_teacher_is_penalized_and_redacted():
    for policy, check_text in (("penalize", "R R"), ("redact", "[redacted]")):
        env = convenv.make("MazeTutor-v0", difficulty=1, leak_policy=policy)
        obs, infos = env.reset(seed=0)
        leak = np.array(env.tokenizer.encode(f"{env.task.prompt}\nThe path: {env.task.answer}"))
        _, rewards, _, _, infos = env.step({"teacher": leak})
        assert infos["teacher"]["leaked"] and check_text in infos["teacher"]["last_message"]
        assert rewards["teacher"] == (-1.0 if policy == "penalize" else 0.0)
        env.close()


def test_oracle_student_succeeds_at_the_chosen_turn_with_discount():
    env = convenv.make("MazeTutor-v0", gamma=0.7, max_turns=4, render_mode="ansi")
    for seed in range(3):
        result = play_episode(
            env, {"teacher": env.default_teacher(), "student": OracleStudent(env, correct_at=3)}, seed=seed
        )
        assert result.success_turn == 3 and result.leaks == 0
        assert result.returns["student"] == pytest.approx(0.49)
    text = env.render()
    assert "[teacher] Find a path" in text and "\n".join(env.task.metadata["grid"][:1]) in text
    env.close()


def test_hostile_attempt_is_just_wrong():
    env = convenv.make("MazeTutor-v0")
    obs, infos = env.reset(seed=0)
    env.step({"teacher": env.default_teacher().act([obs["teacher"]], [infos["teacher"]])[0]})
    payload = "moves: __import__('os').system('echo pwned')"
    _, rewards, _, _, infos = env.step({"student": np.array(env.tokenizer.encode(payload))})
    assert rewards["student"] == 0.0 and infos["teacher"]["verdict"].error == "parse_error"
    env.close()


def test_unknown_teacher_names_the_choices():
    with pytest.raises(ValueError, match="did you mean 'hints'"):
        convenv.make("MazeTutor-v0", teacher="hint")
