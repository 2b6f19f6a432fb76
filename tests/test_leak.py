import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from convenv.leak import LeakReport, detect_leak, gold_needles, redact
from convenv.tasks.base import Task
from convenv.tasks.math import FAMILIES, generate


def math_task(prompt, answer, kind=None):
    return Task(id="t", domain="math", prompt=prompt, answer=answer, metadata={"answer_kind": kind})


LINEAR = math_task("Solve for x: 3x - 7 = 11.", "6", "number")
FRACTION = math_task("Compute 1/2 + 5/6.", "4/3", "number")
ROOTS = math_task("Solve x^2 - x - 6 = 0.", "{-2, 3}", "set")
SURDS = math_task("Solve x^2 - 2x - 1 = 0.", "{1 - sqrt(2), 1 + sqrt(2)}", "set")
PAIR = math_task("Solve the system x + y = 1 and x - y = 3.", "(2, -1)", "tuple")
POLY = math_task("Expand and simplify (x + 2)(x + 3).", "x^2 + 5*x + 6", "expression")


@pytest.mark.parametrize(
    ("task", "text"),
    [
        (LINEAR, "x = 6"),
        (LINEAR, "So the answer is 6."),
        (LINEAR, "The answer should be 6.0, check it"),
        (LINEAR, "\\boxed{6}"),
        (LINEAR, "Try x = 36/6."),
        (LINEAR, "It equals 6"),
        (LINEAR, "Think of 6 apples."),  # a bare mention the prompt does not have
        (FRACTION, "\\frac{4}{3}"),
        (FRACTION, "$x = \\dfrac{4}{3}$"),
        (FRACTION, "it is 4 / 3"),
        (FRACTION, "Compute 1/2 + 5/6 = 4/3."),
        (ROOTS, "x = -2 works"),
        (ROOTS, "one root is \u22122"),  # unicode minus
        (ROOTS, "(x + 2)(x - 3) = 0"),  # the factorization names the positive root
        (SURDS, "x = 1 \\pm \\sqrt{2}"),
        (SURDS, "x = 1 + \u221a2"),
        (SURDS, "roots are 1-sqrt(2) and 1+sqrt(2)"),
        (PAIR, "y = -1"),
        (PAIR, "x is 2"),
        (POLY, "you should get x^2 + 5x + 6"),
        (POLY, "x**2 + 5*x + 6"),
        (POLY, "$x^{2}+5 x+6$"),
    ],
)
def test_known_leaks(task, text):
    report = detect_leak(text, task)
    assert report.leaked, text
    assert report.matches
    assert not detect_leak(redact(text, task), task).leaked
    assert "[redacted]" in redact(text, task)


@pytest.mark.parametrize(
    ("task", "text"),
    [
        (LINEAR, "Solve for x: 3x - 7 = 11. Put your answer in \\boxed{...}."),
        (LINEAR, "You said 7, which is too high."),  # quoting a wrong attempt
        (LINEAR, "x = 7 is not right."),
        (LINEAR, "Divide both sides by 3 and check 6x."),  # 6x is a coefficient, not the value
        (LINEAR, "x = -6 is not it"),  # the sign differs
        (LINEAR, "Subtract 7 from both sides: 3x = 18."),
        (FRACTION, "Rewrite 1/2 and 5/6 over a common denominator."),
        (FRACTION, "Your answer 3/4 is too low."),
        (FRACTION, "It is 1 1/3"),  # mixed numbers are not read as one value (documented limitation)
        (ROOTS, "Solve x^2 - x - 6 = 0, the x^2 term has coefficient one."),
        (SURDS, "The discriminant is 8."),
        (PAIR, "Your value of y is wrong."),
        (POLY, "Multiply term by term: x^2 + 3x + 2x + 6, then collect."),
        (POLY, "2x^2 + 5x + 60 is wrong"),
        (LINEAR, ""),
    ],
)
def test_known_non_leaks(task, text):
    assert detect_leak(text, task) == LeakReport(False, ())
    assert redact(text, task) == text


def test_restating_a_prompt_that_contains_the_answer_value():
    task = math_task("Solve for x: 2x - 3 = 3.", "3", "number")
    assert not detect_leak("Solve for x: 2x - 3 = 3.", task).leaked
    assert detect_leak("Solve for x: 2x - 3 = 3. So x = 3.", task).leaked


