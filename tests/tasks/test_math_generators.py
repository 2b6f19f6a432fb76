import os
import re
import subprocess
import sys
from fractions import Fraction

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from sympy.parsing.sympy_parser import (
    convert_xor,
    implicit_multiplication_application,
    parse_expr,
    standard_transformations,
)

from convenv.leak import detect_leak
from convenv.tasks.base import TaskSource
from convenv.tasks.math import FAMILIES, LEVELS, MathTaskGenerator, generate
from convenv.tasks.math.common import task_id

X, Y = sp.symbols("x y")
TRANSFORMS = (*standard_transformations, implicit_multiplication_application, convert_xor)
NUMBER = re.compile(r"-?\d+(?:/\d+)?|-?\d+\.\d+")


def parse(text):
    """sympy on trusted generator output only (never on student text)."""
    return parse_expr(text, transformations=TRANSFORMS, local_dict={"x": X, "y": Y})


def components(answer, left, right):
    assert answer.startswith(left) and answer.endswith(right), answer
    return [parse(part) for part in answer[1:-1].split(", ")]


def check_number(task, value):
    assert NUMBER.fullmatch(task.answer), task.answer
    gold = sp.Rational(task.answer)
    assert sp.simplify(value - gold) == 0, (task.prompt, task.answer)
    assert task.metadata["answer_value"] == Fraction(task.answer)


def check_task(task):
    """Re-derive the answer from the prompt with sympy and compare."""
    family, prompt = task.metadata["family"], task.prompt
    if family in ("arithmetic", "fractions"):
        expr = re.match(r"Compute (.+?)\. Give", prompt).group(1)
        check_number(task, parse(expr))
        if family == "arithmetic":
            assert re.fullmatch(r"-?\d+", task.answer)
    elif family == "linear":
        left, right = re.match(r"Solve for x: (.+?)\. Give", prompt).group(1).split(" = ")
        (solution,) = sp.solve(sp.Eq(parse(left), parse(right)), X)
        check_number(task, solution)
    elif family == "system":
        m = re.match(r"Solve the system of equations (.+?) and (.+?)\. Give", prompt)
        eqs = [sp.Eq(*map(parse, eq.split(" = "))) for eq in m.groups()]
        solution = sp.solve(eqs, [X, Y], dict=True)
        assert len(solution) == 1
        gold = components(task.answer, "(", ")")
        assert [solution[0][X], solution[0][Y]] == gold
        assert all(v.is_integer for v in gold)
        assert task.metadata["answer_value"] == tuple(Fraction(str(v)) for v in gold)
    elif family == "quadratic":
        poly = parse(re.match(r"Solve (.+?) = 0\. Give", prompt).group(1))
        gold = components(task.answer, "{", "}")
        roots = sp.roots(sp.Poly(poly, X))
        assert len(gold) == len(roots) == len(set(gold))
        for g in gold:
            assert sp.simplify(poly.subs(X, g)) == 0, (task.prompt, task.answer)
        assert [float(g) for g in gold] == sorted(float(g) for g in gold)
        level = task.metadata["difficulty"]
        if level == 1:
            assert all(g.is_integer for g in gold)
        elif level == 2:
            assert all(g.is_rational for g in gold) and not all(g.is_integer for g in gold)
        else:
            assert all(g.is_irrational for g in gold)
    elif family == "expand":
        expr = re.match(r"Expand and simplify (.+?)\. Give", prompt).group(1)
        assert sp.expand(parse(expr) - parse(task.answer)) == 0
        assert parse(task.answer) == sp.expand(parse(task.answer))
        assert not re.search(r"\dx|\d x|\*\*", task.answer), "explicit * and ^ powers expected"
        assert sp.degree(parse(task.answer), X) >= 1
    elif family == "word":
        problem = task.metadata["problem"]
        check_number(task, parse(problem))
        for n in re.findall(r"\d+", problem):
            assert n in prompt or n in ("2", "100"), (n, prompt)
    else:
        raise AssertionError(family)


