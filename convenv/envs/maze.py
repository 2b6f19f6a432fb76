"""MazeTutor-v0: find a path through a seeded grid maze; the teacher says where the path goes wrong.

The teacher knows one shortest path; after every attempt a teacher-only verifier report says where the walk hit a
wall, left the grid or ended. The student sees the maze (an ASCII grid in the opening message) and the dialogue.

Leak rule (:func:`maze_leak`): a teacher message leaks when some run of consecutive moves written in it (letters
``U D L R`` or words ``up down left right``, in order, whatever text lies between them), walked from S, reaches
G without entering a wall or leaving the grid. The task's own prompt inside a message is skipped, and a run that
the student's own messages already hold is not counted.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from convenv.domain import Domain
from convenv.env import ConversationEnv
from convenv.envs.maze_feedback import FEEDBACK_POLICIES, make_feedback_policy
from convenv.envs.policies import verifier_report
from convenv.leak import REDACTED, LeakReport
from convenv.tasks.base import Task, TaskSource
from convenv.tasks.maze import GOAL, MOVES, START, WALL, MazeTaskGenerator, find, parse_path, simulate
from convenv.verifiers.maze import WORDS, check
from convenv.verifiers.pooled import PooledVerifier

TEACHERS = tuple(FEEDBACK_POLICIES)
"""Names accepted by ``teacher=``."""
MAX_SCANNED_MOVES = 2000
"""The leak check reads at most this many moves of one message."""

STUDENT_PROMPT = (
    "You are a student solving a maze with your teacher. The teacher shows the maze as a grid: S is the start, "
    "G the goal, # a wall, . open floor. Give your path as one line, for example: moves: R R D L "
    "(U = up, D = down, L = left, R = right; one square per move). If the teacher says the path is wrong, use "
    "the feedback and try again."
)

TEACHER_PROMPT = """You are a patient teacher helping a student through a maze. The student cannot see this message.
{prompt}
A shortest path from S to G ({length} moves; never state it, nor most of it): {answer}
After each attempt a verifier report says where the student's path hit a wall, left the grid or ended. Reply \
with short feedback that helps the student find the mistake without giving the path away."""

_MOVE_TOKEN = re.compile(r"(?<![A-Za-z])(?:up|down|left|right|[UDLR]+|[udlr])(?![A-Za-z])", re.IGNORECASE)


def teacher_prompt(task: Task) -> str:
    """The teacher's system prompt, carrying the privileged shortest path."""
    return TEACHER_PROMPT.format(prompt=task.prompt, answer=task.answer, length=len(parse_path(task.answer)))


def format_answer(task: Task) -> str:
    """A correct attempt: ``"moves: R R D ..."`` (the task's shortest path)."""
    return f"moves: {task.answer}"


def wrong_answer(task: Task, rng: np.random.Generator) -> str:
    """A plausible wrong path: the shortest path cut short, with one move changed, or with one move too many."""
    path = parse_path(task.answer)
    grid = task.metadata["grid"]
    goal = find(grid, GOAL)
    for _ in range(20):
        kind = int(rng.integers(3))
        if kind == 0:
            moves = path[: int(rng.integers(1, len(path)))]
        elif kind == 1:
            i = int(rng.integers(len(path)))
            moves = [*path[:i], str(rng.choice([m for m in MOVES if m != path[i]])), *path[i + 1 :]]
        else:
            moves = [*path, str(rng.choice(list(MOVES)))]
        walk = simulate(grid, moves)
        if walk.blocked is not None or walk.end != goal:
            return f"moves: {' '.join(moves)}"
    return f"moves: {' '.join(path[:-1])}"  # cut short: never reaches G (shortest paths visit it only at the end)


# --------------------------------------------------------------------------------------------------- leak check
def _skipped_spans(text: str, prompt: str) -> list[tuple[int, int]]:
    """Where the task's prompt appears in ``text`` (restating the problem never leaks)."""
    spans, start = [], text.find(prompt)
    while prompt and start >= 0:
        spans.append((start, start + len(prompt)))
        start = text.find(prompt, start + 1)
    return spans


def _moves(text: str, prompt: str) -> list[tuple[str, int, int]]:
    """Each move written in ``text`` outside the prompt, with the span of the token it comes from."""
    skipped = _skipped_spans(text, prompt)
    out: list[tuple[str, int, int]] = []
    for m in _MOVE_TOKEN.finditer(text):
        if any(s <= m.start() < e for s, e in skipped):
            continue
        token = m.group()
        letters = WORDS.get(token.lower()) or token.upper()
        out.extend((letter, m.start(), m.end()) for letter in letters)
        if len(out) >= MAX_SCANNED_MOVES:
            break
    return out[:MAX_SCANNED_MOVES]


def _solution_runs(grid: Sequence[str], letters: list[str]) -> list[tuple[int, int]]:
    """``(i, j)``: ``letters[i : j + 1]`` walks from S to G (stopping at G) without a blocked move."""
    start, goal = find(grid, START), find(grid, GOAL)
    rows, cols = len(grid), len(grid[0])
    cap = rows * cols  # a longer wander to G is not read as a solution
    runs = []
    for i in range(len(letters)):
        r, c = start
        for j in range(i, min(len(letters), i + cap)):
            dr, dc = MOVES[letters[j]]
            r, c = r + dr, c + dc
            if not (0 <= r < rows and 0 <= c < cols) or grid[r][c] == WALL:
                break
            if (r, c) == goal:
                runs.append((i, j))
                break
    return runs


