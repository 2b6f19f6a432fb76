"""The code verifier: extract a function from the student's text and run the hidden tests in the sandbox.

The student's code is hostile. This module only slices text: it never compiles, parses, evaluates or executes
the code in this process. :class:`~convenv.sandbox.Sandbox` runs it (bubblewrap, rlimits, a hard wall-clock
kill) and reports per-test results on a channel the code cannot write.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from convenv.sandbox import CaseResult, Limits, Sandbox, TestCase, TestReport
from convenv.tasks.base import Task
from convenv.verifiers.base import Verdict

__all__ = ["ERRORS", "MAX_CODE_CHARS", "CodeVerifier", "extract_code"]

MAX_CODE_CHARS = 20_000
"""Longer extracted code is not run (``error="too_large"``)."""
MAX_TEXT_CHARS = 200_000
"""Only the last this-many characters of a message are searched for code."""
ERRORS = ("no_code", "too_large", "syntax_error", "wrong_output", "exception", "timeout", "crash", "bad_return")
"""Every ``Verdict.error`` this verifier returns (None when all tests pass)."""
QUOTE = 80  # longest call or expected value in the teacher's detail (reports are cut at 256 tokens)

_FENCE = re.compile(r"^[ \t]*```[ \t]*(?P<lang>[A-Za-z0-9_+-]*)[^\n]*\n(?P<code>.*?)^[ \t]*```", re.M | re.S)
_PYTHON_TAGS = ("python", "python3", "py", "py3")
_CODE_START = re.compile(r"^(?:def|async\s+def)\s+\w+\s*\(", re.M)
_CODE_LINE = re.compile(
    r"(?:def|async\s+def|class|import|from|@|#|if\s+__name__)\b|\w+\s*(?::[^=]*)?=[^=]|[\w.]+\("
)
_SYNTAX_LINE = re.compile(r"line (\d+)")


def extract_code(text: str) -> str | None:
    r"""The code in a student's message, or None if there is none.

    The last fenced block tagged ``python`` (or ``py``) wins; else the last untagged fenced block that contains a
    ``def``; else a bare block: from the first line that starts with ``def`` through the following lines that
    are blank, indented, or look like code at column 0 (``def``, ``import``, ``@``, an assignment, ...).

    >>> extract_code("Sure:\n```python\ndef f(x):\n    return x\n```\nDone.")
    'def f(x):\n    return x\n'
    >>> extract_code("def f(x):\n    return x + 1\nThat should work.")
    'def f(x):\n    return x + 1\n'
    >>> extract_code("I don't know.") is None
    True
    """
    text = text[-MAX_TEXT_CHARS:].replace("\r\n", "\n")
    blocks = [(m.group("lang").lower(), m.group("code")) for m in _FENCE.finditer(text)]
    tagged = [code for lang, code in blocks if lang in _PYTHON_TAGS]
    if tagged:
        return tagged[-1]
    untagged = [code for lang, code in blocks if not lang and _CODE_START.search(code)]
    if untagged:
        return untagged[-1]
    start = _CODE_START.search(text)
    if start is None:
        return None
    lines = text[start.start() :].split("\n")
    kept = [lines[0]]
    for line in lines[1:]:
        if not line.strip() or line[0] in " \t" or _CODE_LINE.match(line):
            kept.append(line)
        else:
            break
    return "\n".join(kept).rstrip() + "\n"


def _clip(text: str, limit: int = QUOTE) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _failure(result: CaseResult, test: TestCase) -> dict[str, Any]:
    """The public facts of a failed test case: the task's own arguments, never the expected value."""
    return {
        "name": result.name,
        "status": result.status,
        "args": tuple(test.args),
        "got": result.got,
        "error_type": result.error_type,
        "error_message": result.error_message,
    }


def _call(entry: str, args: Any) -> str:
    return f"{entry}({', '.join(repr(a) for a in args)})"


def _syntax_line(report: TestReport) -> int | None:
    """The line of a syntax error: from the runner's message (``"invalid syntax (line 3)"``), else the output."""
    messages = [r.error_message or "" for r in report.results[:1]]
    for text in (*messages, report.stderr_tail or ""):
        found = _SYNTAX_LINE.findall(text)
        if found:
            return int(found[-1])
    return None


