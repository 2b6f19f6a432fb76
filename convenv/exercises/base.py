"""What every exercise checker shares: graded checks, the report, and loading the student's file.

A checker runs a list of :class:`Check` s and returns a :class:`Report`: each check passes or fails with a
one-line detail, and a failed check carries a hint that says what to look at. The score is the number of checks
passed out of all of them; the exercise is passed when every check is.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

__all__ = ["Check", "Report", "load_student_module"]


@dataclass(frozen=True)
class Check:
    """One graded check.

    Attributes:
        name: a short name, e.g. ``"no leak"``.
        passed: whether it passed.
        detail: what was measured, e.g. ``"success by turn 5 is 0.60 (>= 0.55)"``.
        hint: for a failed check, what to look at (empty when it passed).

    """

    name: str
    passed: bool
    detail: str
    hint: str = ""


@dataclass
class Report:
    """The result of checking one submission.

    Attributes:
        exercise: the exercise number.
        title: the exercise title.
        submission: what was checked (a path).
        checks: the graded checks, in the order they ran.

    """

    exercise: int
    title: str
    submission: str
    checks: list[Check] = field(default_factory=list)

    @property
    def score(self) -> int:
        """Checks passed."""
        return sum(c.passed for c in self.checks)

    @property
    def total(self) -> int:
        """Checks graded."""
        return len(self.checks)

    @property
    def passed(self) -> bool:
        """Whether every check passed."""
        return bool(self.checks) and self.score == self.total

    def add(self, name: str, passed: bool, detail: str, hint: str = "") -> bool:
        """Append a check (the hint is kept only when it failed); returns ``passed``."""
        self.checks.append(Check(name, bool(passed), detail, "" if passed else hint))
        return bool(passed)

    def skip(self, names: list[str], reason: str) -> None:
        """Fail the checks that could not run, saying why."""
        for name in names:
            self.checks.append(Check(name, False, f"not run: {reason}", "fix the failed check above first"))

    def check(self, name: str) -> Check:
        """The check called ``name``."""
        for c in self.checks:
            if c.name == name:
                return c
        raise KeyError(f"expected one of {[c.name for c in self.checks]}, got {name!r}")

    def format(self) -> str:
        """The report as text: one line per check, a hint under each failed one, then the score."""
        lines = [f"Exercise {self.exercise}: {self.title}  ({self.submission})"]
        width = max((len(c.name) for c in self.checks), default=0)
        for c in self.checks:
            lines.append(f"  [{'pass' if c.passed else 'FAIL'}] {c.name:<{width}}  {c.detail}")
            if c.hint:
                lines.append(f"         {'':<{width}}  hint: {c.hint}")
        verdict = "passed" if self.passed else "not passed yet"
        lines.append(f"score {self.score}/{self.total}: {verdict}")
        return "\n".join(lines)


def load_student_module(path: str | os.PathLike) -> ModuleType:
    """Import the student's own Python file from ``path`` (their code, run like pytest runs their tests).

    The module gets a name derived from the file's absolute path, so two submissions never collide, and its
    folder goes on ``sys.path`` first so that it can import its neighbours (and so that a worker process, which
    inherits ``sys.path``, can import it too).

    Raises:
        ValueError: the path is not an existing ``.py`` file.

    """
    file = Path(path).resolve()
    if not file.is_file() or file.suffix != ".py":
        raise ValueError(f"expected an existing .py file, got {str(path)!r}; pass the path of your solution file")
    name = "convenv_exercise_" + hashlib.sha1(str(file).encode()).hexdigest()[:12]
    if str(file.parent) not in sys.path:
        sys.path.insert(0, str(file.parent))
    spec = importlib.util.spec_from_file_location(name, file)
    assert spec is not None and spec.loader is not None  # a .py file always has a source loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses and pickling look the module up by name
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return module