@functools.lru_cache(maxsize=1024)
def _public_runs(said: str, prompt: str, grid: tuple[str, ...]) -> frozenset[str]:
    """The solving runs a public text holds (cached: the same student messages are read at every teacher turn)."""
    letters = [m[0] for m in _moves(said, prompt)]
    return frozenset("".join(letters[i : j + 1]) for i, j in _solution_runs(grid, letters))


def _leaking(text: str, task: Task, public: Sequence[str]) -> list[tuple[int, int]]:
    """Spans (first to last token) of runs that reach G and that no public text already holds."""
    grid = tuple(task.metadata["grid"])
    allowed = set().union(*(_public_runs(said, task.prompt, grid) for said in public))
    moves = _moves(text, task.prompt)
    letters = [m[0] for m in moves]
    return [
        (moves[i][1], moves[j][2])
        for i, j in _solution_runs(grid, letters)
        if "".join(letters[i : j + 1]) not in allowed
    ]


def maze_leak(text: str, task: Task, *, public: Sequence[str] = ()) -> LeakReport:
    """Report whether a teacher message writes out a path from S to G (see the module docstring).

    Args:
        text: the teacher message.
        task: a maze task (``metadata["grid"]``).
        public: texts the student already wrote; a run they already hold is not a leak.

    Returns:
        A :class:`~convenv.leak.LeakReport` whose ``matches`` are the leaking stretches of text.
    """
    spans = sorted(set(_leaking(text, task, public)))
    return LeakReport(leaked=bool(spans), matches=tuple(text[s:e] for s, e in spans))


def _cut(text: str, spans: Iterable[tuple[int, int]]) -> str:
    pieces, pos = [], 0
    for s, e in sorted(set(spans)):
        if s < pos:
            s = pos
        if s < e:
            pieces += [text[pos:s], REDACTED]
            pos = e
    return "".join(pieces) + text[pos:]


def maze_redact(text: str, task: Task, *, public: Sequence[str] = ()) -> str:
    """Replace the move tokens of every leaking run by ``[redacted]``; the result never leaks."""
    for _ in range(20):
        spans = _leaking(text, task, public)
        if not spans:
            return text
        moves = _moves(text, task.prompt)
        tokens = {(s, e) for _, s, e in moves if any(a <= s and e <= b for a, b in spans)}
        text = _cut(text, tokens)
    return _cut(text, {(s, e) for _, s, e in _moves(text, task.prompt)})


# ------------------------------------------------------------------------------------------------------ domain
def make_domain(
    *,
    difficulty: int | tuple[int, int] = (1, 3),
    teacher: str = "hints",
    tasks: TaskSource | None = None,
    max_turns: int = 4,
    verifier_timeout: float = 2.0,
) -> Domain:
    """The maze domain; see :func:`make_env` for the arguments."""
    return Domain(
        name="MazeTutor",
        tasks=tasks if tasks is not None else MazeTaskGenerator(difficulty=difficulty),
        verifier=PooledVerifier(check, timeout=verifier_timeout),
        feedback=make_feedback_policy(teacher, max_turns=max_turns),
        student_prompt=lambda task: STUDENT_PROMPT,
        teacher_prompt=teacher_prompt,
        leak_check=maze_leak,
        redact=maze_redact,
        format_answer=format_answer,
        wrong_answer=wrong_answer,
        verifier_report=verifier_report,
        description="Find a path through a grid maze; the teacher says where the path hits a wall",
    )


def make_env(
    *,
    difficulty: int | tuple[int, int] = (1, 3),
    teacher: str = "hints",
    tasks: TaskSource | None = None,
    verifier_timeout: float = 2.0,
    **env_kwargs: Any,
) -> ConversationEnv:
    """Build MazeTutor (registered as ``MazeTutor-v0``).

    Args:
        difficulty: one level or an inclusive ``(low, high)`` range: 1 is a 5x5 grid, 2 is 7x7, 3 is 9x9.
        teacher: the default scripted teacher: ``"verdict"``, ``"direction"``, ``"locate"`` or ``"hints"``.
        tasks: a task source to use instead of the generator (tasks need ``metadata["grid"]``).
        verifier_timeout: hard deadline, in seconds, of one path check (the worker is killed past it).
        **env_kwargs: passed to :class:`~convenv.env.ConversationEnv` (``max_turns``, ``gamma``,
            ``tokenizer``, ``render_mode``, ``leak_policy``, ...).

    """
    domain = make_domain(
        difficulty=difficulty,
        teacher=teacher,
        tasks=tasks,
        max_turns=env_kwargs.get("max_turns", 4),
        verifier_timeout=verifier_timeout,
    )
    env_kwargs.setdefault("env_id", "MazeTutor-v0")
    return ConversationEnv(domain, **env_kwargs)