class CodeVerifier:
    """Runs a student's function against ``task.tests`` in a :class:`~convenv.sandbox.Sandbox`.

    The task supplies ``task.tests`` (:class:`~convenv.sandbox.TestCase` s) and ``task.metadata["entry_point"]``
    (the function's name). The verdict:

    * ``correct``: every test passed;
    * ``extracted``: ``"3/5 tests passed"`` (None when no code was found);
    * ``error``: one of :data:`ERRORS` (the first failing test's status when the code ran), None when correct;
    * ``detail``: the test report for the teacher. Privileged: it shows the failing test's expected value;
    * ``signals``: ``passed``, ``total``, ``first_failure`` (``name``, ``status``, ``args``, ``got``,
      ``error_type``, ``error_message``; no expected value, so a scripted teacher can quote it) and ``line``
      (of a syntax error, when the sandbox reports one).

    Args:
        limits: the sandbox's resource limits (default :class:`~convenv.sandbox.Limits`).
        unsafe_no_isolation: run without bubblewrap (rlimits and the wall-clock kill only). Off by default:
            without bubblewrap the constructor raises :class:`~convenv.sandbox.SandboxUnavailable`.
        python: the interpreter the sandbox runs (default: the sandbox's).

    Raises:
        SandboxUnavailable: no working bubblewrap and ``unsafe_no_isolation`` is False.
    """

    def __init__(
        self, limits: Limits | None = None, *, unsafe_no_isolation: bool = False, python: str | None = None
    ):
        self.limits = limits if limits is not None else Limits()
        kwargs = {"python": python} if python is not None else {}
        self.sandbox = Sandbox(self.limits, unsafe_no_isolation=unsafe_no_isolation, **kwargs)

    def verify(self, text: str, task: Task) -> Verdict:
        """Return the verdict on ``text`` as an attempt at ``task`` (within the sandbox's wall-clock limit).

        Raises:
            TypeError: ``text`` is not a str.
            ValueError: the task has no ``entry_point`` metadata or no tests.
        """
        if not isinstance(text, str):
            raise TypeError(f"expected the student's text as a str, got {type(text).__name__}; decode it first")
        entry = task.metadata.get("entry_point") if isinstance(task.metadata, Mapping) else None
        if not isinstance(entry, str) or not entry or not task.tests:
            raise ValueError(
                f"expected a code task with metadata['entry_point'] and tests, got task {task.id!r} with "
                f"entry_point={entry!r} and {len(task.tests)} test(s); use convenv.tasks.code sources or loaders"
            )
        total = len(task.tests)
        code = extract_code(text)
        if code is None or not code.strip():
            detail = "no code found (no ```python block and no line starting with def)"
            return Verdict(False, None, "no_code", detail, {"passed": 0, "total": total, "first_failure": None})
        if len(code) > MAX_CODE_CHARS:
            detail = f"the code has {len(code)} characters, over the {MAX_CODE_CHARS} that are run"
            return Verdict(False, None, "too_large", detail, {"passed": 0, "total": total, "first_failure": None})
        report = self.sandbox.run_tests(code, entry, task.tests)
        return self._verdict(report, entry, task)

    def _verdict(self, report: TestReport, entry: str, task: Task) -> Verdict:
        total = len(task.tests)
        passed = report.passed if report.total == total else 0
        extracted = f"{passed}/{total} tests passed"
        first = report.first_failure() if report.status == "ok" and report.total == total else None
        test = task.tests[report.results.index(first)] if first is not None else None
        failure = _failure(first, test) if first is not None and test is not None else None
        sig: dict[str, Any] = {"passed": passed, "total": total, "first_failure": failure}
        if report.all_passed and report.total == total:
            return Verdict(True, extracted, None, f"all {total} tests passed", sig)
        if report.status == "syntax_error":
            line = _syntax_line(report)
            sig["line"] = line
            message = report.results[0].error_message if report.results else ""
            return Verdict(False, extracted, "syntax_error", f"syntax error: {message}", sig)
        if first is None or test is None:
            error = report.status if report.status in ("timeout", "crash") else "crash"
            tail = (report.stderr_tail or "").strip()[-200:]
            detail = f"{extracted}; the run ended with {report.status!r} after {report.wall_s:.2f} s. {tail}"
            return Verdict(False, extracted, error, detail.strip(), sig)
        what = {
            "wrong_output": f"got {_clip(first.got or '', 60)}",
            "bad_return": f"got something that is not plain data ({_clip(first.error_message or '', 60)})",
            "exception": f"got {first.error_type}: {_clip(first.error_message or '', 60)}",
            "timeout": f"it did not finish ({_clip(first.error_message or '', 60)})",
            "crash": f"it crashed ({_clip(first.error_message or '', 60)})",
        }.get(first.status, first.status)
        call, expected = _clip(_call(entry, test.args)), _clip(repr(test.expected))
        detail = f"{extracted}. First failure {first.name}: {call} expected {expected}, {what}."
        return Verdict(False, extracted, first.status, detail, sig)

    def close(self) -> None:
        """Release the sandbox's resources (it is usable again afterwards)."""
        close = getattr(self.sandbox, "close", None)
        if close is not None:
            close()

    def __enter__(self) -> CodeVerifier:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
