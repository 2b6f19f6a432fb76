from collections import deque

import numpy as np
import pytest

from convenv.tasks.base import TaskSource
from convenv.tasks.maze import SIZES, MazeTaskGenerator, generate, shortest_path, simulate

STEP = {"U": (-1, 0), "D": (1, 0), "L": (0, -1), "R": (0, 1)}


def bfs(grid, source):
    """An independent breadth-first search: distance to every open square reachable from ``source``."""
    rows, cols = len(grid), len(grid[0])
    dist, queue = {source: 0}, deque([source])
    while queue:
        r, c = queue.popleft()
        for dr, dc in STEP.values():
            nr, nc = r + dr, c + dc
            if 0 <= nr < rows and 0 <= nc < cols and grid[nr][nc] != "#" and (nr, nc) not in dist:
                dist[(nr, nc)] = dist[(r, c)] + 1
                queue.append((nr, nc))
    return dist


def locate(grid, mark):
    return next((r, row.index(mark)) for r, row in enumerate(grid) if mark in row)


def walk(grid, moves, start):
    pos = start
    for m in moves:
        pos = (pos[0] + STEP[m][0], pos[1] + STEP[m][1])
        assert 0 <= pos[0] < len(grid) and 0 <= pos[1] < len(grid[0]) and grid[pos[0]][pos[1]] != "#"
    return pos


@pytest.mark.parametrize("level", [1, 2, 3])
def test_every_maze_is_solvable_and_the_answer_is_a_shortest_path(level):
    rng = np.random.default_rng(level)
    for _ in range(150):
        task = generate(level, rng)
        grid = task.metadata["grid"]
        n = SIZES[level]
        assert len(grid) == n and all(len(row) == n for row in grid)
        assert set("".join(grid)) <= set("#.SG")
        assert "".join(grid).count("S") == 1 and "".join(grid).count("G") == 1
        start, goal = locate(grid, "S"), locate(grid, "G")
        dist = bfs(grid, start)
        assert goal in dist and dist[goal] >= 6
        open_squares = sum(row.count(ch) for row in grid for ch in ".SG")
        assert len(dist) == open_squares  # every open square is connected
        moves = task.answer.split()
        assert len(moves) == dist[goal] == task.metadata["shortest"]
        assert walk(grid, moves, start) == goal
        assert task.id.startswith(f"maze/grid/{level}/") and len(task.id.rsplit("/", 1)[1]) == 12
        assert "\n".join(grid) in task.prompt and task.answer not in task.prompt


def test_generation_is_deterministic_and_varied():
    a = [generate(2, np.random.default_rng(s)) for s in range(20)]
    b = [generate(2, np.random.default_rng(s)) for s in range(20)]
    assert [t.id for t in a] == [t.id for t in b] and [t.prompt for t in a] == [t.prompt for t in b]
    assert len({t.id for t in a}) == 20


def test_generator_is_a_task_source_over_a_range():
    source = MazeTaskGenerator(difficulty=(1, 3))
    assert isinstance(source, TaskSource)
    rng = np.random.default_rng(0)
    assert {source.sample(rng).metadata["difficulty"] for _ in range(40)} == {1, 2, 3}


@pytest.mark.parametrize(("difficulty", "match"), [(4, "integer level in 1..3"), ((3, 1), "low <= high")])
def test_bad_difficulty_is_refused(difficulty, match):
    with pytest.raises(ValueError, match=match):
        MazeTaskGenerator(difficulty=difficulty)


def test_rng_must_be_a_generator():
    with pytest.raises(TypeError, match="numpy.random.Generator"):
        generate(1, 0)


def test_simulate_reports_walls_edges_and_the_goal():
    grid = ("S..", "##.", "G..")
    assert shortest_path(grid) == ["R", "R", "D", "D", "L", "L"]
    assert simulate(grid, "D").blocked == (1, (0, 0), (1, 0), "wall")
    assert simulate(grid, "U").blocked == (1, (0, 0), (-1, 0), "off_grid")
    full = simulate(grid, "RRDDLL")
    assert full.end == (2, 0) and full.reached == 6 and full.blocked is None
    past = simulate(grid, "RRDDLLR")
    assert past.end == (2, 1) and past.reached == 6
