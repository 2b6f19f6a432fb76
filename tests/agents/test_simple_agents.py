import numpy as np
import pytest

import convenv
from convenv.agents import HumanAgent, HumanQuit, OracleStudent, ProbabilisticStudent, RandomAgent
from convenv.play import play_episode, success_by_turn
from convenv.spaces import TokenSequence

MAX_TURNS = 4


@pytest.fixture(scope="module")
def env():
    env = convenv.make("MathTutor-v0", max_turns=MAX_TURNS)
    yield env
    env.close()


def teacher_opens(env, seed):
    """Reset and let the scripted teacher speak: the student is to act."""
    observations, infos = env.reset(seed=seed)
    action = env.default_teacher().act([observations["teacher"]], [infos["teacher"]])[0]
    observations, _, _, _, infos = env.step({"teacher": action})
    return observations, infos


# ------------------------------------------------------------------------------------------------- RandomAgent
def test_random_agent_acts_only_on_its_turn_with_valid_utterances(env):
    observations, infos = env.reset(seed=0)
    student = RandomAgent("student", env, seed=0, max_length=16)
    teacher = RandomAgent("teacher", env.action_space("teacher"), seed=0, max_length=16)
    assert student.act([observations["student"]], [infos["student"]]) == [None]
    action = teacher.act([observations["teacher"]], [infos["teacher"]])[0]
    assert action in env.action_space("teacher")
    assert 1 <= len(action) <= 16
    env.step({"teacher": action})  # accepted


def test_random_agent_is_seeded_and_leaves_the_env_space_alone(env):
    space = env.action_space("student")
    state = space.np_random.bit_generator.state
    a, b = RandomAgent("student", env, seed=7), RandomAgent("student", env, seed=7)
    first = [a.sample() for _ in range(3)]
    assert all(np.array_equal(x, y) for x, y in zip(first, [b.sample() for _ in range(3)], strict=True))
    a.reset(seed=7)
    assert all(np.array_equal(x, a.sample()) for x in first)
    assert space.np_random.bit_generator.state == state
    assert not np.array_equal(RandomAgent("student", env, seed=8).sample(), first[0])


def test_random_agent_argument_errors(env):
    with pytest.raises(TypeError, match="expected a gymnasium Space or an env"):
        RandomAgent("student", object())
    with pytest.raises(ValueError, match="expected max_length >= the space's min_length 1, got 0"):
        RandomAgent("student", env, max_length=0)
    from gymnasium.spaces import Discrete

    with pytest.raises(TypeError, match="expected a TokenSequence space when max_length is given"):
        RandomAgent("student", Discrete(3), max_length=2)
    space = TokenSequence(8, 10, min_length=2)
    agent = RandomAgent("student", space, seed=0, max_length=100)  # capped at the space's limit
    assert agent.max_length == 8
    assert all(2 <= len(agent.sample()) <= 8 for _ in range(20))


def test_random_student_plays_whole_episodes(env):
    student = RandomAgent("student", env, seed=0, max_length=32)
    result = play_episode(env, {"teacher": env.default_teacher(), "student": student}, seed=0)
    assert result.reason in ("turn_limit", "success")
    assert result.steps >= 2


# ----------------------------------------------------------------------------------------------- oracle students
@pytest.mark.parametrize("correct_at", [1, 3])
@pytest.mark.parametrize("seed", [0, 1])
def test_oracle_student_is_correct_from_correct_at(env, correct_at, seed):
    agents = {"teacher": env.default_teacher(), "student": OracleStudent(env, correct_at=correct_at, seed=seed)}
    result = play_episode(env, agents, seed=seed)
    assert (result.success, result.success_turn, result.reason) == (True, correct_at, "success")
    assert result.returns["student"] == pytest.approx(env.gamma ** (correct_at - 1))


def test_oracle_student_never_correct(env):
    agents = {"teacher": env.default_teacher(), "student": OracleStudent(env, correct_at=None)}
    result = play_episode(env, agents, seed=2)
    assert (result.success, result.turns, result.reason) == (False, MAX_TURNS, "turn_limit")
    with pytest.raises(ValueError, match="expected correct_at >= 1 or None, got 0"):
        OracleStudent(env, correct_at=0)


def test_cheating_students_check_the_batch_against_their_envs(env):
    observations, infos = teacher_opens(env, seed=0)
    student = OracleStudent(env)
    obs, info = observations["student"], infos["student"]
    with pytest.raises(ValueError, match=r"expected at most 1 conversation\(s\), one per env given, got 2"):
        student.act([obs, obs], [info, info])
    with pytest.raises(ValueError, match="expected the observation to come from"):
        student.act([obs], [dict(info, task_id="math/other")])
    assert OracleStudent([env, env]).act([obs, obs], [info, dict(info, to_act="teacher")])[1] is None


