"""Batched KV-cache state for :class:`~convenv.agents.hf.HFAgent`: rows, a 2-D mask with holes, the cache.

One row per conversation. A row's *logical sequence* (``seqs[r]``) is the ids whose cache entries have mask 1,
in order; every other entry of the row is a *hole* (mask 0): the left padding of an appended segment, filler
decoded after the row stopped, a rolled-back reply, the history of a row added to a longer batch. Holes are
never attended to and position ids count mask-1 entries only (``(mask.cumsum(-1) - 1).clamp(min=0)``), so a
row's logits depend on its logical sequence alone, and the cache entries of a token stay valid when holes
appear or disappear around it. That is what lets the state append a segment per turn, drop rows (``select``),
merge states (``concat``), forget a reply (``rollback``) and squeeze holes out (``compact``) without running
the model again.

Shapes: ``B`` rows, ``L`` cached positions, ``S`` positions appended by one forward; ``mask`` is ``(B, L)``;
each cache layer holds keys and values of shape ``(B, heads, L, head_dim)``.
"""

from __future__ import annotations

import inspect
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from transformers import DynamicCache
from transformers.cache_utils import DynamicLayer


@dataclass
class AgentStats:
    """Counters of one :class:`~convenv.agents.hf.HFAgent` since construction or ``reset_stats()``.

    Read as attributes or as a mapping (``agent.stats["tokens_fed"]``).

    Attributes:
        forward_calls: model forward passes (one per prefill, one per decoding step).
        tokens_fed: input positions fed to the model, ``prefill_tokens + decode_tokens``; padding included
            (it costs compute like any other position).
        prefill_tokens: positions fed by prefills (new segments, left-padded to the longest row).
        decode_tokens: positions fed by decoding steps (one per row per step, finished rows included).
        padding_fed: of ``tokens_fed``, the positions that were padding or filler (mask 0).
        generated_tokens: ids returned in replies (discarded leaking replies not counted).
        replies: replies returned.
        restarts: conversations encoded from their whole view (first turn, new episode, ``reuse_cache=False``).
        rollbacks: conversations whose cache was cut back to a common prefix with the view (a view that does not
            extend what was fed, e.g. a redacted message) or to before a discarded reply.
        compactions: times the cache was compacted (holes squeezed out, no model call) because holes
            outnumbered cached tokens or the ``max_cache_tokens`` budget would be exceeded.
        regenerations: leaking teacher replies discarded and sampled again.
        peak_cache_tokens: the largest cache held, in positions (rows x length, holes included).

    """

    forward_calls: int = 0
    tokens_fed: int = 0
    prefill_tokens: int = 0
    decode_tokens: int = 0
    padding_fed: int = 0
    generated_tokens: int = 0
    replies: int = 0
    restarts: int = 0
    rollbacks: int = 0
    compactions: int = 0
    regenerations: int = 0
    peak_cache_tokens: int = 0

    def __getitem__(self, name: str) -> int:
        if name not in self.__dataclass_fields__:
            raise KeyError(f"expected a stat in {sorted(self.__dataclass_fields__)}, got {name!r}")
        return getattr(self, name)

    def keys(self) -> list[str]:
        """The counter names (so ``dict(agent.stats)`` works)."""
        return list(self.__dataclass_fields__)

    def as_dict(self) -> dict[str, int]:
        """The counters as a plain dict."""
        return asdict(self)


