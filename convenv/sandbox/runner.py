"""The trusted test runner that executes inside the sandbox (stdlib only: it runs as ``python3 -I -S -c``).

``runner``: reads the job on stdin, makes itself non-dumpable (a same-uid submission can then neither ptrace it nor
open its /proc files) and starts a fresh child interpreter (fork+exec) that streams one message per test on a
pipe. It keeps the per-test and global deadlines, kills a hung or dead child with every other process of the
submission, restarts a child for the remaining tests only, compares the values itself and writes its report on
its own stdout, which no child inherits. ``child``: rlimits, compile, execute, call the entry point per test and
send each return value through a strict encoder; the expected values never enter it.

Two interpreters start per run, so this avoids ``json``, ``signal``, ``traceback`` and ``typing`` (they import
``re`` or ``enum``): ``_json``'s C scanner and encoder do the wire format. The host imports the value codec.
"""

from __future__ import annotations

import _json
import gc
import math
import os
import select
import sys
import time

TYPE_CHECKING = False  # typing itself costs start-up time in every interpreter of a run
if TYPE_CHECKING:
    from typing import Any

RESULT_BYTES = 8 << 20  # largest message from the child (one encoded return value)
MAX_DEPTH = 100  # nesting of a value
MAX_NODES = 1_000_000  # items of a value (a shared sub-list counts each time it is reached)
CLIP, MSG_CLIP = 300, 500  # longest repr, longest error message in a report
REL_TOL, ABS_TOL = 1e-6, 1e-9  # float comparison
SIGKILL, SIGXFSZ = 9, 25  # Linux numbers; the signal module would import enum
_MORE = -1  # a session goes on
# Interpreters start from this module compiled once by the host (marshal, zlib, base64 in argv[1], ~20 kB; one
# argument may hold 128 kB): compiling the source would cost more than starting the interpreter.
BOOT = "import binascii,marshal,sys,zlib;exec(marshal.loads(zlib.decompress(binascii.a2b_base64(sys.argv[1]))))"
_BIG = 1 << 63
_TAGS = {list: "l", tuple: "t", set: "s", frozenset: "F"}
_MAKERS = {"l": list, "t": tuple, "s": set, "F": frozenset}
_BRACKETS = {list: "[]", tuple: "()", set: "{}", dict: "{}", frozenset: ("frozenset({", "})")}


class Unsupported(Exception):
    """A value that is not plain data (a subclass, an object, too deep or too large)."""


# ---------------------------------------------------------------------------------------------- value codec


def encode(value: object) -> object:
    """The JSON-ready form of a plain value; exact types only, so no subclass can smuggle in its own ``__eq__``.

    Containers become ``[tag, items]``; an int past 63 bits becomes ``["i", hex]`` (JSON readers refuse long
    digit strings) and a non-finite float ``["f", hex]``.

    Raises:
        Unsupported: anything else (the message names the type).
    """
    budget = [MAX_NODES]

    def walk(v: Any, depth: int) -> object:
        t = type(v)
        budget[0] -= 1
        if budget[0] < 0:
            raise Unsupported(f"value too large (over {MAX_NODES} items)")
        if v is None or t is bool or t is str:
            return v
        if t is int:
            return v if -_BIG < v < _BIG else ["i", format(v, "x")]
        if t is float:
            return v if math.isfinite(v) else ["f", float.hex(v)]
        if depth >= MAX_DEPTH:
            raise Unsupported(f"value nested deeper than {MAX_DEPTH} levels")
        if t in _TAGS:
            return [_TAGS[t], [walk(x, depth + 1) for x in v]]
        if t is dict:
            return ["d", [[walk(k, depth + 1), walk(x, depth + 1)] for k, x in v.items()]]
        raise Unsupported(f"unsupported return type {t.__module__}.{t.__qualname__}")

    return walk(value, 0)


def decode(obj: Any, depth: int = 0) -> object:
    """The value of an encoded form; raises ValueError (TypeError for an unhashable set item or key)."""
    t = type(obj)
    if obj is None or t is bool or t is str or (t is int and -_BIG < obj < _BIG) or t is float:
        return obj
    if t is list and len(obj) == 2 and type(obj[0]) is str:
        tag, body = obj
        if tag == "i" and type(body) is str:
            return int(body, 16)
        if tag == "f" and type(body) is str:
            return float.fromhex(body)
        if type(body) is list and depth < MAX_DEPTH:
            if tag in _MAKERS:
                return _MAKERS[tag](decode(x, depth + 1) for x in body)
            if tag == "d" and all(type(p) is list and len(p) == 2 for p in body):
                return {decode(k, depth + 1): decode(v, depth + 1) for k, v in body}
    raise ValueError("malformed value")


