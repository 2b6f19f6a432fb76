import doctest
import importlib
import itertools
import subprocess
import sys
from collections import Counter
from fractions import Fraction

import numpy as np
import pytest

from convenv.envs.puzzles.word_guess_feedback import TEACHER_VOCABULARY
from convenv.tasks.base import TaskSource
from convenv.tasks.maze import generate as maze_task
from convenv.tasks.puzzles import knights, make24, word_guess
from convenv.tasks.puzzles.words import WORDS
from convenv.verifiers.make24 import parse_expression


# ------------------------------------------------------------------------------------------------------ make24
def brute_force(values, target):
    """Independent search: combine any two remaining values with any operation until one is left."""
    if len(values) == 1:
        return values[0] == target
    for i, j in itertools.combinations(range(len(values)), 2):
        a, b = values[i], values[j]
        rest = [v for k, v in enumerate(values) if k not in (i, j)]
        results = {a + b, a - b, b - a, a * b}
        if b:
            results.add(a / b)
        if a:
            results.add(b / a)
        if any(brute_force([*rest, r], target) for r in results):
            return True
    return False


@pytest.mark.parametrize(("level", "count"), [(1, 40), (2, 40), (3, 8)])
def test_every_make24_instance_is_solvable(level, count):
    rng = np.random.default_rng(level)
    for _ in range(count):
        task = make24.generate(level, rng)
        numbers, target = task.metadata["numbers"], task.metadata["target"]
        value, used, _ = parse_expression(task.answer)  # the stored solution, read like a student's
        assert value == target and Counter(used) == Counter(numbers)
        assert brute_force([Fraction(n) for n in numbers], Fraction(target))
        if level == 1:
            assert len(numbers) == 4 and target == 24 and all(1 <= n <= 9 for n in numbers)
        elif level == 2:
            assert len(numbers) == 4 and 10 <= target <= 99 and target != 24
        else:
            assert len(numbers) == 5 and 100 <= target <= 999 and {25, 50, 75, 100} & set(numbers)
        assert task.id.startswith(f"puzzles/make24/{level}/")
        assert ", ".join(map(str, numbers)) in task.prompt and task.answer not in task.prompt


def test_make24_formatting_keeps_only_needed_parentheses():
    N = make24.Node
    assert make24.fmt(N("*", N("-", 8, 4), 6)) == "(8 - 4) * 6"
    assert make24.fmt(N("-", 8, N("-", 4, 6))) == "8 - (4 - 6)"
    assert make24.fmt(N("/", 8, N("-", 3, N("/", 8, 3)))) == "8 / (3 - 8 / 3)"
    assert make24.fmt(N("+", 1, N("+", 2, 3))) == "1 + 2 + 3"
    assert make24.steps(N("*", N("-", 8, 4), 6))[0] == (8, "-", 4, 4)


def test_reachable_knows_the_classic_fraction_puzzle():
    assert Fraction(24) in make24.reachable([8, 8, 3, 3])
    assert Fraction(24) not in make24.reachable([8, 8, 3, 3], whole=True)
    assert Fraction(24) not in make24.reachable([1, 1, 1, 1])


# -------------------------------------------------------------------------------------------------- word guess
@pytest.mark.parametrize(
    ("guess", "answer", "marks"),
    [
        ("crane", "crane", "+++++"),
        ("crane", "caner", "+????"),
        ("speed", "abide", "--?-?"),
        ("eerie", "there", "?-?-+"),  # the second e is absent: both of THERE's e are used up
        ("llama", "hello", "??---"),
        ("ALLOY", "loyal", "?????"),
    ],
)
def test_marks_follow_the_usual_rules_for_repeated_letters(guess, answer, marks):
    assert word_guess.marks(guess, answer) == marks


def test_word_lists_are_clean_and_avoid_every_teacher_word():
    for n, words in WORDS.items():
        assert len(words) >= 300 and len(set(words)) == len(words)
        assert all(len(w) == n and w.isascii() and w.isalpha() and w.islower() for w in words)
        assert not set(words) & TEACHER_VOCABULARY
        prompt_words = set(word_guess.render_prompt(n).lower().replace(":", " ").replace(".", " ").split())
        assert not set(words) & prompt_words


def test_word_task_ids_do_not_name_the_word():
    rng = np.random.default_rng(0)
    tasks = [word_guess.generate(1, rng) for _ in range(300)]
    by_word = {}
    for t in tasks:
        by_word.setdefault(t.answer, set()).add(t.id)
        assert t.answer not in t.id and len(t.answer) == 4
    assert any(len(ids) > 1 for ids in by_word.values())  # same word, different ids


