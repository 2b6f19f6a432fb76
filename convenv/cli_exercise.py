"""The ``convenv exercise`` command: the course exercises of ``docs/course/``.

``convenv exercise list``
    every exercise, its page and what it grades.
``convenv exercise start N [PATH]``
    write exercise N's starter file to ``PATH`` (default ``my_teacher.py`` / ``my_verifier.py``).
``convenv exercise check N PATH``
    grade ``PATH``: one line per check (pass or FAIL, with a hint under each failure), then the score. Exits 0
    when every check passed, 1 otherwise.
"""

from __future__ import annotations

import argparse
from typing import Any

__all__ = ["add_exercise_parser", "cmd_exercise"]


def add_exercise_parser(sub: Any) -> None:
    """Add the ``exercise`` subcommand to the ``convenv`` parser's subparsers."""
    p = sub.add_parser(
        "exercise", help="course exercises: list, start, check",
        description="The course exercises (docs/course/): write a starter file, then grade your solution.",
    )  # fmt: skip
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    actions.add_parser("list", help="list the exercises", description="List the exercises.")
    start = actions.add_parser(
        "start", help="write an exercise's starter file", description="Write an exercise's starter file."
    )
    start.add_argument("number", type=int, metavar="N", help="the exercise number")
    start.add_argument("path", nargs="?", default=None, help="where to write it (default my_<name>.py)")
    check = actions.add_parser(
        "check", help="grade a solution", description="Grade a solution: each check, a hint per failure, a score."
    )
    check.add_argument("number", type=int, metavar="N", help="the exercise number")
    check.add_argument("path", metavar="PATH", help="your solution: a .py file (1, 2) or a directory (3)")


def cmd_exercise(args: argparse.Namespace) -> int:
    """Run ``convenv exercise``; returns the exit status."""
    from convenv import exercises

    if args.action == "list":
        for e in exercises.EXERCISES.values():
            print(f"{e.number}  {e.title}\n   page: {e.page}\n   check: convenv exercise check {e.number} PATH, "
                  f"PATH being {e.submission}")  # fmt: skip
        return 0
    if args.action == "start":
        target = exercises.write_starter(args.number, args.path)
        print(f"wrote {target}: run it (python {target}), grade it: convenv exercise check {args.number} {target}")
        return 0
    report = exercises.check(args.number, args.path)
    print(report.format())
    return 0 if report.passed else 1