def same(got: Any, expected: Any) -> bool:
    """Whether ``got`` matches ``expected``: exact container types, float tolerance, bool is not int."""
    tg, te = type(got), type(expected)
    if tg is float or te is float:
        if tg not in (int, float) or te not in (int, float):
            return False
        try:
            a, b = float(got), float(expected)
        except OverflowError:
            return False
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return math.isclose(a, b, rel_tol=REL_TOL, abs_tol=ABS_TOL)
    if tg in (set, frozenset) and te in (set, frozenset):
        return got == expected
    if tg is not te:
        return False
    if tg is list or tg is tuple:
        return len(got) == len(expected) and all(map(same, got, expected))
    if tg is dict:
        return got.keys() == expected.keys() and all(same(got[k], expected[k]) for k in expected)
    return got == expected


def short_repr(value: object, limit: int = CLIP) -> str:
    """``repr(value)`` of plain data, cut at ``limit`` characters without rendering what is cut."""
    out, room = [], [limit + 1]

    def put(text: str) -> bool:
        out.append(text)
        room[0] -= len(text)
        return room[0] > 0

    def walk(v: Any) -> bool:
        t = type(v)
        if t in _BRACKETS and v:
            brackets = _BRACKETS[t]
            ok = put(brackets[0])
            for n, item in enumerate(v.items() if t is dict else v):
                if not ok:
                    return False
                ok = (not n or put(", ")) and (
                    walk(item[0]) and put(": ") and walk(item[1]) if t is dict else walk(item)
                )
            return ok and put(("," if t is tuple and len(v) == 1 else "") + brackets[-1])
        if t is int and v.bit_length() > 4000:  # repr would be slow, or refused past 4300 digits
            return put(f"<int of {v.bit_length()} bits>")
        return put(repr(v[: limit + 1] if t is str else v))

    walk(value)
    return clip("".join(out), limit)


