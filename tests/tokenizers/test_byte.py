import doctest

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tiny_hf import VIEWERS, view_ids, view_of

import convenv.tokenizers.byte
from convenv.tokenizers import ByteTokenizer, Tokenizer, generation_prompt, get_tokenizer, render_message

TOK = ByteTokenizer()


def test_follows_the_protocol_and_its_doctest_runs():
    assert isinstance(TOK, Tokenizer)
    assert doctest.testmod(convenv.tokenizers.byte).failed == 0


def test_specials_are_distinct_and_above_the_bytes():
    ids = list(TOK.special_ids.values())
    assert len(set(ids)) == len(ids)
    assert all(256 <= i < TOK.vocab_size for i in ids)
    assert TOK.vocab_size == 256 + len(ids)
    assert {TOK.pad_id, TOK.eos_id, TOK.bos_id, TOK.end_of_turn_id} <= set(ids)
    assert len({TOK.pad_id, TOK.eos_id, TOK.bos_id, TOK.end_of_turn_id}) == 4


@given(st.text())
@settings(max_examples=200)
def test_encode_decode_round_trip(text):
    ids = TOK.encode(text)
    assert all(0 <= i < 256 for i in ids)
    assert TOK.decode(ids) == text


@given(st.lists(st.integers(min_value=-(2**70), max_value=2**70)), st.booleans())
@settings(max_examples=200)
def test_decode_of_arbitrary_ids_never_raises(ids, skip):
    assert isinstance(TOK.decode(ids, skip), str)


def test_decode_shows_specials_by_name_unless_skipped():
    ids = render_message(TOK, "student", TOK.encode("x = 6"))
    assert TOK.decode(ids) == "x = 6"
    assert TOK.decode(ids, skip_special_tokens=False) == "<student>x = 6<end>"


def test_roles_are_kept_whoever_looks():
    for speaker in ("system", "teacher", "student", "verifier"):
        for viewer in VIEWERS:
            assert TOK.template_role(speaker, viewer) == speaker
    assert generation_prompt(TOK, "student") == [TOK.special_ids["student"]]
    assert TOK.render_prefix() == []
    assert TOK.render_footer("teacher") == [TOK.end_of_turn_id]


def test_unknown_role_is_a_clear_error():
    with pytest.raises(ValueError, match="expected a role in .*got 'assistant'"):
        TOK.render_header("assistant")
    with pytest.raises(ValueError, match="expected a role in .*got 'narrator'"):
        TOK.template_role("narrator", "student")


conversations = st.lists(st.tuples(st.sampled_from(["teacher", "student", "verifier"]), st.text(max_size=20)))


@given(messages=conversations, systems=st.tuples(st.text(max_size=20), st.text(max_size=20)))
@settings(max_examples=100)
def test_views_are_append_only(messages, systems):
    for viewer, system in zip(VIEWERS, systems, strict=True):
        view = view_of(messages, viewer, system)
        prev: list[int] = []
        for k in range(1, len(view) + 1):
            ids = view_ids(TOK, view[:k], viewer)
            assert ids[: len(prev)] == prev
            prev = ids
        assert TOK.decode(prev) == "".join(text for _, text in view)
        assert prev.count(TOK.end_of_turn_id) == len(view)


def test_get_tokenizer_byte():
    assert get_tokenizer() == get_tokenizer("byte") == get_tokenizer(None) == ByteTokenizer()
    assert get_tokenizer(TOK) is TOK
    assert hash(ByteTokenizer()) == hash(TOK)
    assert repr(TOK) == "ByteTokenizer()"
