"""Loaders for local code problem files (HumanEval-style and MBPP-style JSONL). No downloads.

Hidden tests come from the file's ``assert`` statements. Only the shape ``assert f(<literal args>) == <literal>``
(or ``is True`` / ``is False`` / ``is None``) is converted: the statement is parsed with :mod:`ast` and every
argument and the expected value are read with :func:`ast.literal_eval`, which accepts Python literals only. Test
data is trusted, yet nothing from the file is evaluated or executed here; the reference solution only ever runs
in the sandbox. Asserts of other shapes (tolerances, loops over variables, helper calls, ...) are skipped and
counted in ``metadata["skipped_tests"]``.
"""

from __future__ import annotations

import ast
import os
import re
from collections.abc import Sequence
from typing import Any

from convenv.sandbox import TestCase
from convenv.tasks.base import Task, TaskList
from convenv.tasks.code.common import call_text
from convenv.tasks.loaders import _check_limit, _digest, _records

__all__ = ["load_humaneval_jsonl", "load_mbpp_jsonl", "tests_from_asserts"]

_LITERAL_IS = (True, False, None)


def _literal(node: ast.expr) -> tuple[bool, Any]:
    """``(True, value)`` if ``node`` is a Python literal, else ``(False, None)``."""
    try:
        return True, ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False, None


def _convert(node: ast.Assert, names: Sequence[str]) -> tuple[str, TestCase] | None:
    """``(function name, test)`` for ``assert name(<literals>) == <literal>`` (either side), else None."""
    test = node.test
    if not isinstance(test, ast.Compare) or len(test.ops) != 1 or len(test.comparators) != 1:
        return None
    left, right, op = test.left, test.comparators[0], test.ops[0]
    if not isinstance(left, ast.Call) and isinstance(right, ast.Call) and isinstance(op, ast.Eq):
        left, right = right, left
    if not isinstance(left, ast.Call) or not isinstance(left.func, ast.Name) or left.keywords:
        return None
    if names and left.func.id not in names:
        return None
    ok, expected = _literal(right)
    if not ok or not (isinstance(op, ast.Eq) or (isinstance(op, ast.Is) and expected in _LITERAL_IS)):
        return None
    args = []
    for arg in left.args:
        ok, value = _literal(arg) if not isinstance(arg, ast.Starred) else (False, None)
        if not ok:
            return None
        args.append(value)
    return left.func.id, TestCase(args=tuple(args), expected=expected, name=f"line_{node.lineno}")


def tests_from_asserts(asserts: Sequence[ast.Assert], names: Sequence[str] = ()) -> tuple[list[TestCase], int, str]:
    """Convert assert nodes to tests.

    Args:
        asserts: the ``assert`` statements, in order.
        names: accepted function names (empty: the name of the first convertible assert, which all the others
            must then share).

    Returns:
        ``(tests, skipped, name)``: the converted tests, how many asserts were not convertible, and the called
        function's name (``""`` when nothing converted).
    """
    tests: list[TestCase] = []
    chosen = list(names)
    name = ""
    for node in asserts:
        converted = _convert(node, chosen)
        if converted is None:
            continue
        name, test = converted
        chosen = chosen or [name]
        tests.append(TestCase(args=test.args, expected=test.expected, name=f"test_{len(tests) + 1}"))
    return tests, len(asserts) - len(tests), name


def _parse(text: str, what: str, where: str) -> ast.Module:
    try:
        return ast.parse(text)
    except (SyntaxError, ValueError, MemoryError, RecursionError) as exc:
        raise ValueError(
            f"{where}: expected the {what!r} field to be Python source, got a syntax error ({exc}); fix that line"
        ) from None


def _function(tree: ast.Module, name: str) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
    return next(
        (n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name == name), None
    )


