r"""The maze check: read a move sequence from hostile text and walk it through the task's grid.

:func:`check` runs in the killable worker (through :class:`~convenv.verifiers.pooled.PooledVerifier`); it only
uses regular expressions with linear behaviour, string splitting and a bounded walk.

Where the moves are read from, first match wins: the text after the last ``moves:`` (or ``move:``) marker, up to
the end of its line (or the next line if it is empty); the last ``\boxed{...}``; the last non-empty line when
all of it reads as moves. Moves are the letters ``U D L R`` (case-insensitive, spaced or run together as
``RRDL``) or the words ``up down left right``, separated by spaces, commas, semicolons, ``-`` or arrows.
"""

from __future__ import annotations

import re

from convenv.tasks.base import Task
from convenv.tasks.maze import GOAL, distances, find, simulate
from convenv.verifiers.base import Verdict

MAX_MOVES = 400
"""Longest move sequence read (a longer one is refused as ``too_large``)."""
MAX_SEGMENT_CHARS = 2000
"""Longest answer segment read."""
WORDS = {"up": "U", "down": "D", "left": "L", "right": "R"}

_MARKER = re.compile(r"\bmoves?\s*:", re.IGNORECASE)
_BOXED = re.compile(r"\\boxed\{([^{}]*)\}")
_SEPARATOR = re.compile(r"(?:\s|,|;|->|\u2192|-|\.|\|)+")
_LETTERS = re.compile(r"[udlr]+", re.IGNORECASE)


class MoveParseError(ValueError):
    """The answer segment is not a move sequence; ``code`` is ``"parse_error"`` or ``"too_large"``."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


def parse_moves(segment: str) -> list[str]:
    """The moves in an answer segment, as letters ``U D L R``.

    Raises:
        MoveParseError: a token that is not a move, or more than :data:`MAX_MOVES` moves.
    """
    if len(segment) > MAX_SEGMENT_CHARS:
        raise MoveParseError("too_large", f"expected at most {MAX_SEGMENT_CHARS} characters of moves")
    moves: list[str] = []
    for token in _SEPARATOR.split(segment):
        if not token:
            continue
        word = WORDS.get(token.lower())
        if word is not None:
            moves.append(word)
        elif _LETTERS.fullmatch(token):
            moves.extend(token.upper())
        else:
            shown = token if len(token) <= 20 else token[:20] + "..."
            raise MoveParseError("parse_error", f"expected moves U, D, L, R or up/down/left/right, got {shown!r}")
        if len(moves) > MAX_MOVES:
            raise MoveParseError("too_large", f"expected at most {MAX_MOVES} moves, got more")
    return moves


def extract_segment(text: str) -> str | None:
    """The part of ``text`` that holds the answer (see the module docstring), or None."""
    markers = list(_MARKER.finditer(text))
    if markers:
        rest = text[markers[-1].end() :]
        lines = rest.split("\n")
        segment = lines[0].strip()
        if not segment:
            segment = next((line.strip() for line in lines[1:] if line.strip()), "")
        return segment or None
    boxes = list(_BOXED.finditer(text))
    if boxes:
        return boxes[-1].group(1).strip() or None
    lines = [line.strip() for line in text.strip().split("\n") if line.strip()]
    if lines:
        try:
            if parse_moves(lines[-1]):
                return lines[-1]
        except MoveParseError:
            return None
    return None


def _square(pos: tuple[int, int]) -> str:
    return f"row {pos[0] + 1}, column {pos[1] + 1}"


def _signals(task: Task, moves: list[str]) -> tuple[dict, str | None, str]:
    """Walk the moves; return (signals, error or None if correct, detail)."""
    grid = task.metadata["grid"]
    goal = find(grid, GOAL)
    walk = simulate(grid, moves)
    to_goal = distances(grid, goal)
    signals: dict = {
        "moves": len(moves),
        "first_wall_at": None,
        "left_grid_at": None,
        "reached_goal_at": walk.reached,
        "end_position": walk.end,
        "distance_to_goal": to_goal.get(walk.end),
    }
    if walk.blocked is not None:
        step, pos, target, kind = walk.blocked
        where = {"step": step, "position": pos, "target": target, "move": moves[step - 1]}
        signals["first_wall_at" if kind == "wall" else "left_grid_at"] = where
        what = f"hits the wall at {_square(target)}" if kind == "wall" else "leaves the grid"
        return signals, kind, f"move {step} ({moves[step - 1]}) {what}, coming from {_square(pos)}"
    if walk.end == goal:
        return signals, None, f"the path reaches G in {len(moves)} moves"
    if walk.reached is not None:
        detail = f"the path reaches G at move {walk.reached} but goes on and ends at {_square(walk.end)}"
        return signals, "past_goal", detail
    detail = f"the path ends at {_square(walk.end)}, {signals['distance_to_goal']} moves from G"
    return signals, "wrong_end", detail


def check(text: str, task: Task) -> Verdict:
    """The verdict on ``text`` as a path through ``task``'s maze (run it through a pooled verifier).

    Correct when the moves, played from S, never enter a wall or leave the grid and end on G. Errors:
    ``no_answer``, ``parse_error``, ``too_large``, ``wall``, ``off_grid``, ``past_goal`` (reached G, went on),
    ``wrong_end``. Signals: ``first_wall_at`` / ``left_grid_at`` (``step``, ``position``, ``target``,
    ``move``, or None), ``reached_goal_at``, ``end_position``, ``distance_to_goal`` (shortest distance from
    where the walk stopped), ``moves``. Positions in signals are 0-based ``(row, column)``; the ``detail`` for
    the teacher counts rows and columns from 1, as the prompt does.
    """
    segment = extract_segment(text)
    if segment is None:
        return Verdict(False, None, "no_answer", "no move sequence found (expected a line 'moves: ...')")
    try:
        moves = parse_moves(segment)
    except MoveParseError as err:
        return Verdict(False, None, err.code, str(err))
    if not moves:
        return Verdict(False, None, "no_answer", "the answer holds no moves")
    signals, error, detail = _signals(task, moves)
    return Verdict(error is None, " ".join(moves), error, detail, signals)
