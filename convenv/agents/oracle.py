"""Students that read the task from the env: an oracle and a coin-flipping student, for tests and demos.

They *cheat*: they read ``env.task`` (privileged) to build correct or wrong answers with the domain's
``format_answer`` and ``wrong_answer``. The student's observation never contains the answer; these agents
exist to exercise envs, teachers and metrics without a model (e.g. ``convenv quickstart``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from convenv.agent import Info, Observation


class _CheatingStudent:
    """Shared plumbing: find each conversation's task on its env, encode the chosen answer."""

    role = "student"

    def __init__(self, env: Any | Sequence[Any], seed: int | None = 0):
        self.envs = list(env) if isinstance(env, (list, tuple)) else [env]
        if not self.envs:
            raise ValueError("expected an env (or one env per conversation), got an empty sequence; pass the env")
        self.reset(seed)

    def reset(self, seed: int | None = None) -> None:
        """Reseed the agent's own generator (None: fresh entropy)."""
        self.seed = seed
        self.rng = np.random.default_rng(seed)

    def act(self, observations: Sequence[Observation], infos: Sequence[Info]) -> list[np.ndarray | None]:
        """Return an answer for each conversation where the student is to act, else ``None``.

        Conversation ``i`` of the batch is read from the ``i``-th env given at construction (with one env, the
        batch must hold one conversation).
        """
        if len(infos) > len(self.envs):
            raise ValueError(
                f"expected at most {len(self.envs)} conversation(s), one per env given, got {len(infos)}; "
                f"build {type(self).__name__} with a list holding the env of each conversation"
            )
        actions: list[np.ndarray | None] = []
        for env, info in zip(self.envs[: len(infos)], infos, strict=True):
            if info.get("to_act") != self.role:
                actions.append(None)
                continue
            task = env.task
            if task is None or ("task_id" in info and info["task_id"] != task.id):
                raise ValueError(
                    f"expected the observation to come from {env!r}'s current episode, got task "
                    f"{info.get('task_id')!r} while the env plays {getattr(task, 'id', None)!r}; pass the env "
                    "that produced the observation"
                )
            domain = env.domain
            turn = int(info["turn"]) + 1  # the student turn this answer will be
            text = domain.format_answer(task) if self.correct(turn) else domain.wrong_answer(task, self.rng)
            actions.append(np.asarray(env.tokenizer.encode(text), dtype=np.int64))
        return actions

    def correct(self, turn: int) -> bool:
        """Return whether the answer at student turn ``turn`` (1-based) is the correct one."""
        raise NotImplementedError


class OracleStudent(_CheatingStudent):
    """Answers wrongly before turn ``correct_at`` and correctly from it on (reads the answer from the env).

    A cheat for tests and demos: it reads ``env.task``, which the student's observation never contains.

    Args:
        env: the env it plays in (or a list: the env of each conversation of a batch).
        correct_at: the first student turn (1-based) with the correct answer; None never answers correctly.
        seed: seeds the wrong answers.

    """

    def __init__(self, env: Any | Sequence[Any], correct_at: int | None = 1, seed: int | None = 0):
        if correct_at is not None and int(correct_at) < 1:
            raise ValueError(f"expected correct_at >= 1 or None, got {correct_at}; student turns start at 1")
        self.correct_at = None if correct_at is None else int(correct_at)
        super().__init__(env, seed)

    def correct(self, turn: int) -> bool:
        """Return True from turn ``correct_at`` on."""
        return self.correct_at is not None and turn >= self.correct_at

    def __repr__(self) -> str:
        return f"OracleStudent(correct_at={self.correct_at}, seed={self.seed})"


class ProbabilisticStudent(_CheatingStudent):
    """Answers correctly with probability ``p_correct`` at each turn, independently (else a wrong answer).

    Its cumulative success by turn k is ``1 - (1 - p_correct) ** k``: a curve that rises with turns, which is
    what the quick start shows. Like :class:`OracleStudent` it reads the task from the env (a demo cheat).

    Args:
        env: the env it plays in (or a list: the env of each conversation of a batch).
        p_correct: probability of a correct answer at each turn.
        seed: seeds the coin flips and the wrong answers; :meth:`reset` reseeds.

    """

    def __init__(self, env: Any | Sequence[Any], p_correct: float = 0.4, seed: int | None = 0):
        if not 0.0 <= float(p_correct) <= 1.0:
            raise ValueError(f"expected 0 <= p_correct <= 1, got {p_correct}; it is a probability")
        self.p_correct = float(p_correct)
        super().__init__(env, seed)

    def correct(self, turn: int) -> bool:
        """Flip a coin that shows True with probability ``p_correct``."""
        return bool(self.rng.random() < self.p_correct)

    def __repr__(self) -> str:
        return f"ProbabilisticStudent(p_correct={self.p_correct}, seed={self.seed})"
