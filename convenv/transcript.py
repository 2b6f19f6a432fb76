"""The append-only transcript and its per-viewer token views (DESIGN §3).

Each message is rendered to token ids once, when it is appended, for every viewer allowed to see it; a view's
token stream is ``render_prefix()`` followed by its messages' renders. Nothing already written is ever
re-rendered, so for every view and every k the first k messages' tokens are a prefix of the first k+1's.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from convenv.tokenizers.base import Tokenizer, render_message

SPEAKERS = ("system", "teacher", "student", "verifier")


@dataclass(frozen=True)
class Message:
    """One message.

    Attributes:
        speaker: ``"system"``, ``"teacher"``, ``"student"`` or ``"verifier"`` (reports only the teacher sees).
        text: the decoded text (for logs and scripted agents; the ids are authoritative).
        body: the body ids exactly as spoken (generated ids are kept, never re-encoded).
        visible_to: the viewers whose view contains this message.

    """

    speaker: str
    text: str
    body: tuple[int, ...]
    visible_to: frozenset[str]

    @property
    def public(self) -> bool:
        """Whether every viewer sees this message."""
        return len(self.visible_to) > 1


class Transcript:
    """Append-only list of messages with one token stream per viewer.

    >>> from convenv.tokenizers import ByteTokenizer
    >>> t = Transcript(ByteTokenizer(), viewers=("teacher", "student"))
    >>> _ = t.append("teacher", text="Hi", visible_to=("teacher", "student"))
    >>> t.view_text("student")
    'Hi'
    """

    def __init__(self, tokenizer: Tokenizer, viewers: Sequence[str] = ("teacher", "student")):
        self.tokenizer = tokenizer
        self.viewers = tuple(viewers)
        self._messages: list[Message] = []
        prefix = list(tokenizer.render_prefix())
        self._ids: dict[str, list[int]] = {v: list(prefix) for v in self.viewers}
        # per viewer: (message index, start, end) of each render in the view's stream
        self._spans: dict[str, list[tuple[int, int, int]]] = {v: [] for v in self.viewers}

    @property
    def messages(self) -> tuple[Message, ...]:
        """Every message, in order."""
        return tuple(self._messages)

    def __len__(self) -> int:
        return len(self._messages)

    def render(self, speaker: str, body: Sequence[int], viewer: str) -> list[int]:
        """The ids ``body`` spoken by ``speaker`` gets in ``viewer``'s view (pure; appends nothing)."""
        role = self.tokenizer.template_role(speaker, viewer)
        return render_message(self.tokenizer, role, body)

    def renders(self, speaker: str, body: Sequence[int], visible_to: Iterable[str]) -> dict[str, list[int]]:
        """Per viewer, the render the message would add (used to check limits before appending)."""
        return {v: self.render(speaker, body, v) for v in self.viewers if v in set(visible_to)}

    def append(
        self,
        speaker: str,
        *,
        visible_to: Iterable[str],
        text: str | None = None,
        body: Sequence[int] | None = None,
    ) -> Message:
        """Append one message; give its ``text`` (encoded once) or its exact ``body`` ids (kept as they are)."""
        if speaker not in SPEAKERS:
            raise ValueError(f"expected a speaker in {SPEAKERS}, got {speaker!r}; use one of those")
        visible = frozenset(visible_to)
        unknown = visible - set(self.viewers)
        if unknown or not visible:
            raise ValueError(
                f"expected visible_to to be a non-empty subset of {self.viewers}, got {sorted(visible)}; "
                "name existing viewers"
            )
        if body is None:
            if text is None:
                raise ValueError("expected `text` or `body`, got neither; pass the message content")
            body = self.tokenizer.encode(text)
        body = tuple(int(i) for i in body)
        if text is None:
            text = self.tokenizer.decode(body)
        renders = self.renders(speaker, body, visible)
        message = Message(speaker, text, body, visible)
        index = len(self._messages)
        self._messages.append(message)
        for viewer, ids in renders.items():
            start = len(self._ids[viewer])
            self._ids[viewer].extend(ids)
            self._spans[viewer].append((index, start, start + len(ids)))
        return message

    def view_ids(self, viewer: str) -> np.ndarray:
        """The viewer's whole token stream as a fresh ``int64`` array."""
        return np.asarray(self._ids[self._check_viewer(viewer)], dtype=np.int64)

    def view_length(self, viewer: str) -> int:
        """Number of ids in the viewer's stream."""
        return len(self._ids[self._check_viewer(viewer)])

    def view_messages(self, viewer: str) -> list[Message]:
        """The messages the viewer sees, in order."""
        return [self._messages[i] for i, _, _ in self._spans[self._check_viewer(viewer)]]

    def view_spans(self, viewer: str) -> list[tuple[Message, int, int]]:
        """``(message, start, end)`` of each render in the viewer's stream."""
        return [(self._messages[i], s, e) for i, s, e in self._spans[self._check_viewer(viewer)]]

    def view_text(self, viewer: str, skip_special_tokens: bool = True) -> str:
        """The viewer's stream decoded (specials shown as names unless skipped)."""
        return self.tokenizer.decode(self._ids[self._check_viewer(viewer)], skip_special_tokens)

    def _check_viewer(self, viewer: str) -> str:
        if viewer not in self._ids:
            raise KeyError(f"expected a viewer in {self.viewers}, got {viewer!r}")
        return viewer
