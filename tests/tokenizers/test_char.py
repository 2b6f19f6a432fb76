import doctest

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tiny_hf import VIEWERS, view_ids, view_of

import convenv.tokenizers.char
from convenv.tokenizers import Tokenizer, generation_prompt, render_message
from convenv.tokenizers.char import COURSE_ALPHABET, CharTokenizer

TOK = CharTokenizer()
course_text = st.text(alphabet=COURSE_ALPHABET, max_size=40)


def test_follows_the_protocol_and_its_doctest_runs():
    assert isinstance(TOK, Tokenizer)
    assert doctest.testmod(convenv.tokenizers.char, optionflags=doctest.ELLIPSIS).failed == 0


def test_course_alphabet_is_small_and_has_what_the_course_envs_need():
    assert len(set(COURSE_ALPHABET)) == len(COURSE_ALPHABET)
    assert set("0123456789+-=<>?!, ") <= set(COURSE_ALPHABET)
    assert TOK.vocab_size == len(COURSE_ALPHABET) + 8 < 64


def test_one_id_per_character_then_specials_then_roles():
    assert TOK.encode("0") == [0] and TOK.encode("9") == [9]
    n = len(COURSE_ALPHABET)
    assert [TOK.pad_id, TOK.eos_id, TOK.bos_id, TOK.end_of_turn_id] == [n, n + 1, n + 2, n + 3]
    roles = [TOK.special_ids[r] for r in ("system", "teacher", "student", "verifier")]
    assert roles == [n + 4, n + 5, n + 6, n + 7]
    assert len(set(TOK.special_ids.values())) == len(TOK.special_ids) == 8


@given(course_text)
@settings(max_examples=200)
def test_encode_decode_round_trip(text):
    ids = TOK.encode(text)
    assert len(ids) == len(text)
    assert all(0 <= i < len(COURSE_ALPHABET) for i in ids)
    assert TOK.decode(ids) == text


@given(st.lists(st.integers(min_value=-(2**70), max_value=2**70)), st.booleans())
@settings(max_examples=200)
def test_decode_of_arbitrary_ids_never_raises(ids, skip):
    assert isinstance(TOK.decode(ids, skip), str)


def test_decode_shows_specials_by_name_unless_skipped():
    ids = render_message(TOK, "student", TOK.encode("12"))
    assert TOK.decode(ids) == "12"
    assert TOK.decode(ids, skip_special_tokens=False) == "<student>12<end>"
    assert TOK.decode([TOK.vocab_size + 3, 1], skip_special_tokens=False) == "1"  # out of vocabulary: dropped


def test_a_character_outside_the_alphabet_is_a_clear_error():
    with pytest.raises(
        ValueError, match=r"expected characters from the tokenizer's alphabet .* got 'Q' at position 2 "
    ):
        TOK.encode("12Q")
    with pytest.raises(ValueError, match="unknown='\\?'"):
        CharTokenizer("01").encode("2")


def test_unknown_characters_can_map_to_one_id_instead():
    tok = CharTokenizer("0123456789?", unknown="?")
    assert tok.encode("1x2") == [1, 10, 2]
    assert tok.decode(tok.encode("1x2")) == "1?2"  # documented: not a round trip


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"alphabet": ""}, "non-empty string"),
        ({"alphabet": "abca"}, r"each character once.*\['a'\]"),
        ({"alphabet": "ab", "unknown": "?"}, "unknown=None or one character of the alphabet"),
        ({"alphabet": "ab", "roles": ("teacher", "teacher")}, "distinct non-empty role names"),
        ({"alphabet": "ab", "roles": ("pad",)}, "other than the specials"),
    ],
)
def test_bad_construction_is_a_clear_error(kwargs, match):
    with pytest.raises(ValueError, match=match):
        CharTokenizer(**kwargs)


def test_roles_are_kept_whoever_looks_and_custom_roles_work():
    for speaker in ("system", "teacher", "student", "verifier"):
        for viewer in VIEWERS:
            assert TOK.template_role(speaker, viewer) == speaker
    assert generation_prompt(TOK, "student") == [TOK.special_ids["student"]]
    assert TOK.render_prefix() == [] and TOK.render_footer("teacher") == [TOK.end_of_turn_id]
    tok = CharTokenizer("ab", roles=("system", "teacher", "student", "verifier", "judge"))
    assert tok.render_header("judge") == [tok.vocab_size - 1]
    with pytest.raises(ValueError, match="expected a role in .*got 'assistant'"):
        TOK.render_header("assistant")


conversations = st.lists(
    st.tuples(st.sampled_from(["teacher", "student", "verifier"]), st.text(alphabet=COURSE_ALPHABET, max_size=8))
)


@given(messages=conversations, systems=st.tuples(course_text, course_text))
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


def test_equality_hash_and_repr():
    assert CharTokenizer() == TOK and hash(CharTokenizer()) == hash(TOK)
    assert CharTokenizer("01") != TOK and CharTokenizer(unknown="?") != TOK
    assert repr(CharTokenizer("01", unknown="0")) == "CharTokenizer('01', unknown='0')"