class Runner:
    """The model, how to call it, and the counters every forward adds to (shared by the states of one agent)."""

    def __init__(self, model: Any, pad_id: int, want_hidden: bool, stats: AgentStats):
        self.model = model
        self.config = model.config
        self.pad_id = int(pad_id)
        self.want_hidden = want_hidden
        self.stats = stats
        params = inspect.signature(model.forward).parameters
        self._keep_last = "logits_to_keep" in params

    @property
    def device(self) -> torch.device:
        """Where the model's parameters are."""
        return next(self.model.parameters()).device

    def new_cache(self, data: list[tuple[torch.Tensor, torch.Tensor]] | None = None) -> DynamicCache:
        """A cache for the model, filled with per-layer ``(keys, values)`` when ``data`` is given."""
        return DynamicCache(ddp_cache_data=data, config=self.config)

    def supports_reuse(self) -> bool:
        """Whether every cache layer is a plain full-attention ``DynamicLayer`` (sliding windows are not)."""
        try:
            layers = self.new_cache().layers
        except Exception:  # exotic configs: re-encode instead
            return False
        return bool(layers) and all(type(layer) is DynamicLayer for layer in layers)

    def forward(
        self, ids: torch.Tensor, mask: torch.Tensor, cache: DynamicCache, prefill: bool
    ) -> tuple[torch.Tensor, torch.Tensor | None, DynamicCache]:
        """Feed ``ids`` (B, S) whose mask is the last S columns of ``mask`` (B, L + S); last-position outputs."""
        positions = (mask.cumsum(-1) - 1).clamp(min=0)[:, -ids.shape[1] :]  # (B, S) count mask-1 entries only
        kwargs: dict[str, Any] = {"logits_to_keep": 1} if self._keep_last else {}
        if self.want_hidden:
            kwargs["output_hidden_states"] = True
        out = self.model(
            input_ids=ids,
            attention_mask=mask,
            position_ids=positions,
            past_key_values=cache,
            use_cache=True,
            **kwargs,
        )
        logits = out.logits[:, -1].float()  # (B, V)
        hidden = out.hidden_states[-1][:, -1] if self.want_hidden else None  # (B, H) after the final norm
        s = self.stats
        n = int(ids.numel())
        s.forward_calls += 1
        s.tokens_fed += n
        if prefill:
            s.prefill_tokens += n
        else:
            s.decode_tokens += n
        s.padding_fed += n - int(mask[:, -ids.shape[1] :].sum())
        s.peak_cache_tokens = max(s.peak_cache_tokens, int(mask.numel()))
        return logits, hidden, out.past_key_values


