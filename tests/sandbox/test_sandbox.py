"""The sandbox on ordinary submissions: passes, wrong outputs, exceptions, timeouts, syntax errors, the codec."""

import math
import os
import re
import shutil
import tempfile
from pathlib import Path
from textwrap import dedent

import pytest

from convenv.error import VerifierError
from convenv.sandbox import Limits, Sandbox, SandboxUnavailable, TestCase, TestReport, bwrap
from convenv.sandbox import runner as codec

# CI sets CONVENV_REQUIRE_SANDBOX=1: there a missing sandbox fails every test instead of skipping them
pytestmark = pytest.mark.skipif(
    os.environ.get("CONVENV_REQUIRE_SANDBOX") != "1" and not Sandbox.available(),
    reason="bubblewrap is missing or cannot create namespaces here (apt-get install bubblewrap)",
)

ADD = "def add(a, b):\n    return a + b\n"


@pytest.fixture(scope="module")
def sandbox():
    return Sandbox(Limits(wall_s=6.0, per_test_s=1.0))


def statuses(report):
    return [r.status for r in report.results]


def test_correct_solution_passes_every_test(sandbox):
    tests = [TestCase((1, 2), 3), TestCase((1.5, 2), 3.5, name="floats"), TestCase(("a", "b"), "ab")]
    report = sandbox.run_tests(ADD, "add", tests)
    assert report.status == "ok" and report.all_passed and report.passed == report.total == 3
    assert report.first_failure() is None
    assert [r.name for r in report.results] == ["test 1", "floats", "test 3"]
    assert report.results[0].args == "(1, 2)" and report.results[0].expected == "3" and report.results[0].got == "3"
    assert 0 < report.wall_s < 5


def test_wrong_output_shows_what_was_returned(sandbox):
    report = sandbox.run_tests(
        "def add(a, b):\n    return a - b\n", "add", [TestCase((5, 2), 7), TestCase((2, 0), 2)]
    )
    assert report.status == "ok" and statuses(report) == ["wrong_output", "pass"] and not report.all_passed
    first = report.first_failure()
    assert first.name == "test 1" and first.got == "3" and first.expected == "7" and first.error_type is None


def test_exceptions_report_type_message_and_traceback(sandbox):
    code = dedent("""\
        class Oops(Exception):
            pass

        def f(x):
            if x:
                raise Oops('custom ' + str(x))
            return 1 / x
    """)
    report = sandbox.run_tests(code, "f", [TestCase((0,), 1), TestCase((7,), 1)])
    assert statuses(report) == ["exception", "exception"]
    assert (report.results[0].error_type, report.results[0].error_message) == (
        "ZeroDivisionError",
        "division by zero",
    )
    assert (report.results[1].error_type, report.results[1].error_message) == ("Oops", "custom 7")
    assert 'File "<submission>", line 7, in f' in report.stderr_tail and "return 1 / x" in report.stderr_tail


def test_per_test_timeout_restarts_a_fresh_child_for_the_rest(sandbox):
    code = "def f(x):\n    while x == 2:\n        pass\n    return x\n"
    report = sandbox.run_tests(code, "f", [TestCase((i,), i) for i in (1, 2, 3, 4)])
    assert report.status == "ok" and statuses(report) == ["pass", "timeout", "pass", "pass"]
    assert "1.0 s" in report.results[1].error_message
    assert report.wall_s < 3.5


def test_top_level_hang_times_out_every_test(sandbox):
    report = sandbox.run_tests("while True:\n    pass\ndef f():\n    return 1\n", "f", [TestCase((), 1)] * 3)
    assert report.status == "ok" and statuses(report) == ["timeout"] * 3
    assert "top-level" in report.results[0].error_message and report.wall_s < 3.5


def test_global_wall_clock_ends_the_run():
    sandbox = Sandbox(Limits(wall_s=1.5, per_test_s=1.0))
    report = sandbox.run_tests(
        "import time\ndef f():\n    time.sleep(0.6)\n    return 1\n", "f", [TestCase((), 1)] * 6
    )
    assert report.status == "timeout" and report.passed <= 2 and not report.all_passed
    assert statuses(report)[-1] == "timeout" and report.wall_s < 1.5 + bwrap.HOST_GRACE_S + 1


def test_syntax_error_reports_line_without_running(sandbox):
    report = sandbox.run_tests("def add(a, b)\n    return a + b\n", "add", [TestCase((1, 2), 3)] * 2)
    assert report.status == "syntax_error" and statuses(report) == ["exception", "exception"]
    assert report.results[0].error_type == "SyntaxError" and "line 1" in report.results[0].error_message
    assert re.search(r"line (\d+)", report.stderr_tail).group(1) == "1"  # what CodeVerifier reads
    indented = sandbox.run_tests("def f():\n  return 1\n    x = 2\n", "f", [TestCase((), 1)])
    assert indented.status == "syntax_error" and indented.results[0].error_type == "IndentationError"
    nul = sandbox.run_tests("def f():\n    return 1\x00\n", "f", [TestCase((), 1)])
    assert nul.status == "syntax_error"


