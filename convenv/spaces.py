"""Token-sequence spaces: utterances and views as variable-length arrays of token ids."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
from gymnasium.spaces import Space


class TokenSequence(Space[np.ndarray]):
    """Variable-length 1-D ``int64`` arrays of token ids.

    An element is an array ``x`` with ``min_length <= len(x) <= max_length`` whose ids lie in
    ``range(vocab_size)`` and are not in ``exclude`` (e.g. the structural ids an utterance may not forge).

    >>> space = TokenSequence(max_length=8, vocab_size=10, seed=0)
    >>> x = space.sample()
    >>> x in space
    True
    >>> np.array([3, 12]) in space  # 12 is out of the vocabulary
    False
    """

    def __init__(
        self,
        max_length: int,
        vocab_size: int,
        *,
        min_length: int = 0,
        exclude: Iterable[int] = (),
        seed: int | np.random.Generator | None = None,
    ):
        if not 0 <= min_length <= max_length:
            raise ValueError(
                f"expected 0 <= min_length <= max_length, got min_length={min_length}, max_length={max_length}; "
                "fix the bounds"
            )
        if vocab_size < 1:
            raise ValueError(f"expected vocab_size >= 1, got {vocab_size}; pass the tokenizer's vocab_size")
        self.max_length = int(max_length)
        self.min_length = int(min_length)
        self.vocab_size = int(vocab_size)
        self.exclude = frozenset(int(i) for i in exclude)
        allowed = np.setdiff1d(np.arange(self.vocab_size), np.fromiter(self.exclude, dtype=np.int64))
        if allowed.size == 0:
            raise ValueError("expected at least one allowed id, got every id excluded; shrink `exclude`")
        self._allowed = allowed.astype(np.int64)
        super().__init__(shape=None, dtype=np.int64, seed=seed)

    @property
    def is_np_flattenable(self) -> bool:
        """Variable length: cannot be flattened to a fixed-size array."""
        return False

    def sample(self, mask: Any = None, probability: Any = None) -> np.ndarray:
        """A uniformly random length in ``[min_length, max_length]`` filled with uniformly random allowed ids.

        Args:
            mask: ``None`` or a tuple ``(length, id_mask)``: a fixed length (or None) and a boolean array of size
                ``vocab_size`` marking ids that may be drawn.
            probability: not supported (must be None).

        """
        if probability is not None:
            raise ValueError("expected probability=None, got a value; TokenSequence samples ids uniformly")
        length, allowed = None, self._allowed
        if mask is not None:
            length, id_mask = mask
            if id_mask is not None:
                id_mask = np.asarray(id_mask, dtype=bool)
                if id_mask.shape != (self.vocab_size,):
                    raise ValueError(
                        f"expected an id mask of shape ({self.vocab_size},), got {id_mask.shape}; "
                        "pass one boolean per vocabulary id"
                    )
                allowed = allowed[id_mask[allowed]]
                if allowed.size == 0:
                    raise ValueError("expected the id mask to allow at least one id, got none; fix the mask")
        if length is None:
            length = int(self.np_random.integers(self.min_length, self.max_length + 1))
        elif not self.min_length <= length <= self.max_length:
            raise ValueError(
                f"expected a length in [{self.min_length}, {self.max_length}], got {length}; fix the mask"
            )
        return self.np_random.choice(allowed, size=int(length)).astype(np.int64)

    def contains(self, x: Any) -> bool:
        """Whether ``x`` is a 1-D integer array (or sequence of ints) within the bounds."""
        if isinstance(x, Sequence) and not isinstance(x, (str, bytes)):
            try:
                x = np.asarray(x, dtype=np.int64) if len(x) else np.zeros(0, dtype=np.int64)
            except (TypeError, ValueError, OverflowError):
                return False
        if not isinstance(x, np.ndarray) or x.ndim != 1 or not np.issubdtype(x.dtype, np.integer):
            return False
        if not self.min_length <= x.size <= self.max_length:
            return False
        if x.size and (x.min() < 0 or x.max() >= self.vocab_size):
            return False
        return not (self.exclude and np.isin(x, list(self.exclude)).any())

    def to_jsonable(self, sample_n: Sequence[np.ndarray]) -> list[list[int]]:
        """Lists of ints."""
        return [np.asarray(s).tolist() for s in sample_n]

    def from_jsonable(self, sample_n: Sequence[Sequence[int]]) -> list[np.ndarray]:
        """Arrays of ``int64``."""
        return [np.asarray(s, dtype=np.int64) for s in sample_n]

    def __repr__(self) -> str:
        excl = f", exclude={len(self.exclude)} ids" if self.exclude else ""
        return (
            f"TokenSequence(max_length={self.max_length}, vocab_size={self.vocab_size}, "
            f"min_length={self.min_length}{excl})"
        )

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, TokenSequence)
            and self.max_length == other.max_length
            and self.min_length == other.min_length
            and self.vocab_size == other.vocab_size
            and self.exclude == other.exclude
        )

    def __hash__(self) -> int:
        return hash((TokenSequence, self.max_length, self.min_length, self.vocab_size, self.exclude))
