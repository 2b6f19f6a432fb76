"""The knights-and-knaves check: read who is what from hostile text and compare with the unique solution.

:func:`check` runs in the killable worker. A role claim is a person's name (a capital letter of the puzzle)
followed by ``:``, ``=``, ``-`` or ``is``, an optional ``a``, then ``knight`` or ``knave`` (any case), e.g.
``A: knight``, ``B is a knave``, ``C = Knave``. Claims are read after the last ``answer:`` marker if there is
one, else from the block of consecutive lines at the end of the message that hold claims; when a person is
named twice, the last claim counts. A bare ``A knight`` is not a claim (``A`` could be the article).
"""

from __future__ import annotations

import re

from convenv.tasks.base import Task
from convenv.tasks.puzzles.knights import NAMES, fmt_assignment, holds
from convenv.verifiers.base import Verdict

CLAIM = re.compile(r"(?<![A-Za-z])([A-Z])\s*(?::|=|-|\bis\b)\s*(?:(?i:an?)\s+)?((?i:knight|knave))s?(?![A-Za-z])")
"""A role claim; group 1 is the name, group 2 the role."""
_ANSWER = re.compile(r"\banswer\s*:", re.IGNORECASE)


def claims(text: str) -> list[tuple[str, bool, int, int]]:
    """Every claim in ``text`` as ``(name, is_knight, start, end)``, in order."""
    return [(m.group(1), m.group(2).lower() == "knight", m.start(), m.end()) for m in CLAIM.finditer(text)]


def answer_region(text: str) -> str:
    """The part of ``text`` the answer is read from (see the module docstring)."""
    markers = list(_ANSWER.finditer(text))
    if markers:
        return text[markers[-1].end() :]
    lines = text.split("\n")
    end = len(lines)
    while end > 0 and not lines[end - 1].strip():
        end -= 1
    start = end
    while start > 0 and CLAIM.search(lines[start - 1]):
        start -= 1
    return "\n".join(lines[start:end])


def read_assignment(text: str, n: int) -> dict[int, bool]:
    """``{person index: is_knight}`` for the first ``n`` names, from the answer region (last claim wins)."""
    said: dict[int, bool] = {}
    for name, knight, _, _ in claims(answer_region(text)):
        index = NAMES.find(name)
        if 0 <= index < n:
            said[index] = knight
    return said


def check(text: str, task: Task) -> Verdict:
    """The verdict on ``text`` as a solution of a knights puzzle (run it through a pooled verifier).

    Errors: ``no_answer`` (no claim about the puzzle's people), ``missing_people`` (someone's role is not
    given), ``wrong_value``. Signals: ``wrong_people`` (names whose role is wrong, among those given),
    ``missing`` (names not given), ``inconsistent`` (speakers whose statement contradicts the student's own
    assignment, when it is complete: a wrong complete assignment always has at least one), ``assignment``.
    """
    n, roles = int(task.metadata["people"]), tuple(task.metadata["roles"])
    said = read_assignment(text, n)
    if not said:
        return Verdict(False, None, "no_answer", "no role claims found (expected e.g. 'A: knight, B: knave')")
    extracted = ", ".join(f"{NAMES[i]}: {'knight' if said[i] else 'knave'}" for i in sorted(said))
    wrong = [NAMES[i] for i in sorted(said) if said[i] != roles[i]]
    missing = [NAMES[i] for i in range(n) if i not in said]
    signals: dict = {"wrong_people": wrong, "missing": missing, "inconsistent": [], "assignment": extracted}
    if missing:
        detail = f"no role given for {', '.join(missing)}; wrong among those given: {wrong or 'none'}"
        return Verdict(False, extracted, "missing_people", detail, signals)
    world = tuple(said[i] for i in range(n))
    signals["inconsistent"] = [
        NAMES[p] for p, statement in task.metadata["statements"] if world[p] != holds(statement, world)
    ]
    if wrong:
        detail = f"wrong roles for {', '.join(wrong)}; the solution is {fmt_assignment(roles)}"
        return Verdict(False, extracted, "wrong_value", detail, signals)
    return Verdict(True, extracted, None, "every role is right", signals)