def test_missing_entry_point_is_a_name_error(sandbox):
    report = sandbox.run_tests(ADD, "plus", [TestCase((1, 2), 3)] * 2)
    assert report.status == "ok" and statuses(report) == ["exception", "exception"]
    assert report.results[0].error_type == "NameError" and "'plus'" in report.results[0].error_message
    not_callable = sandbox.run_tests("plus = 3\n", "plus", [TestCase((), 3)])
    assert not_callable.results[0].error_type == "TypeError"


def test_top_level_exception_fails_every_test(sandbox):
    report = sandbox.run_tests(
        "import numpy_that_is_not_there\ndef f():\n    return 1\n", "f", [TestCase((), 1)] * 2
    )
    assert statuses(report) == ["exception", "exception"] and report.results[0].error_type == "ModuleNotFoundError"


def test_strict_comparison_of_returned_values(sandbox):
    code = dedent("""\
        VALUES = {'list': [1, 2], 'tuple': (1, 2), 'int': 1, 'bool': True, 'float': 0.1 + 0.2, 'set': {1, 2},
                  'nan': float('nan'), 'dict': {(1, 2): [None]}, 'big': 3 ** 9000, 'neg0': -0.0}

        def f(kind):
            return VALUES[kind]
    """)
    cases = [
        (("list",), [1, 2], "pass"),
        (("list",), (1, 2), "wrong_output"),
        (("tuple",), [1, 2], "wrong_output"),
        (("int",), True, "wrong_output"),
        (("bool",), 1, "wrong_output"),
        (("int",), 1.0, "pass"),
        (("float",), 0.3, "pass"),
        (("float",), 0.31, "wrong_output"),
        (("set",), frozenset({1, 2}), "pass"),
        (("nan",), math.nan, "pass"),
        (("dict",), {(1, 2): [None]}, "pass"),
        (("neg0",), 0, "pass"),
        (("big",), 3**9000, "pass"),
    ]
    report = sandbox.run_tests(code, "f", [TestCase(args, exp) for args, exp, _ in cases])
    assert statuses(report) == [want for *_, want in cases]
    assert report.results[-1].got.startswith("<int of")


def test_unsupported_return_types_are_bad_returns():
    code = dedent("""\
        class Int(int):
            pass

        def f(kind):
            if kind == 'cycle':
                x = []
                x.append(x)
                return x
            if kind == 'wide':  # 2**60 items through shared sub-lists
                x = [1]
                for _ in range(60):
                    x = [x, x]
                return x
            return {'sub': Int(3), 'object': object(), 'gen': (i for i in ()), 'nested': [1, {2: Int(3)}]}[kind]
    """)
    kinds = ["sub", "object", "gen", "nested", "cycle", "wide"]
    roomy = Sandbox(Limits(wall_s=20.0, per_test_s=5.0))  # walking a million items takes a while on a busy machine
    report = roomy.run_tests(code, "f", [TestCase((k,), 3) for k in kinds])
    assert statuses(report) == ["bad_return"] * len(kinds)
    assert "unsupported return type" in report.results[0].error_message and "Int" in report.results[0].error_message
    assert "deeper" in report.results[4].error_message and "too large" in report.results[5].error_message


def test_arguments_are_fresh_for_every_test(sandbox):
    code = "def f(xs):\n    xs.append(1)\n    return len(xs)\n"
    arg = [0]
    report = sandbox.run_tests(code, "f", [TestCase((arg,), 2), TestCase((arg,), 2)])
    assert report.all_passed and arg == [0]


def test_printed_output_is_captured_with_a_cap():
    sandbox = Sandbox(Limits(output_bytes=2048))
    code = "def f():\n    print('x' * 100000)\n    print('END')\n    return 1\n"
    report = sandbox.run_tests(code, "f", [TestCase((), 1)])
    assert report.all_passed and report.stderr_tail.endswith("END\n") and len(report.stderr_tail) < 2200
    assert "earlier bytes cut" in report.stderr_tail


def test_no_tests_and_refused_code(sandbox):
    empty = sandbox.run_tests(ADD, "add", [])
    assert empty.status == "ok" and empty.total == 0 and not empty.all_passed
    big = sandbox.run_tests("x = 1\n" * 20000, "add", [TestCase((1, 2), 3)])
    assert big.status == "refused" and statuses(big) == ["crash"] and "bytes" in big.results[0].error_message
    assert big.wall_s == 0.0


