import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from convenv.error import VerifierError
from convenv.verifiers.worker import (
    RemoteError,
    WorkerCrash,
    WorkerPool,
    WorkerTimeout,
    release_shared_pool,
    shared_pool,
)

posix_only = pytest.mark.skipif(sys.platform == "win32", reason="signals and /proc are POSIX/Linux")


# module-level helpers: the worker imports them by reference


def double(value):
    return 2 * value


def worker_pid():
    return os.getpid()


def spin_forever():
    while True:
        pass


def hog_memory():
    return bytearray(4 * 2**30)  # past the 256 MiB cap below


def segfault():
    os.kill(os.getpid(), signal.SIGSEGV)


def fail(message):
    raise ValueError(message)


def unpicklable_result():
    return lambda: None


def process_gone(pid):
    """Dead or a zombie (an orphan's zombie may wait for a container's init to reap it)."""
    stat = Path(f"/proc/{pid}/stat")
    if stat.exists():
        try:
            return stat.read_text().rsplit(")", 1)[1].split()[0] in ("Z", "X")
        except (OSError, IndexError):
            return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def wait_until_gone(pid, seconds=10.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process_gone(pid):
            return True
        time.sleep(0.05)
    return False


@pytest.fixture(scope="module")
def pool():
    pool = WorkerPool(memory_mb=256)
    yield pool
    pool.close()


def test_call_returns_the_result(pool):
    assert pool.call(double, 21, timeout=10) == 42
    assert pool.call(divmod, 7, 2, timeout=10) == (3, 1)
    assert pool.call(worker_pid, timeout=10) != os.getpid()
    assert pool.last_start_seconds is not None and pool.last_start_seconds < 30


def test_a_python_loop_is_killed_at_the_deadline(pool):
    before = pool.call(worker_pid, timeout=10)
    started = time.perf_counter()
    with pytest.raises(WorkerTimeout, match=r"expected the call to finish within 0.3 s.*worker was killed"):
        pool.call(spin_forever, timeout=0.3)
    assert time.perf_counter() - started < 5.0
    assert process_gone(before)  # killed and reaped: no zombie
    after = pool.call(worker_pid, timeout=10)
    assert after != before
    assert pool.call(double, 2, timeout=10) == 4


def test_c_level_arithmetic_is_killed_at_the_deadline(pool):
    started = time.perf_counter()
    with pytest.raises(WorkerTimeout):
        pool.call(sum, range(10**14), timeout=0.3)  # one C call that holds the GIL for hours
    with pytest.raises(WorkerTimeout):
        pool.call(pow, 9, 10**9, timeout=0.3)
    assert time.perf_counter() - started < 10.0
    assert pool.call(double, 3, timeout=10) == 6


@posix_only
def test_running_out_of_memory_is_a_crash_and_the_pool_recovers(pool):
    with pytest.raises(WorkerCrash, match="ran out of memory"):
        pool.call(hog_memory, timeout=10)
    assert pool.call(double, 4, timeout=10) == 8


@posix_only
def test_a_segfault_is_a_crash_and_the_pool_recovers(pool):
    with pytest.raises(WorkerCrash, match="SIGSEGV"):
        pool.call(segfault, timeout=10)
    assert pool.call(double, 5, timeout=10) == 10


def test_an_exception_is_reported_and_the_worker_stays(pool):
    before = pool.call(worker_pid, timeout=10)
    with pytest.raises(RemoteError, match="ValueError: bad input") as info:
        pool.call(fail, "bad input", timeout=10)
    assert info.value.type_name == "ValueError"
    with pytest.raises(RemoteError, match="could not be pickled"):
        pool.call(unpicklable_result, timeout=10)
    assert pool.call(worker_pid, timeout=10) == before  # still warm


def test_an_unpicklable_call_fails_in_the_caller(pool):
    before = pool.call(worker_pid, timeout=10)
    with pytest.raises((AttributeError, TypeError, Exception)):
        pool.call(lambda: 1, timeout=10)
    assert pool.call(worker_pid, timeout=10) == before


def test_arguments_are_checked():
    with pytest.raises(ValueError, match="expected memory_mb >= 64, got 10"):
        WorkerPool(memory_mb=10)
    with pytest.raises(ValueError, match="expected workers >= 1, got 0"):
        WorkerPool(workers=0)
    with pytest.raises(ValueError, match="expected a positive timeout in seconds, got 0"):
        WorkerPool().call(double, 1, timeout=0)


def test_a_worker_that_cannot_start_raises_verifier_error():
    broken = WorkerPool(memory_mb=256, preload=("convenv_no_such_module",), start_timeout=30)
    with pytest.raises(VerifierError, match="expected a verifier worker to start within 30 s and 256 MiB"):
        broken.call(double, 1, timeout=10)


def test_threads_share_the_pool_safely():
    results = {}
    with WorkerPool(memory_mb=256, workers=2) as shared:

        def work(index):
            results[index] = [shared.call(double, index * 10 + k, timeout=20) for k in range(5)]

        threads = [threading.Thread(target=work, args=(i,)) for i in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(shared.pids()) == 2
    assert results == {i: [2 * (i * 10 + k) for k in range(5)] for i in range(6)}


def test_close_leaves_no_process_and_the_pool_restarts():
    pool = WorkerPool(memory_mb=256)
    pid = pool.call(worker_pid, timeout=10)
    pool.close()
    assert pool.pids() == []
    assert process_gone(pid)
    assert pool.call(double, 1, timeout=10) == 2
    pool.close()


def test_shared_pool_counts_its_users():
    first = shared_pool(256, ())
    second = shared_pool(256, ())
    assert first is second
    pid = first.call(worker_pid, timeout=10)
    release_shared_pool(first)
    assert first.pids() == [pid]
    release_shared_pool(second)
    assert first.pids() == []


_ORPHAN_SCRIPT = """
import os, signal, sys, threading, time
from convenv.verifiers.worker import WorkerPool
pool = WorkerPool(memory_mb=256)
print(pool.call(os.getpid, timeout=30), flush=True)
if sys.argv[1] == "busy":
    threading.Thread(target=pool.call, args=(sum, range(10**14)), kwargs={"timeout": 0.5}, daemon=True).start()
    time.sleep(0.3)
os.kill(os.getpid(), signal.SIGKILL)  # no atexit, no cleanup
"""


@posix_only
@pytest.mark.parametrize("state", ["idle", "busy"])
def test_a_worker_does_not_outlive_a_killed_parent(state):
    result = subprocess.run(
        [sys.executable, "-c", _ORPHAN_SCRIPT, state], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == -signal.SIGKILL, result.stderr
    pid = int(result.stdout.split()[0])
    # idle: the closed channel ends it; busy: the per-call CPU limit (timeout + up to 1 s) ends it
    assert wait_until_gone(pid, seconds=15.0), f"worker {pid} outlived its parent ({state})"


_FORK_SCRIPT = """
import os, sys
from convenv.verifiers.worker import WorkerPool
pool = WorkerPool(memory_mb=256)
mine = pool.call(os.getpid, timeout=30)
child = os.fork()
if child == 0:
    pool.close()  # must not stop the parent's worker
    sys.exit(0 if pool.call(os.getpid, timeout=30) != mine else 1)  # its own worker; atexit runs on exit
_, status = os.waitpid(child, 0)
assert os.waitstatus_to_exitcode(status) == 0, "the forked copy reused the parent's worker"
assert pool.call(os.getpid, timeout=30) == mine, "the forked copy killed the parent's worker"
print("ok")
"""


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_forked_copy_neither_uses_nor_kills_the_parents_worker():
    result = subprocess.run([sys.executable, "-c", _FORK_SCRIPT], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr[-2000:]
