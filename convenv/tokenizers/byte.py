"""An offline byte-level tokenizer: 256 byte ids followed by a few special ids. Needs no download."""

from __future__ import annotations

from collections.abc import Sequence

ROLES = ("system", "teacher", "student", "verifier")
SPECIAL_NAMES = ("pad", "eos", "bos", "end", *ROLES)


class ByteTokenizer:
    """UTF-8 bytes as ids 0..255, then ``<pad> <eos> <bos> <end>`` and one header id per role.

    Every speaker keeps its own role token in every view (``template_role`` is the identity), so the
    same message renders to the same ids in the teacher's and the student's view.

    >>> tok = ByteTokenizer()
    >>> tok.decode(tok.encode("3x = 18"))
    '3x = 18'
    >>> tok.vocab_size
    264
    """

    name = "byte"

    def __init__(self) -> None:
        self.special_ids = {name: 256 + i for i, name in enumerate(SPECIAL_NAMES)}
        self.vocab_size = 256 + len(SPECIAL_NAMES)
        self.pad_id = self.special_ids["pad"]
        self.eos_id = self.special_ids["eos"]
        self.bos_id = self.special_ids["bos"]
        self.end_of_turn_id = self.special_ids["end"]
        self._names = {i: name for name, i in self.special_ids.items()}

    def encode(self, text: str) -> list[int]:
        """UTF-8 bytes of ``text``."""
        return list(text.encode("utf-8"))

    def decode(self, ids: Sequence[int], skip_special_tokens: bool = True) -> str:
        """Text of ``ids``; invalid UTF-8 becomes U+FFFD; specials appear as ``<name>`` unless skipped."""
        out: list[str] = []
        run = bytearray()
        for i in ids:
            i = int(i)
            if 0 <= i < 256:
                run.append(i)
                continue
            out.append(run.decode("utf-8", errors="replace"))
            run = bytearray()
            if not skip_special_tokens:
                out.append(f"<{self._names.get(i, i)}>")
        out.append(run.decode("utf-8", errors="replace"))
        return "".join(out)

    def template_role(self, speaker: str, viewer: str) -> str:
        """Speakers keep their own role token whoever is looking."""
        if speaker not in ROLES:
            raise ValueError(f"expected a role in {ROLES}, got {speaker!r}; use one of those roles")
        return speaker

    def render_prefix(self) -> list[int]:
        """Nothing: every message starts with its own role id."""
        return []

    def render_header(self, role: str) -> list[int]:
        """One id naming the role."""
        if role not in ROLES:
            raise ValueError(f"expected a role in {ROLES}, got {role!r}; use one of those roles")
        return [self.special_ids[role]]

    def render_footer(self, role: str) -> list[int]:
        """The end-of-turn id."""
        return [self.end_of_turn_id]

    def __repr__(self) -> str:
        return "ByteTokenizer()"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ByteTokenizer)

    def __hash__(self) -> int:
        return hash(ByteTokenizer)