class KVBatch:
    """Rows of conversations sharing one left-padded KV cache with holes (see the module docstring).

    Attributes:
        keys: one hashable per row naming its conversation (the agent uses the batch position).
        seqs: per row, the logical sequence: ids whose cache entries have mask 1, in order.
        mask: (B, L) int64 on the model's device, 1 where the cache entry is part of the row's sequence.
        cache: the ``DynamicCache`` (None while ``L == 0``).

    """

    def __init__(
        self,
        runner: Runner,
        keys: Sequence[Hashable],
        seqs: Sequence[list[int]],
        mask: torch.Tensor | None = None,
        cache: DynamicCache | None = None,
    ):
        self.runner = runner
        self.keys = list(keys)
        self.seqs = [list(s) for s in seqs]
        if mask is None:
            mask = torch.zeros(len(self.keys), 0, dtype=torch.long, device=runner.device)
        self.mask = mask
        self.cache = cache if mask.shape[1] else None

    @classmethod
    def empty(cls, runner: Runner, keys: Sequence[Hashable]) -> KVBatch:
        """Rows with nothing cached yet."""
        return cls(runner, keys, [[] for _ in keys])

    # ------------------------------------------------------------------------------------------- sizes
    @property
    def rows(self) -> int:
        """B: conversations in the batch."""
        return len(self.keys)

    @property
    def length(self) -> int:
        """L: cached positions per row, holes included."""
        return int(self.mask.shape[1])

    @property
    def slots(self) -> int:
        """Cache size in positions: rows x length."""
        return self.rows * self.length

    @property
    def cached(self) -> int:
        """Positions that hold a token of some row's sequence (mask 1)."""
        return sum(len(s) for s in self.seqs)

    @property
    def holes(self) -> int:
        """Positions that are holes (mask 0)."""
        return self.slots - self.cached

    # ----------------------------------------------------------------------------------------- running
    def extend(self, segments: Sequence[Sequence[int]]) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Append one segment per row, left-padded to the longest; one forward.

        Returns:
            ``(logits (B, V) float32, hidden (B, H) or None)`` at each row's last position. A row with an empty
            segment gets only holes; its outputs are meaningless.

        """
        width = max((len(s) for s in segments), default=0)
        if len(segments) != self.rows:
            raise ValueError(f"expected {self.rows} segments, one per row, got {len(segments)}")
        ids = np.full((self.rows, width), self.runner.pad_id, dtype=np.int64)  # (B, S) left-padded
        valid = np.zeros((self.rows, width), dtype=bool)
        for r, seg in enumerate(segments):
            if len(seg):
                ids[r, width - len(seg) :] = seg
                valid[r, width - len(seg) :] = True
        return self._feed(ids, valid, prefill=True)

    def step(self, tokens: np.ndarray, valid: np.ndarray) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Append one position per row: ``tokens`` (B,) where ``valid`` (B,) is True, a hole elsewhere."""
        ids = np.where(valid, tokens, self.runner.pad_id).astype(np.int64)[:, None]  # (B, 1)
        return self._feed(ids, np.asarray(valid, dtype=bool)[:, None], prefill=False)

    def _feed(self, ids: np.ndarray, valid: np.ndarray, prefill: bool) -> tuple[torch.Tensor, torch.Tensor | None]:
        if ids.shape[1] == 0:
            raise ValueError("expected at least one position to feed, got none")
        device = self.runner.device
        mask = torch.cat([self.mask, torch.as_tensor(valid, device=device).long()], dim=1)  # (B, L + S)
        cache = self.cache if self.cache is not None else self.runner.new_cache()
        logits, hidden, cache = self.runner.forward(torch.as_tensor(ids, device=device), mask, cache, prefill)
        self.mask, self.cache = mask, cache
        for r in range(self.rows):
            self.seqs[r].extend(ids[r, valid[r]].tolist())
        return logits, hidden

    # ------------------------------------------------------------------------------------- rearranging
    def rollback(self, row: int, keep: int) -> None:
        """Forget row ``row``'s sequence after its first ``keep`` ids: their entries become holes."""
        if not 0 <= keep <= len(self.seqs[row]):
            raise ValueError(f"expected 0 <= keep <= {len(self.seqs[row])}, got {keep}")
        del self.seqs[row][keep:]
        if self.length:
            m = self.mask[row]
            self.mask[row] = m * (m.cumsum(0) <= keep).long()

    def select(self, rows: Sequence[int]) -> KVBatch:
        """A state with only ``rows``, in that order: a copy, or this state itself when ``rows`` is all of them."""
        rows = list(rows)
        if rows == list(range(self.rows)):
            return self
        index = torch.as_tensor(rows, dtype=torch.long, device=self.mask.device)
        cache = self._map_layers(lambda t: t.index_select(0, index)) if self.cache is not None else None
        return KVBatch(
            self.runner, [self.keys[r] for r in rows], [self.seqs[r] for r in rows], self.mask[index], cache
        )

    def concat(self, other: KVBatch) -> KVBatch:
        """This state's rows, then ``other``'s; the shorter one is left-padded with holes."""
        if other.rows == 0:
            return self
        if self.rows == 0:
            return other
        length = max(self.length, other.length)
        mask = torch.cat(
            [F.pad(self.mask, (length - self.length, 0)), F.pad(other.mask, (length - other.length, 0))]
        )
        cache = None
        if length:
            ours, theirs = self._layers(other), other._layers(self)
            data = [
                tuple(
                    torch.cat([F.pad(a, (0, 0, length - a.shape[2], 0)), F.pad(b, (0, 0, length - b.shape[2], 0))])
                    for a, b in zip(ka, kb, strict=True)
                )
                for ka, kb in zip(ours, theirs, strict=True)
            ]
            cache = self.runner.new_cache(data)
        return KVBatch(self.runner, self.keys + other.keys, self.seqs + other.seqs, mask, cache)

    def compact(self) -> KVBatch:
        """A new state without holes beyond left padding: each row's entries gathered, left-padded to the longest.

        Exact: cached entries do not depend on holes, and position ids count mask-1 entries only.
        """
        if self.cache is None:
            return self
        valid = self.mask.bool()  # (B, L)
        width = max((len(s) for s in self.seqs), default=0)
        # stable sort puts holes first and keeps each row's entries in order; keep the last `width` columns
        order = torch.argsort(valid.to(torch.int8), dim=1, stable=True)[:, self.length - width :]  # (B, width)
        mask = valid.gather(1, order).long()
        cache = self._map_layers(
            lambda t: t.gather(2, order[:, None, :, None].expand(-1, t.shape[1], -1, t.shape[3]))
        )
        return KVBatch(self.runner, self.keys, self.seqs, mask, cache if width else None)

    def trim(self) -> KVBatch:
        """Drop leading and trailing columns that are holes in every row."""
        if self.cache is None or self.rows == 0:
            return self
        used = torch.nonzero(self.mask.bool().any(0)).flatten()
        if used.numel() == 0:
            return KVBatch(self.runner, self.keys, self.seqs)
        lo, hi = int(used[0]), int(used[-1]) + 1
        if (lo, hi) == (0, self.length):
            return self
        cache = self._map_layers(lambda t: t[:, :, lo:hi])
        return KVBatch(self.runner, self.keys, self.seqs, self.mask[:, lo:hi].clone(), cache)

    # ------------------------------------------------------------------------------------------ internals
    def _map_layers(self, fn: Any) -> DynamicCache:
        data = [(fn(layer.keys), fn(layer.values)) for layer in self.cache.layers]
        return self.runner.new_cache(data)

    def _layers(self, like: KVBatch) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """Per layer (keys, values); zeros of ``like``'s head shapes when nothing is cached yet."""
        if self.cache is not None:
            return [(layer.keys, layer.values) for layer in self.cache.layers]
        out = []
        for layer in like.cache.layers:
            k, v = layer.keys, layer.values
            out.append(
                (
                    k.new_zeros(self.rows, k.shape[1], 0, k.shape[3]),
                    v.new_zeros(self.rows, v.shape[1], 0, v.shape[3]),
                )
            )
        return out

    def __repr__(self) -> str:
        return f"KVBatch(rows={self.rows}, length={self.length}, cached={self.cached}, holes={self.holes})"


