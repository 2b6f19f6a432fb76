import time

import pytest

from convenv.tasks.base import Task
from convenv.verifiers import math as math_module
from convenv.verifiers.base import Verdict, Verifier
from convenv.verifiers.math import MAX_TEXT_CHARS, MathVerifier
from convenv.verifiers.math_check import check_answer, normalize_text, values_equal
from convenv.verifiers.math_parser import parse_math
from convenv.verifiers.worker import WorkerCrash, WorkerTimeout

ERRORS = {
    "no_answer", "parse_error", "too_large", "timeout", "worker_crash", "wrong_form", "wrong_count", "wrong_value"
}


def make_task(answer, kind=None, variables=()):
    metadata = {}
    if kind is not None:
        metadata["answer_kind"] = kind
    if variables:
        metadata["variables"] = variables
    return Task(id="math/test", domain="math", prompt="Solve it.", answer=answer, metadata=metadata)


@pytest.fixture(scope="module")
def verifier():
    verifier = MathVerifier(timeout=5.0)  # generous: CI machines are slow, hostile cases are refused early
    yield verifier
    verifier.close()


# ------------------------------------------------------------------------------------------- equivalences

EQUIVALENT = [
    # (student text, gold, kind, variables)
    ("\\boxed{6}", "6", "number", ()),
    ("3x = 18, so x = 6.", "6", "number", ("x",)),
    ("x = 6", "6", None, ()),
    ("Answer: 6.0", "6", None, ()),
    ("The answer is $-3$.", "-3", None, ()),
    ("\\boxed{\\frac{4}{3}}", "4/3", None, ()),
    ("\\boxed{\\dfrac{4}{3}}", "4/3", None, ()),
    ("\\boxed{\\tfrac{8}{6}}", "4/3", None, ()),
    ("x = 4/3", "\\frac{4}{3}", None, ()),
    ("\\boxed{\\frac{5}{2}}", "2.5", None, ()),
    ("Answer: 2.50", "2.5", None, ()),
    ("$1,000", "1000", None, ()),
    ("She has 1,234 apples.", "1234", None, ()),
    ("50%", "50", None, ()),
    ("0.5", "50\\%", None, ()),
    ("\\boxed{\\sqrt{8}}", "2\\sqrt{2}", None, ()),
    ("\\boxed{2\\sqrt2}", "sqrt(8)", None, ()),
    ("about 1.41421356237310", "sqrt(2)", None, ()),
    ("\\boxed{\\frac{\\sqrt{3}}{2}}", "\\dfrac{\\sqrt3}{2}", None, ()),
    ("\\boxed{\\frac{1}{\\sqrt{2}}}", "\\frac{\\sqrt{2}}{2}", None, ()),
    ("\\boxed{\\pi/2}", "\\frac{\\pi}{2}", None, ()),
    # sets, in any order, double roots, irrational roots
    ("x = -2 or x = 3", "{-2, 3}", "set", ("x",)),
    ("x = 3 or x = -2", "{-2, 3}", "set", ("x",)),
    ("\\boxed{\\{3, -2\\}}", "{-2, 3}", None, ()),
    ("The roots are 3 and -2: \\boxed{3, -2}", "{-2, 3}", None, ()),
    ("x = 3", "{3}", "set", ("x",)),
    ("\\boxed{\\{3, 3\\}}", "{3}", None, ()),
    ("x = 1 \\pm \\sqrt{2}", "{1 - sqrt(2), 1 + sqrt(2)}", "set", ("x",)),
    ("\\boxed{1+\\sqrt2, 1-\\sqrt2}", "{1 - sqrt(2), 1 + sqrt(2)}", None, ()),
    # tuples for systems
    ("x = 2, y = -1", "(2, -1)", "tuple", ("x", "y")),
    ("y = -1 and x = 2", "(2, -1)", "tuple", ("x", "y")),
    ("\\boxed{(2, -1)}", "(2, -1)", None, ()),
    ("\\boxed{2, -1}", "(2, -1)", None, ()),
    ("\\boxed{\\left(\\frac{4}{2}, -1\\right)}", "(2, -1)", None, ()),
    ("x = 2, y = -1", "(2, -1)", None, ()),
    # expressions
    ("\\boxed{(x+2)(x+3)}", "x^2 + 5*x + 6", "expression", ()),
    ("\\boxed{x^2+5x+6}", "x^2 + 5*x + 6", None, ()),
    ("\\boxed{2(x+3)}", "2x + 6", None, ()),
    ("\\boxed{2x + 6}", "2(x+3)", None, ()),
    ("\\boxed{\\frac{x^2-1}{x-1}}", "x + 1", None, ()),
    ("\\boxed{\\sin^2 x + \\cos^2 x}", "1", None, ()),
    ("\\boxed{\\sqrt{x^2}}", "sqrt(x^2)", None, ()),
    ("\\boxed{0.5x}", "x/2", None, ()),
    ("\\boxed{(a+b)^2}", "a^2 + 2*a*b + b^2", None, ()),
    # gold the parser cannot read: compared as normalized text
    ("\\boxed{\\text{(A)}}", "\\text{(A)}", None, ()),
]


