"""The tokenizer protocol every env and agent speaks.

A message is rendered as ``render_header(role) + body + render_footer(role)``, each part tokenized on its own,
so a view's token stream is the concatenation of its messages' renders and never changes once written
(DESIGN §3). ``role`` here is a *template role*; which template role a speaker gets depends on who is looking
(``template_role``): in the student's view the student is usually the "assistant".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol, runtime_checkable


@runtime_checkable
class Tokenizer(Protocol):
    """What convenv needs from a tokenizer.

    Attributes:
        name: a short description, e.g. ``"byte"`` or ``"hf:gpt2"``.
        vocab_size: ids are in ``range(vocab_size)``.
        pad_id: padding id (fixed-size adapters pad actions with it; the env strips trailing pads).
        eos_id: end-of-sequence id.
        end_of_turn_id: the id a model emits to end its message; the first id of every footer.
        special_ids: every structural id by name. Utterances may not contain these (except a trailing
            end-of-turn id, which the env strips), so a student cannot forge a teacher's header.

    """

    name: str
    vocab_size: int
    pad_id: int
    eos_id: int
    end_of_turn_id: int
    special_ids: Mapping[str, int]

    def encode(self, text: str) -> list[int]:
        """Token ids of ``text`` with no special tokens added."""
        ...

    def decode(self, ids: Sequence[int], skip_special_tokens: bool = True) -> str:
        """Text of ``ids``; structural ids are dropped unless ``skip_special_tokens`` is False."""
        ...

    def template_role(self, speaker: str, viewer: str) -> str:
        """The role a message by ``speaker`` has in ``viewer``'s view (e.g. "assistant" for oneself)."""
        ...

    def render_prefix(self) -> list[int]:
        """Ids that start every view once, before its first message (e.g. a BOS id; often empty)."""
        ...

    def render_header(self, role: str) -> list[int]:
        """Ids that open a message of template role ``role`` (also the generation prompt for that role)."""
        ...

    def render_footer(self, role: str) -> list[int]:
        """Ids that close a message of template role ``role``; starts with ``end_of_turn_id``."""
        ...


def render_message(tokenizer: Tokenizer, role: str, body: Sequence[int]) -> list[int]:
    """Header, body and footer of one message: the unit a view appends."""
    return [*tokenizer.render_header(role), *body, *tokenizer.render_footer(role)]


def generation_prompt(tokenizer: Tokenizer, viewer: str) -> list[int]:
    """Ids an agent appends to its view before generating its own next message."""
    return tokenizer.render_header(tokenizer.template_role(viewer, viewer))
