"""Hostile submissions: each is contained within seconds, leaves no process behind, and earns nothing.

Every test runs the hostile code, checks the outcome, checks that no process of the run survives (as root each
run gets its own uid, so "no process of that uid" is exact; a marker in the command line catches escapees that
exec), then verifies a correct solution on the same module-scoped sandbox.
"""

import itertools
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from textwrap import dedent

import pytest

from convenv.sandbox import Limits, Sandbox, TestCase, bwrap

# CI sets CONVENV_REQUIRE_SANDBOX=1: there a missing sandbox fails every test instead of skipping them
pytestmark = pytest.mark.skipif(
    os.environ.get("CONVENV_REQUIRE_SANDBOX") != "1" and not Sandbox.available(),
    reason="bubblewrap is missing or cannot create namespaces here (apt-get install bubblewrap)",
)

LIMITS = Limits(wall_s=4.0, per_test_s=1.0, nproc=16)
MAX_WALL = LIMITS.wall_s + bwrap.HOST_GRACE_S + 1.0
ADD = "def add(a, b):\n    return a + b\n"
ADD_TESTS = [TestCase((1, 2), 3), TestCase((-1, 1), 0)]
ONE = [TestCase((), 1)]
IS_ROOT = os.geteuid() == 0
_uids = itertools.count(1_400_000_000 + (os.getpid() % 1000) * 10_000)  # apart from other xdist workers


@pytest.fixture(scope="module")
def sandbox():
    return Sandbox(LIMITS)


def processes_of(uid):
    found = []
    for entry in os.listdir("/proc"):
        try:
            fields = dict(line.split(":", 1) for line in Path(f"/proc/{entry}/status").read_text().splitlines())
        except (OSError, ValueError):
            continue
        if fields["Uid"].split()[0] == str(uid) and fields["State"].split()[0] not in ("Z", "X"):
            found.append(int(entry))
    return found


def processes_with(marker):
    found = []
    for entry in os.listdir("/proc"):
        try:
            if marker.encode() in Path(f"/proc/{entry}/cmdline").read_bytes():
                found.append(int(entry))
        except OSError:
            continue
    return [pid for pid in found if pid != os.getpid()]


@pytest.fixture
def contained(sandbox, monkeypatch):
    """Run hostile code, assert nothing of it survives, then assert the sandbox still passes a correct solution."""

    def run(code, entry="f", tests=ONE, marker=None):
        uid = next(_uids)
        monkeypatch.setattr(bwrap, "_private_uid", lambda: uid if IS_ROOT else None)
        report = sandbox.run_tests(code, entry, list(tests))
        assert report.wall_s < MAX_WALL, report
        if IS_ROOT:
            assert processes_of(uid) == [], "a process of the run survived"
        if marker is not None:
            assert processes_with(marker) == [], "an escaped process survived"
        healthy = sandbox.run_tests(ADD, "add", ADD_TESTS)
        assert healthy.all_passed, healthy
        return report

    return run


@pytest.mark.skipif(not IS_ROOT, reason="the uid check needs root")
def test_the_survivor_checks_do_see_a_live_process():
    marker = f"marker-{uuid.uuid4().hex}"
    uid = next(_uids)
    sleeper = ["/usr/bin/python3", "-c", "import time; time.sleep(30)", marker]
    proc = subprocess.Popen(["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", *sleeper], cwd="/")
    try:
        deadline = time.monotonic() + 5
        while not (processes_of(uid) and processes_with(marker)) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert processes_of(uid) == [proc.pid] and processes_with(marker) == [proc.pid]
    finally:
        proc.kill()
        proc.wait()


def test_infinite_loop(contained):
    report = contained("def f():\n    while True:\n        pass\n", tests=ONE * 2)
    assert [r.status for r in report.results] == ["timeout", "timeout"]


