import re
from fractions import Fraction

import numpy as np
import pytest
import sympy as sp
from sympy.parsing.sympy_parser import convert_xor, parse_expr, standard_transformations

from convenv.domain import FeedbackPolicy
from convenv.envs.math_feedback import (
    FEEDBACK_POLICIES,
    Direction,
    ErrorLocating,
    ProgressiveHints,
    VerdictOnly,
    format_answer,
    make_feedback_policy,
    wrong_answer,
)
from convenv.leak import detect_leak
from convenv.tasks.base import Task
from convenv.tasks.math import FAMILIES, LEVELS, generate
from convenv.verifiers.base import Verdict

X = sp.Symbol("x")

VERDICTS = [
    Verdict(False, "7", "wrong_value", signals={"direction": "too_high"}),
    Verdict(False, "5", "wrong_value", signals={"direction": "too_low"}),
    Verdict(False, "7", "wrong_value"),
    Verdict(False, "{1, 2}", "wrong_form"),
    Verdict(False, None, "no_answer"),
    Verdict(False, "x +", "parse_error"),
    Verdict(False, "9" * 30, "too_large"),
    Verdict(False, "1", "timeout"),
    Verdict(False, "(1, 2)", "wrong_value", signals={"parts": [True, False]}),
    Verdict(False, "(1, 2)", "wrong_value", signals={"parts": [False, False]}),
    Verdict(False, "(1, 2, 3)", "wrong_count"),
    Verdict(False, "{1, 2}", "wrong_value", signals={"parts": [True, False], "missing": 1, "extra": 1}),
    Verdict(False, "{1, 2, 3}", "wrong_count", signals={"parts": [True, False, False], "missing": 0, "extra": 2}),
    Verdict(False, "{1}", "wrong_value", signals={"parts": [True], "missing": 1, "extra": 0}),
]


def tasks_for_sweep(seeds=range(6)):
    for family in FAMILIES:
        for level in LEVELS:
            for seed in seeds:
                yield generate(family, level, np.random.default_rng(seed))
    yield Task(
        id="gsm8k/x",
        domain="math",
        prompt="Tom has 3 apples and buys 4. How many?",
        answer="7",
        solution="3 + 4 = 7",
        metadata={"answer_kind": "number"},
    )
    yield Task(
        id="MATH/x",
        domain="math",
        prompt="Solve $x^2 = 4$.",
        answer="\\{-2, 2\\}",
        solution="So $\\boxed{\\{-2, 2\\}}$.",
        metadata={"answer_kind": None},
    )


def solution_quoted(message, task):
    """The whole solution, or a line of it that states the answer (hints may share an early step)."""
    lines = [line for line in task.solution.splitlines() if detect_leak(line, task).leaked]
    return task.solution in message or any(line in message for line in lines)


def test_no_policy_ever_leaks_the_answer_or_quotes_the_solution():
    checked = 0
    for task in tasks_for_sweep():
        rng = np.random.default_rng(len(task.id))
        for name in FEEDBACK_POLICIES:
            policy = make_feedback_policy(name)
            messages = [policy.opening(task)]
            for attempt in range(1, 5):
                messages += [policy.feedback(task, verdict, attempt, rng) for verdict in VERDICTS]
            for message in messages:
                report = detect_leak(message, task)
                assert not report.leaked, (name, task.prompt, task.answer, message, report)
                assert not solution_quoted(message, task), (name, message)
                checked += 1
    assert checked > 4000


@pytest.mark.parametrize("name", list(FEEDBACK_POLICIES))
def test_policies_never_use_the_solution(name):
    base = generate("quadratic", 3, np.random.default_rng(0))
    task = Task(
        id=base.id,
        domain="math",
        prompt=base.prompt,
        answer=base.answer,
        solution="SECRET WORKING",
        hints=base.hints,
        metadata=base.metadata,
    )
    policy = make_feedback_policy(name)
    for attempt in range(1, 5):
        for verdict in VERDICTS:
            assert "SECRET" not in policy.feedback(task, verdict, attempt, np.random.default_rng(attempt))
    assert "SECRET" not in policy.opening(task)


