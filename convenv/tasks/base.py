"""Tasks: one verifiable problem with its public prompt and its privileged knowledge."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np


@dataclass(frozen=True)
class Task:
    """One problem.

    Only ``prompt`` is public. ``answer``, ``solution``, ``hints`` and ``tests`` are privileged: they reach the
    teacher's view and the verifier, never the student's view.

    Attributes:
        id: stable identifier, e.g. ``"math/linear/2/8f3a01"`` (domain/family/difficulty/hash). Every agent sees
            it, so it must be derived from public content only (never a digest of the answer).
        domain: ``"math"``, ``"code"``, ...
        prompt: the problem statement the teacher opens with.
        answer: the gold answer in canonical text form (for math: parseable by the restricted parser).
        solution: a worked solution (privileged).
        hints: progressively more revealing hints, none of which states the answer.
        tests: hidden tests (code domain).
        shards: pieces of an underspecified task, revealed one per turn.
        metadata: free-form facts, e.g. ``{"family": "linear", "difficulty": 2}``.

    """

    id: str
    domain: str
    prompt: str
    answer: str
    solution: str = ""
    hints: tuple[str, ...] = ()
    tests: tuple[Any, ...] = ()
    shards: tuple[str, ...] = ()
    metadata: Mapping[str, Any] = field(default_factory=dict)


@runtime_checkable
class TaskSource(Protocol):
    """Anything that draws tasks from a generator it is handed (never from global RNG state)."""

    def sample(self, rng: np.random.Generator) -> Task:
        """Return one task chosen with ``rng`` only."""
        ...


class TaskList:
    """A fixed list of tasks (e.g. loaded from a JSONL file) sampled uniformly."""

    def __init__(self, tasks: Sequence[Task]):
        if len(tasks) == 0:
            raise ValueError("expected at least one task, got an empty list; check the file or filter you used")
        self.tasks = tuple(tasks)

    def __len__(self) -> int:
        return len(self.tasks)

    def __getitem__(self, index: int) -> Task:
        return self.tasks[index]

    def sample(self, rng: np.random.Generator) -> Task:
        """Return a task drawn uniformly with ``rng``."""
        return self.tasks[int(rng.integers(len(self.tasks)))]
