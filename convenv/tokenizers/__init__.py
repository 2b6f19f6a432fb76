"""Tokenizers: the protocol, an offline byte-level tokenizer, and an adapter for Hugging Face tokenizers.

``get_tokenizer`` turns what a user passes as ``tokenizer=`` into a :class:`Tokenizer`:
``"byte"`` (the default), a Hugging Face tokenizer object, a local path or hub name, or an object that already
follows the protocol. Hugging Face support loads lazily (``pip install 'convenv[hf]'``).
"""

from __future__ import annotations

from typing import Any

from convenv.tokenizers.base import Tokenizer, generation_prompt, render_message
from convenv.tokenizers.byte import ByteTokenizer
from convenv.tokenizers.char import CharTokenizer

__all__ = [
    "ByteTokenizer",
    "CharTokenizer",
    "HFChatTokenizer",
    "Tokenizer",
    "generation_prompt",
    "get_tokenizer",
    "render_message",
]


def __getattr__(name: str) -> Any:
    if name == "HFChatTokenizer":  # lazy, so `import convenv.tokenizers` stays free of transformers
        from convenv.tokenizers.hf import HFChatTokenizer

        return HFChatTokenizer
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def get_tokenizer(spec: Any = "byte") -> Tokenizer:
    """Return a convenv tokenizer for ``spec``.

    Args:
        spec: ``"byte"``; ``"char"`` (the course envs' tiny alphabet); an object following :class:`Tokenizer`;
            a ``transformers`` tokenizer (wrapped in :class:`convenv.tokenizers.hf.HFChatTokenizer`); or a path /
            hub name to load one from.

    """
    if spec is None or spec == "byte":
        return ByteTokenizer()
    if spec == "char":
        return CharTokenizer()
    if isinstance(spec, Tokenizer):
        return spec
    from convenv.tokenizers.hf import HFChatTokenizer  # lazy: needs the `hf` extra

    if isinstance(spec, str):
        return HFChatTokenizer.from_pretrained(spec)
    return HFChatTokenizer(spec)
