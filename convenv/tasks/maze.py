"""Seeded grid mazes: generation, shortest paths and move simulation (pure functions, no student text here).

A maze is a square grid of characters: ``#`` wall, ``.`` open floor, ``S`` start, ``G`` goal. Rooms sit at even
(row, column) coordinates and a randomized depth-first search (the "recursive backtracker", driven only by the
generator it is handed) knocks out the walls between them, so every open square is reachable from every other
one and there is exactly one simple path between two rooms. There is no border wall: the edge of the grid is the
boundary, and a path can leave it.

>>> import numpy as np
>>> task = MazeTaskGenerator(difficulty=1).sample(np.random.default_rng(0))
>>> task.id.startswith("maze/grid/1/"), len(task.metadata["grid"])
(True, 5)
>>> walk = simulate(task.metadata["grid"], parse_path(task.answer))
>>> walk.end == task.metadata["goal"] and walk.blocked is None
True
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from convenv.tasks.base import Task
from convenv.tasks.levels import check_rng, choice, draw_level, level_bounds, task_id

Position = tuple[int, int]

WALL, FLOOR, START, GOAL = "#", ".", "S", "G"
MOVES: dict[str, Position] = {"U": (-1, 0), "D": (1, 0), "L": (0, -1), "R": (0, 1)}
"""Move letters and their (row, column) steps."""
SIZES = {1: 5, 2: 7, 3: 9}
"""Grid side length per difficulty level (3x3, 4x4 and 5x5 rooms)."""
MIN_DISTANCE = 6
"""Fewest moves between S and G (so no short example in a prompt or message can be a solution)."""
FAR_FRACTION = 0.6
"""G is drawn among the squares at least this fraction of the farthest distance from S."""


@dataclass(frozen=True)
class Walk:
    """What happens when a move sequence is played from S.

    Attributes:
        end: where the walk stopped: after the last move, or just before the first blocked move.
        moves: how many moves were played (the blocked move not included).
        blocked: None, or ``(step, position, target, kind)`` for the first move that failed: its 1-based step
            number, the square it started from, the square it tried to enter, and ``"wall"`` or ``"off_grid"``.
        reached: the 1-based step at which the walk first stood on G (None if it never did).
    """

    end: Position
    moves: int
    blocked: tuple[int, Position, Position, str] | None
    reached: int | None


def find(grid: Sequence[str], mark: str) -> Position:
    """The (row, column) of the first ``mark`` in ``grid``."""
    for r, row in enumerate(grid):
        c = row.find(mark)
        if c >= 0:
            return (r, c)
    raise ValueError(f"expected a {mark!r} square in the maze, got none; build grids with generate_grid")


def is_open(grid: Sequence[str], pos: Position) -> bool:
    """Whether ``pos`` is inside the grid and not a wall."""
    r, c = pos
    return 0 <= r < len(grid) and 0 <= c < len(grid[r]) and grid[r][c] != WALL


def simulate(grid: Sequence[str], moves: Iterable[str], start: Position | None = None) -> Walk:
    """Play ``moves`` (letters ``U D L R``) from ``start`` (default S), stopping at the first blocked move."""
    pos = find(grid, START) if start is None else start
    goal = find(grid, GOAL)
    reached = 0 if pos == goal else None
    count = 0
    for step, letter in enumerate(moves, 1):
        dr, dc = MOVES[letter]
        target = (pos[0] + dr, pos[1] + dc)
        if not is_open(grid, target):
            inside = 0 <= target[0] < len(grid) and 0 <= target[1] < len(grid[0])
            return Walk(pos, count, (step, pos, target, "wall" if inside else "off_grid"), reached)
        pos, count = target, step
        if reached is None and pos == goal:
            reached = step
    return Walk(pos, count, None, reached)


def distances(grid: Sequence[str], source: Position) -> dict[Position, int]:
    """Shortest move counts from ``source`` to every reachable open square (breadth-first search)."""
    dist = {source: 0}
    queue = deque([source])
    while queue:
        pos = queue.popleft()
        for dr, dc in MOVES.values():
            nxt = (pos[0] + dr, pos[1] + dc)
            if nxt not in dist and is_open(grid, nxt):
                dist[nxt] = dist[pos] + 1
                queue.append(nxt)
    return dist


def shortest_path(grid: Sequence[str], start: Position | None = None, goal: Position | None = None) -> list[str]:
    """One shortest move sequence from ``start`` to ``goal`` (default S to G), as letters."""
    start = find(grid, START) if start is None else start
    goal = find(grid, GOAL) if goal is None else goal
    to_goal = distances(grid, goal)
    if start not in to_goal:
        raise ValueError(f"expected a path from {start} to {goal}, got none; the maze is not connected")
    path, pos = [], start
    while pos != goal:  # step to any neighbour one closer to the goal (fixed U, D, L, R order)
        for letter, (dr, dc) in MOVES.items():
            nxt = (pos[0] + dr, pos[1] + dc)
            if to_goal.get(nxt) == to_goal[pos] - 1:
                path.append(letter)
                pos = nxt
                break
    return path


def parse_path(answer: str) -> list[str]:
    """The letters of a canonical answer such as ``"R R D"`` (trusted text only: a task's own answer)."""
    return answer.split()


def generate_grid(size: int, rng: np.random.Generator) -> list[str]:
    """A perfect maze on a ``size`` x ``size`` grid (odd ``size`` >= 3), carved by a seeded depth-first search."""
    if size < 3 or size % 2 == 0:
        raise ValueError(f"expected an odd maze size >= 3, got {size}; rooms sit at even coordinates")
    cells = [[WALL] * size for _ in range(size)]
    rooms = (size + 1) // 2
    first = (2 * int(rng.integers(rooms)), 2 * int(rng.integers(rooms)))
    cells[first[0]][first[1]] = FLOOR
    stack = [first]
    while stack:
        r, c = stack[-1]
        options = [
            (dr, dc)
            for dr, dc in ((-2, 0), (2, 0), (0, -2), (0, 2))
            if 0 <= r + dr < size and 0 <= c + dc < size and cells[r + dr][c + dc] == WALL
        ]
        if not options:
            stack.pop()
            continue
        dr, dc = options[int(rng.integers(len(options)))]
        cells[r + dr // 2][c + dc // 2] = FLOOR
        cells[r + dr][c + dc] = FLOOR
        stack.append((r + dr, c + dc))
    return ["".join(row) for row in cells]


def place_ends(grid: list[str], rng: np.random.Generator) -> list[str]:
    """Mark S on a random room and G on a room far from it (at least :data:`MIN_DISTANCE` moves away)."""
    size = len(grid)
    rooms = [(r, c) for r in range(0, size, 2) for c in range(0, size, 2)]
    while True:  # a 3x3-room tree always has rooms >= 6 moves apart from a corner, so this ends
        start = choice(rng, rooms)
        dist = distances(grid, start)
        far = max(MIN_DISTANCE, math.ceil(FAR_FRACTION * max(dist[room] for room in rooms)))
        candidates = [room for room in rooms if dist[room] >= far]
        if candidates:
            break
    goal = choice(rng, candidates)
    rows = [list(row) for row in grid]
    rows[start[0]][start[1]] = START
    rows[goal[0]][goal[1]] = GOAL
    return ["".join(row) for row in rows]


def render_prompt(grid: Sequence[str]) -> str:
    """The public problem statement: rules, answer format and the grid."""
    n = len(grid)
    return (
        f"Find a path through this {n}x{n} maze from S (start) to G (goal). Each move goes one square: "
        "U = up, D = down, L = left, R = right. # is a wall, . is open floor; a path may not enter a wall or leave "
        f"the grid. Rows are numbered 1 to {n} from the top, columns 1 to {n} from the left.\n"
        + "\n".join(grid)
        + "\nAnswer with one line such as: moves: R D D (letters or the words up/down/left/right)"
    )


def make_task(grid: Sequence[str], difficulty: int) -> Task:
    """Assemble the task of a finished grid (S and G placed): one shortest path is the privileged answer."""
    path = shortest_path(grid)
    answer = " ".join(path)
    start, goal = find(grid, START), find(grid, GOAL)
    prompt = render_prompt(grid)
    return Task(
        id=task_id("maze", "grid", difficulty, *grid),
        domain="maze",
        prompt=prompt,
        answer=answer,
        solution=f"A shortest path from S to G takes {len(path)} moves: {answer}",
        metadata={
            "family": "grid",
            "difficulty": difficulty,
            "grid": tuple(grid),
            "start": start,
            "goal": goal,
            "shortest": len(path),
        },
    )


def generate(difficulty: int, rng: np.random.Generator) -> Task:
    """One maze task at ``difficulty`` (1: 5x5, 2: 7x7, 3: 9x9), drawn with ``rng`` only."""
    level = level_bounds(difficulty)[0]
    rng = check_rng(rng)
    return make_task(place_ends(generate_grid(SIZES[level], rng), rng), level)


class MazeTaskGenerator:
    """Seeded mazes: a :class:`~convenv.tasks.base.TaskSource` over difficulty levels.

    Args:
        difficulty: one level (1: 5x5, 2: 7x7, 3: 9x9 grid) or an inclusive ``(low, high)`` range.
    """

    def __init__(self, difficulty: int | tuple[int, int] = (1, 3)):
        self.difficulty = level_bounds(difficulty)

    def sample(self, rng: np.random.Generator) -> Task:
        """Return one maze drawn with ``rng`` only."""
        return generate(draw_level(self.difficulty, check_rng(rng)), rng)

    def __repr__(self) -> str:
        return f"MazeTaskGenerator(difficulty={self.difficulty!r})"
