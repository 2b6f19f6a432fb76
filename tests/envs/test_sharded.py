"""MathTutor-Sharded-v0 and the generic ShardedTeacher: generators, shard choice, metrics, leaks."""

import doctest
import re
from fractions import Fraction

import numpy as np
import pytest

import convenv.envs.sharded
import convenv.tasks.math_sharded
from convenv.envs.math_feedback import VerdictOnly
from convenv.envs.sharded import PREMATURE, ShardedTeacher, make_math_sharded, match_shard, next_shard
from convenv.leak import detect_leak
from convenv.tasks.base import Task
from convenv.tasks.math_sharded import TEMPLATES, ShardedMathTasks
from convenv.utils import check_env
from convenv.verifiers.base import Verdict

# the answer from the numbers of the shards, in shard order, computed independently of the generator
FORMULAS = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda total, b: Fraction(total, b),
    "bakery": lambda a, b, c: a * b - c,
    "reading": lambda t, a, d: t - a * d,
    "change": lambda s, k, p: s - k * p,
    "shopping": lambda p, q, m, k: m * p + k * q,
    "linear": lambda m, c, r: Fraction(r - c, m),
    "ages": lambda d, t, s: Fraction(s - d - 2 * t, 2),
    "spending": lambda m, one, a, one_, b: m - Fraction(m, a) - (m - Fraction(m, a)) / b,
}

# natural questions per template, with the shard each asks about ({n}: the name in the task's first shard)
QUESTIONS = {
    "add": [("How many did {n} have at the start?", 0), ("How many more does {n} get?", 1)],
    "sub": [("How many did {n} have at first?", 0), ("How many were given to the friend?", 1)],
    "mul": [("How many does each box hold?", 0), ("How many boxes are there?", 1)],
    "div": [("How many are there in total?", 0), ("How many friends are there?", 1)],
    "bakery": [
        ("How many trays does the baker make?", 0),
        ("How many muffins fit on each tray?", 1),
        ("How many muffins were sold?", 2),
    ],
    "reading": [
        ("How long is the book?", 0),
        ("How many pages does {n} read per day?", 1),
        ("How many days has {n} been reading?", 2),
    ],
    "change": [
        ("How much money does {n} have?", 0),
        ("How many tickets does {n} buy?", 1),
        ("What does each ticket cost?", 2),
    ],
    "shopping": [
        ("What does a notebook cost?", 0),
        ("What is the price of a pen?", 1),
        ("How many notebooks does {n} buy?", 2),
        ("How many pens does {n} buy?", 3),
    ],
    "linear": [("What do you multiply it by?", 0), ("What is added?", 1), ("What is the result?", 2)],
    "ages": [
        ("How much older is the first one?", 0),
        ("How many years ahead?", 1),
        ("What is the sum of ages?", 2),
    ],
    "spending": [("How much money is there at first?", 0), ("What fraction goes on books?", 1), ("And lunch?", 2)],
}


def tasks_by_template():
    found = {}
    for seed in range(400):
        task = ShardedMathTasks().sample(np.random.default_rng(seed))
        found.setdefault(task.metadata["template"], task)
    return found


TASKS = tasks_by_template()


@pytest.fixture(scope="module")
def env():
    env = make_math_sharded()
    yield env
    env.close()


class Scripted:
    """A student that says the next line of a script (a callable gets the env and returns the text)."""

    role = "student"

    def __init__(self, env, lines):
        self.env, self.lines = env, list(lines)

    def act(self, observations, infos):
        line = self.lines.pop(0)
        text = line(self.env) if callable(line) else line
        return [np.asarray(self.env.tokenizer.encode(text), dtype=np.int64)]


def play(env, lines, task=None, seed=0):
    """Play a scripted student against the default teacher; return (episode info, teacher messages, reveals)."""
    teacher, student = env.default_teacher(), Scripted(env, lines)
    obs, infos = env.reset(seed=seed, options=None if task is None else {"task": task})
    reveals, said = [], []
    while env.agents:
        speaker = infos["teacher"]["to_act"]
        agent = teacher if speaker == "teacher" else student
        before = set(infos["teacher"]["shards_revealed"])
        obs, _, _, _, infos = env.step({speaker: agent.act([obs[speaker]], [infos[speaker]])[0]})
        if speaker == "teacher":
            reveals.append(set(infos["teacher"]["shards_revealed"]) - before)
            said.append(infos["teacher"]["last_message"])
    return infos["student"]["episode"], said, reveals


