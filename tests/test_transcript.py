import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from convenv.tokenizers import ByteTokenizer
from convenv.transcript import Transcript

BOTH = ("teacher", "student")


def test_views_filter_by_visibility_and_keep_exact_bodies():
    tok = ByteTokenizer()
    t = Transcript(tok)
    t.append("system", text="secret answer 6", visible_to=("teacher",))
    t.append("system", text="be a student", visible_to=("student",))
    t.append("teacher", text="Solve 2x = 12", visible_to=BOTH)
    body = [*tok.encode("x = "), 0xFF, 0xFE]  # invalid UTF-8 is kept as generated, never re-encoded
    t.append("student", body=body, visible_to=BOTH)
    t.append("verifier", text="wrong", visible_to=("teacher",))
    assert "secret" not in t.view_text("student") and "secret" in t.view_text("teacher")
    assert [m.speaker for m in t.view_messages("student")] == ["system", "teacher", "student"]
    assert list(t.view_ids("student")[-len(body) - 1 : -1]) == body
    assert t.messages[3].body == tuple(body)
    spans = t.view_spans("teacher")
    assert spans[-1][2] == t.view_length("teacher")


def test_append_rejects_bad_input_and_changes_nothing():
    t = Transcript(ByteTokenizer())
    t.append("teacher", text="hi", visible_to=BOTH)
    before = t.view_ids("student").copy()
    with pytest.raises(ValueError, match="expected a speaker"):
        t.append("narrator", text="x", visible_to=BOTH)
    with pytest.raises(ValueError, match="non-empty subset"):
        t.append("teacher", text="x", visible_to=("parent",))
    with pytest.raises(ValueError, match="expected `text` or `body`"):
        t.append("teacher", visible_to=BOTH)
    assert len(t) == 1 and np.array_equal(t.view_ids("student"), before)
    with pytest.raises(KeyError, match="expected a viewer"):
        t.view_ids("parent")


messages = st.lists(
    st.tuples(
        st.sampled_from(["system", "teacher", "student", "verifier"]),
        st.text(max_size=30),
        st.sampled_from([("teacher",), ("student",), BOTH]),
    ),
    max_size=12,
)


@settings(max_examples=80, deadline=None)
@given(messages)
def test_every_view_is_append_only(msgs):
    """DESIGN §3: tokens(first k+1 messages)[:len(tokens(first k))] == tokens(first k), for every view and k."""
    t = Transcript(ByteTokenizer())
    previous = {v: t.view_ids(v) for v in BOTH}
    for speaker, text, visible in msgs:
        t.append(speaker, text=text, visible_to=visible)
        for v in BOTH:
            now = t.view_ids(v)
            assert np.array_equal(now[: len(previous[v])], previous[v])
            previous[v] = now
    for v in BOTH:  # the stream is the concatenation of the view's renders
        rebuilt = [i for m in t.view_messages(v) for i in t.render(m.speaker, m.body, v)]
        assert rebuilt == t.view_ids(v).tolist()