def clip(text: str, limit: int = MSG_CLIP) -> str:
    """``text`` cut to ``limit`` characters."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


# ---------------------------------------------------------------------------------------------- wire format


class _Context:  # what _json.make_scanner reads; NaN and Infinity are refused
    strict, object_hook, object_pairs_hook, parse_float, parse_int = True, None, None, float, int

    @staticmethod
    def parse_constant(name: str) -> None:
        raise ValueError(name)


_scan = _json.make_scanner(_Context())
_escape = _json.encode_basestring_ascii


def loads(text: str | bytes) -> Any:
    """Parse one JSON document (no NaN or Infinity); raises ValueError, StopIteration or RecursionError."""
    if type(text) is bytes:
        text = text.decode("utf-8")
    value, end = _scan(text, 0)
    if end != len(text):
        raise ValueError("trailing data")
    return value


def _refuse(value: object) -> None:
    raise TypeError(f"cannot serialize {type(value).__name__}")


# markers=None: no cycle check (encoded values are trees); allow_nan=False: non-finite floats travel as ["f", hex]
_encoder = _json.make_encoder(None, _refuse, _escape, None, ":", ",", False, False, False)


def dumps(value: Any) -> str:
    """JSON text of None, bool, int, finite float, str, list and dict with str keys (the wire format)."""
    return "".join(_encoder(value, 0))


def _read_all(fd: int) -> bytes:
    chunks = []
    while chunk := os.read(fd, 1 << 20):
        chunks.append(chunk)
    return b"".join(chunks)


def _write_all(fd: int, data: bytes) -> None:
    while data:
        data = data[os.write(fd, data) :]


# ---------------------------------------------------------------------------------------------- child side


def _limit(name: str, soft: int, hard: int | None = None) -> None:
    import resource

    which, hard = getattr(resource, name), soft if hard is None else hard
    old = resource.getrlimit(which)[1]
    resource.setrlimit(which, (soft, hard) if old == resource.RLIM_INFINITY else (min(soft, old), min(hard, old)))


def _failure(exc: BaseException, lines: list[str]) -> tuple[str, list[str]]:
    """(traceback of the submission's frames, [type name, message]); never raises, even out of memory."""
    try:
        described = [clip(str(type(exc).__name__), 100), clip(str(exc))]
    except BaseException:  # a hostile __str__: the type name is enough
        described = ["Exception", "<the exception could not be printed>"]
    try:
        entries, tb = [], exc.__traceback__.tb_next if exc.__traceback__ else None  # skip the harness's frame
        while tb is not None:
            code, line = tb.tb_frame.f_code, tb.tb_lineno
            entries.append(f'  File "{code.co_filename}", line {line}, in {code.co_name}\n')
            if code.co_filename == "<submission>" and 0 < line <= len(lines):
                entries.append(f"    {lines[line - 1].strip()}\n")
            tb = tb.tb_next
        head = "Traceback (most recent call last):\n"
        return head + "".join(entries[-20:]) + f"{described[0]}: {described[1]}\n", described
    except BaseException:
        return "", described


def child_main() -> None:
    """Entry of the child: limits, compile, execute, then one message per test on fd 3."""
    import _signal
    import builtins

    limits = loads(sys.argv[3])
    _limit("RLIMIT_CORE", 0)
    _limit("RLIMIT_AS", limits["memory_mb"] << 20)
    _limit("RLIMIT_CPU", limits["cpu_s"], limits["cpu_s"] + 1)  # SIGXCPU first, SIGKILL a second later
    _limit("RLIMIT_FSIZE", limits["file_mb"] << 20)
    _limit("RLIMIT_NOFILE", limits["nofile"])
    _limit("RLIMIT_NPROC", limits["nproc"])
    _signal.signal(SIGXFSZ, _signal.SIG_IGN)  # too large a file: an OSError, not a dead process
    job = loads(_read_all(0))  # under the memory cap already
    err = sys.stderr  # what the submission does to sys.stderr later is its own business

    def send(*message: Any) -> None:
        _write_all(3, (dumps(list(message)) + "\n").encode())

    code = job["code"]
    lines = code.splitlines()
    try:
        compiled = compile(code, "<submission>", "exec", dont_inherit=True)
    except BaseException as exc:  # SyntaxError, ValueError (NUL bytes), RecursionError, MemoryError
        line, text = getattr(exc, "lineno", None), getattr(exc, "text", None)
        where = f" (line {line})" if type(line) is int else ""
        message = clip(f"{getattr(exc, 'msg', exc)}{where}")
        shown = f"    {text.strip()}\n" if type(text) is str else ""
        err.write(f'  File "<submission>", line {line}\n{shown}{type(exc).__name__}: {getattr(exc, "msg", exc)}\n')
        send("syntax", type(exc).__name__, message)
        return

    def fail(kind: str, failure: tuple[str, list[str]], *index: int) -> None:
        try:
            err.write(failure[0])
        except BaseException:  # the submission broke its stderr: the message still goes out
            pass
        send(kind, *index, *failure[1])

    namespace = {"__name__": "submission", "__builtins__": builtins}
    failure = None
    try:
        exec(compiled, namespace)
    except BaseException as exc:  # SystemExit and KeyboardInterrupt included: the submission stays contained
        failure = _failure(exc, lines)
    if failure is not None:  # reported out of the except block: the frames, and their memory, are freed
        fail("load", failure)
        return
    if job["entry"] not in namespace:
        send("load", "NameError", f"name {job['entry']!r} is not defined")
        return
    function = namespace[job["entry"]]
    send("ready")
    for index, raw in enumerate(job["args"], job["start"]):
        value = failure = data = None
        try:
            value = function(*decode(raw))
        except BaseException as exc:
            failure = _failure(exc, lines)
        if failure is not None:
            fail("exc", failure, index)
            continue
        try:
            gc.disable()  # encoding makes many lists: collections would make it quadratic
            data = dumps(["ret", index, encode(value)])
            if len(data) >= RESULT_BYTES:
                raise Unsupported(f"return value too large (over {RESULT_BYTES} bytes encoded)")
        except BaseException as exc:  # Unsupported, RecursionError, MemoryError
            failure = _failure(exc, lines)
        finally:
            gc.enable()
        value = None
        if failure is not None:
            send("bad", index, failure[1][1])
            continue
        _write_all(3, (data + "\n").encode())


# ---------------------------------------------------------------------------------------------- runner side


def _high_fd(fd: int) -> int:
    """Move ``fd`` to 10 or above (close-on-exec), so a dup2 onto 0..3 at spawn never meets itself."""
    import fcntl

    new = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)
    os.close(fd)
    return new


