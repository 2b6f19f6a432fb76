"""Run untrusted Python functions against tests inside bubblewrap.

The host never compiles or executes the submission. It starts ``bwrap`` (after dropping root to a private uid
with ``setpriv``, since root ignores ``RLIMIT_NPROC``) around the trusted runner (:mod:`convenv.sandbox.runner`,
run by the system Python as ``python3 -I -S -c``), writes the job on the runner's stdin and reads the runner's
report from its stdout; the submission's output reaches us on stderr, read with a byte cap. The sandbox has no
network, its own PID/IPC/UTS/user namespaces (no further user namespaces), no /proc, a read-only view of /usr and
the loader's files, and a size-capped private /tmp as the only writable place. Past the wall-clock deadline the
bwrap process group is killed; the PID namespace dies with it, double-forked and ``setsid`` escapees included.
"""

from __future__ import annotations

import functools
import json
import keyword
import os
import secrets
import selectors
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import warnings
from collections.abc import Sequence
from pathlib import Path

from convenv.sandbox import runner
from convenv.sandbox.types import (
    CASE_STATUSES,
    RUN_STATUSES,
    CaseResult,
    Limits,
    SandboxUnavailable,
    TestCase,
    TestReport,
)

MAX_CODE_BYTES = 100_000
"""Longer submissions are refused without being launched."""
HOST_GRACE_S = 1.5
"""Seconds past ``Limits.wall_s`` before the host kills the tree (the runner stops itself at ``wall_s``)."""
INSTALL_HINT = (
    "do `apt-get install bubblewrap` (it needs unprivileged user namespaces, and `setpriv` from util-linux when "
    "running as root), or pass unsafe_no_isolation=True to run untrusted code without isolation (rlimits and a "
    "wall-clock kill only)"
)
_PRIVATE_UIDS = (1_500_000_000, 1 << 24)  # root drops to a fresh uid from this range for every run
_HOST_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
_probed: dict[tuple[str, str], str | None] = {}  # (bwrap, python) -> None if it works, else why not
_probe_lock = threading.Lock()
_warned_unsafe = False


@functools.lru_cache(maxsize=8)
def runner_argv(python: str) -> tuple[str, ...]:
    """The command that starts the trusted runner: ``python`` compiles it once, then boots from the bytecode.

    Raises:
        SandboxUnavailable: ``python`` cannot compile it.
    """
    compile_it = (
        "import binascii,marshal,sys,zlib;sys.stdout.write(binascii.b2a_base64(zlib.compress(marshal.dumps("
        "compile(sys.stdin.read(),'<convenv-runner>','exec')),9),newline=False).decode())"
    )
    source = Path(runner.__file__).read_text(encoding="utf-8")
    try:
        done = subprocess.run(
            [python, "-I", "-S", "-c", compile_it], input=source, capture_output=True, text=True, timeout=60
        )
    except (OSError, subprocess.SubprocessError) as exc:
        raise SandboxUnavailable(f"expected {python} to compile the sandbox's runner, got {exc}") from exc
    if done.returncode != 0 or not done.stdout:
        raise SandboxUnavailable(
            f"expected {python} (3.8 or newer) to compile the sandbox's runner, got exit code {done.returncode}: "
            f"{done.stderr.strip()[-300:]}; pass python='/path/to/python3'"
        )
    return (python, "-I", "-S", "-c", runner.BOOT, done.stdout, "runner")


