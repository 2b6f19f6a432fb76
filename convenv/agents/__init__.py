"""Agents: implementations of the batched :class:`~convenv.agent.Agent` protocol.

Everything importable from here is light (numpy only): scripted teachers, random agents, oracle and
probabilistic students for tests and demos, and a human at the terminal. ``HFAgent`` (with ``Generation``,
``ValueHead`` and ``AgentStats``) loads torch and transformers on first access, from ``convenv.agents.hf``;
without them that access raises :class:`~convenv.error.MissingExtra` naming the ``hf`` extra.
"""

from __future__ import annotations

from typing import Any

from convenv.agent import Agent, ScriptedTeacher, act_one
from convenv.agents.human import HumanAgent, HumanQuit
from convenv.agents.oracle import OracleStudent, ProbabilisticStudent
from convenv.agents.random import RandomAgent

__all__ = [
    "Agent",
    "HumanAgent",
    "HumanQuit",
    "OracleStudent",
    "ProbabilisticStudent",
    "RandomAgent",
    "ScriptedTeacher",
    "act_one",
]

_HF_NAMES = ("AgentStats", "Generation", "HFAgent", "ValueHead")


def __getattr__(name: str) -> Any:
    if name in _HF_NAMES:  # lazy: importing convenv.agents must not import torch
        from convenv.agents import hf

        return getattr(hf, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