def test_feedback_text_has_no_digits_of_its_own():
    task = generate("linear", 1, np.random.default_rng(0))
    for name in ("verdict", "direction", "locate"):
        for verdict in VERDICTS:
            message = make_feedback_policy(name).feedback(task, verdict, 1, np.random.default_rng(0))
            assert not re.search(r"\d", message), message


@pytest.mark.parametrize("name", list(FEEDBACK_POLICIES))
def test_policies_follow_the_protocol(name):
    policy = make_feedback_policy(name)
    assert isinstance(policy, FeedbackPolicy)
    assert policy.name == name
    assert isinstance(policy, FEEDBACK_POLICIES[name])


def test_unknown_policy_name():
    with pytest.raises(
        ValueError,
        match=r"expected a feedback policy among \['verdict', 'direction', 'locate', "
        r"'hints'\], got 'hint'; did you mean 'hints'\?",
    ):
        make_feedback_policy("hint")
    with pytest.raises(ValueError, match=r"got 'zzz'; pick one of them"):
        make_feedback_policy("zzz")


def test_opening_states_problem_and_format():
    task = generate("quadratic", 1, np.random.default_rng(0))
    message = VerdictOnly().opening(task)
    assert message.startswith(task.prompt)
    assert message.endswith("\\boxed{...}")


def test_verdict_only_varies_with_rng_and_is_deterministic():
    task = generate("arithmetic", 1, np.random.default_rng(0))
    verdict = VERDICTS[0]
    say = [VerdictOnly().feedback(task, verdict, 1, np.random.default_rng(s)) for s in range(20)]
    assert len(set(say)) > 3
    assert say == [VerdictOnly().feedback(task, verdict, 1, np.random.default_rng(s)) for s in range(20)]
    assert "too high" not in " ".join(say)


def test_direction():
    rng = np.random.default_rng(0)
    number = generate("linear", 1, rng)
    assert "too high" in Direction().feedback(number, VERDICTS[0], 1, rng)
    assert "too low" in Direction().feedback(number, VERDICTS[1], 1, rng)
    plain = Direction().feedback(number, VERDICTS[2], 1, rng)
    assert "too" not in plain  # no signal: falls back to the bare verdict
    pair = generate("system", 2, rng)
    assert "your value of y is wrong" in Direction().feedback(pair, VERDICTS[8], 1, rng).lower()
    roots = generate("quadratic", 1, rng)
    assert "at most two roots" in Direction().feedback(roots, VERDICTS[12], 1, rng)
    assert "too few values" in Direction().feedback(roots, VERDICTS[13], 1, rng)
    assert "right number of values" in Direction().feedback(roots, VERDICTS[11], 1, rng)


def test_error_locating():
    rng = np.random.default_rng(0)
    locate = ErrorLocating()
    pair = generate("system", 1, rng)
    assert "Your value of y is wrong; your value of x is right." in locate.feedback(pair, VERDICTS[8], 1, rng)
    assert "None of your values" in locate.feedback(pair, VERDICTS[9], 1, rng)
    assert "wrong number of values: I expected the pair (x, y)" in locate.feedback(pair, VERDICTS[10], 1, rng)
    roots = generate("quadratic", 2, rng)
    assert "The second value you listed is not a root." in locate.feedback(roots, VERDICTS[11], 1, rng)
    assert "You gave three values, but a quadratic has at most two roots." in locate.feedback(
        roots, VERDICTS[12], 1, rng
    )
    assert "missing one root" in locate.feedback(roots, VERDICTS[13], 1, rng)
    no_answer = locate.feedback(roots, VERDICTS[4], 1, rng)
    assert no_answer.startswith("I couldn't find a final answer") and "\\boxed{...}" in no_answer
    assert "set of all roots in braces" in no_answer
    assert "I expected a single number" in locate.feedback(generate("word", 1, rng), VERDICTS[3], 1, rng)
    assert "coefficient of each power of x" in locate.feedback(generate("expand", 1, rng), VERDICTS[2], 1, rng)
    assert "too high" in locate.feedback(generate("fractions", 1, rng), VERDICTS[0], 1, rng)