def correct(env):
    return env.domain.format_answer(env.task)


def test_docstring_examples():
    for module in (convenv.envs.sharded, convenv.tasks.math_sharded):
        failures, tried = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
        assert tried > 0 and failures == 0


def test_generator_is_deterministic_and_well_formed():
    source = ShardedMathTasks()
    assert [source.sample(np.random.default_rng(s)) for s in range(200)] == [
        source.sample(np.random.default_rng(s)) for s in range(200)
    ]
    assert set(TASKS) == {t.__name__.lstrip("_") for level in TEMPLATES.values() for t in level}
    for seed in range(300):
        task = source.sample(np.random.default_rng(seed))
        meta = task.metadata
        assert not re.search(r"\d", task.prompt), "the opening question carries no facts"
        assert 2 <= len(task.shards) <= 4 and meta["needed_shards"] == tuple(range(len(task.shards)))
        assert len(meta["shard_keywords"]) == len(task.shards)
        assert all(shard in meta["full_prompt"] for shard in task.shards)
        numbers = [int(n) for n in re.findall(r"\d+", " ".join(task.shards))]
        assert FORMULAS[meta["template"]](*numbers) == meta["answer_value"] == Fraction(task.answer)
        for text in (*task.shards, *task.hints):
            assert not detect_leak(text, task).leaked, (text, task.answer)


def test_difficulty_selects_levels():
    for level in (1, 2, 3):
        task = ShardedMathTasks(difficulty=level).sample(np.random.default_rng(0))
        assert task.metadata["difficulty"] == level
    with pytest.raises(ValueError, match="expected difficulty as a level in 1..3"):
        ShardedMathTasks(difficulty=4)


@pytest.mark.parametrize("template", sorted(QUESTIONS))
def test_the_teacher_reveals_the_shard_asked_about(env, template):
    task = TASKS[template]
    name = task.shards[0].split()[0]
    for order in (1, -1):  # in order, then in reverse, so every shard is asked for among the others
        asked = QUESTIONS[template][::order]
        lines = [q.format(n=name) for q, _ in asked] + [correct]
        episode, said, reveals = play(env, lines, task=task)
        assert reveals[0] == set(), "the opening reveals nothing"
        assert reveals[1:] == [{i} for _, i in asked], said
        assert all(task.shards[i] in text for (_, i), text in zip(asked, said[1:], strict=True))
        assert episode["success"] and episode["premature_attempts"] == 0
        assert episode["questions"] == len(task.shards) and episode["attempts"] == 1


def test_ask_then_answer_versus_answer_at_once(env):
    for seed in range(12):
        env.reset(seed=seed)
        k = len(env.task.shards)
        ask = ["What detail is missing?"] * k + [correct]  # matches no shard: the next one comes
        episode, said, reveals = play(env, ask, seed=seed)
        assert episode["success"] and episode["success_turn"] == k + 1
        assert (episode["questions"], episode["attempts"], episode["premature_attempts"]) == (k, 1, 0)
        assert reveals == [set(), *({i} for i in range(k))]

        episode, _, _ = play(env, [correct], seed=seed)
        assert episode["success"] and episode["success_turn"] == 1
        assert (episode["questions"], episode["attempts"], episode["premature_attempts"]) == (0, 1, 1)


def test_wrong_premature_attempts_get_the_next_shard_not_the_base_feedback(env):
    rng = np.random.default_rng(0)
    env.reset(seed=3)
    k = len(env.task.shards)
    wrong = [lambda e: e.domain.wrong_answer(e.task, rng)] * (k + 1) + [correct]
    episode, said, reveals = play(env, wrong, seed=3)
    assert all(text.startswith(PREMATURE) for text in said[1 : k + 1])
    assert reveals[1 : k + 1] == [{i} for i in range(k)]
    assert not said[k + 1].startswith(PREMATURE), "with every shard revealed, the base policy's feedback comes"
    assert (episode["attempts"], episode["premature_attempts"], episode["questions"]) == (k + 2, k, 0)
    assert episode["success_turn"] == k + 2


