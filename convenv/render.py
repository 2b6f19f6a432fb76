"""Text rendering of a running conversation (``render_mode="ansi"`` / ``"human"``)."""

from __future__ import annotations

import textwrap
from typing import Any

WIDTH = 100


def render_transcript(env: Any) -> str:
    """The public dialogue with roles, and each attempt's verdict and reward, as plain text.

    Privileged content (system prompts, verifier reports) is not shown; the verdict line says what the
    verifier read from the attempt.
    """
    task = env.task
    lines = [f"{env.env_id}  task {task.id}  turn limit {env.max_turns}"]
    turn = 0
    for index, message in enumerate(env.transcript.messages):
        if message.speaker not in ("teacher", "student"):
            continue
        body = textwrap.indent(textwrap.fill(message.text, WIDTH, replace_whitespace=False), " " * 10)
        lines.append(f"[{message.speaker}] " + body.lstrip())
        verdict = env._verdicts.get(index)
        if verdict is not None:
            turn += 1
            if verdict.correct:
                reward = env.gamma ** (turn - 1)
                lines.append(f"          verdict: correct at turn {turn}   reward {reward:.3g}")
            else:
                why = verdict.extracted if verdict.extracted is not None else verdict.error
                lines.append(f"          verdict: wrong ({why})")
    if not env.agents and env._end_reason:
        lines.append(f"          episode over: {env._end_reason}")
    return "\n".join(lines)
