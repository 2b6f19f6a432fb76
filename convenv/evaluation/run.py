"""``evaluate``: play fixed seeds with each student against one teacher and compute every metric.

Episode ``i`` of every student resets its env with seed ``seed + i``, so all students meet the same tasks in the
same order and the comparison is paired. Episodes are played in batches (:func:`convenv.play.play_batch`): a model
agent generates for the whole batch at once. Stochastic agents (``random``, ``probabilistic:P``, sampling models)
are seeded with ``seed``; their draws depend on the batch size too, so keep it fixed when comparing runs.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from convenv.evaluation.agents import AgentSpec, build_agent, load_model, model_source, parse_agent
from convenv.evaluation.metrics import AgentMetrics, summarize
from convenv.evaluation.transcripts import EpisodeRecord, record_episode, write_jsonl

__all__ = ["EvalReport", "evaluate"]

StudentSpecs = str | Sequence[str] | Mapping[str, str | Callable[[Sequence[Any]], Any]]


@dataclass
class EvalReport:
    """The result of :func:`evaluate`.

    Attributes:
        env_id: the env evaluated.
        env_kwargs: its keyword arguments (``max_turns`` included when given).
        teacher: the teacher spec.
        episodes: episodes per student.
        seed: episode ``i`` used reset seed ``seed + i``.
        metrics: one :class:`~convenv.evaluation.metrics.AgentMetrics` per student, in the order given.
        records: per student label, its episodes in seed order.

    """

    env_id: str
    env_kwargs: dict[str, Any]
    teacher: str
    episodes: int
    seed: int
    metrics: list[AgentMetrics]
    records: dict[str, list[EpisodeRecord]] = field(repr=False)

    def to_dict(self) -> dict[str, Any]:
        """The report without the transcripts, JSON-ready (what ``convenv eval --out`` writes to metrics.json)."""
        return {
            "env_id": self.env_id,
            "env_kwargs": {k: v if _jsonable(v) else repr(v) for k, v in self.env_kwargs.items()},
            "teacher": self.teacher,
            "episodes": self.episodes,
            "seeds": [self.seed, self.seed + self.episodes - 1],
            "confidence": 0.95,
            "interval": "wilson",
            "students": {m.label: m.to_dict() for m in self.metrics},
        }

    def table(self, style: str = "auto") -> str:
        """The report as text tables (see :func:`~convenv.evaluation.table.format_report`)."""
        from convenv.evaluation.table import format_report

        return format_report(self, style=style)

    def write(self, out: str | os.PathLike, *, plot: bool = True) -> list[str]:
        """Write ``metrics.json``, ``transcripts.jsonl`` (every student's episodes) and ``success_by_turn.png``.

        Returns:
            The names written, sorted.

        """
        os.makedirs(out, exist_ok=True)
        with open(os.path.join(out, "metrics.json"), "w", encoding="utf-8") as f:
            json.dump(self.to_dict(), f, indent=1)
        write_jsonl(
            (r for m in self.metrics for r in self.records[m.label]), os.path.join(out, "transcripts.jsonl")
        )
        names = ["metrics.json", "transcripts.jsonl"]
        if plot:
            from convenv.evaluation.plot import plot_success_by_turn

            title = f"{self.env_id}, teacher {self.teacher}, {self.episodes} episodes"
            plot_success_by_turn(self.metrics, os.path.join(out, "success_by_turn.png"), title=title)
            names.append("success_by_turn.png")
        return sorted(names)


def _jsonable(value: Any) -> bool:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return False
    return True


def evaluate(
    env_id: str,
    students: StudentSpecs,
    *,
    teacher: str = "scripted",
    episodes: int = 100,
    seed: int = 0,
    env_kwargs: Mapping[str, Any] | None = None,
    max_turns: int | None = None,
    batch_size: int = 32,
    hf_kwargs: Mapping[str, Any] | None = None,
    gold_nll: bool = True,
    progress: bool = False,
) -> EvalReport:
    """Play ``episodes`` fixed-seed episodes with each student against ``teacher``; return every metric.

    >>> from convenv.evaluation import evaluate
    >>> report = evaluate("GuessNumber-v0", ["bisection", "no-feedback"], episodes=20)
    >>> [m.success for m in report.metrics]
    [1.0, 0.2]

    Args:
        env_id: a registered env id.
        students: one spec, a list of specs, or ``{label: spec or factory}`` where a factory
            ``envs -> agent`` builds an agent of your own for a batch's envs (see
            :mod:`convenv.evaluation.agents` for the specs).
        teacher: the teacher spec (default the env's scripted teacher).
        episodes: episodes per student, with reset seeds ``seed .. seed + episodes - 1``.
        seed: the first reset seed; also seeds the agents.
        env_kwargs: passed to ``convenv.make``.
        max_turns: the env's turn limit (default: the env's own).
        batch_size: conversations played at once (1 with a human).
        hf_kwargs: extra :meth:`~convenv.agents.HFAgent.for_env` arguments for model agents (e.g.
            ``{"do_sample": True, "temperature": 0.7}``, ``{"device": "cpu"}``).
        gold_nll: score the gold answer under model students after each teacher message.
        progress: print ``eval LABEL: done/episodes`` to stderr after each batch (not while a human plays).

    Raises:
        ValueError: no student, repeated labels, fewer than one episode, an unknown spec, or a teacher policy
            given twice (``teacher=`` and ``env_kwargs["teacher"]``).

    """
    if isinstance(students, str):
        students = [students]
    entries = list(students.items()) if isinstance(students, Mapping) else [(str(s), s) for s in students]
    labels = [label for label, _ in entries]
    if not entries or len(set(labels)) != len(labels):
        raise ValueError(f"expected one or more distinct students, got {labels}; name each student once")
    if int(episodes) < 1 or int(batch_size) < 1:
        raise ValueError(f"expected episodes >= 1 and batch_size >= 1, got {episodes} and {batch_size}")
    base = dict(env_kwargs or {})
    if max_turns is not None:
        base["max_turns"] = int(max_turns)
    teacher_spec = parse_agent(teacher, "teacher")
    if teacher_spec.kind == "policy":
        if "teacher" in base and base["teacher"] != teacher_spec.arg:
            raise ValueError(
                f"expected the teacher policy once, got teacher={teacher!r} and env_kwargs teacher="
                f"{base['teacher']!r}; drop one of them"
            )
        base["teacher"] = teacher_spec.arg
    records = {}
    for label, spec in entries:
        parsed = parse_agent(spec, "student") if isinstance(spec, str) else spec
        records[label] = _play(
            env_id, label, parsed, teacher_spec, base, int(episodes), int(seed), int(batch_size), hf_kwargs,
            gold_nll, progress,
        )  # fmt: skip
    metrics = [summarize(records[label], label) for label in labels]
    return EvalReport(env_id, base, teacher, int(episodes), int(seed), metrics, records)


class _Recording:
    """An env seen through play_batch, keeping its last infos (the final ``info["episode"]``)."""

    def __init__(self, env: Any):
        self.env = env
        self.last_infos: Mapping[str, Any] = {}

    def reset(self, *args: Any, **kwargs: Any) -> Any:
        observations, self.last_infos = self.env.reset(*args, **kwargs)
        return observations, self.last_infos

    def step(self, actions: Any) -> Any:
        out = self.env.step(actions)
        self.last_infos = out[-1]
        return out

    def __getattr__(self, name: str) -> Any:
        return getattr(self.env, name)


def _models(specs: Sequence[Any], kwargs: dict[str, Any]) -> dict[int, Any]:
    """Load the model of each ``hf`` spec; the env speaks a model's saved tokenizer unless one was given."""
    models, tokenizers = {}, {}
    for i, spec in enumerate(specs):
        if isinstance(spec, AgentSpec) and spec.kind == "hf":
            source, tokenizer = model_source(spec)
            models[i] = load_model(source)
            if tokenizer is not None:
                tokenizers[spec.text] = tokenizer
    if "tokenizer" not in kwargs and tokenizers:
        if len(set(tokenizers.values())) > 1:
            raise ValueError(
                f"expected the student and teacher models to share a tokenizer, got {sorted(tokenizers.values())}; "
                "evaluate models of one tokenizer family together, or pass env_kwargs tokenizer="
            )
        kwargs["tokenizer"] = next(iter(tokenizers.values()))
    return models


