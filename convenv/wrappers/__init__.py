"""Wrappers: single-agent Gymnasium views, a text-level view, and AEC conversion."""

from convenv.wrappers.single_agent import RoleEnv, StudentEnv, TeacherEnv
from convenv.wrappers.text import TextWrapper, Utterance, to_aec

__all__ = ["RoleEnv", "StudentEnv", "TeacherEnv", "TextWrapper", "Utterance", "to_aec"]
