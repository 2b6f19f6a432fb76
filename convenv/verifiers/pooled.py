"""Run any domain's check in the shared killable worker, under a hard deadline.

Student text is hostile even for cheap rule-based checks (a maze path, a guessed word): a check that parses it
runs in a worker process that is killed past its deadline, so no verifier call can hang the env.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

from convenv.tasks.base import Task
from convenv.verifiers.base import Verdict
from convenv.verifiers.worker import (
    RemoteError,
    WorkerCrash,
    WorkerPool,
    WorkerTimeout,
    release_shared_pool,
    shared_pool,
)

DEFAULT_MAX_CHARS = 4000


class PooledVerifier:
    """A :class:`~convenv.verifiers.base.Verifier` that calls ``check(text, task)`` in a worker process.

    Args:
        check: a module-level function ``(text, task) -> Verdict`` (sent to the worker by reference).
        timeout: wall-clock seconds one check may take; past it the worker is killed and the verdict is wrong
            with ``error="timeout"``.
        memory_mb: the worker's address-space cap.
        preload: modules the worker imports at start (outside the deadline).
        max_chars: only the last this-many characters of a message are checked (answers come last).
        pool: a :class:`~convenv.verifiers.worker.WorkerPool` to run in (the caller closes it); None shares the
            process-wide warm pool of these settings with every other verifier.

    Example:
        >>> from convenv.verifiers.pooled import PooledVerifier, exact_match
        >>> verifier = PooledVerifier(exact_match)
        >>> task = Task(id="t", domain="words", prompt="Capital of France?", answer="paris")
        >>> verifier.verify("Paris", task).correct
        True
        >>> verifier.close()
    """

    def __init__(
        self,
        check: Callable[[str, Task], Verdict],
        *,
        timeout: float = 2.0,
        memory_mb: int = 512,
        preload: Sequence[str] = (),
        max_chars: int = DEFAULT_MAX_CHARS,
        pool: WorkerPool | None = None,
    ):
        if not timeout > 0:
            raise ValueError(f"expected a positive timeout in seconds, got {timeout}; e.g. timeout=2.0")
        self.check = check
        self.timeout = float(timeout)
        self.memory_mb = int(memory_mb)
        self.preload = tuple(preload) or (check.__module__,)
        self.max_chars = int(max_chars)
        self._pool = pool
        self._shared = False  # whether _pool is a shared pool this verifier must give back
        self._lock = threading.Lock()  # one shared-pool reference per verifier, even under threads

    def verify(self, text: str, task: Task) -> Verdict:
        """Return ``check(text, task)`` computed in the worker, or a wrong verdict on timeout or crash."""
        if not isinstance(text, str):
            raise TypeError(f"expected the student's text as a str, got {type(text).__name__}; decode tokens first")
        if not text.strip():
            return Verdict(False, None, "no_answer", "the message is empty")
        try:
            return self._get_pool().call(self.check, text[-self.max_chars :], task, timeout=self.timeout)
        except WorkerTimeout:
            return Verdict(False, None, "timeout", f"the check took longer than {self.timeout} s and was stopped")
        except (WorkerCrash, RemoteError) as exc:
            return Verdict(False, None, "worker_crash", f"the checker failed on this answer: {exc}")

    def _get_pool(self) -> WorkerPool:
        with self._lock:
            if self._pool is None:
                self._pool = shared_pool(self.memory_mb, self.preload)
                self._shared = True
            return self._pool

    def close(self) -> None:
        """Give the shared worker back (it stops when no verifier uses it); a passed-in pool is left open.

        The verifier may be used again afterwards.
        """
        with self._lock:
            if self._shared and self._pool is not None:
                release_shared_pool(self._pool)
                self._pool = None
                self._shared = False


def exact_match(text: str, task: Task) -> Verdict:
    """Case- and whitespace-insensitive match of the last line of ``text`` with ``task.answer``."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    said = lines[-1].strip(" .!").lower() if lines else ""
    if not said:
        return Verdict(False, None, "no_answer", "no answer found")
    correct = said == task.answer.strip().lower()
    return Verdict(correct, said[:100], None if correct else "wrong_value", f"expected {task.answer!r}")
