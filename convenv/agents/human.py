"""A human at the terminal: reads each utterance from a line of input.

The agent shows the messages that appeared in its view since it last looked (decoded from the observation's
token ids, split at the tokenizer's role headers), then asks for a line. ``input_fn`` and ``output_fn`` can be
replaced, which is how the tests drive it.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from convenv.agent import Info, Observation
from convenv.tokenizers import get_tokenizer
from convenv.transcript import SPEAKERS

QUIT_COMMAND = "/quit"


class HumanQuit(KeyboardInterrupt):
    """The human typed ``/quit`` (or closed the input): stop playing.

    Like :class:`KeyboardInterrupt`, it is not an :class:`Exception`, so ``except Exception`` does not swallow it.
    """


class HumanAgent:
    """Plays one role from the terminal.

    At its turn it prints every message of its view it has not shown yet (its own messages excepted: the human
    typed them), then reads a line: an empty line asks again, ``/quit`` (or end of input) raises
    :class:`HumanQuit`. Offsets are kept per conversation (position in the batch); a view that does not extend
    the one seen before is taken to be a new episode and shown from the start.

    Args:
        role: ``"student"`` or ``"teacher"``.
        tokenizer: the env's tokenizer (``env.tokenizer``), or anything :func:`~convenv.tokenizers.get_tokenizer`
            accepts.
        input_fn: reads one line given a prompt (default: the built-in ``input``, looked up when the agent is made).
        output_fn: prints one string (default: ``print``).

    """

    def __init__(
        self,
        role: str,
        tokenizer: Any,
        input_fn: Callable[[str], str] | None = None,
        output_fn: Callable[[str], Any] | None = None,
    ):
        self.role = role
        self.tokenizer = get_tokenizer(tokenizer)
        self.input_fn = input_fn if input_fn is not None else builtins.input
        self.output_fn = output_fn if output_fn is not None else builtins.print
        self._headers = self._role_headers()
        self._seen: dict[int, np.ndarray] = {}  # conversation index -> the view ids already shown

    def _role_headers(self) -> list[tuple[tuple[int, ...], str]]:
        """Header ids of each speaker as this role sees them, longest first (first speaker wins a tie)."""
        headers: dict[tuple[int, ...], str] = {}
        for speaker in SPEAKERS:
            try:
                ids = tuple(self.tokenizer.render_header(self.tokenizer.template_role(speaker, self.role)))
            except (KeyError, ValueError):  # a tokenizer may not know every speaker
                continue
            if ids:
                headers.setdefault(ids, speaker)
        return sorted(headers.items(), key=lambda item: -len(item[0]))

    def reset(self) -> None:
        """Forget what was shown: the next view is shown from its start."""
        self._seen.clear()

    def split_messages(self, ids: Sequence[int]) -> list[tuple[str | None, str]]:
        """Split view ids into ``(speaker, text)`` pairs at the role headers (speaker None before the first)."""
        ids = [int(i) for i in ids]
        starts: list[tuple[int, int, str | None]] = []  # (header start, body start, speaker)
        pos = 0
        while pos < len(ids):
            for header, speaker in self._headers:
                if tuple(ids[pos : pos + len(header)]) == header:
                    starts.append((pos, pos + len(header), speaker))
                    pos += len(header)
                    break
            else:
                pos += 1
        if not starts or starts[0][0] > 0:
            starts.insert(0, (0, 0, None))
        messages = []
        for (_, body, speaker), nxt in zip(starts, [*starts[1:], (len(ids), len(ids), None)], strict=True):
            text = self.tokenizer.decode(ids[body : nxt[0]], skip_special_tokens=True).strip()
            if text or speaker is not None:
                messages.append((speaker, text))
        return messages

    def show(self, observation: Observation, index: int = 0) -> list[tuple[str | None, str]]:
        """Print the messages of conversation ``index``'s view not shown yet; returns them."""
        tokens = np.asarray(observation["tokens"])
        seen = self._seen.get(index)
        if seen is None or len(tokens) < len(seen) or not np.array_equal(tokens[: len(seen)], seen):
            seen = tokens[:0]  # a new episode: show everything
        new = [(s, t) for s, t in self.split_messages(tokens[len(seen) :]) if s != self.role]
        self._seen[index] = tokens.copy()
        for speaker, text in new:
            label = f"[{speaker or 'view'}]"
            self.output_fn(text if text.startswith(label) else f"{label} {text}")
        return new

    def read(self, prompt: str) -> str:
        """Read a non-empty message; ``/quit`` or end of input raises :class:`HumanQuit`.

        A message is one line, or, when its first line opens a code fence (```), every line up to and including
        the closing fence, so code can be typed or pasted.
        """
        while True:
            line = self._line(prompt).strip()
            if line == QUIT_COMMAND:
                raise HumanQuit(QUIT_COMMAND)
            if line.startswith("```"):
                lines = [line]
                while len(lines) == 1 or lines[-1].strip() != "```":
                    lines.append(self._line("... ").rstrip("\n"))
                return "\n".join(lines)
            if line:
                return line
            self.output_fn(f"(type a message, or {QUIT_COMMAND} to stop)")

    def _line(self, prompt: str) -> str:
        try:
            return self.input_fn(prompt)
        except EOFError as err:
            raise HumanQuit("end of input") from err

    def act(self, observations: Sequence[Observation], infos: Sequence[Info]) -> list[np.ndarray | None]:
        """For each conversation where this role is to act: show the new messages, read a line, encode it."""
        many = sum(info.get("to_act") == self.role for info in infos) > 1
        actions: list[np.ndarray | None] = []
        for index, (observation, info) in enumerate(zip(observations, infos, strict=True)):
            if info.get("to_act") != self.role:
                actions.append(None)
                continue
            if many:
                self.output_fn(f"--- conversation {index}")
            self.show(observation, index)
            while True:
                line = self.read(f"{self.role}> ")
                try:
                    ids = self.tokenizer.encode(line)
                except ValueError as err:  # e.g. a character outside a course env's tiny alphabet
                    self.output_fn(f"(not sent: {err})")
                    continue
                break
            actions.append(np.asarray(ids, dtype=np.int64))
        return actions

    def __repr__(self) -> str:
        return f"HumanAgent(role={self.role!r}, tokenizer={getattr(self.tokenizer, 'name', self.tokenizer)!r})"
