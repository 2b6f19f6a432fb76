"""Agents: implementations of the batched :class:`~convenv.agent.Agent` protocol.

Everything importable from here is light (numpy only): scripted teachers, random agents, oracle and
probabilistic students for tests and demos, and a human at the terminal. Agents backed by a model load torch
and transformers only when they are imported from their own module.
"""

from __future__ import annotations

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