def test_probabilistic_student_extremes_and_validation(env):
    teacher = env.default_teacher()
    always = play_episode(env, {"teacher": teacher, "student": ProbabilisticStudent(env, p_correct=1.0)}, seed=3)
    never = play_episode(env, {"teacher": teacher, "student": ProbabilisticStudent(env, p_correct=0.0)}, seed=3)
    assert (always.success_turn, never.success) == (1, False)
    with pytest.raises(ValueError, match="expected 0 <= p_correct <= 1, got 1.5"):
        ProbabilisticStudent(env, p_correct=1.5)


def test_probabilistic_student_is_seeded_and_its_curve_rises(env):
    def run(seed):
        agents = {"teacher": env.default_teacher(), "student": ProbabilisticStudent(env, p_correct=0.5, seed=seed)}
        return [play_episode(env, agents, seed=i) for i in range(12)]

    first = run(0)
    assert [r.success_turn for r in first] == [r.success_turn for r in run(0)]
    curve = success_by_turn(first, MAX_TURNS)
    assert np.all(np.diff(curve) >= 0) and curve[-1] > curve[0]


# --------------------------------------------------------------------------------------------------- HumanAgent
class Console:
    """Scripted input lines and captured output."""

    def __init__(self, *lines):
        self.lines = list(lines)
        self.prompts: list[str] = []
        self.out: list[str] = []

    def input(self, prompt):
        self.prompts.append(prompt)
        if not self.lines:
            raise EOFError
        return self.lines.pop(0)


def test_human_agent_shows_new_messages_once_and_reads_a_line(env):
    observations, infos = teacher_opens(env, seed=0)
    console = Console("x = 3")
    human = HumanAgent("student", env.tokenizer, input_fn=console.input, output_fn=console.out.append)
    not_ours = dict(infos["student"], to_act="teacher")
    assert human.act([observations["student"]], [not_ours]) == [None] and console.out == []
    action = human.act([observations["student"]], [infos["student"]])[0]
    assert env.tokenizer.decode(action) == "x = 3" and action.dtype == np.int64
    opening = env.transcript.messages[-1].text
    assert console.out[0].startswith("[system] ") and console.out[1] == f"[teacher] {opening.strip()}"
    assert console.prompts == ["student> "]

    observations, _, _, _, infos = env.step({"student": action})
    teacher_action = env.default_teacher().act([observations["teacher"]], [infos["teacher"]])[0]
    observations, _, _, _, infos = env.step({"teacher": teacher_action})
    console.out.clear()
    console.lines.append("x = 4")
    human.act([observations["student"]], [infos["student"]])
    feedback = env.transcript.messages[-1].text
    assert console.out == [f"[teacher] {feedback.strip()}"]  # neither the prompt again nor our own message


def test_human_agent_reprompts_on_empty_lines_and_restarts_on_a_new_episode(env):
    observations, infos = teacher_opens(env, seed=0)
    console = Console("", "   ", "42")
    human = HumanAgent("student", env.tokenizer, input_fn=console.input, output_fn=console.out.append)
    action = human.act([observations["student"]], [infos["student"]])[0]
    assert env.tokenizer.decode(action) == "42"
    assert console.out.count("(type a message, or /quit to stop)") == 2
    observations, infos = teacher_opens(env, seed=1)  # a new episode: shown from the start again
    console.out.clear()
    assert human.show(observations["student"])[0][0] == "system"


def test_human_agent_quits_cleanly(env):
    observations, infos = teacher_opens(env, seed=0)
    for console in (Console("/quit"), Console()):  # /quit, then end of input
        human = HumanAgent("student", env.tokenizer, input_fn=console.input, output_fn=console.out.append)
        with pytest.raises(HumanQuit):
            try:
                human.act([observations["student"]], [infos["student"]])
            except Exception:  # pragma: no cover - HumanQuit must not be an Exception
                pytest.fail("HumanQuit was caught by `except Exception`")


def test_human_teacher_sees_privileged_prompt_and_verifier_report(env):
    observations, infos = env.reset(seed=0)
    console = Console("Solve it.", "Look again.")
    human = HumanAgent("teacher", env.tokenizer, input_fn=console.input, output_fn=console.out.append)
    action = human.act([observations["teacher"]], [infos["teacher"]])[0]
    assert str(env.task.answer) in console.out[0]  # the teacher's system prompt carries the answer
    observations, _, _, _, infos = env.step({"teacher": action})
    wrong = OracleStudent(env, correct_at=None).act([observations["student"]], [infos["student"]])[0]
    observations, _, _, _, infos = env.step({"student": wrong})
    console.out.clear()
    human.act([observations["teacher"]], [infos["teacher"]])
    assert [line.split("]")[0] for line in console.out] == ["[student", "[verifier"]


def test_human_agent_reads_a_fenced_code_block_as_one_message():
    from convenv.agents import HumanAgent
    from convenv.tokenizers import ByteTokenizer

    lines = iter(["```python", "def f(x):", "    return x", "```", "next"])
    agent = HumanAgent("student", ByteTokenizer(), input_fn=lambda prompt: next(lines), output_fn=lambda *a: None)
    assert agent.read("> ") == "```python\ndef f(x):\n    return x\n```"
    assert agent.read("> ") == "next"
