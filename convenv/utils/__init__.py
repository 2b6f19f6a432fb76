"""Utilities: the shipped env checker."""

from convenv.utils.env_checker import (
    check_env,
    check_invalid_actions_change_nothing,
    check_only_speaker_acts,
    check_success_reward,
)

__all__ = ["check_env", "check_invalid_actions_change_nothing", "check_only_speaker_acts", "check_success_reward"]
