"""GuessNumber-v0 and Arithmetic-v0: generators, teachers, and the proof that the feedback is necessary."""

import doctest

import numpy as np
import pytest

import convenv.tasks.course
import convenv.verifiers.course
from convenv.envs.course import (
    BisectionStudent,
    HigherLower,
    SaysNo,
    make_arithmetic,
    make_guess_number,
    split_view,
    verifier_report,
)
from convenv.play import play_episode
from convenv.tasks.base import Task
from convenv.tasks.course import ArithmeticTasks, GuessNumberTasks, bisection_turns
from convenv.tokenizers.char import CharTokenizer
from convenv.utils import check_env
from convenv.verifiers.base import Verdict
from convenv.verifiers.course import check_integer

MAKERS = {"GuessNumber-v0": make_guess_number, "Arithmetic-v0": make_arithmetic}
ENVS = list(MAKERS)


def make(env_id, **kwargs):
    return MAKERS[env_id](**kwargs)


@pytest.fixture(scope="module", params=ENVS)
def env(request):
    env = make(request.param)
    yield env
    env.close()


def play(env, student, seed=None, task=None):
    options = None if task is None else {"task": task}
    return play_episode(env, {"teacher": env.default_teacher(), "student": student}, seed=seed, options=options)


def test_docstring_examples():
    for module in (convenv.tasks.course, convenv.verifiers.course):
        failures, tried = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
        assert tried > 0 and failures == 0


@pytest.mark.parametrize("source", [GuessNumberTasks(difficulty=3), ArithmeticTasks(difficulty=3)], ids=repr)
def test_generators_are_deterministic_and_cover_their_range(source):
    draw = [source.sample(np.random.default_rng(s)) for s in range(300)]
    again = [source.sample(np.random.default_rng(s)) for s in range(300)]
    assert draw == again
    assert len({t.id for t in draw}) == len(draw)
    for task in draw:
        lo, hi = task.metadata["interval"]
        assert lo <= int(task.answer) <= hi and hi - lo + 1 == 63
    offsets = {int(t.answer) - t.metadata["interval"][0] for t in draw}
    assert len(offsets) > 55  # the answer is spread over its interval


def test_arithmetic_tasks_are_correct_sums_and_differences():
    for seed in range(100):
        task = ArithmeticTasks(difficulty=2).sample(np.random.default_rng(seed))
        a, op = task.metadata["visible"], task.metadata["operator"]
        assert task.prompt == f"{a}{op}?"
        left, right = task.solution.split("=")
        b = int(left.split(op)[1])
        assert 1 <= b <= 31 and int(right) == int(task.answer) == (a + b if op == "+" else a - b) > 0


@pytest.mark.parametrize(
    ("make", "difficulty"), [(make_guess_number, d) for d in (1, 2, 3)] + [(make_arithmetic, d) for d in (1, 2, 3)]
)
def test_turn_limit_is_what_bisection_needs(make, difficulty):
    env = make(difficulty=difficulty)
    assert env.max_turns == difficulty + 3  # 15, 31, 63 values: 4, 5, 6 guesses
    assert env.tokenizer == CharTokenizer() and env.max_utterance_tokens <= 5
    env.close()


def test_feedback_is_necessary_guess_number_exhaustively():
    env = make_guess_number(difficulty=2)
    smart, blind = BisectionStudent(env.tokenizer), BisectionStudent(env.tokenizer, use_feedback=False)
    source = GuessNumberTasks(n=31)
    wins = {True: 0, False: 0}
    for secret in range(1, 32):
        task = Task(
            id=f"t{secret}",
            domain="course",
            prompt="1-31",
            answer=str(secret),
            metadata=source.sample(np.random.default_rng(0)).metadata,
        )
        result = play(env, smart, task=task)
        assert result.success and result.success_turn <= 5 and result.leaks == 0
        wins[True] += result.success
        wins[False] += play(env, blind, task=task).success
    assert wins == {True: 31, False: 5}  # the best feedback-ignoring student: 5 distinct guesses of 31 values
    env.close()


@pytest.mark.parametrize("env_id", ENVS)
def test_feedback_is_necessary_over_seeds(env_id):
    env = make(env_id)
    smart, blind = BisectionStudent(env.tokenizer), BisectionStudent(env.tokenizer, use_feedback=False)
    seeds = range(200)
    smart_results = [play(env, smart, seed=s) for s in seeds]
    assert all(r.success for r in smart_results)
    blind_rate = np.mean([play(env, blind, seed=s).success for s in seeds])
    assert blind_rate == pytest.approx(5 / 31, abs=0.07)  # measured 0.21 (GuessNumber), 0.135 (Arithmetic)
    # the verdict-only teacher ("no") gives no direction: reading the feedback no longer helps
    flat = make(env_id, teacher="verdict")
    assert np.mean([play(flat, smart, seed=s).success for s in seeds]) == pytest.approx(5 / 31, abs=0.07)
    flat.close()
    env.close()


def test_bisection_reads_only_its_observation(env):
    obs, infos = env.reset(seed=7)
    assert "task" not in infos["student"]
    messages = split_view(env.tokenizer, env.transcript.view_ids("student"))
    assert [role for role, _ in messages] == ["system"]
    result = play(env, BisectionStudent(env.tokenizer), seed=7)
    assert result.success
    final = env.transcript.view_ids("student")
    assert len(final) < 64  # short observations: the whole episode fits in 64 ids