def test_fork_bomb_is_capped_by_nproc(contained):
    report = contained("import os\ndef f():\n    while True:\n        os.fork()\n", tests=ONE * 2)
    assert report.passed == 0 and report.status in ("ok", "timeout")
    counting = dedent("""\
        import os, time

        def f():
            n = 0
            try:
                for _ in range(1000):
                    if os.fork() == 0:
                        time.sleep(60)
                        os._exit(0)
                    n += 1
            except OSError:
                pass
            return n
    """)
    report = contained(counting, tests=[TestCase((), 0)])
    assert report.results[0].status == "wrong_output"
    assert 0 < int(report.results[0].got) < LIMITS.nproc  # the limit holds although the host runs as root


def test_memory_bomb(contained):
    code = dedent("""\
        def f(kind):
            if kind:
                return len(bytearray(10**10))
            x = []
            while True:
                x.append(' ' * 10**6)
    """)
    report = contained(code, tests=[TestCase((1,), 1), TestCase((0,), 1)])
    assert [r.error_type for r in report.results] == ["MemoryError", "MemoryError"]


@pytest.mark.parametrize(
    "write",
    [
        "sys.stdout.write(CHUNK)",
        "sys.stderr.write(CHUNK)",
        "os.write(1, b'y' * 65536)",
        "os.write(2, b'y' * 65536)",
    ],
)
def test_gigabytes_of_output(contained, write):
    report = contained(f"import os, sys\nCHUNK = 'x' * 65536\ndef f():\n    while True:\n        {write}\n")
    assert report.results[0].status == "timeout"
    assert len(report.stderr_tail) <= LIMITS.output_bytes + 100 and "earlier bytes cut" in report.stderr_tail


def test_writes_outside_the_sandbox_do_not_land(contained, tmp_path):
    repo_file = Path(__file__).resolve().parents[2] / f"sandbox-escape-{uuid.uuid4().hex}.txt"
    targets = [str(tmp_path / "escaped.txt"), str(repo_file), "/root/escaped.txt", "/etc/escaped", "/usr/escaped"]
    code = dedent("""\
        def f(paths):
            done = []
            for p in paths:
                try:
                    with open(p, 'w') as fh:
                        fh.write('pwned')
                    done.append(p)
                except OSError:
                    pass
            return done
    """)
    report = contained(code, tests=[TestCase((targets,), [])])
    assert report.results[0].status == "pass", report.results[0]
    assert not any(Path(p).exists() for p in targets[:3])
    big = contained("def f():\n    open('/tmp/big', 'wb').write(b'x' * (40 << 20))\n    return 1\n")
    assert big.results[0].status == "exception"  # the file size cap (and the size of /tmp)


