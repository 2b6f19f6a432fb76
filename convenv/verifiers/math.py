"""The math verifier: extraction and equivalence in a killable worker under a hard deadline."""

from __future__ import annotations

import threading

from convenv.tasks.base import Task
from convenv.verifiers.base import Verdict
from convenv.verifiers.math_check import ANSWER_KINDS, check_answer
from convenv.verifiers.worker import (
    DEFAULT_MEMORY_MB,
    RemoteError,
    WorkerCrash,
    WorkerPool,
    WorkerTimeout,
    release_shared_pool,
    shared_pool,
)

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
        if not timeout > 0:
            raise ValueError(f"expected a positive timeout in seconds, got {timeout}")
        self.timeout = timeout
        self.marked_only = bool(marked_only)
        self.memory_mb = memory_mb
        self._pool = pool
        self._shared = False
        self._lock = threading.Lock()  # one shared-pool reference per verifier, even under threads

    def verify(self, text: str, task: Task) -> Verdict:
        """Return the verdict on ``text`` as an attempt at ``task``; always within about ``timeout`` seconds.

        Raises:
            TypeError: ``text`` is not a str.
            ValueError: the task's ``answer_kind`` or ``variables`` metadata is malformed.
            VerifierError: the worker could not be started at all.
        """
        if not isinstance(text, str):
            raise TypeError(f"expected the student's text as a str, got {type(text).__name__}; decode tokens first")
        kind, variables = _task_settings(task)
        if not text.strip():
            return Verdict(False, None, "no_answer", "the message is empty")
        text = text[-MAX_TEXT_CHARS:]
        try:
            return self._get_pool().call(
                check_answer, text, task.answer, kind, variables, self.marked_only, timeout=self.timeout
            )
        except WorkerTimeout:
            return Verdict(False, None, "timeout", f"the check took longer than {self.timeout} s and was stopped")
        except (WorkerCrash, RemoteError) as exc:
            return Verdict(False, None, "worker_crash", f"the checker failed on this answer: {exc}")

    def _get_pool(self) -> WorkerPool:
        with self._lock:
            if self._pool is None:
                self._pool = shared_pool(self.memory_mb, _PRELOAD)
                self._shared = True
            return self._pool

    def close(self) -> None:
        """Give the shared worker back (it stops when no verifier uses it); a passed-in pool is left open."""
        with self._lock:
            if self._shared and self._pool is not None:
                release_shared_pool(self._pool)
                self._pool = None
                self._shared = False

    def __enter__(self) -> MathVerifier:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _task_settings(task: Task) -> tuple[str | None, tuple[str, ...]]:
    kind = task.metadata.get("answer_kind")
    if kind is not None and kind not in ANSWER_KINDS:
        raise ValueError(f"expected task.metadata['answer_kind'] in {ANSWER_KINDS} or None, got {kind!r}")
    variables = tuple(task.metadata.get("variables", ()))
    if not all(isinstance(v, str) and len(v) == 1 and v.isascii() and v.isalpha() for v in variables):
        raise ValueError(f"expected task.metadata['variables'] as single letters like ('x', 'y'), got {variables}")
    return kind, variables
