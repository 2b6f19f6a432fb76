"""Per-run overhead of the code sandbox: bubblewrap vs the same runner without isolation vs a bare interpreter.

A "run" is one ``Sandbox.run_tests`` call with a trivial submission and one test: the host starts bwrap (after
``setpriv`` when root), the runner interpreter, and one child interpreter. Also measured: the cost of one more
test in the same child (``per_test_ms``), and the cost of a fresh child per test (``child_restart_ms``: tests that
each end their child, forcing the runner to start another), which is what one-child-per-test would pay.

    python benchmarks/sandbox_overhead.py --runs 50
    python benchmarks/sandbox_overhead.py --quick        # CI

The last line printed is one JSON object with ``bwrap_ms``, ``unsafe_ms``, ``bare_python_ms`` (medians) and
``ratio`` (bwrap_ms / bare_python_ms), the minima (``min_ms``, steadier on a busy machine), ``per_test_ms`` and
``child_restart_ms`` (from minima); ``bwrap_ms`` is null where bubblewrap is unavailable.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import time
import warnings

from convenv.sandbox import Limits, Sandbox, TestCase

EMPTY = "def f():\n    return None\n"
EXITING = "import os\ndef f():\n    os._exit(0)\n"


def timed_ms(fn, runs: int) -> tuple[float, float]:
    """(median, min) wall time of ``fn`` in ms; the min is the steadier figure on a busy machine."""
    fn()  # warm-up: probes, caches
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return round(statistics.median(times) * 1000, 2), round(min(times) * 1000, 2)


def sandbox_figures(sandbox: Sandbox, runs: int, many: int) -> dict:
    one = [TestCase((), None)]
    tests = [TestCase((), None)] * many

    def run(code: str, cases: list) -> None:
        report = sandbox.run_tests(code, "f", cases)
        assert report.status == "ok", report

    run_ms, run_min = timed_ms(lambda: run(EMPTY, one), runs)
    _, many_min = timed_ms(lambda: run(EMPTY, tests), max(3, runs // 4))
    _, restart_min = timed_ms(lambda: run(EXITING, tests), max(3, runs // 4))
    return {
        "run_ms": run_ms,
        "run_min_ms": run_min,
        "per_test_ms": round((many_min - run_min) / (many - 1), 3),
        "child_restart_ms": round((restart_min - many_min) / many, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=40, help="timed runs per figure (median)")
    parser.add_argument("--tests", type=int, default=50, help="tests per run for the per-test figures")
    parser.add_argument("--quick", action="store_true", help="few runs (CI)")
    parser.add_argument("--python", default="/usr/bin/python3", help="the sandbox's interpreter")
    args = parser.parse_args()
    runs, many = (5, 10) if args.quick else (args.runs, args.tests)
    limits = Limits(wall_s=30.0, per_test_s=5.0)

    bare_ms, bare_min = timed_ms(lambda: subprocess.run([args.python, "-c", "pass"], check=True), runs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # the unsafe mode's warning
        unsafe = sandbox_figures(Sandbox(limits, python=args.python, unsafe_no_isolation=True), runs, many)
    isolated = None
    if Sandbox.available(python=args.python):
        isolated = sandbox_figures(Sandbox(limits, python=args.python), runs, many)

    print(f"{'':24s}{'run':>10s}{'run min':>10s}{'per test':>10s}{'restart':>10s}  (ms; run: median of {runs})")
    print(f"{'bare python3 -c pass':24s}{bare_ms:10.2f}{bare_min:10.2f}")
    for name, figures in (("unsafe (no namespaces)", unsafe), ("bwrap", isolated)):
        if figures is None:
            print(f"{name:24s}{'unavailable':>10s}")
            continue
        row = (figures["run_ms"], figures["run_min_ms"], figures["per_test_ms"], figures["child_restart_ms"])
        print(f"{name:24s}" + "".join(f"{x:10.2f}" for x in row))
    bwrap_ms = isolated["run_ms"] if isolated else None
    result = {
        "bwrap_ms": bwrap_ms,
        "unsafe_ms": unsafe["run_ms"],
        "bare_python_ms": bare_ms,
        "min_ms": {"bwrap": isolated and isolated["run_min_ms"], "unsafe": unsafe["run_min_ms"], "bare": bare_min},
        "ratio": round(bwrap_ms / bare_ms, 2) if bwrap_ms else None,
        "per_test_ms": (isolated or unsafe)["per_test_ms"],
        "child_restart_ms": (isolated or unsafe)["child_restart_ms"],
        "runs": runs,
        "tests_per_run": many,
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
