"""Exercise 2: a verifier for "solve for x" answers that is safe on hostile input.

The submission defines ``check(text, task) -> Verdict``: read the last number in the student's text and compare
it with ``task.answer`` (an integer), following the rules of the exercise page (``docs/course/2_verifier.md``).
The checker never imports the submission in its own process: every case runs in a killable worker process
(:class:`~convenv.verifiers.worker.WorkerPool`, the one every convenv verifier uses) under a hard deadline
(:data:`DEADLINE`), so a check that hangs or eats memory is stopped, not waited for. In that worker, ``eval``,
``exec`` and ``compile`` are wrapped: called on the student's text, they refuse and the case is flagged, so a
verifier that evaluates what it reads fails even when it catches the error.

Cases: :data:`RIGHT` (must be accepted), :data:`WRONG` (must be rejected, with the right error code) and
:data:`HOSTILE` (eval bait, huge numbers, a million characters, unicode digits, ...). Each is
``(answer, text, expected)`` with ``expected = (correct, error, extracted, direction)``.
"""

from __future__ import annotations

import ast
import builtins
import functools
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from convenv.exercises.base import Report
from convenv.tasks.base import Task
from convenv.verifiers.base import Verdict

__all__ = ["DEADLINE", "HOSTILE", "RIGHT", "WRONG", "check_verifier", "make_task"]

TITLE = "a verifier that is safe on hostile input"
DEADLINE = 2.0
"""Seconds one check may take; past them the worker is killed (hostile inputs included)."""
MAX_TIMEOUTS = 2  # after this many timeouts the remaining hostile cases are not run (each costs a restart)
FORBIDDEN = ("eval", "exec", "compile", "sympify", "parse_expr", "literal_eval", "__import__")
"""Calls the source may not make (as ``obj.name(...)`` only the ones that never mean ``re.compile``)."""
_FORBIDDEN_METHODS = ("eval", "exec", "sympify", "parse_expr", "literal_eval")

Expected = tuple[bool, str | None, str | None, str | None]  # correct, error, extracted, direction
Case = tuple[str, str, Expected]


def _right(answer: str, text: str) -> Case:
    return answer, text, (True, None, answer, None)


def _wrong(answer: str, text: str, extracted: str, direction: str) -> Case:
    return answer, text, (False, "wrong_value", extracted, direction)


def _none(answer: str, text: str) -> Case:
    return answer, text, (False, "no_answer", None, None)


def _large(answer: str, text: str) -> Case:
    return answer, text, (False, "too_large", "", None)  # "": any extracted string


RIGHT: list[Case] = [
    _right("7", "7"), _right("7", "x = 7"), _right("7", "x=7"), _right("7", "The answer is 7."),
    _right("7", "7.0"), _right("7", "+7"), _right("7", "First I got x = 5, but checking again: x = 7"),
    _right("-3", "x = -3"), _right("-3", "-3"), _right("0", "x = 0"), _right("0", "0.00"),
    _right("120", "x = 120\n"), _right("7", "  7  "),
]  # fmt: skip
WRONG: list[Case] = [
    _wrong("7", "8", "8", "too_high"), _wrong("7", "x = 6", "6", "too_low"), _wrong("7", "17", "17", "too_high"),
    _wrong("7", "70", "70", "too_high"), _wrong("7", "x = 7.5", "7.5", "too_high"),
    _wrong("7", "x = 7 or x = 8", "8", "too_high"), _wrong("-3", "3", "3", "too_high"),
    _wrong("-3", "x = 3", "3", "too_high"), _wrong("7", "x = -7", "-7", "too_low"), _none("7", "no idea"),
    _none("7", "seven"), _none("7", "x = ?"),
    _large("7", "7.0000000000000001"), _large("7", "x = 1234567890123"),
]  # fmt: skip
HOSTILE: list[Case] = [
    _wrong("7", "14//2", "2", "too_low"), _wrong("7", "[7][0]", "0", "too_low"),
    _none("7", "__import__('os').system('echo hacked')"), _large("7", "9" * 100_000), _large("7", "0" * 5000 + "7"),
    _large("7", "1" * 5000 + "!"), _wrong("7", "7e99999999", "99999999", "too_high"), _none("7", "(" * 50_000),
    _none("7", "x = \u0667"), _right("7", "x " * 500_000 + "= 7"), _right("7", "\x00x = 7\x00"),
    _right("7", "1 " * 20_000 + "x = 7"),
]  # fmt: skip