@pytest.mark.parametrize(("text", "gold", "kind", "variables"), EQUIVALENT)
def test_equivalent(text, gold, kind, variables):
    verdict = check_answer(text, gold, kind, variables)
    assert verdict.correct, verdict
    assert verdict.error is None


NOT_EQUIVALENT = [
    # (student text, gold, kind, expected error)
    ("3x = 11 - 7 = 4, so x = 4/3.", "6", None, "wrong_value"),
    ("\\boxed{1.3333}", "4/3", None, "wrong_value"),
    ("\\boxed{0.333333333333}", "1/3", None, "wrong_value"),  # rationals compare exactly
    ("\\boxed{1.414}", "sqrt(2)", None, "wrong_value"),
    ("\\boxed{x + 1}", "6", None, "wrong_form"),
    ("\\boxed{\\{1, 6\\}}", "6", None, "wrong_form"),
    ("x = 3", "{-2, 3}", "set", "wrong_form"),
    ("x = 2 or x = 3", "{-2, 3}", "set", "wrong_value"),
    ("\\boxed{\\{-2, 3, 4\\}}", "{-2, 3}", None, "wrong_value"),
    ("\\boxed{x + 3}", "{-2, 3}", None, "wrong_form"),
    ("x = -1, y = 2", "(2, -1)", "tuple", "wrong_value"),
    ("\\boxed{(2, -1, 0)}", "(2, -1)", None, "wrong_count"),
    ("\\boxed{\\{2, -1\\}}", "(2, -1)", None, "wrong_form"),
    ("\\boxed{2}", "(2, -1)", None, "wrong_form"),
    ("\\boxed{x^2 + 5x + 7}", "x^2 + 5*x + 6", None, "wrong_value"),
    ("\\boxed{(x+2)(x-3)}", "x^2 + 5*x + 6", None, "wrong_value"),
    ("\\boxed{y^2 + 5y + 6}", "x^2 + 5*x + 6", None, "wrong_value"),
    ("\\boxed{6}", "x^2 + 5*x + 6", None, "wrong_form"),
    ("\\boxed{\\text{(B)}}", "\\text{(A)}", None, "wrong_value"),
    ("I have no idea.", "6", None, "no_answer"),
    ("\\boxed{banana}", "6", None, "parse_error"),
    ("\\boxed{9^{9^{9^9}}}", "6", None, "too_large"),
]


@pytest.mark.parametrize(("text", "gold", "kind", "error"), NOT_EQUIVALENT)
def test_not_equivalent(text, gold, kind, error):
    verdict = check_answer(text, gold, kind, ())
    assert not verdict.correct
    assert verdict.error == error, verdict


def test_high_degree_polynomials_are_compared_exactly():
    # agrees with x^2 at every spot-check point but is a different polynomial
    points = ["7/5", "13/11", "3/7", "19/13", "5/3", "23/17", "2/9"]
    trap = "x^2 + " + "".join(f"(x - {p})" for p in points)
    assert parse_math(trap)  # within the caps
    verdict = check_answer(f"\\boxed{{{trap}}}", "x^2")
    assert not verdict.correct and verdict.error == "wrong_value"


