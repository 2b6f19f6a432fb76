"""Wrappers: single-agent Gymnasium views, fixed-size adapters for RL libraries, a text view, AEC conversion."""

from convenv.wrappers.fixed_size import FixedSizeCodec, FixedSizeEnv, FixedSizeParallelEnv
from convenv.wrappers.single_agent import RoleEnv, StudentEnv, TeacherEnv
from convenv.wrappers.text import TextWrapper, Utterance, to_aec

__all__ = [
    "FixedSizeCodec",
    "FixedSizeEnv",
    "FixedSizeParallelEnv",
    "RoleEnv",
    "StudentEnv",
    "TeacherEnv",
    "TextWrapper",
    "Utterance",
    "to_aec",
]
