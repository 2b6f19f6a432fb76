"""Run untrusted Python code against hidden tests: bubblewrap isolation, rlimits, a hard wall-clock kill.

>>> from convenv.sandbox import Sandbox, TestCase
>>> Sandbox.available()  # bubblewrap on PATH and able to create namespaces here
True
"""

from convenv.sandbox.bwrap import MAX_CODE_BYTES, Sandbox, bwrap_command
from convenv.sandbox.types import (
    CASE_STATUSES,
    RUN_STATUSES,
    CaseResult,
    Limits,
    SandboxUnavailable,
    TestCase,
    TestReport,
)

__all__ = [
    "CASE_STATUSES",
    "MAX_CODE_BYTES",
    "RUN_STATUSES",
    "CaseResult",
    "Limits",
    "Sandbox",
    "SandboxUnavailable",
    "TestCase",
    "TestReport",
    "bwrap_command",
]
