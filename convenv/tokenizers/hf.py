"""Any Hugging Face tokenizer with a chat template, as an append-only convenv :class:`Tokenizer`.

The chat template is rendered once, at construction, on a sample of the conversations convenv builds (both
views: a system prompt, the teacher opening, student attempts, teacher-only verifier reports), with a unique
sentinel as each message's content. Each message's text is the difference between the rendering with and
without it; the sentinel splits it into a header (before the content) and a footer (after). Whatever comes
before the first message's header (e.g. a BOS token) is the view prefix. Header, footer and prefix texts are
tokenized once and cached, so rendering a message never calls the template again and never re-tokenizes
history (DESIGN §3).

Construction then checks the split against the template itself: for every turn of every sample view, the
prefix plus the per-message renders must equal ``apply_chat_template(messages, tokenize=False)``, and adding
``render_header("assistant")`` must equal the rendering with ``add_generation_prompt=True``. Templates that
re-render history (drop earlier reasoning, keep only the last messages), alter message content, or refuse the
roles convenv uses raise :class:`~convenv.error.TemplateError` saying which turn differs and what to do.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

from convenv.error import TemplateError, missing_extra

# Speakers of the sample conversation the template is checked on; "verifier" turns appear in the teacher's
# view only. Both views get a system prompt; the teacher opens, as in every convenv env.
_SAMPLE_SPEAKERS = ("system", *("teacher", "student", "verifier") * 2, "teacher", "student")
_VIEWERS = ("teacher", "student")
_HINT = (
    "convenv renders each message once, as header + content + footer, and never re-renders history, so the "
    "template must render every message the same way whatever follows it; pass chat_template=... with a "
    "template that does (e.g. plain ChatML), or fix tokenizer.chat_template"
)
# Keyword arguments of HFChatTokenizer itself; the rest of from_pretrained's go to AutoTokenizer.
_OWN_KWARGS = ("verifier_role", "system_role", "chat_template", "template_kwargs")

Message = tuple[str, str, str]  # (speaker, template role, content)


class HFChatTokenizer:
    """A Hugging Face tokenizer whose chat template is split into cached per-message header/footer ids.

    Template roles: ``system_role`` for system prompts, ``"assistant"`` for the viewer's own messages,
    ``verifier_role`` for verifier reports (teacher's view only), ``"user"`` for everyone else.

    Args:
        hf_tokenizer: a ``transformers`` tokenizer with a chat template (``tokenizer.chat_template``).
        verifier_role: template role of verifier reports (``"user"``; ``"tool"`` or ``"ipython"`` where the
            template supports it).
        system_role: template role of system prompts; pass ``"user"`` for templates without a system role.
        chat_template: a Jinja template to use instead of ``hf_tokenizer.chat_template`` (the tokenizer is
            not modified).
        template_kwargs: extra variables for the template (e.g. ``{"enable_thinking": False}``).

    Attributes:
        hf_tokenizer: the wrapped tokenizer.
        roles: the template roles :meth:`render_header` and :meth:`render_footer` accept.
        special_ids: the special tokens by text (named ones such as eos/pad, and added tokens flagged special).
        end_of_turn_id: the first id of the assistant footer when it is special (e.g. ``<|im_end|>``,
            ``<|eot_id|>``), else ``eos_id``. ``pad_id`` is the pad token, else ``eos_id``.
        token_exact: whether the sample conversations' ids equal the tokenization of the template's text
            (a warning is issued when they do not; text always matches).

    Raises:
        TemplateError: the tokenizer has no chat template, or the template cannot be split into append-only
            per-message renders; the message names the turn and role that differ and how to fix it.

    """

    def __init__(
        self,
        hf_tokenizer: Any,
        *,
        verifier_role: str = "user",
        system_role: str = "system",
        chat_template: str | None = None,
        template_kwargs: Mapping[str, Any] | None = None,
    ) -> None:
        self.hf_tokenizer = hf_tokenizer
        self.verifier_role = verifier_role
        self.system_role = system_role
        self._chat_template = chat_template
        self._template_kwargs = dict(template_kwargs or {})
        self.name = f"hf:{getattr(hf_tokenizer, 'name_or_path', '') or type(hf_tokenizer).__name__}"
        if not (chat_template or getattr(hf_tokenizer, "chat_template", None)):
            raise TemplateError(
                f"expected a tokenizer with a chat template, got {self.name} with tokenizer.chat_template unset; "
                "set `tokenizer.chat_template = ...` to a Jinja chat template (e.g. ChatML) or pass "
                "chat_template=... to HFChatTokenizer"
            )
        self.roles = tuple(dict.fromkeys((system_role, "user", "assistant", verifier_role)))
        self.vocab_size = len(hf_tokenizer)

        views = {viewer: self._sample_view(viewer) for viewer in _VIEWERS}
        renders = _RenderCache(self, views)
        prefix, headers, footers = self._split(views["teacher"], renders)
        self._verify(views, renders, prefix, headers, footers)

        self._added = {int(i): t for i, t in (getattr(hf_tokenizer, "added_tokens_decoder", None) or {}).items()}
        self._prefix = self._encode_structural(prefix, "the view prefix")
        self._headers = {r: self._encode_structural(headers[r], f"the {r!r} header") for r in self.roles}
        self._footers = {r: self._encode_structural(footers[r], f"the {r!r} footer") for r in self.roles}
        self.special_ids = self._collect_special_ids()
        self._special_set = frozenset(self.special_ids.values())
        self._set_ids()
        self.token_exact = self._check_tokens(views, renders)

    @classmethod
    def from_pretrained(cls, name_or_path: str | os.PathLike[str], **kwargs: Any) -> HFChatTokenizer:
        """Load a tokenizer with ``transformers.AutoTokenizer`` and wrap it.

        Args:
            name_or_path: a local directory or a hub name (set ``HF_HUB_OFFLINE=1`` to never download).
            **kwargs: ``verifier_role``, ``system_role``, ``chat_template``, ``template_kwargs`` go to
                :class:`HFChatTokenizer`; everything else to ``AutoTokenizer.from_pretrained``.

        Raises:
            MissingExtra: ``transformers`` is not installed (``pip install 'convenv[hf]'``).

        """
        try:
            from transformers import AutoTokenizer
        except ImportError as e:
            raise missing_extra("transformers", "hf") from e
        own = {k: kwargs.pop(k) for k in _OWN_KWARGS if k in kwargs}
        tok = cls(AutoTokenizer.from_pretrained(name_or_path, **kwargs), **own)
        tok.name = f"hf:{os.fspath(name_or_path)}"
        return tok

    def save_pretrained(self, path: str | os.PathLike[str]) -> None:
        """Save the wrapped tokenizer (with the chat template in use) so ``from_pretrained(path)`` reloads it.

        Roles and ``template_kwargs`` are not saved; pass them again when loading.
        """
        self.hf_tokenizer.save_pretrained(path)
        if isinstance(self._chat_template, str):
            with open(os.path.join(path, "chat_template.jinja"), "w", encoding="utf-8") as f:
                f.write(self._chat_template)

    # ----------------------------------------------------------------------------------------- protocol
    def encode(self, text: str) -> list[int]:
        """Ids of ``text`` with no special tokens added; special-token strings in it are encoded as plain text."""
        return list(self.hf_tokenizer.encode(text, add_special_tokens=False, split_special_tokens=True))

    def decode(self, ids: Sequence[int], skip_special_tokens: bool = True) -> str:
        """Text of ``ids``; ids outside ``range(vocab_size)`` are ignored; ids in ``special_ids`` too if skipped."""
        keep = [int(i) for i in ids if 0 <= int(i) < self.vocab_size]
        if skip_special_tokens:
            keep = [i for i in keep if i not in self._special_set]
        return self.hf_tokenizer.decode(
            keep, skip_special_tokens=skip_special_tokens, clean_up_tokenization_spaces=False
        )

    def template_role(self, speaker: str, viewer: str) -> str:
        """``system_role`` for "system", "assistant" for oneself, ``verifier_role`` for "verifier", else "user"."""
        if speaker == "system":
            return self.system_role
        if speaker == viewer:
            return "assistant"
        if speaker == "verifier":
            return self.verifier_role
        return "user"

    def render_prefix(self) -> list[int]:
        """Ids the template emits before the first message (e.g. BOS); often empty."""
        return list(self._prefix)

    def render_header(self, role: str) -> list[int]:
        """Ids that open a message of template role ``role``; for "assistant" also the generation prompt."""
        return list(self._headers[self._check_role(role)])

    def render_footer(self, role: str) -> list[int]:
        """Ids that close a message of template role ``role``."""
        return list(self._footers[self._check_role(role)])

    def render_text(self, messages: Sequence[Mapping[str, str]], add_generation_prompt: bool = False) -> str:
        """Render ``messages`` (``{"role", "content"}`` dicts) to text with the chat template in use."""
        kwargs: dict[str, Any] = dict(self._template_kwargs)
        if self._chat_template is not None:
            kwargs["chat_template"] = self._chat_template
        return self.hf_tokenizer.apply_chat_template(
            [dict(m) for m in messages], tokenize=False, add_generation_prompt=add_generation_prompt, **kwargs
        )

    def __repr__(self) -> str:
        return (
            f"HFChatTokenizer({self.name!r}, system_role={self.system_role!r}, "
            f"verifier_role={self.verifier_role!r})"
        )

    # ----------------------------------------------------------------------------------------- internals
    def _check_role(self, role: str) -> str:
        if role not in self._headers:
            raise ValueError(
                f"expected a template role in {self.roles}, got {role!r}; map speakers to roles with "
                "template_role(speaker, viewer)"
            )
        return role

    def _sample_view(self, viewer: str) -> list[Message]:
        """Build the sample conversation as ``viewer`` sees it, with a unique sentinel as each content."""
        thinks = self._has_plain_token("<think>") and self._has_plain_token("</think>")
        out: list[Message] = []
        for speaker in _SAMPLE_SPEAKERS:
            if speaker == "verifier" and viewer != "teacher":
                continue
            role = self.template_role(speaker, viewer)
            content = f"xq{len(out)}sentinel"
            if thinks and role == "assistant":  # catches templates that drop earlier reasoning
                content = f"<think>\nxq{len(out)}reasoning\n</think>\n\n{content}"
            out.append((speaker, role, content))
        return out

    def _has_plain_token(self, text: str) -> bool:
        """Whether ``text`` is one non-special token (e.g. ``<think>`` in reasoning models)."""
        try:
            ids = self.hf_tokenizer.encode(text, add_special_tokens=False)
        except Exception:  # an odd tokenizer just means no reasoning sample
            return False
        specials = set(getattr(self.hf_tokenizer, "all_special_ids", ()))
        return len(ids) == 1 and ids[0] not in specials

    def _split(self, view: list[Message], renders: _RenderCache) -> tuple[str, dict[str, str], dict[str, str]]:
        """Prefix, header and footer texts from the teacher's sample view (it holds every role)."""
        headers: dict[str, str] = {}
        footers: dict[str, str] = {}
        for k in range(2, len(view) + 1):
            _speaker, role, content = view[k - 1]
            if role in headers:
                continue
            prev, cur = renders.get("teacher", k - 1), renders.get("teacher", k)
            if not cur.startswith(prev):
                raise _not_append_only("teacher", view, k, prev, cur)
            headers[role], footers[role] = _cut(cur[len(prev) :], content, _where("teacher", view, k))
        _speaker, first_role, content = view[0]
        head, foot = _cut(renders.get("teacher", 1), content, _where("teacher", view, 1))
        if first_role in headers:  # e.g. system_role="user": whatever precedes the usual header is the prefix
            usual = headers[first_role]
            prefix = head[: len(head) - len(usual)] if head.endswith(usual) else ""
        else:
            prefix = self._guess_prefix(head, headers.get("user"))
            headers[first_role], footers[first_role] = head[len(prefix) :], foot
        return prefix, headers, footers

    def _guess_prefix(self, head: str, user_header: str | None) -> str:
        """Find what precedes the first header: text shared with a user-first conversation, else BOS."""
        sentinel = "xq0sentinel"
        try:
            text = self.render_text([{"role": "user", "content": sentinel}])
        except Exception:  # templates may insist on a system turn first
            text = ""
        if user_header is not None and text.count(sentinel) == 1:
            before = text[: text.index(sentinel)]
            if before.endswith(user_header):
                prefix = before[: len(before) - len(user_header)]
                if head.startswith(prefix):
                    return prefix
        bos = getattr(self.hf_tokenizer, "bos_token", None)
        return bos if isinstance(bos, str) and bos and head.startswith(bos) else ""

    def _verify(
        self,
        views: dict[str, list[Message]],
        renders: _RenderCache,
        prefix: str,
        headers: dict[str, str],
        footers: dict[str, str],
    ) -> None:
        """Every turn of every sample view, then every generation prompt, must match the template's text."""
        for viewer, view in views.items():
            ours = prefix
            for k, (_speaker, role, content) in enumerate(view, start=1):
                ours += headers[role] + content + footers[role]
                theirs = renders.get(viewer, k)
                if k > 1 and not theirs.startswith(renders.get(viewer, k - 1)):
                    raise _not_append_only(viewer, view, k, renders.get(viewer, k - 1), theirs)
                if ours != theirs:
                    raise TemplateError(
                        f"expected the template's text for {_where(viewer, view, k)} to equal convenv's "
                        f"per-message render, got a difference {_diff(theirs, ours)}; {_HINT}"
                    )
        for viewer, view in views.items():
            for k in range(1, len(view) + 1):
                theirs = renders.get(viewer, k)
                prompt = renders.get(viewer, k, add_generation_prompt=True)
                if prompt != theirs + headers["assistant"]:
                    raise TemplateError(
                        f"expected add_generation_prompt=True after {_where(viewer, view, k)} to append the "
                        f"assistant header {headers['assistant']!r}, got a difference "
                        f"{_diff(prompt, theirs + headers['assistant'])}; the generation prompt must be the "
                        "assistant header convenv appends before generating; pass chat_template=... with a "
                        "template whose generation prompt opens an assistant message like every other one "
                        "(templates that pre-fill an empty reasoning block need template_kwargs or a simpler "
                        "template)"
                    )

    def _encode_structural(self, text: str, what: str) -> tuple[int, ...]:
        """Ids of a prefix/header/footer text; each special-token string in it must become its single id."""
        if not text:
            return ()
        ids = list(self.hf_tokenizer.encode(text, add_special_tokens=False, split_special_tokens=False))
        for tid, tok in self._added.items():
            content = str(getattr(tok, "content", tok))
            if getattr(tok, "special", False) and content in text and text.count(content) != ids.count(tid):
                raise TemplateError(
                    f"expected {content!r} in {what} ({text!r}) to encode as its single id {tid}, got {ids}; "
                    "register it as an added token with normalized=False (tokenizer.add_special_tokens)"
                )
        return tuple(int(i) for i in ids)

    def _collect_special_ids(self) -> dict[str, int]:
        """Collect the special tokens (named ones and added tokens flagged special) by their text."""
        hf = self.hf_tokenizer
        out: dict[str, int] = {}
        for tid, tok in self._added.items():
            if getattr(tok, "special", False):
                out[str(tok.content)] = tid
        for name in getattr(hf, "all_special_tokens", ()):
            tid = hf.convert_tokens_to_ids(name)
            if isinstance(tid, int) and 0 <= tid < self.vocab_size:
                out[name] = tid
        return out

    def _set_ids(self) -> None:
        """``eos_id``, ``end_of_turn_id`` and ``pad_id`` from the tokenizer and the assistant footer."""
        hf = self.hf_tokenizer
        footer = self._footers["assistant"]
        eos = hf.eos_token_id
        if footer and footer[0] in self._special_set:
            self.end_of_turn_id = footer[0]
        elif eos is not None:
            self.end_of_turn_id = int(eos)
        else:
            raise TemplateError(
                f"expected an eos token or an assistant footer that starts with a special token, got neither "
                f"(footer {self.hf_tokenizer.decode(list(footer))!r}); set tokenizer.eos_token"
            )
        self.eos_id = int(eos) if eos is not None else self.end_of_turn_id
        self.pad_id = int(hf.pad_token_id) if hf.pad_token_id is not None else self.eos_id

    def _check_tokens(self, views: dict[str, list[Message]], renders: _RenderCache) -> bool:
        """Whether our ids equal the tokenization of the template's text on the sample views (warn if not)."""
        for viewer, view in views.items():
            ours = self.render_prefix()
            for _speaker, role, content in view:
                ours += [*self.render_header(role), *self.encode(content), *self.render_footer(role)]
            text = renders.get(viewer, len(view))
            theirs = list(self.hf_tokenizer.encode(text, add_special_tokens=False))
            if ours != theirs:
                n = next(
                    (i for i, (a, b) in enumerate(zip(ours, theirs, strict=False)) if a != b),
                    min(len(ours), len(theirs)),
                )
                warnings.warn(
                    f"{self.name}: per-message ids differ from tokenizing the template's whole text in the "
                    f"{viewer}'s sample view at token {n} (ours {ours[n : n + 6]}, template {theirs[n : n + 6]}); "
                    "texts match, but token boundaries across header/content/footer differ, so a model sees a "
                    "slightly different tokenization than in its chat fine-tuning",
                    stacklevel=3,
                )
                return False
        return True


class _RenderCache:
    """The template's text for the first ``k`` messages of a sample view, rendered at most once."""

    def __init__(self, tok: HFChatTokenizer, views: dict[str, list[Message]]) -> None:
        self._tok = tok
        self._views = views
        self._cache: dict[tuple[str, int, bool], str] = {}

    def get(self, viewer: str, k: int, add_generation_prompt: bool = False) -> str:
        key = (viewer, k, add_generation_prompt)
        if key not in self._cache:
            view = self._views[viewer]
            messages = [{"role": role, "content": content} for _s, role, content in view[:k]]
            try:
                text = self._tok.render_text(messages, add_generation_prompt=add_generation_prompt)
            except Exception as e:  # jinja errors, ValueError, raise_exception(): all refusals
                raise TemplateError(
                    f"expected the chat template to render {_where(viewer, view, k)}"
                    f"{' with add_generation_prompt=True' if add_generation_prompt else ''}, got "
                    f"{type(e).__name__}: {e}; {_role_hint(view[k - 1][1], self._tok)}"
                ) from e
            if not isinstance(text, str):
                raise TemplateError(f"expected apply_chat_template(tokenize=False) to return a str, got {text!r}")
            self._cache[key] = text
        return self._cache[key]


def _where(viewer: str, view: list[Message], k: int) -> str:
    """E.g. "turn 4 (verifier as 'user') of the teacher's view [system, assistant, user, user]"."""
    speaker, role, _ = view[k - 1]
    roles = ", ".join(r for _s, r, _c in view[:k])
    return f"turn {k} ({speaker} as {role!r}) of the {viewer}'s view [{roles}]"


def _cut(text: str, content: str, where: str) -> tuple[str, str]:
    """Split one message's text at its content: (header, footer)."""
    if text.count(content) != 1:
        raise TemplateError(
            f"expected the text added by {where} to contain its content {content!r} verbatim once, got "
            f"{text!r}; the template rewrites or drops message content (or re-renders history); {_HINT}"
        )
    i = text.index(content)
    return text[:i], text[i + len(content) :]


def _not_append_only(viewer: str, view: list[Message], k: int, prev: str, cur: str) -> TemplateError:
    return TemplateError(
        f"expected the template to be append-only, got a rendering of {_where(viewer, view, k)} that changes "
        f"the text of the earlier turns ({_diff(prev, cur, ('before', 'after'))}; templates that drop earlier "
        f"reasoning or keep only recent messages do this); {_HINT}"
    )


def _diff(theirs: str, ours: str, labels: tuple[str, str] = ("template", "convenv")) -> str:
    """Where two texts first differ, with a little context."""
    i = next((j for j, (a, b) in enumerate(zip(theirs, ours, strict=False)) if a != b), min(len(theirs), len(ours)))
    lo = max(0, i - 20)
    return f"at character {i}: {labels[0]} {theirs[lo : i + 40]!r} vs {labels[1]} {ours[lo : i + 40]!r}"


def _role_hint(role: str, tok: HFChatTokenizer) -> str:
    """How to fix a template that refuses or mangles ``role``."""
    if role == tok.system_role and role != "user":
        return (
            "if the template has no system role, pass system_role='user'; otherwise pass chat_template=... "
            "with a template that renders a system prompt first"
        )
    if role == tok.verifier_role and role != "user":
        return f"the template may not support role {role!r}; pass verifier_role='user'"
    return (
        "convenv views open with a system prompt, the teacher's view then starts with an assistant turn, and "
        "user turns can follow each other (a student attempt, then a verifier report); pass chat_template=... "
        "with a template that allows this (no strict user/assistant alternation)"
    )


__all__ = ["HFChatTokenizer"]
