"""Tiny byte-level Hugging Face tokenizers built locally (never downloaded), shared by the test suite.

Ids 0..255 are the bytes themselves (as in :class:`convenv.tokenizers.ByteTokenizer`), special tokens follow.
Every builder returns a ``transformers.PreTrainedTokenizerFast`` with a chat template; pair them with
``GPT2Config(vocab_size=len(tok))`` / ``LlamaConfig`` for tiny models.

>>> tok = chatml_tokenizer()
>>> tok.apply_chat_template([{"role": "user", "content": "hi"}], tokenize=False)
'<|im_start|>user\\nhi<|im_end|>\\n'
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

CHATML_SPECIALS = ("<|pad|>", "<|endoftext|>", "<|im_start|>", "<|im_end|>")
LLAMA3_SPECIALS = ("<|begin_of_text|>", "<|end_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>")

CHATML_TEMPLATE = (
    "{%- for message in messages %}"
    "{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}"
)

# Llama-3 style: BOS once, a header per message, content trimmed (as Meta's template does).
LLAMA3_TEMPLATE = (
    "{{- bos_token }}"
    "{%- for message in messages %}"
    "{{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n' + message['content'] | trim }}"
    "{{- '<|eot_id|>' }}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{%- endif %}"
)

# Not append-only: only the last two messages are rendered.
LAST_TWO_TEMPLATE = CHATML_TEMPLATE.replace("for message in messages", "for message in messages[-2:]")

# Not append-only: assistant turns before the last one lose their content (like templates that drop history).
STRIP_EARLIER_ASSISTANT_TEMPLATE = (
    "{%- set ns = namespace(last=-1) %}"
    "{%- for message in messages %}{%- if message['role'] == 'assistant' %}{%- set ns.last = loop.index0 %}"
    "{%- endif %}{%- endfor %}"
    "{%- for message in messages %}"
    "{%- set content = message['content'] %}"
    "{%- if message['role'] == 'assistant' and loop.index0 < ns.last %}{%- set content = '...' %}{%- endif %}"
    "{{- '<|im_start|>' + message['role'] + '\\n' + content + '<|im_end|>' + '\\n' }}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}"
)

# Not append-only: reasoning of earlier assistant turns is dropped (like DeepSeek-R1 / Qwen3 templates).
DROP_REASONING_TEMPLATE = (
    "{%- set ns = namespace(last_user=-1) %}"
    "{%- for message in messages %}{%- if message['role'] == 'user' %}{%- set ns.last_user = loop.index0 %}"
    "{%- endif %}{%- endfor %}"
    "{%- for message in messages %}"
    "{%- set content = message['content'] %}"
    "{%- if message['role'] == 'assistant' and loop.index0 < ns.last_user and '</think>' in content %}"
    "{%- set content = content.split('</think>')[-1].lstrip('\\n') %}{%- endif %}"
    "{{- '<|im_start|>' + message['role'] + '\\n' + content + '<|im_end|>' + '\\n' }}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}"
)

# Gemma-like: no system role at all.
NO_SYSTEM_TEMPLATE = (
    "{%- if messages[0]['role'] == 'system' %}{{ raise_exception('System role not supported') }}{%- endif %}"
    + CHATML_TEMPLATE
)

# Qwen2.5-like: a default system prompt when the conversation does not start with one.
DEFAULT_SYSTEM_TEMPLATE = (
    "{%- if messages[0]['role'] != 'system' %}"
    "{{- '<|im_start|>system\\nYou are a helpful assistant.<|im_end|>\\n' }}{%- endif %}" + CHATML_TEMPLATE
)

# Generation prompt that pre-fills an empty reasoning block: differs from the assistant header.
PREFILLED_PROMPT_TEMPLATE = CHATML_TEMPLATE.replace(
    "'<|im_start|>assistant\\n' }}", "'<|im_start|>assistant\\n<think>\\n\\n</think>\\n\\n' }}"
)


def bytes_to_unicode() -> dict[int, str]:
    """GPT-2's printable stand-in character for each byte (what ``pre_tokenizers.ByteLevel`` emits)."""
    bs = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    cs = list(bs)
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {b: chr(c) for b, c in zip(bs, cs, strict=True)}