def check_common(task, family=None, level=None):
    meta = task.metadata
    if family is not None:
        assert (meta["family"], meta["difficulty"]) == (family, level)
    assert re.fullmatch(rf"math/{meta['family']}/{meta['difficulty']}/[0-9a-f]{{12}}", task.id)
    assert task.id == task_id(meta["family"], meta["difficulty"], task.prompt)
    assert task.domain == "math"
    assert meta["answer_kind"] in ("number", "set", "tuple", "expression")
    assert meta["variables"] in ((), ("x",), ("x", "y"))
    assert 2 <= len(task.hints) <= 4
    for hint in task.hints:
        assert not detect_leak(hint, task).leaked, hint
    assert not detect_leak(task.prompt, task).leaked
    assert task.answer.replace("*", "").replace(" ", "") in task.solution.replace("*", "").replace(" ", "")


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("family", list(FAMILIES))
def test_every_family_and_level_is_correct(family, level):
    for seed in range(25):
        task = generate(family, level, np.random.default_rng(seed))
        check_common(task, family, level)
        check_task(task)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_any_seed_gives_a_correct_task(seed):
    task = MathTaskGenerator().sample(np.random.default_rng(seed))
    check_common(task)
    check_task(task)


def test_same_seed_same_tasks():
    gen = MathTaskGenerator()
    first = [gen.sample(rng) for rng in [np.random.default_rng(7)] for _ in range(40)]
    rng = np.random.default_rng(7)
    assert [gen.sample(rng) for _ in range(40)] == first
    other = np.random.default_rng(8)
    assert [gen.sample(other) for _ in range(40)] != first


def test_generator_uses_only_the_rng_it_is_given():
    np.random.seed(0)
    state = np.random.get_state()[1].copy()
    MathTaskGenerator().sample(np.random.default_rng(0))
    assert (np.random.get_state()[1] == state).all()


def test_ids_are_unique_per_content_and_stable():
    gen = MathTaskGenerator()
    rng = np.random.default_rng(123)
    tasks = [gen.sample(rng) for _ in range(400)]
    by_id = {}
    for task in tasks:
        by_id.setdefault(task.id, set()).add((task.prompt, task.answer))
    assert all(len(contents) == 1 for contents in by_id.values())
    assert len(by_id) > 350
    again = generate("linear", 2, np.random.default_rng(5))
    assert again.id == generate("linear", 2, np.random.default_rng(5)).id


def test_restricted_families_and_levels():
    gen = MathTaskGenerator(families=["quadratic", "system"], difficulty=(2, 3))
    rng = np.random.default_rng(0)
    seen = {(t.metadata["family"], t.metadata["difficulty"]) for t in (gen.sample(rng) for _ in range(60))}
    assert seen == {("quadratic", 2), ("quadratic", 3), ("system", 2), ("system", 3)}
    single = MathTaskGenerator(families="word", difficulty=1)
    assert single.families == ("word",) and single.difficulty == (1, 1)
    assert isinstance(single, TaskSource)
    assert "word" in repr(single)


def test_prompts_state_the_expected_form():
    rng = np.random.default_rng(0)
    assert "set of real roots" in generate("quadratic", 1, rng).prompt
    assert "(x, y)" in generate("system", 1, rng).prompt
    assert "polynomial in x" in generate("expand", 1, rng).prompt


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"families": ["foo"]}, r"expected families among \['arithmetic', .*\], got 'foo'"),
        ({"families": ["linaer"]}, r"did you mean 'linear'"),
        ({"families": []}, r"got an empty list"),
        ({"difficulty": 0}, r"expected difficulty to be an integer level in 1..3, got 0"),
        ({"difficulty": True}, r"got True"),
        ({"difficulty": "2"}, r"got '2'"),
        ({"difficulty": (3, 1)}, r"low <= high, got \(3, 1\); swap them: \(1, 3\)"),
        ({"difficulty": (1, 2, 3)}, r"\(low, high\) pair, got \(1, 2, 3\)"),
        ({"difficulty": (0, 4)}, r"each difficulty bound"),
    ],
)
def test_bad_arguments_raise_clear_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        MathTaskGenerator(**kwargs)


def test_generate_checks_its_arguments():
    with pytest.raises(ValueError, match=r"got 'lin'; did you mean 'linear'"):
        generate("lin", 1, np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"got 4"):
        generate("linear", 4, np.random.default_rng(0))
    with pytest.raises(TypeError, match=r"numpy.random.Generator, got int; pass np.random.default_rng"):
        MathTaskGenerator().sample(0)


def test_same_tasks_across_processes():
    code = (
        "import numpy as np\n"
        "from convenv.tasks.math import MathTaskGenerator\n"
        "rng = np.random.default_rng(11)\n"
        "print([(t.id, t.hints) for t in (MathTaskGenerator().sample(rng) for _ in range(30))])\n"
    )
    outputs = {
        subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONHASHSEED": seed},
        ).stdout
        for seed in ("1", "2")
    }
    rng = np.random.default_rng(11)
    here = repr([(t.id, t.hints) for t in (MathTaskGenerator().sample(rng) for _ in range(30))])
    assert outputs == {here + "\n"}
