"""The sandbox's value types: limits, test cases and reports."""

from __future__ import annotations

from dataclasses import dataclass

from convenv.error import VerifierError

CASE_STATUSES = ("pass", "wrong_output", "exception", "timeout", "crash", "bad_return")
"""Every :attr:`CaseResult.status`."""
RUN_STATUSES = ("ok", "syntax_error", "timeout", "crash", "refused")
"""Every :attr:`TestReport.status`."""


class SandboxUnavailable(VerifierError):
    """No working bubblewrap here (missing, or it cannot create namespaces) and no explicit opt-out."""


@dataclass(frozen=True)
class Limits:
    """Resource limits of one sandboxed run.

    Attributes:
        wall_s: wall-clock seconds for the whole run (every test); past it the whole process tree is killed.
        per_test_s: wall-clock seconds for one test call (and for the submission's top-level code).
        cpu_s: CPU seconds of one test process (``RLIMIT_CPU``).
        memory_mb: address space of one test process in MiB (``RLIMIT_AS``).
        file_mb: largest file the submission may write in MiB (``RLIMIT_FSIZE``; the only writable place is a
            private ``/tmp`` of four times this size).
        nproc: processes of the sandbox's user (``RLIMIT_NPROC``; counted inside the sandbox's user namespace).
        nofile: open files of one process (``RLIMIT_NOFILE``).
        output_bytes: bytes of the submission's printed output kept for the report (the tail).
    """

    wall_s: float = 10.0
    per_test_s: float = 2.0
    cpu_s: int = 10
    memory_mb: int = 256
    file_mb: int = 8
    nproc: int = 32
    nofile: int = 64
    output_bytes: int = 65536

    def __post_init__(self) -> None:
        for name in ("wall_s", "per_test_s"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and value > 0):
                raise ValueError(f"expected Limits.{name} > 0 seconds, got {value!r}")
        minimum = {"cpu_s": 1, "memory_mb": 64, "file_mb": 1, "nproc": 8, "nofile": 16, "output_bytes": 1024}
        for name, low in minimum.items():
            value = getattr(self, name)
            if not (isinstance(value, int) and not isinstance(value, bool) and value >= low):
                raise ValueError(f"expected Limits.{name} to be an int >= {low}, got {value!r}")


@dataclass(frozen=True)
class TestCase:
    """One hidden test: call the entry point with ``args`` and compare the result with ``expected``.

    Attributes:
        args: positional arguments, plain data (int, float, str, bool, None, list, tuple, dict, set, frozenset).
        expected: the expected return value, plain data. Floats compare with a small tolerance; a tuple never
            equals a list, a bool never equals an int.
        name: shown in reports (``"test 3"`` when empty).
    """

    __test__ = False  # not a pytest test class

    args: tuple
    expected: object
    name: str = ""


@dataclass(frozen=True)
class CaseResult:
    """The outcome of one test case.

    Attributes:
        name: the test's name.
        status: one of :data:`CASE_STATUSES`.
        args: repr of the arguments tuple, clipped.
        expected: repr of the expected value, clipped.
        got: repr of the returned value, clipped (None unless the call returned).
        error_type: the exception's class name (``"ZeroDivisionError"``), or None.
        error_message: the exception's message or what went wrong, clipped, or None.
    """

    name: str
    status: str
    args: str
    expected: str
    got: str | None
    error_type: str | None
    error_message: str | None


@dataclass(frozen=True)
class TestReport:
    """The outcome of one sandboxed run.

    Attributes:
        status: one of :data:`RUN_STATUSES`: ``"ok"`` (every test ran, passed or not), ``"syntax_error"``,
            ``"timeout"`` (the whole run's wall clock), ``"crash"`` (the runner died or answered garbage),
            ``"refused"`` (not launched, e.g. code too large).
        results: one :class:`CaseResult` per test, in order (failed ones when the run did not finish).
        stderr_tail: the end of what the submission printed (stdout and stderr), for the teacher; never parsed.
        wall_s: wall-clock seconds of the run.
    """

    __test__ = False

    status: str
    results: tuple[CaseResult, ...]
    stderr_tail: str
    wall_s: float

    @property
    def passed(self) -> int:
        """Number of tests that passed."""
        return sum(1 for r in self.results if r.status == "pass")

    @property
    def total(self) -> int:
        """Number of tests."""
        return len(self.results)

    @property
    def all_passed(self) -> bool:
        """Whether the run finished and every test passed (False for a run without tests)."""
        return self.status == "ok" and self.total > 0 and self.passed == self.total

    def first_failure(self) -> CaseResult | None:
        """The first test that did not pass, or None."""
        return next((r for r in self.results if r.status != "pass"), None)