def build_tiny_tokenizer(
    chat_template: str | None = CHATML_TEMPLATE,
    special_tokens: Sequence[str] = CHATML_SPECIALS,
    *,
    merges: Sequence[tuple[str, str]] = (),
    plain_tokens: Sequence[str] = (),
    bos_token: str | None = None,
    eos_token: str | None = "<|endoftext|>",
    pad_token: str | None = "<|pad|>",
) -> Any:
    """A byte-level BPE tokenizer with no merges: id ``b`` is byte ``b``, then the special tokens in order.

    Args:
        merges: optional BPE merges of ASCII strings, e.g. ``[("\\n", "x")]``; each merged token takes the next
            id after the bytes, before the special tokens.
        chat_template: Jinja chat template, or None for a tokenizer without one.
        special_tokens: added as special tokens (ids 256, 257, ...).
        plain_tokens: added as non-special tokens after the specials (e.g. ``<think>``).
        bos_token: name of the BOS token (one of ``special_tokens``), if any.
        eos_token: name of the EOS token, if any.
        pad_token: name of the pad token, if any.
    """
    from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    b2u = bytes_to_unicode()
    vocab = {ch: b for b, ch in b2u.items()}
    pairs = [("".join(b2u[c] for c in a.encode()), "".join(b2u[c] for c in b.encode())) for a, b in merges]
    for a, b in pairs:
        vocab.setdefault(a + b, len(vocab))
    backend = Tokenizer(models.BPE(vocab=vocab, merges=pairs))
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)
    backend.decoder = decoders.ByteLevel()
    backend.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in special_tokens])
    if plain_tokens:
        backend.add_tokens([AddedToken(t, special=False, normalized=False) for t in plain_tokens])
    names = {"bos_token": bos_token, "eos_token": eos_token, "pad_token": pad_token}
    tok = PreTrainedTokenizerFast(tokenizer_object=backend, **{k: v for k, v in names.items() if v is not None})
    tok.chat_template = chat_template
    return tok


def chatml_tokenizer(chat_template: str | None = CHATML_TEMPLATE, **kwargs: Any) -> Any:
    """The tiny byte-level tokenizer with ``<|pad|> <|endoftext|> <|im_start|> <|im_end|>`` and ChatML."""
    return build_tiny_tokenizer(chat_template, CHATML_SPECIALS, **kwargs)


def llama3_tokenizer(chat_template: str | None = LLAMA3_TEMPLATE) -> Any:
    """The tiny byte-level tokenizer with Llama-3 style specials and template (BOS prefix, no pad token)."""
    return build_tiny_tokenizer(
        chat_template, LLAMA3_SPECIALS, bos_token="<|begin_of_text|>", eos_token="<|end_of_text|>", pad_token=None
    )


# ----------------------------------------------------------------------------- conversations, for any Tokenizer
VIEWERS = ("teacher", "student")


def view_of(messages: Sequence[tuple[str, str]], viewer: str, system: str = "") -> list[tuple[str, str]]:
    """``viewer``'s view of ``(speaker, text)`` messages: its system prompt, then what it may see.

    Verifier reports are visible to the teacher only, as in every convenv env.
    """
    visible = [(s, t) for s, t in messages if not (s == "verifier" and viewer != "teacher")]
    return [("system", system), *visible]


def view_ids(tok: Any, view: Sequence[tuple[str, str]], viewer: str) -> list[int]:
    """Token stream of a view, rendered from scratch: prefix + one ``render_message`` per message."""
    from convenv.tokenizers import render_message

    ids = list(tok.render_prefix())
    for speaker, text in view:
        ids += render_message(tok, tok.template_role(speaker, viewer), tok.encode(text))
    return ids


def template_text(
    tok: Any, view: Sequence[tuple[str, str]], viewer: str, add_generation_prompt: bool = False
) -> str:
    """The chat template's own text for a view (``tok`` is a ``HFChatTokenizer``)."""
    messages = [{"role": tok.template_role(s, viewer), "content": t} for s, t in view]
    return tok.render_text(messages, add_generation_prompt=add_generation_prompt)


@functools.cache
def hf_chat_tokenizer(kind: str = "chatml") -> Any:
    """A ``HFChatTokenizer`` over a tiny tokenizer, built once per process.

    Kinds: ``"chatml"``, ``"llama3"`` (BOS prefix, no pad), ``"default_system"`` (the template injects a
    system prompt when none is given), ``"no_system"`` (the template refuses a system role; ``system_role="user"``).
    """
    from convenv.tokenizers.hf import HFChatTokenizer

    if kind == "chatml":
        return HFChatTokenizer(chatml_tokenizer())
    if kind == "llama3":
        return HFChatTokenizer(llama3_tokenizer())
    if kind == "default_system":
        return HFChatTokenizer(chatml_tokenizer(DEFAULT_SYSTEM_TEMPLATE))
    if kind == "no_system":
        return HFChatTokenizer(chatml_tokenizer(NO_SYSTEM_TEMPLATE), system_role="user")
    raise ValueError(f"expected a kind in ('chatml', 'llama3', 'default_system', 'no_system'), got {kind!r}")