def make_task(answer: str) -> Task:
    """A "solve for x" task with an integer ``answer`` (the prompt is not needed by a verifier)."""
    return Task(id=f"exercise/x/{answer}", domain="algebra", prompt="solve for x", answer=answer)


# ------------------------------------------------------------------------------------------- worker side
# Everything below up to the checker runs inside the worker process, never in the checker's own.
_modules: dict[str, Any] = {}
_state: dict[str, Any] = {"text": None, "tripped": []}


def _guard(name: str, real: Callable[..., Any]) -> Callable[..., Any]:
    """``real`` (a builtin), refusing to run any piece of the text being checked."""

    def guarded(source: Any, *args: Any, **kwargs: Any) -> Any:
        text = _state["text"]
        if text and isinstance(source, (str, bytes)):
            piece = (source.decode(errors="replace") if isinstance(source, bytes) else source).strip()
            if piece and piece in text:
                _state["tripped"].append(name)
                raise PermissionError(f"the exercise checker refuses to {name} the student's text")
        return real(source, *args, **kwargs)

    guarded.__name__ = name
    return guarded


def _install_tripwire() -> None:
    if getattr(builtins, "_convenv_exercise_tripwire", False):
        return
    for name in ("eval", "exec", "compile"):
        setattr(builtins, name, _guard(name, getattr(builtins, name)))
    builtins._convenv_exercise_tripwire = True  # type: ignore[attr-defined]


def _student_check(path: str) -> Callable[[str, Task], Any]:
    if path not in _modules:
        _install_tripwire()  # before the import, so that ``from builtins import eval`` gets the guard too
        from convenv.exercises.base import load_student_module

        _modules[path] = load_student_module(path)
    check = getattr(_modules[path], "check", None)
    if not callable(check):
        raise AttributeError("the file defines no function check(text, task)")
    return check


def run_case(path: str, text: str, task: Task) -> tuple[str, Any, list[str]]:
    """In the worker: ``("ok", verdict, tripped)`` or ``("raised", message, tripped)``.

    ``tripped`` names the guarded builtins the submission called on the text (kept even when it caught the error
    they raised, or raised one of its own).
    """
    check = _student_check(path)
    _state["text"], _state["tripped"] = text, []
    try:
        return "ok", check(text, task), list(_state["tripped"])
    except MemoryError:  # the worker's heap may be unusable: let it restart
        raise
    except Exception as exc:
        return "raised", f"{type(exc).__name__}: {str(exc)[:300]}", list(_state["tripped"])
    finally:
        _state["text"] = None


def student_verdict(path: str, text: str, task: Task) -> Verdict:
    """In the worker: the submission's verdict alone (what an env's :class:`PooledVerifier` calls)."""
    status, value, _ = run_case(path, text, task)
    if status != "ok":
        raise RuntimeError(value)
    return value


# ------------------------------------------------------------------------------------------- the checker
def _forbidden_calls(source: str) -> list[str]:
    """``name (line n)`` of each call in the submission's source to a function that evaluates strings."""
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        return [f"a syntax error (line {exc.lineno})"]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name) and func.id in FORBIDDEN:
                found.append(f"{func.id} (line {node.lineno})")
            elif isinstance(func, ast.Attribute) and func.attr in _FORBIDDEN_METHODS:
                found.append(f"{func.attr} (line {node.lineno})")
    return found


def _clip(message: str, limit: int = 100) -> str:
    return message if len(message) <= limit else message[: limit - 3] + "..."


def _show(text: str) -> str:
    return repr(text) if len(text) <= 40 else f"{text[:20]!r}... ({len(text):,} characters)"


class _Runner:
    """Runs cases in a worker pool; remembers outcomes, timeouts, errors and tripwire hits."""

    def __init__(self, path: str, deadline: float):
        from convenv.verifiers.worker import WorkerPool

        self.path = path
        self.deadline = float(deadline)
        self.pool = WorkerPool(memory_mb=512, preload=(__name__,))
        self.timeouts = 0
        self.tripped: list[str] = []

    def run(self, answer: str, text: str, timeout: float | None = None) -> tuple[str, Any]:
        """``("ok", verdict)``, ``("timeout", None)``, ``("error", message)`` or ``("skipped", None)``."""
        from convenv.verifiers.worker import RemoteError, WorkerCrash, WorkerTimeout

        if self.timeouts >= MAX_TIMEOUTS:
            return "skipped", None
        try:
            status, value, tripped = self.pool.call(
                run_case, self.path, text, make_task(answer), timeout=timeout or self.deadline
            )
        except WorkerTimeout:
            self.timeouts += 1
            return "timeout", None
        except (RemoteError, WorkerCrash) as exc:
            return "error", _clip(str(exc))
        if tripped and not any(t.endswith(f" on {_show(text)}") for t in self.tripped):
            self.tripped.append(f"{tripped[0]} on {_show(text)}")
        return ("ok", value) if status == "ok" else ("error", _clip(value))

    def close(self) -> None:
        self.pool.close()


