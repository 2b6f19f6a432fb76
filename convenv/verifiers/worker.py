"""A killable, memory-capped worker pool for checks that may not finish (sympy on hostile input).

A signal-based timeout cannot interrupt long C-level arithmetic, so each check runs in a separate process
with a hard wall-clock deadline: past it the process is killed (SIGKILL) and a fresh one is started on the
next call. Workers start with ``RLIMIT_AS`` (memory) and ``RLIMIT_CORE`` = 0, and arm an ``RLIMIT_CPU``
backstop per call so a worker orphaned mid-computation dies on its own. Starting a sympy worker costs
about half a second, so workers stay warm between calls and one shared pool serves every verifier of a
process (:func:`shared_pool`).

On POSIX a worker is a fresh interpreter started by ``subprocess`` (fork+exec at once: safe in a
multi-threaded parent) that talks over an inherited socket. This avoids multiprocessing's "spawn" and
"forkserver" start methods, which re-run the parent's ``__main__`` script in the child: an unguarded user
script would run its own top level inside the worker. Windows falls back to multiprocessing "spawn".
"""

from __future__ import annotations

import atexit
import importlib
import itertools
import os
import pickle
import signal
import subprocess
import sys
import threading
import time
import weakref
from collections.abc import Callable, Sequence
from multiprocessing.connection import Connection
from typing import Any

from convenv.error import VerifierError

try:
    import resource
except ImportError:  # Windows: no rlimits, the wall-clock kill still holds
    resource = None  # type: ignore[assignment]

DEFAULT_MEMORY_MB = 1024
"""Address-space cap of a worker, in MiB."""
START_TIMEOUT = 60.0
"""Seconds a worker may take to start and import its preload modules."""


class WorkerTimeout(VerifierError):
    """A call ran past its deadline; the worker was killed and will be restarted on the next call."""


class WorkerCrash(VerifierError):
    """The worker died during a call (out of memory, a segfault, a kill); it will be restarted."""


class RemoteError(VerifierError):
    """The called function raised an exception inside the worker (the worker itself is still fine).

    Attributes:
        type_name: the exception's class name, e.g. ``"ValueError"``.
    """

    def __init__(self, type_name: str, message: str):
        super().__init__(f"{type_name}: {message}")
        self.type_name = type_name


# ---------------------------------------------------------------------------------------------- child side


def _serve(conn: Connection, memory_mb: int, preload: Sequence[str]) -> None:
    """The worker's loop: set limits, import ``preload``, then answer ``(seq, pickled call)`` messages."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    _set_limit("RLIMIT_AS", memory_mb * 2**20)
    _set_limit("RLIMIT_CORE", 0)
    for module in preload:
        importlib.import_module(module)
    conn.send(("ready", os.getpid()))
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):  # the parent is gone
            return
        if message is None:
            return
        seq, payload, timeout = message
        _arm_cpu_limit(timeout)
        try:
            fn, args = pickle.loads(payload)
            reply = (seq, "ok", fn(*args))
        except MemoryError:
            try:
                conn.send((seq, "crash", "MemoryError: the worker ran out of memory"))
            finally:
                os._exit(3)  # the heap may be unusable: start afresh
        except BaseException as exc:  # every failure, SystemExit included, is reported to the parent
            reply = (seq, "error", (type(exc).__name__, str(exc)[:1000]))
        try:
            data = pickle.dumps(reply)
        except Exception as exc:  # an unpicklable result must not take the worker down
            data = pickle.dumps((seq, "error", (type(exc).__name__, f"the result could not be pickled: {exc}")))
        try:
            conn.send_bytes(data)
        except OSError:  # the parent is gone
            return


def _set_limit(name: str, value: int) -> None:
    if resource is None or not hasattr(resource, name):
        return
    limit = getattr(resource, name)
    _, hard = resource.getrlimit(limit)
    if hard != resource.RLIM_INFINITY:
        value = min(value, hard)
    try:
        resource.setrlimit(limit, (value, hard))
    except (ValueError, OSError):  # macOS refuses some RLIMIT_AS values: the wall-clock kill remains
        pass


def _arm_cpu_limit(timeout: float) -> None:
    """Let the process die of SIGXCPU a little after ``timeout`` CPU seconds, should the parent be gone."""
    if resource is None:
        return
    usage = resource.getrusage(resource.RUSAGE_SELF)
    _set_limit("RLIMIT_CPU", int(usage.ru_utime + usage.ru_stime + timeout) + 1)  # >= used + timeout


def _child_main() -> None:
    """Entry point of a worker started by ``subprocess``: argv = fd, memory_mb, preload modules."""
    fd, memory_mb, *preload = sys.argv[1:]
    _serve(Connection(int(fd)), int(memory_mb), preload)


# ---------------------------------------------------------------------------------------------- parent side


class _Worker:
    """One live worker process and the parent's end of its channel."""

    def __init__(self, memory_mb: int, preload: Sequence[str]):
        self.owner = os.getpid()  # a forked copy of the parent must not use or kill this worker
        if sys.platform == "win32":
            self._start_spawn(memory_mb, preload)
        else:
            self._start_subprocess(memory_mb, preload)

    def _start_subprocess(self, memory_mb: int, preload: Sequence[str]) -> None:
        import socket

        parent_sock, child_sock = socket.socketpair()
        self.conn = Connection(parent_sock.detach())
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)  # same imports as the parent
        for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            env[var] = "1"  # thread pools reserve address space the memory cap counts
        code = "from convenv.verifiers.worker import _child_main; _child_main()"
        try:
            self.proc: Any = subprocess.Popen(
                [sys.executable, "-c", code, str(child_sock.fileno()), str(memory_mb), *preload],
                pass_fds=(child_sock.fileno(),),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                env=env,
            )
        finally:
            child_sock.close()

    def _start_spawn(self, memory_mb: int, preload: Sequence[str]) -> None:
        import multiprocessing

        context = multiprocessing.get_context("spawn")
        self.conn, child_conn = context.Pipe()
        self.proc = context.Process(target=_serve, args=(child_conn, memory_mb, tuple(preload)), daemon=True)
        self.proc.start()
        child_conn.close()

    @property
    def exit_code(self) -> int | None:
        if isinstance(self.proc, subprocess.Popen):
            return self.proc.poll()
        return self.proc.exitcode

    def kill(self) -> None:
        """Kill the process, reap it and close the channel (idempotent)."""
        if self.owner != os.getpid():
            self.conn.close()
            return
        try:
            self.proc.kill()
        except (ProcessLookupError, OSError):
            pass
        if isinstance(self.proc, subprocess.Popen):
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:  # pragma: no cover - SIGKILL not delivered
                pass
        else:
            self.proc.join(10)
        self.conn.close()

    def stop(self) -> None:
        """Ask the worker to exit, then make sure it did."""
        try:
            if self.owner != os.getpid():
                raise OSError("not the worker's parent")
            self.conn.send(None)
            if isinstance(self.proc, subprocess.Popen):
                self.proc.wait(timeout=2)
            else:
                self.proc.join(2)
        except (OSError, EOFError, subprocess.TimeoutExpired):
            pass
        self.kill()


