"""convenv: teacher–student dialogues as reinforcement-learning environments for language models.

>>> import convenv
>>> env = convenv.make("MathTutor-v0")
>>> observations, infos = env.reset(seed=0)
>>> infos["teacher"]["to_act"]
'teacher'
>>> env.close()

``import convenv`` loads no torch, transformers or stable-baselines3; those load when an agent or trainer that
needs them is used.
"""

from __future__ import annotations

from convenv import envs as _builtin_envs  # registers the built-in envs
from convenv.agent import Agent, ScriptedTeacher
from convenv.domain import Domain, FeedbackPolicy
from convenv.env import ConversationEnv
from convenv.registration import EnvSpec, make, pprint_registry, register, registry, spec
from convenv.spaces import TokenSequence
from convenv.tasks.base import Task
from convenv.transcript import Message, Transcript
from convenv.verifiers.base import Verdict

__version__ = "0.1.0"

__all__ = [
    "Agent",
    "ConversationEnv",
    "Domain",
    "EnvSpec",
    "FeedbackPolicy",
    "Message",
    "ScriptedTeacher",
    "Task",
    "TokenSequence",
    "Transcript",
    "Verdict",
    "make",
    "pprint_registry",
    "register",
    "registry",
    "spec",
]

del _builtin_envs