def _play(
    env_id: str,
    label: str,
    student: Any,
    teacher: AgentSpec,
    base: dict[str, Any],
    episodes: int,
    seed: int,
    batch_size: int,
    hf_kwargs: Mapping[str, Any] | None,
    gold_nll: bool,
    progress: bool = False,
) -> list[EpisodeRecord]:
    import convenv
    from convenv.play import play_batch

    kwargs = dict(base)
    models = _models([student, teacher], kwargs)
    human = any(isinstance(s, AgentSpec) and s.kind == "human" for s in (student, teacher))
    size = 1 if human else min(batch_size, episodes)  # a human plays one conversation at a time
    try:
        envs = [convenv.make(env_id, **kwargs) for _ in range(size)]
    except ValueError as e:
        if teacher.kind != "policy":
            raise
        raise ValueError(
            f"expected a teacher spec ({', '.join(('scripted', 'random', 'human', 'hf:NAME_OR_PATH'))}) or a "
            f"feedback policy of {env_id}, got {teacher.text!r}: {e}"
        ) from e
    records: list[EpisodeRecord] = []
    try:
        agents = {
            "student": build_agent(student, "student", envs, seed=seed, model=models.get(0), hf_kwargs=hf_kwargs),
            "teacher": build_agent(teacher, "teacher", envs, seed=seed, model=models.get(1), hf_kwargs=hf_kwargs),
        }
        scorer = agents["student"] if gold_nll and _is_hf_agent(agents["student"]) else None
        for first in range(seed, seed + episodes, size):
            seeds = list(range(first, min(first + size, seed + episodes)))
            batch = [_Recording(env) for env in envs[: len(seeds)]]
            results = play_batch(batch, agents, seeds=seeds)
            if progress and not human:  # a long model eval should show it is moving; stderr keeps stdout clean
                done = seeds[-1] - seed + 1
                print(f"eval {label}: {done}/{episodes} episodes", file=sys.stderr, flush=True)
            for env, result, s in zip(batch, results, seeds, strict=True):
                nll = None
                if scorer is not None:
                    from convenv.evaluation.nll import gold_answer_nll

                    nll = gold_answer_nll(scorer, env.env)
                episode = next(iter(env.last_infos.values()))["episode"]
                records.append(
                    record_episode(
                        env.env,
                        episode,
                        result.returns,
                        seed=s,
                        student=label,
                        teacher=teacher.text,
                        env_kwargs={"max_turns": env.max_turns, **kwargs},
                        gold_nll=nll,
                    )
                )
        for agent in agents.values():
            if _is_hf_agent(agent):
                agent.reset()  # free its KV cache
    finally:
        for env in envs:
            env.close()
    return records


def _is_hf_agent(agent: Any) -> bool:
    # HFAgent's module is loaded iff one was built: checking sys.modules keeps torch unimported otherwise
    module = sys.modules.get("convenv.agents.hf")
    return module is not None and isinstance(agent, module.HFAgent)