def _mismatch(verdict: Any, expected: Expected, fields: bool) -> str | None:
    """What is wrong with ``verdict`` (only ``correct`` unless ``fields``), or None."""
    if not isinstance(verdict, Verdict):
        return f"returned {type(verdict).__name__}, not a convenv.Verdict"
    correct, error, extracted, direction = expected
    if bool(verdict.correct) != correct:
        return f"correct={verdict.correct}, expected {correct}"
    if not fields:
        return None
    if verdict.error != error:
        return f"error={verdict.error!r}, expected {error!r}"
    if extracted == "" and not isinstance(verdict.extracted, str):
        return f"extracted={verdict.extracted!r}, expected the number read, as a str"
    if extracted != "" and verdict.extracted != extracted:
        return f"extracted={verdict.extracted!r}, expected {extracted!r}"
    got = (verdict.signals or {}).get("direction")
    if direction is not None and got != direction:
        return f"signals['direction']={got!r}, expected {direction!r}"
    return None


def _failures(outcomes: Sequence[tuple[Case, tuple[str, Any]]], fields: bool) -> list[str]:
    """One line per case judged wrongly; with ``fields``, cases judged rightly but with wrong fields first."""
    first, then = [], []
    for (answer, text, expected), (status, value) in outcomes:
        if status != "ok":
            then.append(f"{_show(text)} (answer {answer}): {status}" + (f": {value}" if status == "error" else ""))
            continue
        problem = _mismatch(value, expected, fields)
        if problem is not None:
            right = _mismatch(value, expected, fields=False) is None
            (first if right else then).append(f"{_show(text)} (answer {answer}): {problem}")
    return first + then


def _summary(bad: list[str], n: int, ok: str) -> str:
    if not bad:
        return ok
    more = f" (and {len(bad) - 2} more)" if len(bad) > 2 else ""
    return f"{len(bad)} of {n} cases: " + "; ".join(bad[:2]) + more


def _drives_env(path: str, deadline: float) -> tuple[bool, str]:
    """Play GuessNumber-v0 with the submission as the verifier: BisectionStudent must win every episode."""
    import convenv
    from convenv.envs.course import BisectionStudent
    from convenv.play import play_batch, success_by_turn
    from convenv.verifiers.pooled import PooledVerifier

    envs = [convenv.make("GuessNumber-v0") for _ in range(20)]
    try:
        for env in envs:
            env.domain.verifier.close()
            env.domain.verifier = PooledVerifier(
                functools.partial(student_verdict, path), timeout=deadline, preload=(__name__,)
            )
        agents = {"teacher": envs[0].default_teacher(), "student": BisectionStudent(envs[0].tokenizer)}
        results = play_batch(envs, agents, seeds=range(20))
    finally:
        for env in envs:
            env.close()
    curve = success_by_turn(results, envs[0].max_turns)
    return bool(curve[-1] == 1.0), "success by turn 1..5: " + " ".join(f"{v:.2f}" for v in curve)


def check_verifier(path: str, *, deadline: float = DEADLINE) -> Report:
    """Grade the ``check(text, task)`` defined in the Python file at ``path``.

    Args:
        path: the file.
        deadline: seconds each case may take (the graded value is :data:`DEADLINE`).

    """
    report = Report(2, TITLE, str(path))
    later = ["no eval in the source", "accepts right answers", "rejects wrong answers", "verdict fields",
             f"hostile: within {deadline:g} s", "hostile: never raises", "hostile: right verdicts",
             "never evaluates the text", "drives an env"]  # fmt: skip
    file = Path(path)
    if not file.is_file() or file.suffix != ".py":
        report.add("loads", False, f"no such .py file: {path}", "pass the path of your solution file")
        report.skip(later, "no file")
        return report
    runner = _Runner(str(file.resolve()), deadline)
    try:
        status, value = runner.run("7", "7", timeout=10.0)  # the first call imports the file: more time
        loaded = status == "ok" and isinstance(value, Verdict)
        detail = "check('7', task) returned a Verdict" if loaded else f"{status}: {value}"
        if status == "ok" and not loaded:
            detail = f"check('7', task) returned {type(value).__name__}, not a convenv.Verdict"
        hint = "define check(text, task) -> convenv.Verdict at module level; the file must import without errors"
        if not report.add("loads", loaded, detail, hint):
            report.skip(later, "the file did not load")
            return report
        _grade(report, runner, file)
    finally:
        runner.close()
    return report


