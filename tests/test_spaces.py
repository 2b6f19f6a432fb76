import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from convenv.spaces import TokenSequence


def test_sample_is_contained_and_seeded():
    a = TokenSequence(16, 50, min_length=1, exclude=[3, 4], seed=7)
    b = TokenSequence(16, 50, min_length=1, exclude=[3, 4], seed=7)
    for _ in range(50):
        x, y = a.sample(), b.sample()
        assert np.array_equal(x, y)
        assert x in a
        assert x.dtype == np.int64 and 1 <= len(x) <= 16
        assert not np.isin(x, [3, 4]).any()


@pytest.mark.parametrize(
    "x",
    [
        np.array([1, 2, 50]),  # out of vocabulary
        np.array([-1]),
        np.array([3]),  # excluded
        np.array([1.0, 2.0]),  # float dtype
        np.zeros((2, 2), dtype=np.int64),
        np.zeros(17, dtype=np.int64),  # too long
        np.zeros(0, dtype=np.int64),  # too short
        "abc",
        None,
        [1, "a"],
    ],
)
def test_contains_rejects(x):
    assert x not in TokenSequence(16, 50, min_length=1, exclude=[3])


def test_contains_accepts_lists_and_other_int_dtypes():
    space = TokenSequence(4, 10)
    assert [1, 2] in space
    assert np.array([1, 2], dtype=np.int8) in space
    assert [] in space


def test_pickle_equality_and_jsonable_roundtrip():
    space = TokenSequence(8, 20, min_length=2, exclude=[0], seed=1)
    clone = pickle.loads(pickle.dumps(space))
    assert clone == space and hash(clone) == hash(space)
    assert np.array_equal(clone.sample(), space.sample())  # the generator state travels too
    samples = [space.sample() for _ in range(5)]
    back = space.from_jsonable(space.to_jsonable(samples))
    assert all(np.array_equal(a, b) for a, b in zip(samples, back, strict=True))
    assert space != TokenSequence(8, 20, min_length=2)
    assert "TokenSequence(max_length=8" in repr(space)


def test_sample_mask_fixes_length_and_ids():
    space = TokenSequence(8, 10, seed=0)
    ids = np.zeros(10, dtype=bool)
    ids[[2, 5]] = True
    x = space.sample(mask=(6, ids))
    assert len(x) == 6 and set(x.tolist()) <= {2, 5}
    with pytest.raises(ValueError, match="expected a length in"):
        space.sample(mask=(9, None))
    with pytest.raises(ValueError, match="expected an id mask of shape"):
        space.sample(mask=(3, np.ones(3, dtype=bool)))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"max_length": 2, "vocab_size": 5, "min_length": 3}, "min_length <= max_length"),
        ({"max_length": 2, "vocab_size": 0}, "vocab_size >= 1"),
        ({"max_length": 2, "vocab_size": 2, "exclude": [0, 1]}, "at least one allowed id"),
    ],
)
def test_bad_construction_says_what_to_fix(kwargs, match):
    with pytest.raises(ValueError, match=match):
        TokenSequence(**kwargs)


@settings(max_examples=60, deadline=None)
@given(
    max_length=st.integers(0, 40),
    vocab=st.integers(1, 300),
    seed=st.integers(0, 2**32 - 1),
)
def test_samples_always_in_space(max_length, vocab, seed):
    space = TokenSequence(max_length, vocab, seed=seed)
    for _ in range(3):
        assert space.sample() in space
