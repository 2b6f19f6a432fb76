"""The math verifier: extraction and equivalence in a killable worker under a hard deadline."""

from __future__ import annotations

import functools

from convenv.tasks.base import Task
from convenv.verifiers.base import Verdict
from convenv.verifiers.math_check import ANSWER_KINDS, check_answer
from convenv.verifiers.pooled import PooledVerifier
from convenv.verifiers.worker import DEFAULT_MEMORY_MB, WorkerPool

MAX_TEXT_CHARS = 2000
"""Only the last this-many characters of a message are handed to the worker (answers come last)."""
_PRELOAD = ("convenv.verifiers.math_check",)


class MathVerifier:
    r"""Checks math answers (numbers, sets of roots, ordered tuples, expressions) against ``task.answer``.

    The student's text is read by a restricted parser of our own (never by sympy's string parsers), inside
    a worker process with a memory cap, killed when a check runs past ``timeout``. Verifiers built with the
    same ``memory_mb`` and no ``pool`` share one warm worker per process.

    The task supplies ``task.answer`` (the gold answer) and optionally ``task.metadata["answer_kind"]``
    (``"number"``, ``"set"``, ``"tuple"``, ``"expression"``; inferred when absent) and
    ``task.metadata["variables"]`` (the unknowns in order, e.g. ``("x", "y")``).

    Args:
        timeout: wall-clock seconds one check may take; past it the verdict is ``error="timeout"``.
        memory_mb: address-space cap of the worker, in MiB.
        pool: a :class:`~convenv.verifiers.worker.WorkerPool` to run in (the caller closes it); None uses
            the shared pool.
        marked_only: read only ``\boxed{}`` and "answer: ..." answers, never the last number in the text.

    Example:
        >>> from convenv.tasks.base import Task
        >>> verifier = MathVerifier()
        >>> task = Task(id="t", domain="math", prompt="Solve 3x - 7 = 11.", answer="6")
        >>> verifier.verify(r"3x = 18, so \boxed{6}", task).correct
        True
        >>> verifier.close()
    """

    def __init__(
        self,
        timeout: float = 2.0,
        memory_mb: int = DEFAULT_MEMORY_MB,
        pool: WorkerPool | None = None,
        marked_only: bool = False,
    ):
        self.marked_only = bool(marked_only)
        check = functools.partial(check_task, marked_only=self.marked_only)
        self._pooled = PooledVerifier(
            check, timeout=timeout, memory_mb=memory_mb, preload=_PRELOAD, max_chars=MAX_TEXT_CHARS, pool=pool
        )
        self.timeout = self._pooled.timeout
        self.memory_mb = memory_mb

    def verify(self, text: str, task: Task) -> Verdict:
        """Return the verdict on ``text`` as an attempt at ``task``; always within about ``timeout`` seconds.

        Raises:
            TypeError: ``text`` is not a str.
            ValueError: the task's ``answer_kind`` or ``variables`` metadata is malformed.
            VerifierError: the worker could not be started at all.
        """
        task_settings(task)  # malformed metadata is the caller's bug: raise here, not as a worker crash
        return self._pooled.verify(text, task)

    def close(self) -> None:
        """Give the shared worker back (it stops when no verifier uses it); a passed-in pool is left open."""
        self._pooled.close()

    def __enter__(self) -> MathVerifier:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def check_task(text: str, task: Task, marked_only: bool = False) -> Verdict:
    """Worker side: :func:`~convenv.verifiers.math_check.check_answer` with the task's settings."""
    kind, variables = task_settings(task)
    return check_answer(text, task.answer, kind, variables, marked_only)


def task_settings(task: Task) -> tuple[str | None, tuple[str, ...]]:
    """The task's ``answer_kind`` and ``variables``, checked."""
    kind = task.metadata.get("answer_kind")
    if kind is not None and kind not in ANSWER_KINDS:
        raise ValueError(f"expected task.metadata['answer_kind'] in {ANSWER_KINDS} or None, got {kind!r}")
    variables = tuple(task.metadata.get("variables", ()))
    if not all(isinstance(v, str) and len(v) == 1 and v.isascii() and v.isalpha() for v in variables):
        raise ValueError(f"expected task.metadata['variables'] as single letters like ('x', 'y'), got {variables}")
    return kind, variables