def _grade(report: Report, runner: _Runner, file: Path) -> None:
    calls = _forbidden_calls(file.read_text())
    report.add(
        "no eval in the source", not calls, "calls " + ", ".join(calls) if calls else "no call evaluates strings",
        "student text is hostile: read it with a regular expression; never eval, exec, compile, sympify, "
        "parse_expr or literal_eval it",
    )  # fmt: skip
    normal = [(case, runner.run(case[0], case[1])) for case in RIGHT + WRONG]
    right, wrong = normal[: len(RIGHT)], normal[len(RIGHT) :]
    bad = _failures(right, fields=False)
    report.add(
        "accepts right answers", not bad, _summary(bad, len(RIGHT), f"all {len(RIGHT)} accepted"),
        "the answer is the last number: an optional sign, ASCII digits, optionally '.' and digits; compare values "
        "exactly (7.0 is 7), e.g. with fractions.Fraction or decimal.Decimal",
    )  # fmt: skip
    bad = _failures(wrong, fields=False)
    report.add(
        "rejects wrong answers", not bad, _summary(bad, len(WRONG), f"all {len(WRONG)} rejected"),
        "read only the last number, whole ('17' is not 7); do not round (7.0000000000000001 has too many digits: "
        "too_large, and float() would call it 7)",
    )  # fmt: skip
    bad = _failures(normal, fields=True)
    report.add(
        "verdict fields", not bad, _summary(bad, len(normal), "error, extracted and direction as specified"),
        "error: None, 'no_answer', 'too_large' or 'wrong_value'; extracted: the number read as a str without '+' "
        "or trailing zeros ('7.0' -> '7'), None when there is none; signals['direction'] 'too_high' / 'too_low'",
    )  # fmt: skip
    hostile = [(case, runner.run(case[0], case[1])) for case in HOSTILE]
    slow = [f"{_show(t)}: {s}" for (_, t, _), (s, _) in hostile if s in ("timeout", "skipped")]
    report.add(
        f"hostile: within {runner.deadline:g} s", not slow,
        _summary(slow, len(HOSTILE), "every case answered in time"),
        "a regular expression with nested repetition such as (\\d+)+ backtracks exponentially; read digits with "
        "one flat pattern, and check the length before converting",
    )  # fmt: skip
    crashed = [f"{_show(t)}: {v}" for (_, t, _), (s, v) in hostile if s == "error"]
    report.add(
        "hostile: never raises", not crashed, _summary(crashed, len(HOSTILE), "no case raised"),
        "return a Verdict for any text: int() refuses more than 4300 digits (count digits first: too_large), and "
        "deep brackets break parsers",
    )  # fmt: skip
    bad = _failures([h for h in hostile if h[1][0] == "ok"], fields=True)
    report.add(
        "hostile: right verdicts", not bad, _summary(bad, len(HOSTILE), "every answered case judged as specified"),
        "digits are ASCII 0-9 only (Python's \\d also matches '\u0667'; use [0-9]); '14//2' is not 7, its last "
        "number is 2; there is no exponent notation",
    )  # fmt: skip
    report.add(
        "never evaluates the text", not runner.tripped,
        "called " + "; ".join(runner.tripped[:2]) if runner.tripped else "no eval, exec or compile of the text",
        "the checker caught your code evaluating the student's text: '__import__(\"os\").system(...)' would run",
    )  # fmt: skip
    if not (report.check("accepts right answers").passed and report.check("rejects wrong answers").passed):
        report.skip(["drives an env"], "the plain cases above must pass first")
        return
    passed, detail = _drives_env(str(file.resolve()), runner.deadline)
    report.add(
        "drives an env", passed, f"GuessNumber-v0 with your verifier, BisectionStudent, 20 seeds: {detail}",
        "the scripted teacher says '<' / '>' from signals['direction']: set it on every wrong number",
    )  # fmt: skip