def test_questions_about_revealed_shards_and_after_the_end(env):
    task = TASKS["add"]
    name = task.shards[0].split()[0]
    lines = [f"What did {name} have at first?", f"What did {name} have at first?", "How many more?", "Anything?"]
    episode, said, reveals = play(env, [*lines, correct], task=task)
    assert reveals == [set(), {0}, set(), {1}, set()]
    assert said[2].startswith("As I said:") and task.shards[0] in said[2]
    assert "every detail" in said[4]
    assert episode["questions"] == 4


def test_at_most_one_new_shard_per_teacher_turn_and_no_leaks():
    pool = [
        "What detail is missing?",
        "How many more?",
        "What does each one cost?",
        "Is it raining?",
        "Let me think about it.",
        "How many days?",
        "What is the result?",
        "Answer: 7",
    ]
    for teacher in ("verdict", "direction", "locate", "hints"):
        env = make_math_sharded(teacher=teacher, max_turns=6)
        for seed in range(15):
            rng = np.random.default_rng(seed)
            lines = [
                (lambda e, r=rng: e.domain.wrong_answer(e.task, r)) if rng.random() < 0.3 else str(rng.choice(pool))
                for _ in range(5)
            ] + [correct]
            episode, said, reveals = play(env, lines, seed=seed)
            assert all(len(new) <= 1 for new in reveals) and reveals[0] == set()
            assert episode["leaks"] == 0 and episode["success"], said
        env.close()


def test_the_classifier_is_pluggable():
    env = make_math_sharded(classifier=lambda text, task: "question", max_turns=3)
    episode, _, reveals = play(env, [correct] * 3, seed=0)
    assert not episode["success"] and episode["attempts"] == 0 and episode["questions"] == 3
    assert all(len(new) <= 1 for new in reveals)
    env.close()


@pytest.mark.parametrize("teacher", ["verdict", "hints"])
def test_check_env_for_base_teachers(teacher):
    env = make_math_sharded(teacher=teacher, max_turns=4)
    check_env(env, episodes=2, pettingzoo=False)
    env.close()


def test_sharded_teacher_is_domain_agnostic():
    task = Task(
        id="code/t",
        domain="code",
        prompt="Write f(xs).",
        answer="def f(xs): ...",
        shards=("Ignore negative numbers.", "Return None for an empty list.", "Mention the weather."),
        metadata={"needed_shards": (1, 0)},
    )
    teacher = ShardedTeacher(VerdictOnly(), phrases={"more": "Also:"})
    rng = np.random.default_rng(0)
    assert teacher.opening(task).startswith("Write f(xs).") and "Ask me" in teacher.opening(task)
    assert teacher.name == "sharded-verdict"
    asked = {"turn_kind": "question", "last_message": "What about an empty list?", "shards_revealed": (), "turn": 1}
    assert teacher.respond(task, asked, rng).endswith("Return None for an empty list.")
    other = {"turn_kind": "other", "last_message": "ok", "shards_revealed": (1,), "turn": 2, "verdict": None}
    assert teacher.respond(task, other, rng) == "Also: Ignore negative numbers."
    wrong = Verdict(False, "x", "wrong_value")
    done = {"turn_kind": "attempt", "verdict": wrong, "shards_revealed": (0, 1), "turn": 3, "last_message": "x"}
    base = VerdictOnly().feedback(task, wrong, 3, np.random.default_rng(1))
    assert teacher.respond(task, done, np.random.default_rng(1)) == base  # complete: the base policy speaks
    assert next_shard(task, ()) == 1 and next_shard(task, (0, 1)) == 2 and next_shard(task, (0, 1, 2)) is None
    assert match_shard("What about negative numbers?", task, [0, 1, 2]) == 0
    with pytest.raises(ValueError, match="expected phrase keys among"):
        ShardedTeacher(VerdictOnly(), phrases={"hello": "hi"})