def test_progressive_hints_reveal_one_hint_per_attempt():
    task = generate("system", 2, np.random.default_rng(3))
    policy = ProgressiveHints()
    for attempt in range(1, 7):
        message = policy.feedback(task, VERDICTS[2], attempt, np.random.default_rng(0))
        hint = task.hints[min(attempt, len(task.hints)) - 1]
        assert message.endswith(f"Hint: {hint}")
        assert sum(h in message for h in task.hints) == 1
    bare = Task(id="t", domain="math", prompt="p", answer="3")
    assert "Hint" not in policy.feedback(bare, VERDICTS[2], 1, np.random.default_rng(0))


@pytest.mark.parametrize("name", list(FEEDBACK_POLICIES))
def test_bad_attempt_and_correct_verdict(name):
    policy = make_feedback_policy(name)
    task = generate("linear", 1, np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"expected attempt to be a 1-based attempt number .* got 0"):
        policy.feedback(task, VERDICTS[0], 0, np.random.default_rng(0))
    assert "correct" in policy.feedback(task, Verdict(True, task.answer), 1, np.random.default_rng(0))


def sympy_value(text):
    """sympy on trusted strings written by the generators and `wrong_answer` (never student text)."""
    return parse_expr(text, transformations=(*standard_transformations, convert_xor), local_dict={"x": X})


def boxed(text):
    m = re.fullmatch(r"The answer is \\boxed\{(.*)\}\.", text)
    assert m, text
    return m.group(1)


def test_format_answer_and_wrong_answer():
    for task in tasks_for_sweep(seeds=range(8)):
        assert boxed(format_answer(task)) == task.answer
        for seed in range(3):
            wrong = boxed(wrong_answer(task, np.random.default_rng(seed)))
            assert wrong != task.answer
            kind = task.metadata.get("answer_kind")
            if kind == "set":
                gold = {sympy_value(p) for p in task.answer[1:-1].split(", ")}
                other = {sympy_value(p) for p in wrong[1:-1].split(", ")}
                assert wrong.startswith("{") and wrong.endswith("}") and other != gold
                assert len(other) == len(gold)
            elif kind == "tuple":
                assert sympy_value(wrong) != sympy_value(task.answer) and len(sympy_value(wrong)) == 2
            elif kind == "expression":
                assert sp.expand(sympy_value(wrong) - sympy_value(task.answer)) != 0
                assert sp.degree(sympy_value(wrong), X) == sp.degree(sympy_value(task.answer), X)
            elif kind == "number":
                assert Fraction(wrong) != Fraction(task.answer)
    loaded = Task(id="t", domain="math", prompt="p", answer="\\frac{\\pi}{2}")
    assert boxed(wrong_answer(loaded, np.random.default_rng(0))) == "\\frac{\\pi}{3}"
    assert (
        boxed(wrong_answer(Task(id="t", domain="math", prompt="p", answer="\\pi"), np.random.default_rng(0)))
        == "\\pi + 1"
    )


def test_with_the_real_verifier():
    check = pytest.importorskip("convenv.verifiers.math_check").check_answer
    attempts = ["I have no idea.", "\\boxed{x +}", "\\boxed{5}", "\\boxed{\\{1, 2, 3\\}}", "\\boxed{(1, 2)}"]
    for task in tasks_for_sweep(seeds=range(4)):
        kind, variables = task.metadata.get("answer_kind"), task.metadata.get("variables", ())
        assert check(format_answer(task), task.answer, kind, variables).correct, task.answer
        rng = np.random.default_rng(0)
        verdicts = [check(wrong_answer(task, rng), task.answer, kind, variables)]
        assert not verdicts[0].correct
        verdicts += [check(text, task.answer, kind, variables) for text in attempts]
        for verdict in verdicts:
            if verdict.correct:
                continue
            for name in FEEDBACK_POLICIES:
                for attempt in (1, 3):
                    message = make_feedback_policy(name).feedback(task, verdict, attempt, rng)
                    assert not detect_leak(message, task).leaked, (task.answer, verdict, message)