def _signature(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> str:
    returns = f" -> {ast.unparse(fn.returns)}" if fn.returns is not None else ""
    return f"def {fn.name}({ast.unparse(fn.args)}){returns}:"


def _no_tests(where: str, skipped: int, shape: str) -> ValueError:
    return ValueError(
        f"{where}: expected at least one test of the form {shape}, got none convertible ({skipped} assert(s) of "
        "other shapes skipped); add such an assert or drop that problem"
    )


def load_humaneval_jsonl(path: str | os.PathLike[str], limit: int | None = None) -> TaskList:
    """Load HumanEval-style problems: ``task_id``, ``prompt``, ``canonical_solution``, ``test``, ``entry_point``.

    ``prompt`` (the signature with its docstring) is public; the reference solution is ``prompt +
    canonical_solution``. The hidden tests are the convertible asserts of ``check(candidate)`` in ``test``
    (``assert candidate(<literal args>) == <literal>``; the entry point's own name is accepted too).

    Args:
        path: a local ``.jsonl`` file.
        limit: keep only the first ``limit`` problems.

    Returns:
        A :class:`~convenv.tasks.base.TaskList` of ``domain="code"`` tasks with ids ``humaneval/<12 hex digits>``
        and metadata ``family`` (``"humaneval"``), ``difficulty`` (None), ``entry_point``, ``signature``,
        ``task_id``, ``line``, ``skipped_tests``.

    Raises:
        FileNotFoundError: no file at ``path``.
        ValueError: a line that is not JSON, lacks a field, has no ``check`` function, or has no convertible test
            (the message names file and line).
    """
    _check_limit(limit)
    tasks = []
    fields = ("prompt", "canonical_solution", "test", "entry_point")
    for lineno, record in _records(path, fields):
        where = f"{os.fspath(path)}:{lineno}"
        entry = record["entry_point"].strip()
        check = _function(_parse(record["test"], "test", where), "check")
        if check is None:
            raise ValueError(
                f"{where}: expected the 'test' field to define check(candidate), got no such function; "
                "this does not look like HumanEval format (use load_mbpp_jsonl for test_list)"
            )
        params = [a.arg for a in check.args.args[:1]]
        asserts = [n for n in ast.walk(check) if isinstance(n, ast.Assert)]
        tests, skipped, _ = tests_from_asserts(asserts, [*params, entry])
        if not tests:
            raise _no_tests(where, skipped, "`assert candidate(<literal args>) == <literal>`")
        prompt = record["prompt"].rstrip() + "\n"
        answer = prompt + record["canonical_solution"].rstrip() + "\n"
        fn = _function(_parse(answer, "prompt + canonical_solution", where), entry)
        if fn is None:
            raise ValueError(
                f"{where}: expected the prompt to define the entry point {entry!r}, got no such function; "
                "fix 'entry_point' or 'prompt'"
            )
        tasks.append(
            Task(
                id=f"humaneval/{_digest(prompt)}",
                domain="code",
                prompt=prompt.rstrip(),
                answer=answer,
                solution=answer,
                tests=tuple(tests),
                metadata={
                    "family": "humaneval",
                    "difficulty": None,
                    "entry_point": entry,
                    "signature": _signature(fn),
                    "source": "humaneval",
                    "task_id": str(record.get("task_id", "")),
                    "line": lineno,
                    "skipped_tests": skipped,
                },
            )
        )
        if limit is not None and len(tasks) >= limit:
            break
    return TaskList(tasks)


def load_mbpp_jsonl(path: str | os.PathLike[str], limit: int | None = None) -> TaskList:
    """Load MBPP-style problems: ``task_id``, ``text``, ``code``, ``test_list`` (``assert f(...) == ...`` strings).

    The entry point is the function called by the first convertible assert; ``code`` must define it. The prompt
    is ``text``, the signature read from ``code`` and the first test as a public example; the other tests stay
    hidden. ``code`` is the reference solution.

    Args:
        path: a local ``.jsonl`` file.
        limit: keep only the first ``limit`` problems.

    Returns:
        A :class:`~convenv.tasks.base.TaskList` of ``domain="code"`` tasks with ids ``mbpp/<12 hex digits>`` and
        metadata ``family`` (``"mbpp"``), ``difficulty`` (None), ``entry_point``, ``signature``, ``task_id``,
        ``line``, ``skipped_tests``.

    Raises:
        FileNotFoundError: no file at ``path``.
        ValueError: a line that is not JSON, lacks a field, has no convertible test, or whose ``code`` does not
            define the tested function (the message names file and line).
    """
    _check_limit(limit)
    tasks = []
    for lineno, record in _records(path, ("text", "code")):
        where = f"{os.fspath(path)}:{lineno}"
        raw = record.get("test_list")
        if not isinstance(raw, list) or not all(isinstance(t, str) for t in raw):
            got = "nothing" if raw is None else type(raw).__name__
            raise ValueError(
                f"{where}: expected a list of assert strings in 'test_list', got {got}; each line needs "
                "['text', 'code', 'test_list']"
            )
        asserts = []
        for statement in raw:
            tree = _parse(statement, "test_list", where)
            asserts += [n for n in tree.body if isinstance(n, ast.Assert)]
        skipped_other = max(0, len(raw) - len(asserts))  # strings holding no assert at all
        tests, skipped, entry = tests_from_asserts(asserts)
        if not tests:
            raise _no_tests(where, skipped + skipped_other, "`assert f(<literal args>) == <literal>`")
        code = record["code"].replace("\r\n", "\n").rstrip() + "\n"
        fn = _function(_parse(code, "code", where), entry)
        if fn is None:
            raise ValueError(
                f"{where}: expected 'code' to define {entry!r}, the function the tests call, got no such "
                "function; fix that line"
            )
        text = re.sub(r"\s+", " ", record["text"]).strip()
        example = f"assert {call_text(entry, tests[0].args)} == {tests[0].expected!r}"
        prompt = f"{text}\n\n{_signature(fn)}\n\nFor example, this must hold:\n{example}"
        tasks.append(
            Task(
                id=f"mbpp/{_digest(text)}",
                domain="code",
                prompt=prompt,
                answer=code,
                solution=code,
                tests=tuple(tests),
                metadata={
                    "family": "mbpp",
                    "difficulty": None,
                    "entry_point": entry,
                    "signature": _signature(fn),
                    "source": "mbpp",
                    "task_id": str(record.get("task_id", "")),
                    "line": lineno,
                    "skipped_tests": skipped + skipped_other,
                },
            )
        )
        if limit is not None and len(tasks) >= limit:
            break
    return TaskList(tasks)
