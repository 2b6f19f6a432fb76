"""Loaders for local problem files in common formats (GSM8K-style and MATH-style JSONL). No downloads."""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterator
from fractions import Fraction
from typing import Any

from convenv.tasks.base import Task, TaskList

__all__ = ["extract_boxed", "load_gsm8k_jsonl", "load_math_jsonl"]

_CALCULATOR = re.compile(r"<<[^<>]*>>")  # GSM8K calculator annotations: "48/2 = <<48/2=24>>24"
_BOXED = re.compile(r"\\(?:boxed|fbox)\s*\{")
_LEVEL = re.compile(r"level\s*(\d+)", re.IGNORECASE)


def _digest(*parts: str) -> str:
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:12]


def _check_limit(limit: int | None) -> None:
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise ValueError(f"expected limit to be a positive int or None, got {limit!r}; pass e.g. limit=100")


def _records(path: str | os.PathLike[str], fields: tuple[str, ...]) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield (line number, record) for each non-blank line, checking JSON syntax and required string fields."""
    if not os.path.isfile(path):
        raise FileNotFoundError(
            f"expected a JSONL file at {os.fspath(path)!r}, got no such file; check the path "
            "(convenv never downloads data sets: save the file locally first)"
        )
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(
                    f"{os.fspath(path)}:{lineno}: expected one JSON object per line, got invalid JSON ({exc.msg}); "
                    "fix or remove that line"
                ) from None
            if not isinstance(record, dict):
                raise ValueError(
                    f"{os.fspath(path)}:{lineno}: expected a JSON object, got {type(record).__name__}; "
                    f"each line must be an object with fields {list(fields)}"
                )
            for name in fields:
                if not isinstance(record.get(name), str):
                    got = "nothing" if name not in record else type(record[name]).__name__
                    raise ValueError(
                        f"{os.fspath(path)}:{lineno}: expected a string field {name!r}, got {got}; "
                        f"each line needs {list(fields)}"
                    )
            yield lineno, record


def _number_value(text: str) -> Fraction | None:
    try:
        return Fraction(text)
    except (ValueError, ZeroDivisionError):
        return None


def load_gsm8k_jsonl(path: str | os.PathLike[str], limit: int | None = None) -> TaskList:
    """Load GSM8K-style problems: one JSON object per line with ``question`` and ``answer``.

    The ``answer`` field is a worked solution ending in ``#### <number>``. The gold answer is that number with
    thousands separators (and a leading ``$``) removed; the solution is the text before ``####`` with the
    ``<<...>>`` calculator annotations stripped.

    Args:
        path: a local ``.jsonl`` file.
        limit: keep only the first ``limit`` problems.

    Returns:
        A :class:`~convenv.tasks.base.TaskList` of ``domain="math"`` tasks with ids ``gsm8k/<12 hex digits>``.

    Raises:
        FileNotFoundError: no file at ``path``.
        ValueError: a line that is not JSON, lacks a field, or has no ``####`` (the message names file and line).
    """
    _check_limit(limit)
    tasks = []
    for lineno, record in _records(path, ("question", "answer")):
        body, sep, final = record["answer"].rpartition("####")
        answer = final.strip().replace(",", "").lstrip("$").strip()
        if not sep or not answer:
            raise ValueError(
                f"{os.fspath(path)}:{lineno}: expected the 'answer' field to end with '#### <number>', got "
                f"{record['answer'][-60:]!r}; this does not look like GSM8K format (use load_math_jsonl for "
                "\\boxed{} solutions)"
            )
        value = _number_value(answer)
        question = record["question"].strip()
        tasks.append(
            Task(
                id=f"gsm8k/{_digest(question)}",
                domain="math",
                prompt=question,
                answer=answer,
                solution=_CALCULATOR.sub("", body).strip(),
                metadata={
                    "source": "gsm8k",
                    "line": lineno,
                    "answer_kind": "number" if value is not None else None,
                    "answer_value": value,
                },
            )
        )
        if limit is not None and len(tasks) >= limit:
            break
    return TaskList(tasks)


def extract_boxed(text: str) -> str | None:
    r"""The content of the last ``\boxed{...}`` (or ``\fbox{...}``) in ``text``, braces balanced; None if none.

    >>> extract_boxed(r"so $x = \boxed{\frac{1}{2}}$.")
    '\\frac{1}{2}'
    """
    for m in reversed(list(_BOXED.finditer(text))):
        depth, start = 1, m.end()
        for i in range(start, len(text)):
            if text[i] == "{":
                depth += 1
            elif text[i] == "}":
                depth -= 1
                if depth == 0:
                    return text[start:i].strip()
    return None


def load_math_jsonl(path: str | os.PathLike[str], limit: int | None = None) -> TaskList:
    r"""Load MATH-style problems: one JSON object per line with ``problem`` and ``solution``.

    The gold answer is the content of the last ``\boxed{...}`` in the solution (nested braces balanced). The
    answer form is left to the verifier to infer (``metadata["answer_kind"]`` is None). Optional ``level``
    (e.g. ``"Level 3"``) and ``type`` (e.g. ``"Algebra"``) are kept in metadata; ``difficulty`` is the level
    number when one can be read.

    Args:
        path: a local ``.jsonl`` file.
        limit: keep only the first ``limit`` problems.

    Returns:
        A :class:`~convenv.tasks.base.TaskList` of ``domain="math"`` tasks with ids ``MATH/<12 hex digits>``.

    Raises:
        FileNotFoundError: no file at ``path``.
        ValueError: a line that is not JSON, lacks a field, or whose solution has no complete ``\boxed{...}``
            (the message names file and line).
    """
    _check_limit(limit)
    tasks = []
    for lineno, record in _records(path, ("problem", "solution")):
        answer = extract_boxed(record["solution"])
        if not answer:
            raise ValueError(
                f"{os.fspath(path)}:{lineno}: expected the 'solution' field to contain a complete \\boxed{{...}} "
                "with the final answer, got none; fix that line or drop it"
            )
        level = record.get("level")
        match = _LEVEL.search(str(level)) if level is not None else None
        problem = record["problem"].strip()
        tasks.append(
            Task(
                id=f"MATH/{_digest(problem)}",
                domain="math",
                prompt=problem,
                answer=answer,
                solution=record["solution"].strip(),
                metadata={
                    "source": "math",
                    "line": lineno,
                    "level": level,
                    "type": record.get("type"),
                    "difficulty": int(match.group(1)) if match else None,
                    "answer_kind": None,
                },
            )
        )
        if limit is not None and len(tasks) >= limit:
            break
    return TaskList(tasks)