def test_host_files_are_unreadable(contained, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-VALUE")
    code = dedent("""\
        def f(paths):
            seen = []
            for p in paths:
                try:
                    seen.append(open(p).read())
                except OSError:
                    pass
            return seen
    """)
    paths = [str(secret), "/etc/shadow", "/etc/passwd", "/root/.bashrc", str(Path(__file__).resolve())]
    report = contained(code, tests=[TestCase((paths,), [])])
    assert report.results[0].status == "pass", report.results[0]


def test_loopback_connect_reaches_nothing(contained):
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(5)
    server.settimeout(0.1)
    port = server.getsockname()[1]
    accepted, done = [], threading.Event()

    def accept():
        while not done.is_set():
            try:
                accepted.append(server.accept())
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    code = "import socket\ndef f(port):\n    socket.create_connection(('127.0.0.1', port), timeout=0.5)\n"
    try:
        report = contained(code, tests=[TestCase((port,), 1)])
        assert report.results[0].error_type in ("ConnectionRefusedError", "TimeoutError", "OSError")
        with socket.create_connection(("127.0.0.1", port), timeout=2):  # the server does accept connections
            pass
        time.sleep(0.3)
        assert len(accepted) == 1  # only ours
    finally:
        done.set()
        thread.join()
        server.close()


@pytest.mark.parametrize("kill", ["os.getppid(), 9", "os.getppid(), 19", "os.getppid(), 2", "-1, 9", "1, 9"])
def test_signals_cannot_take_the_runner_down(contained, kill):
    # The runner is the PID namespace's init: signals from inside without a handler are dropped, SIGINT is ignored.
    report = contained(f"import os\ndef f():\n    os.kill({kill})\n    return 0\n", tests=ONE * 2)
    assert report.status == "ok" and report.passed == 0
    # kill(-1) spares the caller and init: nothing else is there to signal, so it raises ProcessLookupError
    expected = "exception" if kill.startswith("-1") else "wrong_output"
    assert [r.status for r in report.results] == [expected, expected]


def test_the_runner_cannot_be_ptraced(contained):
    code = dedent("""\
        import ctypes, os

        def f():
            libc = ctypes.CDLL(None, use_errno=True)
            return [libc.ptrace(16, os.getppid(), 0, 0), ctypes.get_errno()]  # PTRACE_ATTACH
    """)
    report = contained(code, tests=[TestCase((), 0)])
    assert report.results[0].got == "[-1, 1]"  # EPERM: the runner is not dumpable


def test_no_new_namespaces_or_mounts(contained):
    code = dedent("""\
        import ctypes

        def f():
            libc = ctypes.CDLL(None, use_errno=True)
            calls = [lambda: libc.unshare(0x10000000), lambda: libc.unshare(0x00020000),  # user, mount namespace
                     lambda: libc.mount(b"proc", b"/tmp", b"proc", 0, None)]
            return [call() for call in calls]
    """)
    report = contained(code, tests=[TestCase((), 0)])
    assert report.results[0].got == "[-1, -1, -1]"  # a /proc of our own would reveal the runner's files


ESCAPE = dedent("""\
    import os, time

    def f():
        if os.fork() == 0:
            os.setsid()
            if os.fork() == 0:
                os.execv('/usr/bin/python3', ['python3', '-c', 'import time\\nwhile 1: time.sleep(0.05)', MARKER])
            os._exit(0)
        time.sleep(0.3)
        return 1
""")


def test_setsid_double_fork_escape_dies_with_the_run(contained):
    marker = f"escapee-{uuid.uuid4().hex}"
    report = contained(f"MARKER = {marker!r}\n" + ESCAPE, marker=marker)
    assert report.all_passed


def test_the_child_never_sees_expected_values(contained):
    code = dedent("""\
        import gc, sys

        def f():
            text = sys.stdin.read()
            found = any(isinstance(o, str) and 'EXPECTED-' in o for o in gc.get_objects())
            return [text, found]
    """)
    report = contained(code, tests=[TestCase((), "EXPECTED-" + uuid.uuid4().hex)])
    assert report.results[0].got == "['', False]"


FAKE_REPORT = "{'status': 'ok', 'results': [{'status': 'pass', 'got': '1', 'type': None, 'msg': None}]}"
HACKS = {
    "print_pass": "print('all tests passed')\nprint('OK')\ndef f():\n    return 0\n",
    "sys_exit_top": "import sys\nsys.exit(0)\ndef f():\n    return 1\n",
    "os_exit_top": "import os\nos._exit(0)\ndef f():\n    return 1\n",
    "os_exit_call": "import os\ndef f():\n    os._exit(0)\n",
    "sys_exit_call": "import sys\ndef f():\n    sys.exit(0)\n",
    "eq_override": dedent("""\
        class Any(int):
            def __eq__(self, other):
                return True
            __hash__ = int.__hash__

        def f():
            return Any(0)
    """),
    "builtins_patch": dedent("""\
        import builtins
        builtins.isinstance = lambda *a: True
        builtins.type = lambda *a: int
        builtins.len = lambda *a: 0
        def f():
            return 0
    """),
    "harness_patch": dedent("""\
        import sys
        main = sys.modules['__main__']
        main.same = lambda a, b: True  # the comparison happens in the runner, not here
        main.short_repr = lambda v, limit=0: '1'
        def f():
            return 0
    """),
    "fake_json_stdout": f"import json\nprint(json.dumps({FAKE_REPORT}))\ndef f():\n    return 0\n",
    "fake_json_every_fd": dedent(f"""\
        import json, os
        lines = [json.dumps({FAKE_REPORT}), '["ready"]', '["ret", 0, 2]', '["pass", 0]']
        for fd in range(3, 65):
            try:
                os.write(fd, ('\\n'.join(lines) + '\\n').encode())
            except OSError:
                pass
        def f():
            return 0
    """),
    "close_result_channel": "import os\ndef f():\n    os.close(3)\n    return 1\n",
    "flood_result_channel": "import os\ndef f():\n    while True:\n        os.write(3, b'\\n[\"x' * 30000)\n",
}


@pytest.mark.parametrize("name", sorted(HACKS))
def test_reward_hacks_earn_nothing(contained, name):
    report = contained(HACKS[name])
    assert report.passed == 0 and not report.all_passed and report.results[0].status != "pass", report
    if name == "eq_override":
        assert (
            report.results[0].status == "bad_return"
            and "unsupported return type" in report.results[0].error_message
        )
    if name == "sys_exit_top":
        assert report.results[0].error_type == "SystemExit"
    if name in ("print_pass", "fake_json_stdout"):
        assert "all tests passed" in report.stderr_tail or '"status": "ok"' in report.stderr_tail


def test_unsafe_mode_still_kills_escapees(monkeypatch):
    monkeypatch.setattr(bwrap, "_warned_unsafe", True)
    unsafe = Sandbox(LIMITS, unsafe_no_isolation=True)
    uid = next(_uids)
    monkeypatch.setattr(bwrap, "_private_uid", lambda: uid if IS_ROOT else None)
    marker = f"unsafe-escapee-{uuid.uuid4().hex}"
    hanging = ESCAPE.replace("return 1", "while True:\n        pass")
    report = unsafe.run_tests(f"MARKER = {marker!r}\n" + hanging, "f", ONE)
    assert report.results[0].status == "timeout"
    assert processes_with(marker) == []
    if IS_ROOT:
        assert processes_of(uid) == []


def test_a_dying_host_takes_the_whole_sandbox_with_it():
    marker = f"orphaned-{uuid.uuid4().hex}"
    script = dedent("""\
        import os
        from convenv.sandbox import Limits, Sandbox, TestCase
        code = f"MARKER = {os.environ['MARKER']!r}\\n" + os.environ['CODE']
        Sandbox(Limits(wall_s=60.0, per_test_s=60.0)).run_tests(code, "f", [TestCase((), 1)])
    """)
    code = ESCAPE.replace("return 1", "while True:\n        pass")
    host = subprocess.Popen([sys.executable, "-c", script], env={**os.environ, "MARKER": marker, "CODE": code})
    try:
        deadline = time.monotonic() + 30
        while not processes_with(marker) and time.monotonic() < deadline and host.poll() is None:
            time.sleep(0.05)
        assert processes_with(marker), "the escapee never started"
    finally:
        host.kill()  # SIGKILL: no cleanup code of ours runs; --die-with-parent and the PID namespace must do it
        host.wait()
    deadline = time.monotonic() + 5
    while processes_with(marker) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert processes_with(marker) == []


def test_the_host_deadline_kills_the_whole_tree(contained, monkeypatch):
    monkeypatch.setattr(bwrap, "HOST_GRACE_S", -3.0)  # the host gives up before the runner's own deadline
    marker = f"deadline-{uuid.uuid4().hex}"
    report = contained(
        f"MARKER = {marker!r}\n" + ESCAPE.replace("return 1", "while True:\n        pass"), marker=marker
    )
    assert report.status == "timeout" and [r.status for r in report.results] == ["timeout"]
    assert "killed" in report.results[0].error_message and report.wall_s < LIMITS.wall_s