def _describe_exit(code: int | None) -> str:
    if code is None:
        return "it stopped answering"
    if code < 0:
        try:
            return f"it was killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"it was killed by signal {-code}"
    return f"it exited with code {code}"


class WorkerPool:
    """Worker processes that run module-level functions under a hard deadline.

    Thread-safe: a call takes a free worker (waiting for one when all are busy). Workers start lazily and
    stay warm; one that times out or dies is replaced on the next call. The pool may be used again after
    :meth:`close`. Exiting the interpreter closes it.

    Args:
        memory_mb: address-space cap of each worker, in MiB (enforced on Linux).
        workers: number of worker processes.
        preload: modules each worker imports at start, outside any call's deadline.
        start_timeout: seconds a worker may take to start.

    Example:
        >>> pool = WorkerPool(memory_mb=512)
        >>> pool.call(divmod, 7, 2, timeout=5.0)
        (3, 1)
        >>> pool.close()
    """

    def __init__(
        self,
        memory_mb: int = DEFAULT_MEMORY_MB,
        workers: int = 1,
        *,
        preload: Sequence[str] = (),
        start_timeout: float = START_TIMEOUT,
    ):
        if memory_mb < 64:
            raise ValueError(f"expected memory_mb >= 64, got {memory_mb}; a Python worker needs at least that")
        if workers < 1:
            raise ValueError(f"expected workers >= 1, got {workers}")
        self.memory_mb = memory_mb
        self.preload = tuple(preload)
        self.start_timeout = start_timeout
        self._slots: list[_Worker | None] = [None] * workers
        self._free = list(range(workers))
        self._cond = threading.Condition()
        self._seq = itertools.count()
        self.last_start_seconds: float | None = None
        """Wall time of the most recent worker start (for benchmarks)."""
        _live_pools.add(self)

    @property
    def workers(self) -> int:
        """Number of worker processes (started or not)."""
        return len(self._slots)

    def call(self, fn: Callable[..., Any], *args: Any, timeout: float = 10.0) -> Any:
        """Run ``fn(*args)`` in a worker and return its result.

        Args:
            fn: a module-level function (sent by reference, so the worker must be able to import it).
            *args: picklable arguments.
            timeout: wall-clock seconds before the worker is killed (worker start-up is not counted).

        Raises:
            WorkerTimeout: the call ran past ``timeout``.
            WorkerCrash: the worker died during the call.
            RemoteError: ``fn`` raised; the message names the exception.
            VerifierError: a worker could not be started.
        """
        if not timeout > 0:
            raise ValueError(f"expected a positive timeout in seconds, got {timeout}")
        payload = pickle.dumps((fn, args))  # fails here, not in the worker, for an unpicklable call
        with self._cond:
            while not self._free:
                self._cond.wait()
            index = self._free.pop()
        try:
            return self._run(index, payload, timeout)
        finally:
            with self._cond:
                self._free.append(index)
                self._cond.notify()

    def _run(self, index: int, payload: bytes, timeout: float) -> Any:
        worker = self._slots[index]
        if worker is None or worker.owner != os.getpid() or worker.exit_code is not None:
            worker = self._slots[index] = self._start()
        seq = next(self._seq)
        try:
            worker.conn.send((seq, payload, timeout))
            if not worker.conn.poll(timeout):
                raise WorkerTimeout(
                    f"expected the call to finish within {timeout} s, got no answer; the worker was killed "
                    "(raise the timeout if legitimate checks are this slow)"
                )
            reply_seq, status, value = worker.conn.recv()
        except (EOFError, OSError) as exc:
            worker.kill()
            self._slots[index] = None
            reason = _describe_exit(worker.exit_code)
            raise WorkerCrash(f"expected the worker to answer, got nothing: {reason}") from exc
        except BaseException:  # the timeout above, or Ctrl-C while waiting: the worker is out of step
            worker.kill()
            self._slots[index] = None
            raise
        if status == "crash" or reply_seq != seq:
            worker.kill()
            self._slots[index] = None
            raise WorkerCrash(f"expected the worker to finish the call, got {value}")
        if status == "error":
            raise RemoteError(*value)
        return value

    def _start(self) -> _Worker:
        started = time.perf_counter()
        try:
            worker = _Worker(self.memory_mb, self.preload)
        except OSError as exc:
            raise VerifierError(f"expected to start a verifier worker, got {exc}; check sys.executable") from exc
        try:
            ready = worker.conn.poll(self.start_timeout)
            message = worker.conn.recv() if ready else None
        except (EOFError, OSError):
            message = None
        if not (isinstance(message, tuple) and message[0] == "ready"):
            worker.kill()
            raise VerifierError(
                f"expected a verifier worker to start within {self.start_timeout} s and {self.memory_mb} MiB, "
                f"got a failure ({_describe_exit(worker.exit_code)}); raise memory_mb, or check that "
                f"{', '.join(self.preload) or 'convenv'} imports in a fresh interpreter"
            )
        self.last_start_seconds = time.perf_counter() - started
        return worker

    def pids(self) -> list[int]:
        """Process ids of the workers currently running (for tests and monitoring)."""
        return [w.proc.pid for w in self._slots if w is not None and w.owner == os.getpid() and w.exit_code is None]

    def close(self) -> None:
        """Stop every worker (waiting for calls in progress to finish); the pool restarts lazily if used."""
        with self._cond:
            while len(self._free) < len(self._slots):
                self._cond.wait()
            for index, worker in enumerate(self._slots):
                if worker is not None:
                    worker.stop()
                    self._slots[index] = None

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