def test_public_texts_count_like_the_prompt():
    text = "Your x = 2 is right; fix y."
    assert detect_leak(text, PAIR).leaked
    assert not detect_leak(text, PAIR, public=["My answer: x = 2, y = 5"]).leaked


def test_thousands_and_decimals():
    task = math_task("How many?", "1000", "number")
    assert detect_leak("about 1,000 of them", task).leaked
    assert detect_leak("1000.0 exactly", task).leaked
    half = math_task("Share 5 cakes between 2.", "2.5", "number")
    assert detect_leak("each gets 5/2", half).leaked
    assert detect_leak("each gets \\frac{5}{2}", half).leaked


def test_redact_replaces_every_leaked_span():
    text = "x = 6. Check: 3*6 - 7 = 11, so \\boxed{6}."
    assert redact(text, LINEAR) == "x = [redacted]. Check: 3*[redacted] - 7 = 11, so \\boxed{[redacted]}."
    assert detect_leak(text, LINEAR).matches == ("6", "6", "6")
    assert redact("it is \\frac{4}{3}!", FRACTION) == "it is [redacted]!"


def test_non_math_answers_match_whole_words():
    task = Task(id="t", domain="maze", prompt="Find the exit.", answer="North East")
    assert detect_leak("go north  east now", task).leaked
    assert not detect_leak("go northeastern", task).leaked
    short = Task(id="t", domain="puzzle", prompt="Which door?", answer="B")
    assert not detect_leak("the answer is B", short).leaked
    numeric = Task(id="t", domain="puzzle", prompt="How many?", answer="42")
    assert detect_leak("it is 42", numeric).leaked
    assert gold_needles(Task(id="t", domain="code", prompt="p", answer="")) == ()


def test_short_math_answers_count_only_in_answer_context():
    task = math_task("Which letter?", "C")
    assert not detect_leak("C is a letter", task).leaked
    assert detect_leak("the answer is C", task).leaked


def test_loaded_answers_without_kind():
    task = math_task("Find the roots.", "\\frac{\\sqrt{3}}{2}")
    assert detect_leak("so x = \\frac{\\sqrt3}{2}", task).leaked
    interval = math_task("Solve the inequality.", "(-\\infty, 3]")
    assert detect_leak("x lies in (-\\infty, 3]", interval).leaked


def test_never_evaluates_and_tolerates_hostile_text():
    text = "__import__('os').system('echo hi') " + "9" * 5000 + "/0 " + "{" * 200 + "\\frac{1}{0}"
    assert not detect_leak(text, LINEAR).leaked
    start = time.perf_counter()
    detect_leak("1 " * 20000, LINEAR)
    assert time.perf_counter() - start < 2.0


TOKENS = st.sampled_from(
    [
        "6",
        "-6",
        "\u22126",
        "6.0",
        "4/3",
        "\\frac{4}{3}",
        "=",
        "is",
        "answer",
        "x",
        "3x",
        "x^2",
        " ",
        ".",
        ",",
        "(",
        ")",
        "{",
        "}",
        "\\boxed{",
        "sqrt(2)",
        "1",
        "+",
        "-",
        "2",
        "-1",
        "5*x",
        "\n",
        "the",
    ]
)


@settings(max_examples=200, deadline=None)
@given(st.lists(TOKENS, max_size=30).map("".join), st.sampled_from([LINEAR, FRACTION, ROOTS, SURDS, PAIR, POLY]))
def test_redacted_text_never_leaks(text, task):
    report = detect_leak(text, task)
    cleaned = redact(text, task)
    assert not detect_leak(cleaned, task).leaked
    assert (cleaned == text) == (not report.leaked)


@pytest.mark.parametrize("family", list(FAMILIES))
def test_generated_solutions_leak_and_prompts_do_not(family):
    for seed in range(5):
        task = generate(family, 1 + seed % 3, np.random.default_rng(seed))
        assert detect_leak(task.solution, task).leaked, task.solution
        assert detect_leak(f"The answer is {task.answer}.", task).leaked
        assert not detect_leak(task.prompt, task).leaked
