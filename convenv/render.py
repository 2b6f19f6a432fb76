"""Text rendering of a running conversation (``render_mode="ansi"`` / ``"human"``)."""

from __future__ import annotations

import textwrap
from typing import Any

WIDTH = 100
INDENT = " " * 10


def render_blocks(env: Any) -> list[str]:
    """A header, then one block per public message (with the attempt's verdict), then the ending if any.

    Privileged content (system prompts, verifier reports) is not shown; the verdict line says what the verifier
    read from the attempt.
    """
    blocks = [f"{env.env_id}  task {env.task.id}  turn limit {env.max_turns}"]
    turn = 0
    for message, verdict in env.public_messages():
        lines = [textwrap.fill(line, WIDTH) or "" for line in message.text.splitlines() or [""]]
        body = textwrap.indent("\n".join(lines), INDENT).lstrip()
        block = f"[{message.speaker}] " + body
        turn += message.speaker == "student"  # every student message is a turn, attempt or not
        if verdict is not None:
            if verdict.correct:
                block += f"\n{INDENT}verdict: correct at turn {turn}   reward {env.gamma ** (turn - 1):.3g}"
            else:
                why = verdict.extracted if verdict.extracted is not None else verdict.error
                block += f"\n{INDENT}verdict: wrong ({why})"
        blocks.append(block)
    if env.end_reason is not None:
        blocks.append(f"{INDENT}episode over: {env.end_reason}")
    return blocks