@functools.lru_cache(maxsize=8)
def _features(bwrap: str) -> frozenset[str]:
    """Options of this bwrap build that older ones lack (``--disable-userns`` is 0.8+, ``--size`` 0.7+)."""
    try:
        text = subprocess.run([bwrap, "--help"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return frozenset()
    return frozenset(opt for opt in ("--disable-userns", "--size") if opt in text)


def _root_layout() -> list[str]:
    """Binds for /bin, /lib*, /sbin: the host's symlinks into /usr become sandbox symlinks, real dirs ro-binds."""
    args: list[str] = []
    for name in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        path = f"/{name}"
        if os.path.islink(path):
            args += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            args += ["--ro-bind", path, path]
    return args


def bwrap_command(
    limits: Limits,
    *,
    bwrap: str,
    python: str,
    uid: int | None,
    features: frozenset[str] = frozenset(),
    inner: Sequence[str] | None = None,
) -> list[str]:
    """The full command line that starts the runner in a sandbox (``uid``: drop root to it first).

    Args:
        limits: the run's limits (the size of /tmp derives from ``file_mb``).
        bwrap: path of the bwrap executable.
        python: the interpreter inside the sandbox (readable by an unprivileged uid).
        uid: when not None, ``setpriv`` switches to this uid and gid before bwrap starts.
        features: bwrap options this build supports (``--disable-userns``, ``--size``).
        inner: the command to run inside (default: the runner, see :func:`runner_argv`).
    """
    command = []
    if uid is not None:
        command += ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--no-new-privs", "--"]
    command += [bwrap, "--unshare-all", "--unshare-user"]
    if "--disable-userns" in features:
        command.append("--disable-userns")  # no nested user namespace: no way back to mounting a /proc
    # --as-pid-1: the runner is the namespace's init, so signals from inside (kill -9 of the parent, kill(-1))
    # cannot reach it, and bwrap reaps it itself; when it exits, the kernel kills everything left inside.
    command += ["--as-pid-1", "--die-with-parent", "--new-session", "--hostname", "sandbox"]
    command += ["--ro-bind", "/usr", "/usr"]
    command += _root_layout()
    real = os.path.realpath(python)
    if not real.startswith("/usr/"):  # an interpreter outside /usr: its prefix, read-only
        prefix = os.path.dirname(os.path.dirname(real))
        command += ["--ro-bind", prefix, prefix]
    command += ["--ro-bind-try", "/etc/ld.so.cache", "/etc/ld.so.cache"]
    for device in ("null", "zero", "urandom"):
        command += ["--dev-bind", f"/dev/{device}", f"/dev/{device}"]
    if "--size" in features:
        command += ["--size", str(4 * limits.file_mb << 20)]
    command += ["--tmpfs", "/tmp", "--remount-ro", "/", "--chdir", "/tmp", "--clearenv"]
    for name, value in (("PATH", "/usr/bin:/bin"), ("HOME", "/tmp"), ("TMPDIR", "/tmp"), ("LANG", "C.UTF-8")):
        command += ["--setenv", name, value]
    return command + ["--", *(runner_argv(python) if inner is None else inner)]


def _private_uid() -> int | None:
    """A fresh uid to drop root to (None when not root: the user's own uid is used)."""
    return _PRIVATE_UIDS[0] + secrets.randbelow(_PRIVATE_UIDS[1]) if os.geteuid() == 0 else None


def _probe(bwrap: str | None, python: str) -> str | None:
    """None if bwrap can start ``python`` in a sandbox here, else why not (cached)."""
    if bwrap is None:
        return "no `bwrap` executable on PATH"
    key = (bwrap, python)
    with _probe_lock:
        if key not in _probed:
            _probed[key] = _try_sandbox(bwrap, python)
        return _probed[key]


def _try_sandbox(bwrap: str, python: str) -> str | None:
    uid = _private_uid()
    if uid is not None and shutil.which("setpriv", path=_HOST_PATH) is None:
        return "no `setpriv` (util-linux) to drop root before starting bwrap"
    inner = [python, "-I", "-S", "-c", "pass"]
    command = bwrap_command(Limits(), bwrap=bwrap, python=python, uid=uid, features=_features(bwrap), inner=inner)
    try:
        done = subprocess.run(command, capture_output=True, timeout=30, cwd="/", env={"PATH": _HOST_PATH})
    except (OSError, subprocess.SubprocessError) as exc:
        return f"bwrap could not run: {exc}"
    if done.returncode != 0:
        return (
            f"bwrap failed with exit code {done.returncode}: {done.stderr.decode(errors='replace').strip()[:300]}"
        )
    return None


class Sandbox:
    r"""Runs a submission's function against tests, isolated with bubblewrap.

    Each :meth:`run_tests` starts a fresh sandbox: no network, own PID namespace, a private uid when root,
    rlimits on CPU, memory, file size, open files and processes, a wall-clock kill of the whole process tree,
    capped output. Return values are compared by the trusted runner: floats with a relative tolerance of 1e-6
    (absolute 1e-9), a tuple never equals a list, a bool never equals an int, a subclass of a plain type is
    refused (``bad_return``). Thread-safe.

    Args:
        limits: resource limits of each run.
        python: the interpreter inside the sandbox; it must be readable by an unprivileged uid (the system
            Python, not a per-user install).
        unsafe_no_isolation: run without namespaces (still the runner/child split, rlimits, the root drop and the
            process-group kill, but the code sees the host's files and network). Warns once per process.
        bwrap: the bwrap executable (default: found on PATH).

    Raises:
        SandboxUnavailable: no working bubblewrap (or setpriv when root) and not ``unsafe_no_isolation``.

    Example:
        >>> from convenv.sandbox import Sandbox, TestCase
        >>> report = Sandbox().run_tests("def add(a, b):\n    return a + b\n", "add", [TestCase((1, 2), 3)])
        >>> report.status, report.passed
        ('ok', 1)
    """

    def __init__(
        self,
        limits: Limits = Limits(),  # noqa: B008 - frozen dataclass
        *,
        python: str = "/usr/bin/python3",
        unsafe_no_isolation: bool = False,
        bwrap: str | None = None,
    ):
        if not isinstance(limits, Limits):
            raise TypeError(f"expected limits to be a convenv.sandbox.Limits, got {type(limits).__name__}")
        self.limits = limits
        self.python = python
        self.unsafe = bool(unsafe_no_isolation)
        if not (os.path.isabs(python) and os.access(python, os.X_OK)):
            raise SandboxUnavailable(
                f"expected an interpreter for the sandbox at {python!r}, got no executable there; "
                "do `apt-get install python3` or pass python='/path/to/python3'"
            )
        self.bwrap = shutil.which(bwrap or "bwrap")
        runner_argv(python)  # compiled once per interpreter; raises if it cannot
        if self.unsafe:
            if os.geteuid() == 0 and shutil.which("setpriv", path=_HOST_PATH) is None:
                raise SandboxUnavailable(
                    "expected `setpriv` (util-linux) to drop root, got none; install util-linux"
                )
            _warn_unsafe()
            return
        why = _probe(self.bwrap, python)
        if why is not None:
            raise SandboxUnavailable(
                f"expected a working bubblewrap sandbox for untrusted code, got {why}; {INSTALL_HINT}"
            )
        self._features = _features(self.bwrap)  # type: ignore[arg-type]

    @staticmethod
    def available(bwrap: str | None = None, python: str = "/usr/bin/python3") -> bool:
        """Whether bubblewrap is on PATH (or at ``bwrap``) and can create its namespaces here."""
        path = shutil.which(bwrap or "bwrap")
        return os.access(python, os.X_OK) and _probe(path, python) is None

    def run_tests(self, code: str, entry_point: str, tests: Sequence[TestCase]) -> TestReport:
        """Run ``entry_point`` of ``code`` on every test; the report says what each returned.

        Args:
            code: the submission's Python source (untrusted; compiled only inside the sandbox).
            entry_point: the name of the function to call.
            tests: the test cases, whose arguments and expected values are plain data.

        Raises:
            TypeError: ``code`` is not a str.
            ValueError: ``entry_point`` is not an identifier, or a test holds something other than plain data.
        """
        if not isinstance(code, str):
            raise TypeError(f"expected the submission as a str, got {type(code).__name__}")
        if not (isinstance(entry_point, str) and entry_point.isidentifier() and not keyword.iskeyword(entry_point)):
            raise ValueError(f"expected entry_point to be a Python identifier, got {entry_point!r}")
        tests = list(tests)
        names = [t.name or f"test {i + 1}" for i, t in enumerate(tests)]
        shown = [(runner.short_repr(tuple(t.args)), runner.short_repr(t.expected)) for t in tests]
        encoded_args, encoded_expected = [], []
        for name, test in zip(names, tests, strict=True):
            try:
                encoded_args.append(runner.encode(tuple(test.args)))
                encoded_expected.append(runner.encode(test.expected))
            except runner.Unsupported as exc:
                raise ValueError(
                    f"expected plain data in {name} (int, float, str, bool, None, containers), got {exc}"
                ) from exc
        size = len(code.encode("utf-8", "surrogatepass"))
        if size > MAX_CODE_BYTES:
            msg = f"the submission is {size} bytes, over the {MAX_CODE_BYTES} that are run"
            return _report("refused", names, shown, [{"status": "crash", "msg": msg}] * len(tests), msg, 0.0)
        job = {
            "python": self.python,
            "code": code,
            "entry": entry_point,
            "args": encoded_args,
            "expected": encoded_expected,
            "limits": {
                name: getattr(self.limits, name)
                for name in ("wall_s", "per_test_s", "cpu_s", "memory_mb", "file_mb", "nproc", "nofile")
            },
        }
        return self._launch(job, names, shown)

    def _launch(self, job: dict, names: list[str], shown: list[tuple[str, str]]) -> TestReport:
        uid = _private_uid()
        workdir = None
        if self.unsafe:
            workdir = tempfile.mkdtemp(prefix="convenv-unsafe-")
            if uid is not None:
                os.chown(workdir, uid, uid)
            command = (
                ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--no-new-privs", "--"]
                if uid is not None
                else []
            )
            command += runner_argv(self.python)
            job.update(kill_all=uid is not None, subreaper=True)  # kill(-1) only as a private uid
        else:
            command = bwrap_command(
                self.limits, bwrap=self.bwrap, python=self.python, uid=uid, features=self._features
            )
            job.update(kill_all=True, subreaper=False)  # alone in the PID namespace; its init reaps orphans
        started = time.monotonic()
        try:
            report_cap = (1 << 16) + 2048 * len(names)  # a report line per test, values and messages clipped
            out, tail, timed_out, code = _execute(
                command, json.dumps(job).encode(), self.limits, workdir or "/", not self.unsafe, report_cap
            )
        finally:
            if self.unsafe and uid is not None:
                _sweep_uid(uid)
            if workdir is not None:
                shutil.rmtree(workdir, ignore_errors=True)
        wall = time.monotonic() - started
        return _interpret(out, tail, timed_out, code, names, shown, wall, self.limits)


def _warn_unsafe() -> None:
    global _warned_unsafe
    if not _warned_unsafe:
        _warned_unsafe = True
        warnings.warn(
            "convenv.sandbox runs untrusted code WITHOUT ISOLATION (unsafe_no_isolation=True): it can read your "
            "files and use the network; only rlimits, a private uid when root and a wall-clock kill apply. "
            "Install bubblewrap (`apt-get install bubblewrap`) to isolate it.",
            RuntimeWarning,
            stacklevel=3,
        )


class _Tail:
    """The last ``cap`` bytes of a stream, and how many came before them."""

    def __init__(self, cap: int):
        self.cap, self.total, self.data = cap, 0, bytearray()

    def add(self, chunk: bytes) -> None:
        self.total += len(chunk)
        self.data += chunk
        if len(self.data) > 2 * self.cap:
            del self.data[: -self.cap]

    def text(self) -> str:
        kept = bytes(self.data[-self.cap :])
        cut = self.total - len(kept)
        return (f"[... {cut} earlier bytes cut ...]\n" if cut else "") + kept.decode("utf-8", "replace")


def _execute(
    command: list[str], job: bytes, limits: Limits, cwd: str, isolated: bool, report_cap: int
) -> tuple[bytes | None, str, bool, int]:
    """Start ``command``, feed it ``job``, read its report (capped) and output (tail) until the deadline.

    Returns the report bytes (None if over the cap), the output tail, whether the deadline was hit before the
    report was complete, and the exit code. The process tree is dead when this returns.
    """
    proc = subprocess.Popen(
        command,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=cwd,
        env={"PATH": _HOST_PATH},
        start_new_session=True,  # bwrap leads its own process group: one killpg reaches all of it
    )
    deadline = time.monotonic() + limits.wall_s + HOST_GRACE_S
    out, over = bytearray(), False
    tail = _Tail(limits.output_bytes)
    fds = {proc.stdout.fileno(): "out", proc.stderr.fileno(): "err", proc.stdin.fileno(): "in"}  # type: ignore[union-attr]
    selector = selectors.DefaultSelector()
    for fd, role in fds.items():
        os.set_blocking(fd, False)
        selector.register(fd, selectors.EVENT_WRITE if role == "in" else selectors.EVENT_READ, role)
    pending, reading, timed_out = memoryview(job), {"out", "err"}, False
    try:
        while reading:
            now = time.monotonic()
            if now >= deadline:
                timed_out = "out" in reading
                break
            if "out" not in reading and _peek_exit(proc.pid):  # report done: leftovers get a moment to flush
                deadline = min(deadline, now + 0.2)
            for key, _ in selector.select(min(deadline - now, 0.2)):
                if key.data == "in":
                    try:
                        pending = pending[os.write(key.fd, pending[: 1 << 16]) :]
                    except OSError:  # the runner died: its missing report says so
                        pending = pending[:0]
                    if not pending:
                        selector.unregister(key.fd)
                        proc.stdin.close()  # type: ignore[union-attr]
                    continue
                try:
                    chunk = os.read(key.fd, 1 << 20)
                except BlockingIOError:
                    continue
                if not chunk:
                    selector.unregister(key.fd)
                    reading.discard(key.data)
                elif key.data == "err":
                    tail.add(chunk)
                elif len(out) + len(chunk) <= report_cap:
                    out += chunk
                else:
                    over = True
    finally:
        selector.close()
        _kill_tree(proc, isolated)
    return (None if over else bytes(out)), tail.text(), timed_out, proc.returncode


def _peek_exit(pid: int) -> bool:
    """Whether ``pid`` (our child) has exited, without reaping it: its pid, our killpg target, stays reserved."""
    try:
        return os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
    except ChildProcessError:
        return True


def _identity(pid: int) -> tuple[int, bytes] | None:
    """(pid, start time) of a live process, to wait for its end without being fooled by pid reuse."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
    except OSError:
        return None
    return None if fields[0] in (b"Z", b"X") else (pid, fields[19])


def _kill_tree(proc: subprocess.Popen, isolated: bool) -> None:
    """SIGKILL the bwrap process group and wait until the sandbox's init (so its PID namespace) is gone."""
    inits = []
    if isolated:
        try:
            with open(f"/proc/{proc.pid}/task/{proc.pid}/children") as f:
                inits = [i for i in map(_identity, map(int, f.read().split())) if i is not None]
        except OSError:
            pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    proc.wait()
    for stream in (proc.stdin, proc.stdout, proc.stderr):
        if stream is not None and not stream.closed:
            stream.close()
    end = time.monotonic() + 5.0
    for init in inits:  # the namespace's init exits last, after every process inside it
        while _identity(init[0]) == init and time.monotonic() < end:
            time.sleep(0.002)


def _sweep_uid(uid: int) -> None:
    """Kill every process of a private uid (unsafe mode as root: orphans that escaped the process group)."""
    wanted = f"Uid:\t{uid}\t".encode()
    for _ in range(50):
        found = False
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/status", "rb") as f:
                    if wanted not in f.read():
                        continue
                os.kill(int(entry), signal.SIGKILL)
                found = True
            except OSError:
                continue
        if not found:
            return
        time.sleep(0.005)


def _report(
    status: str, names: list[str], shown: list[tuple[str, str]], cases: list[dict], tail: str, wall: float
) -> TestReport:
    results = tuple(
        CaseResult(name, c["status"], args, expected, c.get("got"), c.get("type"), c.get("msg"))
        for name, (args, expected), c in zip(names, shown, cases, strict=True)
    )
    return TestReport(status, results, tail, round(wall, 4))


def _valid(report: object, total: int) -> bool:
    """Whether the runner's report has the expected shape (a dying runner may leave half of it)."""
    if not (
        isinstance(report, dict)
        and report.get("status") in RUN_STATUSES
        and isinstance(report.get("results"), list)
    ):
        return False
    results = report["results"]
    if len(results) != total and not (report["status"] == "crash" and not results):
        return False
    return all(
        isinstance(c, dict)
        and c.get("status") in CASE_STATUSES
        and all(c.get(k) is None or isinstance(c.get(k), str) for k in ("got", "type", "msg"))
        for c in results
    )


def _interpret(
    out: bytes | None,
    tail: str,
    timed_out: bool,
    code: int,
    names: list[str],
    shown: list[tuple[str, str]],
    wall: float,
    limits: Limits,
) -> TestReport:
    total = len(names)
    try:
        report = json.loads(out) if out else None
    except ValueError:
        report = None
    if _valid(report, total):
        status, cases = report["status"], report["results"]  # type: ignore[index]
        if not cases and total:
            cases = [{"status": "crash", "msg": report.get("message")}] * total  # type: ignore[union-attr]
        return _report(status, names, shown, cases, tail, wall)
    if timed_out:
        msg = f"the run passed its {limits.wall_s} s wall-clock limit and was killed"
        return _report("timeout", names, shown, [{"status": "timeout", "msg": msg}] * total, tail, wall)
    msg = f"the sandbox's runner ended without a valid report (exit code {code})"
    return _report("crash", names, shown, [{"status": "crash", "msg": msg}] * total, tail, wall)