@pytest.mark.parametrize("teacher", ["direction", "verdict"])
def test_teachers_never_leak_over_many_seeds(env, teacher):
    env = make(env.env_id, teacher=teacher)
    rng = np.random.default_rng(0)
    for seed in range(100):
        env.reset(seed=seed)
        student = BisectionStudent(env.tokenizer, use_feedback=bool(seed % 2))
        result = play(env, student, seed=seed)
        assert result.leaks == 0
        said = [m.text for m in env.transcript.messages if m.speaker == "teacher"]
        assert all(env.task.answer not in text or text == env.task.prompt for text in said)
        assert env.domain.wrong_answer(env.task, rng) != env.task.answer
    env.close()


@pytest.mark.parametrize("env_id", ENVS)
@pytest.mark.parametrize("teacher", ["direction", "verdict"])
def test_check_env_for_each_teacher(env_id, teacher):
    env = make(env_id, teacher=teacher, difficulty=3)
    check_env(env, episodes=2, pettingzoo=False)
    env.close()


def test_feedback_words(env):
    task = env.domain.tasks.sample(np.random.default_rng(3))
    gold, rng = int(task.answer), np.random.default_rng(0)
    direction, verdict_only = HigherLower(), SaysNo()
    assert direction.feedback(task, check_integer(str(gold + 1), task), 1, rng) == "<"  # the answer is lower
    assert direction.feedback(task, check_integer(str(gold - 1), task), 1, rng) == ">"
    assert direction.feedback(task, check_integer("what", task), 1, rng) == "?"
    assert verdict_only.feedback(task, check_integer(str(gold + 1), task), 1, rng) == "no"
    assert direction.opening(task) == task.prompt


def test_hostile_or_odd_student_text_is_read_safely(env):
    verify = env.domain.verifier.verify
    env.reset(seed=0)
    assert verify("9" * 40, env.task).error == "too_large"
    assert verify("--", env.task).error == "no_answer"
    assert verify(f"x {env.task.answer}", env.task).correct


def test_redact_policy_fits_the_tiny_alphabet():
    env = make_guess_number(leak_policy="redact")
    obs, infos = env.reset(seed=1)
    env.step({"teacher": np.array(env.tokenizer.encode(env.task.prompt))})
    env.step({"student": np.array(env.tokenizer.encode("0"))})
    obs, _, _, _, infos = env.step({"teacher": np.array(env.tokenizer.encode(f"={env.task.answer}"))})
    assert infos["student"]["leaked"] and infos["student"]["last_message"] == "=?"
    env.close()


def test_other_tokenizers_work_too():
    env = make_arithmetic(tokenizer="byte", difficulty=1)
    assert play(env, BisectionStudent(env.tokenizer), seed=0).success
    env.close()


def test_bad_arguments_are_clear_errors():
    with pytest.raises(ValueError, match=r"expected difficulty to be one of \[1, 2, 3\], got 4"):
        make_guess_number(difficulty=4)
    with pytest.raises(ValueError, match="expected n to be an integer >= 2, got 1"):
        make_guess_number(n=1)
    with pytest.raises(ValueError, match=r"expected teacher in \['verdict', 'direction'\], got 'hints'"):
        make_arithmetic(teacher="hints")
    with pytest.raises(ValueError, match="expected the opening to be 'lo-hi' or 'a\\+\\?'"):
        BisectionStudent(CharTokenizer()).guess(CharTokenizer().encode("7"))


def test_custom_bound_sets_the_turn_limit():
    env = make_guess_number(n=100)
    assert env.max_turns == bisection_turns(100) == 7 and env.max_utterance_tokens == 5
    assert play(env, BisectionStudent(env.tokenizer), seed=5).success
    env.close()


def test_verifier_reports_fit_the_tiny_alphabet():
    tok = CharTokenizer()
    verdicts = [
        Verdict(True, "20"),
        Verdict(False, "25", "wrong_value", signals={"direction": "too_high"}),
        Verdict(False, "12", "wrong_value", signals={"direction": "too_low"}),
        Verdict(False, None, "no_answer"),
        Verdict(False, "999...", "too_large"),
        Verdict(False, None, "timeout", "the check took longer than 2.0 s and was stopped"),
        Verdict(False, None, "worker_crash", "boom"),
    ]
    reports = [verifier_report(v) for v in verdicts]
    assert reports == ["ok 20", "25 high", "12 low", "none", "long", "error", "error"]
    assert all(tok.decode(tok.encode(r)) == r for r in reports)


def test_random_pick_guesses_distinct_values_and_ignores_feedback_when_asked():
    env = make_guess_number(difficulty=2)
    source = GuessNumberTasks(n=31)
    wins = 0
    for secret in range(1, 32):
        task = Task(
            id=f"t{secret}", domain="course", prompt="1-31", answer=str(secret),
            metadata=source.sample(np.random.default_rng(0)).metadata,
        )  # fmt: skip
        guesser = BisectionStudent(env.tokenizer, use_feedback=False, pick="random", seed=secret)
        obs, infos = env.reset(options={"task": task})
        guesses = []
        while env.agents:
            speaker = infos[env.agents[0]]["to_act"]
            agent = guesser if speaker == "student" else env.default_teacher()
            action = agent.act([obs[speaker]], [infos[speaker]])[0]
            if speaker == "student":
                guesses.append(env.tokenizer.decode(action))
            obs, _, _, _, infos = env.step({speaker: action})
        assert len(set(guesses)) == len(guesses) and all(1 <= int(g) <= 31 for g in guesses)
        wins += infos["student"]["episode"]["success"]
    assert 0 < wins < 31  # distinct random guesses: about 5 of 31 secrets
    with pytest.raises(ValueError, match="expected pick 'median' or 'random'"):
        BisectionStudent(env.tokenizer, pick="mode")
    env.close()
