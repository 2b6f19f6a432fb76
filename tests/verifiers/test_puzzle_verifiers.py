import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from convenv.tasks.puzzles import knights, make24, word_guess
from convenv.verifiers import knights as knights_check
from convenv.verifiers import make24 as make24_check
from convenv.verifiers import word_guess as word_check
from convenv.verifiers.make24 import ExpressionError, parse_expression

N = make24.Node
TASK24 = make24.make_task((4, 6, 8, 4), 24, N("*", N("-", 6, 4), N("+", 8, 4)), 1)  # (6 - 4) * (8 + 4)


# ------------------------------------------------------------------------------------------------------ make24
@pytest.mark.parametrize(
    "text",
    [
        "Answer: (6 - 4) * (8 + 4)",
        "answer: (8 + 4) * (6 - 4) = 24.",
        "I think so.\n\\boxed{(6-4)*(4+8)}",
        "(6 - 4) × (8 + 4)",
        "24 = (6 − 4) x (8 + 4)",
    ],
)
def test_make24_accepts_any_correct_expression(text):
    verdict = make24_check.check(text, TASK24)
    assert verdict.correct and verdict.error is None and verdict.signals["numbers_used_wrong"] is None


def test_make24_fractions_count():
    task = make24.make_task((8, 8, 3, 3), 24, N("/", 8, N("-", 3, N("/", 8, 3))), 2)
    assert make24_check.check("Answer: 8 / (3 - 8 / 3)", task).correct


def test_make24_wrong_value_has_value_and_direction():
    verdict = make24_check.check("Answer: 4 * 6 + 8 - 4", TASK24)
    assert verdict.error == "wrong_value" and verdict.signals["value"] == "28"
    assert verdict.signals["direction"] == "too_high"
    low = make24_check.check("Answer: 4 / 6 + 8 - 4", TASK24)
    assert low.signals["value"] == "14/3" and low.signals["direction"] == "too_low"


def test_make24_numbers_used_wrong():
    verdict = make24_check.check("Answer: 4 * 6", TASK24)
    assert verdict.error == "wrong_numbers"
    assert verdict.signals["numbers_used_wrong"] == {"missing": [4, 8], "extra": []}
    extra = make24_check.check("Answer: (6 - 4) * (8 + 4) * 1", TASK24)
    assert extra.error == "wrong_numbers" and extra.signals["numbers_used_wrong"]["extra"] == [1]
    joined = make24_check.check("Answer: 64 - 48 + 8", TASK24)  # joining digits is not allowed
    assert joined.error == "wrong_numbers"


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("", "no_answer"),
        ("Answer: __import__('os').system('ls')", "parse_error"),
        ("Answer: -4 + 6 * 8 / 4 + 4", "parse_error"),  # unary minus
        ("Answer: 2.5 * 4 + 6 + 8", "parse_error"),
        ("Answer: (6 - 4 * (8 + 4)", "parse_error"),
        ("Answer: 6 4 8 4", "parse_error"),
        ("Answer: 6 ** 4", "parse_error"),
        ("Answer: 8 / (4 - 4) + 6", "division_by_zero"),
        ("Answer: " + "(" * 40 + "4" + ")" * 40, "too_large"),
        ("Answer: " + "(" * 10_000 + "4" + ")" * 10_000, "too_large"),
        ("Answer: 1234567 + 1", "too_large"),
        ("Answer: " + " + ".join(["1"] * 100), "too_large"),
        ("Answer: 9" + "*9" * 140, "too_large"),
    ],
)
def test_make24_bad_and_hostile_answers_are_wrong_with_a_code(text, error):
    verdict = make24_check.check(text, TASK24)
    assert not verdict.correct and verdict.error == error


def test_make24_parser_collects_literals_without_folding():
    value, literals, text = parse_expression("3 + 3 * (2 - 2)")
    assert value == 3 and literals == [3, 3, 2, 2] and text == "3 + 3 * (2 - 2)"
    with pytest.raises(ExpressionError, match="unary"):
        parse_expression("-(3)")


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="0123456789+-*/() x=.a\n", max_size=80))
def test_make24_any_text_gives_a_verdict(text):
    verdict = make24_check.check(text, TASK24)
    assert verdict.correct == (verdict.error is None)


# -------------------------------------------------------------------------------------------------- word guess
WORD = word_guess.make_task("crane", 2, salt=0)


@pytest.mark.parametrize("text", ["guess: CRANE", "crane", "Guess: crane.", "I will try\nguess: 'Crane'", "CRANE!"])
def test_word_guess_reads_the_guess(text):
    verdict = word_check.check(text, WORD)
    assert verdict.correct and verdict.signals["marks"] == "+++++"


def test_word_guess_marks_a_wrong_guess():
    verdict = word_check.check("guess: caner", WORD)
    assert verdict.error == "wrong_value" and verdict.extracted == "CANER" and verdict.signals["marks"] == "+????"


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("", "no_answer"),
        ("I am thinking about it", "no_answer"),
        ("guess: cran", "wrong_length"),
        ("guess: __import__", "parse_error"),
        ("guess: cr4ne", "parse_error"),
        ("guess: cr\u00e2ne", "parse_error"),
        ("guess: " + "a" * 100_000, "too_large"),
    ],
)
def test_word_guess_bad_and_hostile_answers(text, error):
    verdict = word_check.check(text, WORD)
    assert not verdict.correct and verdict.error == error


# ----------------------------------------------------------------------------------------------------- knights
KNIGHTS = knights.make_task([(0, ("some", (0, 1), False))], 2, 1)  # A: "at least one of us is a knave"


@pytest.mark.parametrize(
    "text",
    [
        "A: knight, B: knave",
        "Answer: A is a knight, B is a knave.",
        "If A were a knave, the statement would be true.\nSo:\nA = Knight\nB - KNAVE",
        "answer: B: knave, A: a knight",
        "A: knave, B: knight? No.\nAnswer: A: knight, B: knave",
    ],
)
def test_knights_reads_claims(text):
    assert KNIGHTS.answer == "A: knight, B: knave"
    verdict = knights_check.check(text, KNIGHTS)
    assert verdict.correct and verdict.extracted == "A: knight, B: knave"


def test_knights_wrong_people_and_inconsistent_statements():
    verdict = knights_check.check("A: knave, B: knave", KNIGHTS)
    assert verdict.error == "wrong_value" and verdict.signals["wrong_people"] == ["A"]
    assert verdict.signals["inconsistent"] == ["A"]  # a knave saying something true


def test_knights_missing_people_and_no_answer():
    missing = knights_check.check("Answer: A: knight", KNIGHTS)
    assert missing.error == "missing_people" and missing.signals["missing"] == ["B"]
    assert knights_check.check("A knight and a knave walk into a bar", KNIGHTS).error == "no_answer"
    assert knights_check.check("__import__('os')", KNIGHTS).error == "no_answer"
    assert knights_check.check("Answer: E: knight, " * 2000, KNIGHTS).error == "no_answer"