def test_custom_word_lists_are_checked():
    with pytest.raises(ValueError, match="5-letter words"):
        word_guess.WordGuessGenerator(difficulty=2, words={5: ["toolong"]})
    source = word_guess.WordGuessGenerator(difficulty=2, words={5: ["apple"]})
    assert source.sample(np.random.default_rng(0)).answer == "apple"


# ----------------------------------------------------------------------------------------------------- knights
def truth(statement, world):
    """Independent reading of a statement tree."""
    kind = statement[0]
    if kind == "is":
        return world[statement[1]] is statement[2]
    if kind == "all":
        return {world[p] for p in statement[1]} == {statement[2]}
    if kind == "some":
        return statement[2] in {world[p] for p in statement[1]}
    if kind in ("same", "diff"):
        return (world[statement[1]] == world[statement[2]]) == (kind == "same")
    if kind == "count":
        return list(world).count(statement[2]) == statement[1]
    left, right = truth(statement[1], world), truth(statement[2], world)
    return (left or right) if kind == "or" else (right or not left)


@pytest.mark.parametrize("level", [1, 2, 3])
def test_every_knights_puzzle_has_exactly_one_solution(level):
    rng = np.random.default_rng(level)
    for _ in range(100):
        task = knights.generate(level, rng)
        n = task.metadata["people"]
        assert n == level + 1
        solutions = [
            world
            for world in itertools.product((True, False), repeat=n)
            if all(world[p] == truth(s, world) for p, s in task.metadata["statements"])
        ]
        assert solutions == [task.metadata["roles"]]
        expected = ", ".join(f"{'ABCD'[i]}: {'knight' if w else 'knave'}" for i, w in enumerate(solutions[0]))
        assert task.answer == expected and task.answer not in task.prompt
        assert task.id.startswith(f"puzzles/knights/{level}/")


def test_knights_statements_read_as_they_mean():
    assert knights.render(("some", (0, 1), False), 0, 2) == "at least one of us is a knave"
    assert knights.render(("all", (0, 1), True), 0, 2) == "we are both knights"
    assert knights.render(("all", (0, 1), True), 0, 3) == "B and I are both knights"
    assert knights.render(("same", 0, 2), 0, 3) == "C and I are the same kind"
    assert knights.render(("count", 1, True), 1, 3) == "exactly one of us is a knight"
    assert knights.render(("if", ("is", 0, False), ("is", 2, True)), 1, 3) == "if A is a knave, then C is a knight"
    assert knights.render(("or", ("is", 1, False), ("is", 0, True)), 1, 2) == "I am a knave or A is a knight"
    prompt = knights.render_prompt([(0, ("some", (0, 1), False))], 2)
    assert 'A says: "At least one of us is a knave."' in prompt and "B says nothing." in prompt


def test_a_puzzle_with_two_solutions_is_refused():
    with pytest.raises(ValueError, match="exactly one consistent assignment, got 2"):
        knights.make_task([(0, ("is", 1, False))], 2, 1)


# ------------------------------------------------------------------------------------------------------ shared
GENERATORS = [
    make24.Make24Generator(difficulty=(1, 2)),
    word_guess.WordGuessGenerator(difficulty=(1, 3)),
    knights.KnightsGenerator(difficulty=(1, 3)),
]


@pytest.mark.parametrize("source", GENERATORS, ids=lambda s: type(s).__name__)
def test_sources_are_deterministic_and_cover_their_levels(source):
    assert isinstance(source, TaskSource)
    a = [source.sample(np.random.default_rng(s)) for s in range(30)]
    b = [source.sample(np.random.default_rng(s)) for s in range(30)]
    assert [t.id for t in a] == [t.id for t in b]
    assert {t.metadata["difficulty"] for t in a} == set(range(source.difficulty[0], source.difficulty[1] + 1))


CROSS_PROCESS = """
import numpy as np
from convenv.tasks.maze import generate as m
from convenv.tasks.puzzles import knights, make24, word_guess
for level in (1, 2, 3):
    for g in (m, make24.generate, word_guess.generate, knights.generate):
        print(g(level, np.random.default_rng(level)).id)
"""


def test_task_ids_are_identical_across_processes():
    out = subprocess.run([sys.executable, "-c", CROSS_PROCESS], capture_output=True, text=True, check=True).stdout
    here = [
        g(level, np.random.default_rng(level)).id
        for level in (1, 2, 3)
        for g in (maze_task, make24.generate, word_guess.generate, knights.generate)
    ]
    assert out.split() == here


@pytest.mark.parametrize(
    "name",
    [
        "convenv.tasks.maze",
        "convenv.tasks.puzzles.make24",
        "convenv.tasks.puzzles.word_guess",
        "convenv.tasks.puzzles.knights",
    ],
)
def test_docstring_examples(name):
    failures, tried = doctest.testmod(importlib.import_module(name))
    assert tried > 0 and failures == 0