def test_invalid_calls_raise(sandbox):
    with pytest.raises(ValueError, match="identifier"):
        sandbox.run_tests(ADD, "import os", [])
    with pytest.raises(ValueError, match="plain data"):
        sandbox.run_tests(ADD, "add", [TestCase((object(),), 1)])
    with pytest.raises(TypeError, match="str"):
        sandbox.run_tests(b"x", "add", [])
    with pytest.raises(ValueError, match="wall_s"):
        Limits(wall_s=0)
    with pytest.raises(ValueError, match="memory_mb"):
        Limits(memory_mb=True)


def test_sandbox_is_unprivileged_and_has_no_proc_or_network(sandbox):
    code = dedent("""\
        import os, socket

        def f():
            try:
                socket.create_connection(('1.1.1.1', 53), timeout=0.5)
                net = True
            except OSError:
                net = False
            return [os.getuid() != 0, os.path.exists('/proc/1'), net, os.getpid(), sorted(os.listdir('/'))]
    """)
    report = sandbox.run_tests(code, "f", [TestCase((), None)])
    got = report.results[0].got
    assert got.startswith("[True, False, False, "), got
    assert "'tmp'" in got and "'usr'" in got and "'root'" not in got and "'home'" not in got and "'work'" not in got


def test_without_bubblewrap_construction_raises_with_the_install_hint(tmp_path, monkeypatch):
    hint = r"apt-get install bubblewrap.*unsafe_no_isolation=True"
    with pytest.raises(SandboxUnavailable, match=hint):
        Sandbox(bwrap=str(tmp_path / "bwrap"))
    monkeypatch.setenv("PATH", str(tmp_path))
    assert not Sandbox.available()
    with pytest.raises(SandboxUnavailable, match=hint) as info:
        Sandbox()
    assert isinstance(info.value, VerifierError) and "no `bwrap`" in str(info.value)
    with pytest.raises(SandboxUnavailable, match="interpreter"):
        Sandbox(python=str(tmp_path / "python3"))


def test_a_bwrap_that_cannot_create_namespaces_is_unavailable():
    folder = Path(tempfile.mkdtemp())  # not tmp_path: the unprivileged uid must reach the fake
    try:
        folder.chmod(0o755)
        fake = folder / "bwrap"
        fake.write_text("#!/bin/sh\necho 'bwrap: No permissions to creating new namespace' >&2\nexit 1\n")
        fake.chmod(0o755)
        with pytest.raises(SandboxUnavailable, match="No permissions.*apt-get install bubblewrap"):
            Sandbox(bwrap=str(fake))
        assert not Sandbox.available(bwrap=str(fake))
    finally:
        shutil.rmtree(folder)


def test_unsafe_mode_warns_once_and_still_runs(monkeypatch):
    monkeypatch.setattr(bwrap, "_warned_unsafe", False)
    with pytest.warns(RuntimeWarning, match="WITHOUT ISOLATION"):
        unsafe = Sandbox(Limits(wall_s=4.0, per_test_s=1.0), unsafe_no_isolation=True, bwrap="/nonexistent")
    code = "def f(x):\n    while x:\n        pass\n    return x\n"
    report = unsafe.run_tests(code, "f", [TestCase((1,), 1), TestCase((0,), 0)])
    assert statuses(report) == ["timeout", "pass"]
    assert unsafe.run_tests(ADD, "add", [TestCase((1, 2), 3)]).all_passed


def test_report_properties():
    report = TestReport("ok", (), "", 0.0)
    assert report.passed == report.total == 0 and report.first_failure() is None and not report.all_passed


@pytest.mark.parametrize(
    "value",
    [
        None,
        True,
        0,
        -(2**200),
        2**63,
        1.5,
        math.inf,
        "é\ud800",
        [1, (2, {3})],
        {"a": frozenset({1})},
        {(1, "x"): []},
    ],
)
def test_codec_round_trips_plain_data(value):
    wire = codec.loads(codec.dumps(codec.encode(value)))
    assert codec.same(codec.decode(wire), value) and type(codec.decode(wire)) is type(value)
    assert codec.short_repr(value) == repr(value)


def test_decoder_rejects_malformed_values():
    for bad in [1 << 63, ["i"], ["x", []], ["l", "nope"], ["d", [[1]]], ["s", [["l", []]]], {"a": 1}, b"x"]:
        with pytest.raises((ValueError, TypeError)):
            codec.decode(bad)
    nested = None
    for _ in range(codec.MAX_DEPTH + 5):
        nested = ["l", [nested]]
    with pytest.raises(ValueError):
        codec.decode(nested)
    with pytest.raises(ValueError):
        codec.loads("[NaN]")