def test_values_equal_tolerance():
    two = parse_math("sqrt(2)").items[0]
    assert values_equal(parse_math("1.4142135623731").items[0], two)
    assert not values_equal(parse_math("1.41421").items[0], two)


def test_normalize_text():
    assert normalize_text("\\text{(A)}") == normalize_text("(a)")


# ------------------------------------------------------------------------------------------- signals


def test_number_signals():
    low = check_answer("x = 4/3", "6")
    assert low == Verdict(False, "4/3", "wrong_value", low.detail, {"direction": "too_low"})
    assert "6" in low.detail and "too low" in low.detail
    assert check_answer("\\boxed{7}", "6").signals == {"direction": "too_high"}
    assert check_answer("\\boxed{6}", "6").signals == {}
    assert check_answer("\\boxed{2i}", "6").signals == {}  # i is a variable here: no direction


def test_set_signals():
    partial = check_answer("x = 3 or x = 5", "{-2, 3}", "set", ("x",))
    assert partial.signals == {"parts": [True, False], "missing": 1, "extra": 1}
    assert partial.extracted == "{3, 5}"
    one = check_answer("x = 3", "{-2, 3}", "set", ("x",))
    assert one.error == "wrong_form"
    assert one.signals == {"parts": [True], "missing": 1, "extra": 0}
    single = check_answer("x = 4", "{3}", "set", ("x",))
    assert single.signals == {"parts": [False], "missing": 1, "extra": 1, "direction": "too_high"}
    right = check_answer("x = -2 or x = 3", "{-2, 3}")
    assert right.correct and right.signals == {"parts": [True, True], "missing": 0, "extra": 0}


def test_tuple_signals():
    half = check_answer("x = 2, y = 1", "(2, -1)", "tuple", ("x", "y"))
    assert half.error == "wrong_value" and half.signals == {"parts": [True, False]}
    assert check_answer("x = 2, y = -1", "(2, -1)").signals == {"parts": [True, True]}
    count = check_answer("\\boxed{(1, 2, 3)}", "(2, -1)")
    assert count.error == "wrong_count" and "parts" not in count.signals


def test_variable_order_comes_from_the_task():
    assert check_answer("a = 2, b = -1", "(-1, 2)", "tuple", ("b", "a")).correct


# ------------------------------------------------------------------------------------------- the verifier


def test_is_a_verifier(verifier):
    assert isinstance(verifier, Verifier)


def test_verify_in_the_worker(verifier):
    verdict = verifier.verify("3x = 18, so x = 6. Answer: \\boxed{6}", make_task("6"))
    assert verdict == Verdict(True, "6", None, "correct: 6", {})
    roots = verifier.verify("x = -2 or x = 3", make_task("{-2, 3}", "set", ("x",)))
    assert roots.correct and roots.signals["parts"] == [True, True]
    system = verifier.verify("x = 2, y = -1", make_task("(2, -1)", "tuple", ("x", "y")))
    assert system.correct


def test_verify_reads_only_the_end_of_long_text(verifier):
    text = "blah " * 100_000 + "\\boxed{6}"
    assert len(text) > MAX_TEXT_CHARS
    assert verifier.verify(text, make_task("6")).correct


def test_verify_checks_its_arguments(verifier):
    with pytest.raises(TypeError, match="expected the student's text as a str, got bytes"):
        verifier.verify(b"6", make_task("6"))
    with pytest.raises(ValueError, match=r"expected task.metadata\['answer_kind'\] in .* got 'integer'"):
        verifier.verify("6", make_task("6", kind="integer"))
    with pytest.raises(ValueError, match=r"expected task.metadata\['variables'\] as single letters"):
        verifier.verify("6", make_task("6", variables=("xy",)))
    with pytest.raises(ValueError, match="expected a positive timeout"):
        MathVerifier(timeout=0)
    assert verifier.verify("   ", make_task("6")).error == "no_answer"


