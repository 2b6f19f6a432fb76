"""Agent specs: the short strings ``convenv eval --student/--teacher`` accept, turned into batched agents.

=====================  ========  ===========================================================================
spec                   roles     agent
=====================  ========  ===========================================================================
``scripted``           teacher   the env's scripted teacher (``env.default_teacher()``)
a policy name          teacher   the env's scripted teacher with that feedback policy (e.g. ``hints``,
                                 ``verdict``, ``direction``): passed to ``convenv.make`` as ``teacher=``
``random[:L]``         both      :class:`~convenv.agents.RandomAgent`: uniform token ids, at most L (16) a turn
``oracle[:K]``         student   :class:`~convenv.agents.OracleStudent`: correct from turn K (1) on (cheats)
``probabilistic:P``    student   :class:`~convenv.agents.ProbabilisticStudent`: correct with probability P
``bisection``          student   :class:`~convenv.envs.course.BisectionStudent` (course envs)
``no-feedback``        student   ``BisectionStudent(use_feedback=False)``: ignores the teacher (course envs)
``human``              both      :class:`~convenv.agents.HumanAgent` at the terminal (one episode at a time)
``hf:NAME_OR_PATH``    both      :class:`~convenv.agents.HFAgent`, greedy: a hub name or a local model
``DIR``                both      a ``convenv train --out`` directory (its ``model/``) or a saved model directory
=====================  ========  ===========================================================================

A model with a saved tokenizer makes the env speak that tokenizer (``tokenizer=`` in the env kwargs); a model
saved without one (``convenv train --model tiny``) plays with the env's default tokenizer.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["STUDENT_SPECS", "TEACHER_SPECS", "AgentSpec", "build_agent", "parse_agent"]

STUDENT_SPECS = ("random", "oracle", "probabilistic:P", "bisection", "no-feedback", "human", "hf:NAME_OR_PATH")
TEACHER_SPECS = ("scripted", "random", "human", "hf:NAME_OR_PATH")
_STUDENT_ONLY = ("oracle", "probabilistic", "bisection", "no-feedback")
_RANDOM_MAX_LENGTH = 16  # random utterances of up to the env's limit (often 1024 ids) would only be slower


@dataclass(frozen=True)
class AgentSpec:
    """A parsed agent spec.

    Attributes:
        text: the spec as given (the agent's label).
        kind: ``scripted``, ``policy``, ``random``, ``oracle``, ``probabilistic``, ``bisection``,
            ``no-feedback``, ``human`` or ``hf``.
        arg: the spec's argument: L, K, P, the policy name or the model's name / directory.

    """

    text: str
    kind: str
    arg: Any = None


def parse_agent(spec: str, role: str) -> AgentSpec:
    """Parse ``spec`` for ``role`` (``"student"`` or ``"teacher"``); see the module docstring for the specs.

    A bare name a teacher spec does not know is taken as a feedback policy of the env, checked when the env is
    made. A spec that is an existing directory is a model directory.

    Raises:
        ValueError: an unknown spec, a student-only spec for the teacher, or a malformed argument.

    """
    if role not in ("student", "teacher"):
        raise ValueError(f"expected role 'student' or 'teacher', got {role!r}")
    text = str(spec).strip()
    name, _, arg = text.partition(":")
    if name == "hf":
        if not arg:
            raise ValueError(f"expected hf:NAME_OR_PATH, got {text!r}; e.g. hf:gpt2 or hf:runs/guess/model")
        return AgentSpec(text, "hf", arg)
    if os.path.isdir(text):
        return AgentSpec(text, "hf", text)
    if name in _STUDENT_ONLY and role == "teacher":
        raise ValueError(
            f"expected a teacher spec ({', '.join(TEACHER_SPECS)} or a feedback policy of the env), got {text!r}, "
            "which plays the student; pass it as --student"
        )
    if name == "random":
        return AgentSpec(text, "random", _number(arg, text, int, _RANDOM_MAX_LENGTH, low=1))
    if name == "oracle":
        return AgentSpec(text, "oracle", _number(arg, text, int, 1, low=1))
    if name == "probabilistic":
        p = _number(arg, text, float, None, low=0.0, high=1.0)
        if p is None:
            raise ValueError(f"expected probabilistic:P with 0 <= P <= 1, got {text!r}; e.g. probabilistic:0.4")
        return AgentSpec(text, "probabilistic", p)
    if name in ("bisection", "no-feedback", "human") and not arg:
        return AgentSpec(text, name)
    if role == "teacher":
        if text == "scripted":
            return AgentSpec(text, "scripted")
        if text.isidentifier():
            return AgentSpec(text, "policy", text)
    if "/" in text or os.sep in text:
        raise ValueError(
            f"expected an existing model directory (a convenv train --out directory or a saved model), got "
            f"{text!r}, which does not exist; check the path, or write hf:NAME for a hub model"
        )
    known = STUDENT_SPECS if role == "student" else TEACHER_SPECS
    close = difflib.get_close_matches(name, [k.split(":")[0] for k in known], n=1)
    hint = f"did you mean {close[0]!r}?" if close else f"use one of {', '.join(known)}"
    raise ValueError(f"expected a {role} spec ({', '.join(known)} or a model directory), got {text!r}; {hint}")


def _number(arg: str, text: str, kind: type, default: Any, *, low: float, high: float | None = None) -> Any:
    if not arg:
        return default
    try:
        value = kind(arg)
    except ValueError:
        value = None
    if value is None or value < low or (high is not None and value > high):
        bound = f"{low} <= value <= {high}" if high is not None else f"value >= {low}"
        raise ValueError(f"expected {text.split(':')[0]}:{kind.__name__.upper()} with {bound}, got {text!r}")
    return value


# --------------------------------------------------------------------------------------------------- models
def model_source(spec: AgentSpec) -> tuple[str, str | None]:
    """``(model to load, tokenizer for the env or None)`` of an ``hf`` spec.

    A ``convenv train --out`` directory holds the model in ``model/``; a directory with tokenizer files gives the
    env that tokenizer; a hub name gives its own.
    """
    path = Path(spec.arg)
    if path.is_dir():
        if (path / "model" / "config.json").exists():
            path = path / "model"
        if not (path / "config.json").exists():
            raise ValueError(
                f"expected a model directory (config.json) or a convenv train --out directory (model/config.json), "
                f"got {spec.arg!r} without either; point at the run's --out directory or its model/"
            )
        tokenizer = str(path) if (path / "tokenizer_config.json").exists() else None
        return str(path), tokenizer
    return str(spec.arg), str(spec.arg)


def load_model(source: str) -> Any:
    """``AutoModelForCausalLM.from_pretrained(source)``, with an error that says what to do when it fails."""
    from convenv.error import missing_extra

    try:
        from transformers import AutoModelForCausalLM
    except ImportError as e:
        raise missing_extra(e.name or "transformers", "hf") from e
    try:
        return AutoModelForCausalLM.from_pretrained(source)
    except (OSError, ValueError) as e:
        offline = os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes", "on")
        where = (
            "not found locally, and HF_HUB_OFFLINE is set, so the hub was not asked; download it first (unset "
            f"HF_HUB_OFFLINE, or `huggingface-cli download {source}`) or pass a local directory"
            if offline
            else "not found locally or on the hub; check the name or pass a local directory"
        )
        raise ValueError(f"expected a loadable model, got {source!r}: {where}") from e


# --------------------------------------------------------------------------------------------------- agents
def build_agent(
    spec: AgentSpec | Callable[[Sequence[Any]], Any],
    role: str,
    envs: Sequence[Any],
    *,
    seed: int = 0,
    model: Any = None,
    hf_kwargs: Mapping[str, Any] | None = None,
) -> Any:
    """Build the batched agent of ``spec`` playing ``role`` in ``envs`` (one env per conversation of a batch).

    Args:
        spec: a parsed spec, or a factory ``envs -> agent`` (for agents of your own).
        role: the role played.
        envs: the envs of the batch, already made with the spec's env kwargs (a policy spec's ``teacher=``, an
            ``hf`` spec's ``tokenizer=``).
        seed: seeds the agent's randomness.
        model: for an ``hf`` spec, the loaded model (:func:`load_model`).
        hf_kwargs: extra keyword arguments of :meth:`~convenv.agents.HFAgent.for_env` (default greedy, at most
            64 new ids a turn or the env's limit).

    """
    if callable(spec):
        return spec(envs)
    env = envs[0]
    kind = spec.kind
    if kind in ("scripted", "policy"):
        return env.default_teacher(seed=seed)
    if kind == "random":
        from convenv.agents import RandomAgent

        return RandomAgent(role, env, seed=seed, max_length=min(int(spec.arg), int(env.max_utterance_tokens)))
    if kind in ("oracle", "probabilistic"):
        from convenv.agents import OracleStudent, ProbabilisticStudent

        if kind == "oracle":
            return OracleStudent(list(envs), correct_at=spec.arg, seed=seed)
        return ProbabilisticStudent(list(envs), p_correct=spec.arg, seed=seed)
    if kind in ("bisection", "no-feedback"):
        from convenv.envs.course import BisectionStudent

        if env.domain.name not in ("GuessNumber", "Arithmetic"):
            raise ValueError(
                f"expected a course env (GuessNumber-v0 or Arithmetic-v0) for the {kind!r} student, got "
                f"{env.env_id}; use random, oracle or probabilistic:P there"
            )
        return BisectionStudent(env.tokenizer, use_feedback=kind == "bisection")
    if kind == "human":
        from convenv.agents import HumanAgent

        return HumanAgent(role, env.tokenizer)
    if kind == "hf":
        from convenv.agents import HFAgent

        options = {"max_new_tokens": min(64, int(env.max_utterance_tokens)), "do_sample": False, "seed": seed}
        options.update(hf_kwargs or {})
        return HFAgent.for_env(env, model, role=role, **options)
    raise ValueError(f"expected a known spec kind, got {kind!r}")  # pragma: no cover - parse_agent's kinds only