# ---------------------------------------------------------------------------------------------- shared pools

_live_pools: weakref.WeakSet[WorkerPool] = weakref.WeakSet()
_shared: dict[tuple[int, tuple[str, ...]], WorkerPool] = {}
_shared_users: dict[tuple[int, tuple[str, ...]], int] = {}
_shared_lock = threading.Lock()


def shared_pool(memory_mb: int = DEFAULT_MEMORY_MB, preload: Sequence[str] = ()) -> WorkerPool:
    """Return the process-wide pool for these settings and count one more user of it.

    Every verifier built with the same settings shares one warm worker. Give the pool back with
    :func:`release_shared_pool`; its worker stops when the last user releases it.
    """
    key = (memory_mb, tuple(preload))
    with _shared_lock:
        if key not in _shared:
            _shared[key] = WorkerPool(memory_mb, preload=preload)
        _shared_users[key] = _shared_users.get(key, 0) + 1
        return _shared[key]


def release_shared_pool(pool: WorkerPool) -> None:
    """Count one user less of a shared pool; stop its worker when none is left."""
    key = (pool.memory_mb, pool.preload)
    with _shared_lock:
        if _shared.get(key) is not pool or _shared_users.get(key, 0) <= 0:
            return
        _shared_users[key] -= 1
        if _shared_users[key] > 0:
            return
    pool.close()


@atexit.register
def _kill_all() -> None:
    # At exit a daemon thread may be frozen mid-call, so kill without waiting for calls to finish.
    for pool in list(_live_pools):
        for worker in pool._slots:
            if worker is not None:
                worker.kill()
