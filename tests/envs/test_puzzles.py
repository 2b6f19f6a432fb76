"""Make24-v0, WordGuess-v0 and KnightsKnaves-v0 beyond the registry-wide checks."""

import itertools

import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env as gym_check_env
from pettingzoo.test import parallel_api_test, parallel_seed_test

import convenv
from convenv.agents import OracleStudent, ProbabilisticStudent
from convenv.envs.puzzles import knights as knights_env
from convenv.envs.puzzles import make24 as make24_env
from convenv.envs.puzzles import word_guess as word_env
from convenv.envs.puzzles.knights_feedback import make_feedback_policy as knights_policy
from convenv.leak import detect_leak
from convenv.play import play_episode
from convenv.tasks.puzzles import knights, make24
from convenv.utils import check_env
from convenv.verifiers import knights as knights_check
from convenv.verifiers import make24 as make24_check
from convenv.verifiers import word_guess as word_check
from convenv.wrappers import StudentEnv

ENVS = {
    "Make24-v0": (make24_env, make24_check.check, {"difficulty": 2, "teacher": "locate"}),
    "WordGuess-v0": (word_env, word_check.check, {"difficulty": 3, "teacher": "verdict"}),
    "KnightsKnaves-v0": (knights_env, knights_check.check, {"difficulty": 2, "teacher": "verdict"}),
}


@pytest.mark.parametrize("env_id", ENVS)
def test_passes_every_api_check_with_other_settings(env_id):
    kwargs = ENVS[env_id][2]
    env = convenv.make(env_id, max_turns=3, **kwargs)
    parallel_api_test(env, num_cycles=20)
    check_env(env, episodes=2, pettingzoo=False)
    env.close()
    envs = []

    def factory():
        envs.append(convenv.make(env_id, **kwargs))
        return envs[-1]

    parallel_seed_test(factory, num_cycles=10)
    student = StudentEnv(convenv.make(env_id, **kwargs))
    gym_check_env(student, skip_render_check=True)
    for e in [*envs, student]:
        e.close()


def junk(rng):
    return "".join(rng.choice(list("abcXYZ0123+-*/()=: \n"), size=int(rng.integers(1, 40))))


@pytest.mark.parametrize("env_id", ENVS)
def test_scripted_teachers_never_leak(env_id):
    module, check, _ = ENVS[env_id]
    rng = np.random.default_rng(0)
    domains = [module.make_domain(teacher=teacher, max_turns=5) for teacher in module.TEACHERS]
    for level in (1, 2, 3):
        source = module.make_domain(difficulty=level).tasks
        tasks = [source.sample(np.random.default_rng(seed)) for seed in range(30 if level < 3 else 12)]
        for task, domain in itertools.product(tasks, domains):
            teacher = domain.feedback.name
            assert not domain.leak_check(domain.feedback.opening(task), task).leaked
            said = []
            for attempt in range(1, 5):
                text = domain.wrong_answer(task, rng) if attempt != 2 else junk(rng)
                said.append(text)
                verdict = check(text, task)
                assert not verdict.correct
                message = domain.feedback.feedback(task, verdict, attempt, rng)
                report = domain.leak_check(message, task, public=said)
                assert not report.leaked, (teacher, message, report)


@pytest.mark.parametrize("env_id", ENVS)
def test_episodes_with_every_teacher_end_without_leaks(env_id):
    module = ENVS[env_id][0]
    for teacher in module.TEACHERS:
        env = convenv.make(env_id, teacher=teacher, max_turns=4, difficulty=1)
        student = ProbabilisticStudent(env, p_correct=0.3, seed=1)
        for seed in range(5):
            result = play_episode(env, {"teacher": env.default_teacher(), "student": student}, seed=seed)
            assert result.leaks == 0
        result = play_episode(
            env, {"teacher": env.default_teacher(), "student": OracleStudent(env, correct_at=3)}, seed=9
        )
        assert result.success_turn == 3
        env.close()


# ------------------------------------------------------------------------------------------------------ make24
TASK24 = make24.make_task((4, 6, 8, 4), 24, make24.Node("*", make24.Node("-", 6, 4), make24.Node("+", 8, 4)), 1)


@pytest.mark.parametrize(
    "text",
    [
        "Try (6 - 4) * (8 + 4).",
        "One answer is (8+4)*(6-4) = 24",
        "Compute 2 * 12 = 24 where 2 = 6 - 4; in one go: ((6 - 4) × (8 + 4))",
    ],
)
def test_make24_leak_rule_catches_full_solutions(text):
    assert make24_env.make24_leak(text, TASK24).leaked
    cleaned = make24_env.make24_redact(text, TASK24)
    assert "[redacted]" in cleaned and not make24_env.make24_leak(cleaned, TASK24).leaked


@pytest.mark.parametrize(
    "text",
    [
        TASK24.prompt,
        "Hint: one solution starts with 6 - 4 = 2.",
        "Your expression equals 28, but the target is 24.",
        "(6 - 4) * (8 + 5) is not it",
        "Use 4, 6, 8 and 4 to make 24.",
    ],
)
def test_make24_leak_rule_lets_partial_work_through(text):
    assert not make24_env.make24_leak(text, TASK24).leaked


