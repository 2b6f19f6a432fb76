"""CodeVerifier: code extraction, verdicts and signals, hostile submissions."""

import time

import pytest

from convenv.sandbox import Limits, TestCase
from convenv.tasks.base import Task
from convenv.verifiers.base import Verifier
from convenv.verifiers.code import ERRORS, MAX_CODE_CHARS, CodeVerifier, extract_code

TASK = Task(
    id="code/test/1/000000000000",
    domain="code",
    prompt='def double(x):\n    """Return twice x."""',
    answer="def double(x):\n    return 2 * x\n",
    tests=(
        TestCase(args=(1,), expected=2, name="test_1"),
        TestCase(args=(0,), expected=0, name="test_2"),
        TestCase(args=(-3,), expected=-6, name="test_3"),
    ),
    metadata={"entry_point": "double", "family": "test", "difficulty": 1, "signature": "def double(x):"},
)


def fenced(code):
    return f"Here you go:\n```python\n{code}\n```"


@pytest.fixture(scope="module")
def verifier():
    v = CodeVerifier(Limits(wall_s=5.0, per_test_s=1.0))
    yield v
    v.close()


@pytest.mark.parametrize(
    ("text", "code"),
    [
        (fenced("def f():\n    return 1"), "def f():\n    return 1\n"),
        ("```python\ndef f(): return 0\n```\nbetter:\n```py\ndef f(): return 1\n```", "def f(): return 1\n"),
        ("```\ndef f(): return 2\n```", "def f(): return 2\n"),
        ("```python\ndef f(): return 3\n```\n```\nnot code\n```", "def f(): return 3\n"),
        ("So:\ndef f(x):\n\n    y = x\n    return y\nI think that's it.", "def f(x):\n\n    y = x\n    return y\n"),
        ("import math\ndef f(x):\n    return math.sqrt(x)", "def f(x):\n    return math.sqrt(x)\n"),
        ("def f(x):\n    return x\nX = 3\nprint(f(X))\nDone!", "def f(x):\n    return x\nX = 3\nprint(f(X))\n"),
    ],
)
def test_extract_code(text, code):
    assert extract_code(text) == code


@pytest.mark.parametrize("text", ["", "I would loop over the list.", "```\njust text\n```", "undefined(x)"])
def test_extract_code_finds_none(text):
    assert extract_code(text) is None


def test_is_a_verifier(verifier):
    assert isinstance(verifier, Verifier)


def test_correct_code(verifier):
    verdict = verifier.verify(fenced("def double(x):\n    return x + x"), TASK)
    assert verdict.correct and verdict.error is None and verdict.extracted == "3/3 tests passed"
    assert verdict.signals == {"passed": 3, "total": 3, "first_failure": None}


def test_wrong_output_signals_carry_no_expected_value(verifier):
    verdict = verifier.verify(fenced("def double(x):\n    return x * x"), TASK)
    assert not verdict.correct and verdict.error == "wrong_output" and verdict.extracted == "1/3 tests passed"
    failure = verdict.signals["first_failure"]
    assert failure["name"] == "test_1" and failure["args"] == (1,) and failure["status"] == "wrong_output"
    assert "expected" not in failure and failure["got"] in (1, "1")
    assert "expected 2" in verdict.detail and "double(1)" in verdict.detail  # privileged, for the teacher


@pytest.mark.parametrize(
    ("code", "error"),
    [
        ("def double(x):\n    return 1 / 0", "exception"),
        ("def double(x):\n    while True:\n        pass", "timeout"),
        ("def double(x):\n    return x +", "syntax_error"),
        ("def triple(x):\n    return 3 * x", "exception"),
    ],
)
def test_failures_have_an_error_code(verifier, code, error):
    verdict = verifier.verify(fenced(code), TASK)
    assert not verdict.correct and verdict.error == error and verdict.error in ERRORS


def test_exception_signals_name_the_type(verifier):
    failure = verifier.verify(fenced("def double(x):\n    return [][x]"), TASK).signals["first_failure"]
    assert failure["status"] == "exception" and failure["error_type"] == "IndexError"


def test_syntax_error_reports_the_line(verifier):
    verdict = verifier.verify(fenced("def double(x):\n    y = 2\n    return x +"), TASK)
    assert verdict.error == "syntax_error" and verdict.signals["line"] == 3


def test_no_code_and_too_large(verifier):
    assert verifier.verify("twice x, obviously", TASK).error == "no_code"
    huge = fenced("def double(x):\n" + "    x = x\n" * (MAX_CODE_CHARS // 10) + "    return 2 * x")
    assert verifier.verify(huge, TASK).error == "too_large"


@pytest.mark.parametrize(
    "code",
    [
        "import sys\ndef double(x):\n    sys.exit(0)",
        "import os\nos._exit(0)",
        'print("all tests passed")\nprint(\'{"status": "ok", "passed": 3}\')\ndef double(x):\n    return 0',
        "import os\ndef double(x):\n    while True:\n        os.fork()",
        "def double(x):\n    return [0] * 10**10",
        "import sys\nsys.stdout.write('PASS ' * 1000)\nraise SystemExit(0)",
    ],
    ids=["sys-exit", "os-exit", "fake-report", "fork-bomb", "memory", "stdout-flood"],
)
def test_hostile_code_is_wrong_and_bounded(verifier, code):
    start = time.monotonic()
    verdict = verifier.verify(fenced(code), TASK)
    assert not verdict.correct and verdict.error in ERRORS
    assert time.monotonic() - start < verifier.limits.wall_s + 5


def test_task_without_entry_point_is_the_callers_bug(verifier):
    with pytest.raises(ValueError, match="metadata\\['entry_point'\\]"):
        verifier.verify("def f(): pass", Task(id="t", domain="code", prompt="p", answer="a"))
    with pytest.raises(TypeError, match="as a str"):
        verifier.verify(b"def f(): pass", TASK)