def _prctl(*args: int) -> int:
    import ctypes

    return ctypes.CDLL(None, use_errno=True).prctl(*args, 0, 0, 0)


def _peek_exit(pid: int) -> Any:
    """The child's exit status or None, read without reaping it (so its pid cannot be reused before we kill it)."""
    try:
        return os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
    except ChildProcessError:
        return None


def _exit_reason(pid: int) -> str:
    info = _peek_exit(pid)
    if info is None:
        return "the test process closed its result channel"
    if info.si_code == os.CLD_EXITED:
        return f"the test process exited with code {info.si_status}"
    import signal  # only now: it imports enum

    names = {s.value: s.name for s in signal.Signals}
    return f"the test process was killed by {names.get(info.si_status, info.si_status)}"


def _kill_children() -> list[int]:
    """SIGKILL our live children (orphans reparent to us, the subreaper); their pids."""
    me, found = str(os.getpid()).encode(), []
    for entry in os.listdir("/proc"):
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                state, ppid = f.read().rsplit(b")", 1)[1].split()[:2]
            if ppid == me and state != b"Z":
                os.kill(int(entry), SIGKILL)
                found.append(int(entry))
        except (OSError, ValueError):
            continue
    return found


class Run:
    """One run of every test: children, deadlines and the results."""

    def __init__(self, job: dict):
        self.job, self.limits = job, job["limits"]
        self.expected = [decode(e) for e in job["expected"]]
        self.kill_all = job["kill_all"]  # alone in a PID namespace (or a private uid): kill(-1) hits only us
        self.subreaper = job["subreaper"]  # no PID namespace: collect orphans to kill them
        self.total = len(job["args"])
        self.results: list[dict | None] = [None] * self.total
        self.deadline = time.monotonic() + float(self.limits["wall_s"])
        self.status, self.message = "ok", None
        child_limits = {k: self.limits[k] for k in ("memory_mb", "cpu_s", "file_mb", "nofile", "nproc")}
        self.argv = [job["python"], "-I", "-S", "-u", "-c", BOOT, sys.argv[1], "child", dumps(child_limits)]
        if self.subreaper:
            _prctl(36, 1)  # PR_SET_CHILD_SUBREAPER: orphans come back to the runner

    def run(self, session: Session) -> dict:
        """Run every test, from the session already started at test 0; return the report."""
        while True:
            try:
                start = session.watch()
            finally:
                session.close()
            while start is not None and start < self.total and self.results[start] is not None:
                start += 1  # answered by a forked copy of the child
            if start is None or start >= self.total:
                break
            session = Session(self, start, feed=True)
        results = [r or self.case("timeout", msg="not run") for r in self.results]
        return {"status": self.status, "results": results, "message": self.message}

    @staticmethod
    def case(status: str, got: str | None = None, etype: str | None = None, msg: str | None = None) -> dict:
        """One test's outcome, as reported."""
        return {"status": status, "got": got, "type": etype, "msg": msg}

    def fill(self, start: int, status: str, etype: str | None, msg: str) -> None:
        """Give every test from ``start`` without an outcome this one."""
        for i in range(start, self.total):
            if self.results[i] is None:
                self.results[i] = self.case(status, etype=etype, msg=msg)

    def spawn(self, start: int) -> tuple[int, int, int, bytes]:
        """Start a child (fork+exec: no memory shared with us) for the tests from ``start``."""
        job_r, job_w = (_high_fd(fd) for fd in os.pipe())
        res_r, res_w = (_high_fd(fd) for fd in os.pipe())
        job = self.job
        payload = dumps({"code": job["code"], "entry": job["entry"], "args": job["args"][start:], "start": start})
        actions = [
            (os.POSIX_SPAWN_DUP2, job_r, 0),
            (os.POSIX_SPAWN_DUP2, 2, 1),  # the child's prints go to the captured output, never to our report
            (os.POSIX_SPAWN_DUP2, res_w, 3),
        ]
        try:
            pid = os.posix_spawn(self.argv[0], self.argv, dict(os.environ), file_actions=actions, setpgroup=0)
        finally:
            os.close(job_r)
            os.close(res_w)
        os.set_blocking(job_w, False)
        os.set_blocking(res_r, False)
        return pid, job_w, res_r, payload.encode()

    def kill(self, pid: int) -> None:
        """Kill the child and every other process of the submission, and reap them all."""
        try:
            os.kill(pid, SIGKILL)
        except ProcessLookupError:
            pass
        if self.kill_all:
            try:  # a SIGKILLed process cannot finish a fork, so one sweep gets every process
                os.kill(-1, SIGKILL)  # all we may signal but ourselves: the namespace, or the private uid
            except ProcessLookupError:
                pass
            try:
                while True:  # every child of ours is the submission's: wait for all, orphans included
                    os.waitpid(-1, 0)
            except ChildProcessError:
                return
        found = [pid]
        for _ in range(100):  # wait for the child, then one generation of orphans (reparented to us) per round
            for child in found:
                try:
                    os.waitpid(child, 0)
                except ChildProcessError:
                    pass
            found = _kill_children()
            if not found:
                break
        try:
            while os.waitpid(-1, os.WNOHANG)[0]:
                pass
        except ChildProcessError:
            pass

    def record(self, message: list, start: int) -> bool:
        """Store a test's outcome (the first one sent for that test wins); whether it was new."""
        kind, index, rest = message[0], (message + [None])[1], message[2:]
        if type(index) is not int or not start <= index < self.total or self.results[index] is not None:
            return False
        texts = all(type(x) is str for x in rest)
        if kind == "exc" and len(rest) == 2 and texts:
            self.results[index] = self.case("exception", etype=clip(rest[0], 100), msg=clip(rest[1]))
        elif kind == "bad" and len(rest) == 1 and texts:
            self.results[index] = self.case("bad_return", msg=clip(rest[0]))
        elif kind == "ret" and len(rest) == 1:
            try:
                value = decode(rest[0])
            except (ValueError, TypeError, RecursionError, OverflowError):
                self.results[index] = self.case("bad_return", msg="the return value could not be decoded")
                return True
            status = "pass" if same(value, self.expected[index]) else "wrong_output"
            self.results[index] = self.case(status, got=short_repr(value))
        else:
            return False
        return True