def match_rows(
    keys: Sequence[Hashable], seqs: Sequence[Sequence[int]], views: Mapping[Hashable, np.ndarray]
) -> dict[Hashable, tuple[int, int]]:
    """For each conversation's view, a cached row to continue and how many of its ids to keep.

    In order: the row that served the conversation, if the view extends its sequence; any other unclaimed row
    whose sequence the view extends (the longest); the conversation's own row cut back to the common prefix,
    if that covers at least half the view. Conversations left out are encoded from scratch.
    """
    free = set(range(len(seqs)))
    row_of = {k: r for r, k in enumerate(keys)}
    plan: dict[Hashable, tuple[int, int]] = {}

    def extends(r: int, view: np.ndarray) -> bool:
        n = len(seqs[r])
        return 0 < n <= len(view) and np.array_equal(view[:n], np.asarray(seqs[r]))

    for k, view in views.items():
        r = row_of.get(k)
        if r is not None and extends(r, view):
            plan[k] = (r, len(seqs[r]))
            free.discard(r)
    for k, view in views.items():
        if k not in plan:
            best = max((r for r in free if extends(r, view)), key=lambda r: len(seqs[r]), default=None)
            if best is not None:
                plan[k] = (best, len(seqs[best]))
                free.discard(best)
    for k, view in views.items():
        r = row_of.get(k)
        if k not in plan and r in free:
            seq = np.asarray(seqs[r][: len(view)])
            differ = np.flatnonzero(seq != view[: len(seq)])
            common = int(differ[0]) if differ.size else len(seq)
            if common and 2 * common >= len(view):
                plan[k] = (r, common)
                free.discard(r)
    return plan