HOSTILE = [
    "__import__('os').system('touch {pwned}')",
    "\\boxed{__import__('os').system('touch {pwned}')}",
    "Answer: exec(\"open('{pwned}', 'w')\")",
    "Answer: eval(\"__import__('os').system('touch {pwned}')\")",
    "\\boxed{(lambda: __import__('os').system('touch {pwned}'))()}",
    "\\boxed{x.__class__.__bases__[0].__subclasses__()}",
    "\\boxed{().__class__}",
    "\\boxed{__builtins__}",
    "\\boxed{_}",
    "\\boxed{factorial(10**9)}",
    "\\boxed{gamma(10**9)}",
    "\\boxed{Symbol('x')}",
    "\\boxed{S('1')}",
    "\\boxed{9^9^9^9}",
    "\\boxed{9**9**9**9}",
    "Answer: 10**10**10",
    "\\boxed{2^(2^(2^100))}",
    "\\boxed{x^(10^100)}",
    "\\boxed{(10^999)^(10^999)}",
    "\\boxed{" + "(" * 10_000 + "1" + ")" * 10_000 + "}",
    "(" * 10_000,
    "\\boxed{" + "{" * 5_000 + "}" * 5_000 + "}",
    "9" * 1_000_000,
    "\\boxed{" + "1" * 400 + "}",
    "\\boxed{" + "-" * 400 + "1}",
    "\\sqrt{" * 3000,
    "x = " * 3000,
    "\x00\x01\x02\ufffd",
]


def test_hostile_inputs_get_a_wrong_verdict_with_an_error(verifier, tmp_path):
    pwned = tmp_path / "pwned"
    started = time.perf_counter()
    for template in HOSTILE:
        text = template.replace("{pwned}", str(pwned))
        verdict = verifier.verify(text, make_task("6"))
        assert not verdict.correct, template[:60]
        assert verdict.error in ERRORS - {"timeout", "worker_crash"}, (template[:60], verdict)
    assert time.perf_counter() - started < 10.0
    assert not pwned.exists()
    assert verifier.verify("\\boxed{6}", make_task("6")).correct  # the worker is still fine


def stuck_check(*args, **kwargs):
    while True:  # a check that never returns, as sympy can on some inputs
        pass


def test_a_deadline_gives_a_timeout_verdict_then_recovers(verifier, monkeypatch):
    monkeypatch.setattr(math_module, "check_task", stuck_check)
    hurried = MathVerifier(timeout=0.5)
    try:
        started = time.perf_counter()
        verdict = hurried.verify("\\boxed{6}", make_task("6"))
        assert time.perf_counter() - started < 5.0
        assert verdict == Verdict(False, None, "timeout", "the check took longer than 0.5 s and was stopped")
    finally:
        monkeypatch.undo()
        hurried.close()
    assert verifier.verify("\\boxed{6}", make_task("6")).correct  # the shared worker was restarted


class _FailingPool:
    def __init__(self, error):
        self.error = error

    def call(self, fn, *args, timeout):
        raise self.error


def test_worker_failures_become_verdicts():
    crash = MathVerifier(pool=_FailingPool(WorkerCrash("it was killed by SIGSEGV")))
    verdict = crash.verify("6", make_task("6"))
    assert (verdict.correct, verdict.error) == (False, "worker_crash")
    assert "SIGSEGV" in verdict.detail
    late = MathVerifier(pool=_FailingPool(WorkerTimeout("slow")))
    assert late.verify("6", make_task("6")).error == "timeout"


def test_verifiers_share_one_worker():
    first, second = MathVerifier(), MathVerifier()
    try:
        assert first.verify("6", make_task("6")).correct
        assert second.verify("6", make_task("6")).correct
        assert first._pooled._pool is second._pooled._pool
        pids = first._pooled._pool.pids()
        first.close()
        assert second._pooled._pool.pids() == pids  # still warm for the other user
        assert first.verify("6", make_task("6")).correct  # usable again after close
    finally:
        first.close()
        second.close()