class Session:
    """One child running the tests from ``start`` on, watched against the per-test and global deadlines."""

    def __init__(self, run: Run, start: int, feed: bool):
        self.run, self.start, self.current = run, start, start
        self.per_test = float(run.limits["per_test_s"])
        self.slice_end = time.monotonic() + self.per_test
        self.loaded = self.exited = self.skipping = False
        self.buffer = b""
        self.pid, self.job_w, self.res_r, self.pending = run.spawn(start)
        self.pidfd = os.pidfd_open(self.pid) if hasattr(os, "pidfd_open") else None  # readable once it exits
        self.poller = select.poll()
        self.poller.register(self.res_r, select.POLLIN)
        if self.pidfd is not None:
            self.poller.register(self.pidfd, select.POLLIN)
        if feed:
            self.feed()

    def feed(self) -> None:
        """Let the child read its job (held back until the runner is hardened)."""
        self.poller.register(self.job_w, select.POLLOUT)

    def watch(self) -> int | None:
        """Follow the child until the run is over (None) or a test needs a fresh child (its successor's index)."""
        while True:
            outcome = self._clocks()
            if outcome != _MORE:
                return outcome
            wait_ms = int((min(self.slice_end, self.run.deadline) - time.monotonic()) * 1000) + 1
            events = [fd for fd, _ in self.poller.poll(wait_ms if self.pidfd is not None else min(20, wait_ms))]
            if self.job_w in events:
                self._write()
            self.exited = self.exited or (
                self.pidfd in events if self.pidfd is not None else bool(_peek_exit(self.pid))
            )
            for message in self._messages():
                outcome = self._handle(message)
                if outcome != _MORE:
                    return outcome
            if self.exited:
                reason = _exit_reason(self.pid)
                if not self.loaded:
                    self.run.fill(self.start, "crash", None, reason + " before running the tests")
                    return None
                self.run.results[self.current] = Run.case("crash", msg=reason + " during the call")
                return self._next()

    def _next(self) -> int | None:
        return self.current + 1 if self.current + 1 < self.run.total else None

    def _clocks(self) -> int | None:
        now, run = time.monotonic(), self.run
        if now >= run.deadline:
            run.status = "timeout"
            run.fill(self.start, "timeout", None, f"the run passed its {run.limits['wall_s']} s limit")
            return None
        if now < self.slice_end:
            return _MORE
        if not self.loaded:
            run.fill(self.start, "timeout", None, f"the submission's top-level code ran past {self.per_test} s")
            return None
        run.results[self.current] = Run.case("timeout", msg=f"the call ran past {self.per_test} s")
        return self._next()

    def _write(self) -> None:
        """Write the next piece of the child's job (non-blocking: the child may never read it)."""
        try:
            self.pending = self.pending[os.write(self.job_w, self.pending[: 1 << 16]) :]
        except OSError:  # the child is gone or closed stdin: its exit tells the rest
            self.pending = b""
        if not self.pending:
            self.poller.unregister(self.job_w)
            os.close(self.job_w)
            self.job_w = -1

    def _messages(self) -> list[list]:
        """The complete, well-formed messages read so far; garbage lines are dropped."""
        data = b""
        for _ in range(2 * RESULT_BYTES >> 20 if self.exited else 1):  # gone: all it wrote is in the pipe now
            chunk = _drain(self.res_r)
            if chunk is None:  # every writer closed the pipe: nothing more will come
                self.exited = True
                break
            if not chunk:
                break
            data += chunk
        lines = (self.buffer + data).split(b"\n")
        self.buffer = lines.pop()
        if self.skipping and lines:  # the end of an overlong line
            lines[0], self.skipping = b"", False
        if len(self.buffer) > RESULT_BYTES:  # a line without end: drop it, and its rest when it comes
            self.buffer, self.skipping = b"", True
        return [m for m in map(_parse, lines) if m is not None]

    def _handle(self, message: list) -> int | None:
        run, kind = self.run, message[0]
        if not self.loaded:
            if kind == "ready":
                self.loaded, self.slice_end = True, time.monotonic() + self.per_test
                return None if self.start >= run.total else _MORE
            elif kind in ("syntax", "load"):
                etype, msg = (message + [None, None])[1:3]
                etype, msg = clip(str(etype), 100), clip(str(msg))
                if kind == "syntax":
                    run.status, run.message = "syntax_error", msg
                run.fill(self.start, "exception", etype, msg)
                return None
            return _MORE
        if run.record(message, self.start):
            moved = self.current
            while self.current < run.total and run.results[self.current] is not None:
                self.current += 1
            if self.current >= run.total:
                return None
            if self.current != moved:
                self.slice_end = time.monotonic() + self.per_test
        return _MORE

    def close(self) -> None:
        """Kill the child and the rest of the submission's processes; close our ends."""
        self.run.kill(self.pid)
        for fd in (self.job_w, self.res_r, self.pidfd):
            if fd is not None and fd >= 0:
                os.close(fd)