def test_make24_student_expression_quoted_back_is_not_a_leak():
    said = "Answer: (6 - 4) * (8 + 4) * 1"
    assert not make24_env.make24_leak("You used (6 - 4) * (8 + 4) * 1.", TASK24, public=[said]).leaked


def test_make24_hints_give_one_step_only():
    domain = make24_env.make_domain(teacher="hints")
    rng = np.random.default_rng(0)
    verdict = make24_check.check("Answer: 4 * 6 + 8 - 4", TASK24)
    first = domain.feedback.feedback(TASK24, verdict, 1, rng)
    assert "Your expression equals 28, but the target is 24." in first and "combining 6 and 4 first" in first
    later = domain.feedback.feedback(TASK24, verdict, 3, rng)
    assert "starts with 6 - 4 = 2." in later and "12" not in later


# -------------------------------------------------------------------------------------------------- word guess
def test_word_guess_defaults_to_six_turns_and_letter_marks():
    env = convenv.make("WordGuess-v0", render_mode="ansi")
    obs, infos = env.reset(seed=0)
    teacher = env.default_teacher()
    obs, *_, infos = env.step({"teacher": teacher.act([obs["teacher"]], [infos["teacher"]])[0]})
    assert (
        env.max_turns == 6 and "+ means the letter is in the word at this spot" in infos["student"]["last_message"]
    )
    wrong = "guess: " + ("zzzzz" if "z" not in env.task.answer else "qqqqq")
    obs, *_, infos = env.step({"student": np.array(env.tokenizer.encode(wrong))})
    obs, *_, infos = env.step({"teacher": teacher.act([obs["teacher"]], [infos["teacher"]])[0]})
    assert infos["student"]["last_message"].startswith(f"{' '.join(wrong[7:].upper())} -> - - - - -")
    env.close()


def test_word_guess_generic_leak_check_finds_the_hidden_word():
    task = word_env.WordGuessGenerator(difficulty=2).sample(np.random.default_rng(0))
    word = task.answer
    assert detect_leak(f"The word is {word.upper()}.", task).leaked
    assert detect_leak(f"It rhymes with nothing; {word}!", task).leaked
    assert not detect_leak(" ".join(word.upper()) + " -> + + + + +", task).leaked
    assert not detect_leak(f"{word}s and more", task).leaked


# ----------------------------------------------------------------------------------------------------- knights
KNIGHTS3 = knights.make_task(
    [(0, ("is", 1, False)), (1, ("all", (0, 2), False)), (2, ("some", (0, 1, 2), False))], 3, 2
)  # A: "B is a knave"; B: "A and C are both knaves"; C: "at least one of us is a knave"


def test_knights_puzzle_fixture_is_what_the_tests_assume():
    assert KNIGHTS3.answer == "A: knight, B: knave, C: knight"


@pytest.mark.parametrize(
    "text",
    [
        "A is a knight, B is a knave and C is a knight.",
        "Answer: A: knight, B: knave, C: knight",
        "Well, A: knight. B - knave. And C = KNIGHT.",
    ],
)
def test_knights_leak_rule_catches_full_assignments(text):
    assert knights_env.knights_leak(text, KNIGHTS3).leaked
    cleaned = knights_env.knights_redact(text, KNIGHTS3)
    assert "[redacted]" in cleaned and not knights_env.knights_leak(cleaned, KNIGHTS3).leaked


@pytest.mark.parametrize(
    "text",
    [
        KNIGHTS3.prompt,
        'Look again: A says "B is a knave". Hint: B is a knave.',
        "A is a knight and B is a knave.",
        "A says B is a knave, and C says at least one of us is a knave. Hint: C is a knight.",
    ],
)
def test_knights_leak_rule_lets_partial_answers_and_quotes_through(text):
    assert not knights_env.knights_leak(text, KNIGHTS3).leaked


def test_knights_hints_reveal_one_role_only_before_the_last_attempt():
    policy = knights_policy("hints", max_turns=4)
    rng = np.random.default_rng(0)
    verdict = knights_check.check("Answer: A: knight, B: knight, C: knave", KNIGHTS3)
    early = [policy.feedback(KNIGHTS3, verdict, attempt, rng) for attempt in (1, 2)]
    assert all("examine" in m and " is a kn" not in m.split("Hint:")[1] for m in early)
    last = policy.feedback(KNIGHTS3, verdict, 3, rng)
    assert last.endswith("Hint: B is a knave.")
    assert "A's statement cannot hold" in last


def test_knights_locate_never_says_who_is_wrong():
    policy = knights_policy("locate")
    rng = np.random.default_rng(0)
    verdict = knights_check.check("Answer: A: knave, B: knight, C: knave", KNIGHTS3)
    message = policy.feedback(KNIGHTS3, verdict, 1, rng)
    assert "statement cannot hold" in message and "wrong" not in message.lower()
