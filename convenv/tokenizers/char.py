"""A tiny offline tokenizer for course environments: one id per character of a small alphabet.

Observations stay short (one id per character, no multi-byte characters) and the vocabulary stays small enough
for a fixed-size ``MultiDiscrete`` action space, so a tiny model or stable-baselines3 learns on a laptop CPU.

Ids: ``0 .. len(alphabet) - 1`` are the characters, in alphabet order; then ``<pad> <eos> <bos> <end>``; then one
header id per role. A message renders as ``[role id] body [end id]``, as with the byte tokenizer.

Characters outside the alphabet: :meth:`CharTokenizer.encode` raises a :class:`ValueError` naming the character,
its position and the alphabet, so a prompt or a scripted teacher that does not fit is caught where it is written
(never silently changed). Pass ``unknown="?"`` (a character of the alphabet) to map them to that id instead: then
``decode(encode(text))`` differs from ``text`` wherever it had such characters.
"""

from __future__ import annotations

from collections.abc import Sequence

from convenv.tokenizers.byte import ROLES

COURSE_ALPHABET = "0123456789 +-*=<>?!,.:aceghiklmnorstuwx"
"""Digits, a few symbols and the few lower-case letters the course envs (GuessNumber, Arithmetic) need."""

SPECIALS = ("pad", "eos", "bos", "end")


class CharTokenizer:
    """Characters of ``alphabet`` as ids ``0..len(alphabet)-1``, then ``<pad> <eos> <bos> <end>``, one id per role.

    Every speaker keeps its own role id in every view (``template_role`` is the identity), so the same message
    renders to the same ids in the teacher's and the student's view.

    Args:
        alphabet: the characters, each once (default :data:`COURSE_ALPHABET`).
        roles: the role header ids, in order (default ``system, teacher, student, verifier``).
        unknown: None (default) to reject characters outside the alphabet with a ``ValueError``, or a character
            of the alphabet that stands in for them.

    >>> tok = CharTokenizer()
    >>> tok.encode("12<")
    [1, 2, 15]
    >>> tok.decode(tok.encode("7+5=12"))
    '7+5=12'
    >>> tok.vocab_size
    47
    >>> CharTokenizer("01").encode("2")
    Traceback (most recent call last):
    ValueError: expected characters from the tokenizer's alphabet '01', got '2' at position 0 of '2'; ...
    """

    name = "char"

    def __init__(self, alphabet: str = COURSE_ALPHABET, roles: Sequence[str] = ROLES, unknown: str | None = None):
        if not isinstance(alphabet, str) or not alphabet:
            raise ValueError(f"expected a non-empty string of characters as alphabet, got {alphabet!r}")
        repeated = sorted({c for c in alphabet if alphabet.count(c) > 1})
        if repeated:
            raise ValueError(f"expected each character once in the alphabet, got {repeated} repeated; drop them")
        roles = tuple(roles)
        if not roles or len(set(roles)) != len(roles) or not all(isinstance(r, str) and r for r in roles):
            raise ValueError(f"expected distinct non-empty role names, got {roles!r}; e.g. {ROLES}")
        clash = sorted(set(roles) & set(SPECIALS))
        if clash:
            raise ValueError(f"expected role names other than the specials {SPECIALS}, got {clash}; rename them")
        if unknown is not None and (len(unknown) != 1 or unknown not in alphabet):
            raise ValueError(
                f"expected unknown=None or one character of the alphabet, got {unknown!r}; e.g. unknown='?'"
            )
        self.alphabet = alphabet
        self.roles = roles
        self.unknown = unknown
        self._ids = {c: i for i, c in enumerate(alphabet)}
        n = len(alphabet)
        self.special_ids = {name: n + i for i, name in enumerate((*SPECIALS, *roles))}
        self.vocab_size = n + len(SPECIALS) + len(roles)
        self.pad_id = self.special_ids["pad"]
        self.eos_id = self.special_ids["eos"]
        self.bos_id = self.special_ids["bos"]
        self.end_of_turn_id = self.special_ids["end"]
        self._names = {i: name for name, i in self.special_ids.items()}
        self._unknown_id = None if unknown is None else self._ids[unknown]

    def encode(self, text: str) -> list[int]:
        """One id per character of ``text``.

        Raises:
            ValueError: a character is not in the alphabet (and no ``unknown`` stand-in was set).
        """
        ids = []
        for pos, ch in enumerate(text):
            i = self._ids.get(ch, self._unknown_id)
            if i is None:
                shown = text if len(text) <= 60 else text[:57] + "..."
                raise ValueError(
                    f"expected characters from the tokenizer's alphabet {self.alphabet!r}, got {ch!r} at position "
                    f"{pos} of {shown!r}; rewrite the text with those characters, build CharTokenizer with a "
                    "larger alphabet, or pass unknown='?' to map such characters to one id"
                )
            ids.append(i)
        return ids

    def decode(self, ids: Sequence[int], skip_special_tokens: bool = True) -> str:
        """Text of ``ids``; specials appear as ``<name>`` unless skipped; ids outside the vocabulary are dropped."""
        n = len(self.alphabet)
        out = []
        for i in ids:
            i = int(i)
            if 0 <= i < n:
                out.append(self.alphabet[i])
            elif not skip_special_tokens and i in self._names:
                out.append(f"<{self._names[i]}>")
        return "".join(out)

    def template_role(self, speaker: str, viewer: str) -> str:
        """Speakers keep their own role id whoever is looking."""
        self._check_role(speaker)
        return speaker

    def render_prefix(self) -> list[int]:
        """Nothing: every message starts with its own role id."""
        return []

    def render_header(self, role: str) -> list[int]:
        """One id naming the role."""
        self._check_role(role)
        return [self.special_ids[role]]

    def render_footer(self, role: str) -> list[int]:
        """The end-of-turn id."""
        return [self.end_of_turn_id]

    def _check_role(self, role: str) -> None:
        if role not in self.roles:
            raise ValueError(f"expected a role in {self.roles}, got {role!r}; use one of those roles")

    def __repr__(self) -> str:
        extra = "" if self.roles == ROLES else f", roles={self.roles!r}"
        extra += "" if self.unknown is None else f", unknown={self.unknown!r}"
        return f"CharTokenizer({self.alphabet!r}{extra})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CharTokenizer) and (self.alphabet, self.roles, self.unknown) == (
            other.alphabet,
            other.roles,
            other.unknown,
        )

    def __hash__(self) -> int:
        return hash((CharTokenizer, self.alphabet, self.roles, self.unknown))