def _drain(fd: int) -> bytes | None:
    """Up to 1 MiB of what can be read now (b"" if nothing; a flood waits for the next turn), None at the end."""
    try:
        return os.read(fd, 1 << 20) or None
    except BlockingIOError:
        return b""


def _parse(line: bytes) -> list | None:
    if not line.startswith(b'["'):  # cheap refusal of most garbage
        return None
    try:
        message = loads(line)
    except Exception:  # ValueError, UnicodeDecodeError, StopIteration, RecursionError, JSONDecodeError
        return None
    return message if type(message) is list and message and type(message[0]) is str else None


def runner_main() -> None:
    """Entry of the runner: job on stdin, report on stdout."""
    import _signal

    _signal.signal(_signal.SIGINT, _signal.SIG_IGN)  # as the namespace's init, only handled signals arrive
    gc.disable()  # we make no cycles; decoding big values would trigger needless collections
    job = loads(_read_all(0))
    fd = os.open(os.devnull, os.O_RDONLY)
    os.dup2(fd, 0)  # keep 0 taken: a later pipe must not land there
    os.close(fd)
    run = Run(job)
    first = Session(run, 0, feed=False)  # its interpreter boots while we harden; it gets its job only after
    try:
        if _prctl(4, 0) != 0 or _prctl(3) != 0:  # PR_SET_DUMPABLE 0, then PR_GET_DUMPABLE
            raise OSError("prctl(PR_SET_DUMPABLE, 0) failed")
    except (OSError, ImportError, AttributeError) as exc:  # fail closed: a dumpable runner can be hijacked
        first.close()
        report: dict = {"status": "crash", "results": [], "message": f"the runner cannot protect itself: {exc}"}
    else:
        first.feed()
        report = run.run(first)
    _write_all(1, dumps(report).encode())


if __name__ == "__main__":  # started by BOOT: argv = ["-c", compiled runner, role, ...]
    if sys.argv[2:3] == ["child"]:
        child_main()
    else:
        runner_main()
