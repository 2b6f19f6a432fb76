import builtins
import time

import pytest
import sympy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from convenv.error import ConvEnvError
from convenv.verifiers.math_parser import (
    MAX_DEPTH,
    MAX_INPUT_CHARS,
    MathParseError,
    format_value,
    parse_math,
    tokenize,
)

x, y = sympy.symbols("x y")


@pytest.mark.parametrize(
    ("text", "form", "shown"),
    [
        ("6", "scalar", "6"),
        ("-3", "scalar", "-3"),
        ("4/3", "scalar", "4/3"),
        ("2.5", "scalar", "5/2"),
        (".5", "scalar", "1/2"),
        ("1e5", "scalar", "100000"),
        ("2.5e-3", "scalar", "0.0025"),
        ("{-2, 3}", "set", "{-2, 3}"),
        ("{3, -2}", "set", "{-2, 3}"),
        ("{3}", "set", "{3}"),
        ("{1 + sqrt(2), 1 - sqrt(2)}", "set", "{1 - sqrt(2), 1 + sqrt(2)}"),
        ("(2, -1)", "tuple", "(2, -1)"),
        ("2, -1", "list", "2, -1"),
        ("x^2 + 5*x + 6", "scalar", "x^2 + 5*x + 6"),
        ("x**2 + 5x + 6", "scalar", "x^2 + 5*x + 6"),
        ("2(x+3)", "scalar", "2*x + 6"),
        ("(x+2)(x+3)", "scalar", "(x + 2)*(x + 3)"),
        ("x(x+1)", "scalar", "x*(x + 1)"),
        ("x y", "scalar", "x*y"),
        ("-x^2", "scalar", "-x^2"),
        ("2^-1", "scalar", "1/2"),
        ("2^3^2", "scalar", "512"),
        ("1/2x", "scalar", "x/2"),
        ("1,000", "scalar", "1000"),
        ("$1,234,567.50", "scalar", "2469135/2"),
        ("$18", "scalar", "18"),
        ("\\$18.90", "scalar", "189/10"),
        ("50%", "scalar", "1/2"),
        ("12.5\\%", "scalar", "1/8"),
        ("\\frac{4}{3}", "scalar", "4/3"),
        ("\\dfrac{4}{3}", "scalar", "4/3"),
        ("\\tfrac{4}{3}", "scalar", "4/3"),
        ("\\frac12", "scalar", "1/2"),
        ("\\frac{1}{\\frac{1}{2}}", "scalar", "2"),
        ("-\\frac{\\sqrt{3}}{2}", "scalar", "-sqrt(3)/2"),
        ("\\sqrt{8}", "scalar", "2*sqrt(2)"),
        ("\\sqrt2", "scalar", "sqrt(2)"),
        ("\\sqrt[3]{8}", "scalar", "2"),
        ("3\\sqrt{2}", "scalar", "3*sqrt(2)"),
        ("2 \\cdot 3", "scalar", "6"),
        ("2 \\times 3", "scalar", "6"),
        ("\\left( 2, -1 \\right)", "tuple", "(2, -1)"),
        ("\\{1, 2\\}", "set", "{1, 2}"),
        ("\\left\\{ 1, 2 \\right\\}", "set", "{1, 2}"),
        ("\\pi", "scalar", "pi"),
        ("2\\pi", "scalar", "2*pi"),
        ("2pi", "scalar", "2*pi"),
        ("x^{2}+1", "scalar", "x^2 + 1"),
        ("$\\frac{4}{3}$", "scalar", "4/3"),
        ("\\(6\\)", "scalar", "6"),
        ("1,\\!000", "scalar", "1000"),
        ("5\\text{ cm}", "scalar", "5"),
        ("90^\\circ", "scalar", "90"),
        ("1 \\pm \\sqrt{2}", "set", "{1 - sqrt(2), 1 + sqrt(2)}"),
        ("\u00b13", "set", "{-3, 3}"),
        ("\u22123", "scalar", "-3"),
        ("|x - 1|", "scalar", "Abs(x - 1)"),
        ("\\left| -3 \\right|", "scalar", "3"),
        ("\\sin^2 x", "scalar", "sin(x)^2"),
        ("\\ln 2", "scalar", "log(2)"),
        ("exp(2)", "scalar", "exp(2)"),
        ("e^{x}", "scalar", "e^x"),
        ("sqrt(-4)", "scalar", "2*I"),
        ("1.4142135623731", "scalar", "1.4142135623731"),
        ("2^0", "scalar", "1"),
        ("0^0", "scalar", "1"),
        ("x^0", "scalar", "1"),
        ("2^{-10}", "scalar", "0.0009765625"),
        ("2^{\\sqrt{2}}", "scalar", "2^(sqrt(2))"),
        ("\\pi^{2}", "scalar", "pi^2"),
        ("10^{999}/10^{998}", "scalar", "10"),
    ],
)
def test_parses(text, form, shown):
    answer = parse_math(text)
    assert answer.form == form
    assert str(answer) == shown


def test_builds_exact_values():
    assert parse_math("2.5").items == (sympy.Rational(5, 2),)
    assert parse_math("0.1 + 0.2").items == (sympy.Rational(3, 10),)
    assert parse_math("x^2 + 5x + 6").items[0] == x**2 + 5 * x + 6
    assert parse_math("x y").items[0] == x * y


def test_thousands_only_as_a_whole_answer():
    assert parse_math("1,000").form == "scalar"
    assert parse_math("1,000", thousands=False).form == "list"
    assert parse_math("(1,000)").form == "tuple"
    assert parse_math("1, 000").form == "list"
    assert parse_math("1,000 + 1").form == "list"


def test_percent_can_be_ignored():
    assert str(parse_math("50%", percent=False)) == "50"


def test_format_value():
    assert format_value(sympy.Rational(4, 3)) == "4/3"
    assert format_value(sympy.Rational(-12345, 1000)) == "-12.345"
    assert format_value(sympy.Rational(1, 1024)) == "0.0009765625"
    assert format_value(sympy.Rational(5, 2)) == "5/2"
    assert format_value(x**2) == "x^2"


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("", "parse_error"),
        ("x = 6", "parse_error"),
        ("xy", "parse_error"),
        ("2 3", "parse_error"),
        ("x2", "parse_error"),
        ("{}", "parse_error"),
        ("()", "parse_error"),
        ("(1, 2", "parse_error"),
        ("1/0", "parse_error"),
        ("log(0)", "parse_error"),
        ("tan(pi/2)", "parse_error"),
        ("{1, {2}}", "parse_error"),
        ("(1, 2) + 3", "parse_error"),
        ("log(8, 2)", "parse_error"),
        ("\\sqrt[0]{2}", "parse_error"),
        ("\\sin^{-1} x", "parse_error"),
        ("1 \\pm 2 \\pm 3", "parse_error"),
        ("\\alpha", "parse_error"),
        ("\\infty", "parse_error"),
        ("factorial(10**9)", "parse_error"),
        ("gamma(10**9)", "parse_error"),
        ("__import__('os').system('ls')", "parse_error"),
        ("lambda: 1", "parse_error"),
        ("(lambda: 1)()", "parse_error"),
        ("x.__class__", "parse_error"),
        ("().__class__.__bases__[0].__subclasses__()", "parse_error"),
        ("__builtins__", "parse_error"),
        ("_x", "parse_error"),
        ("open('/etc/passwd').read()", "parse_error"),
        ("Symbol('x')", "parse_error"),
        ("S('1')", "parse_error"),
        ("x if 1 else 2", "parse_error"),
        ("[i for i in range(10**9)]", "parse_error"),
        ("'6'", "parse_error"),
        ("6;", "parse_error"),
        ("\x00", "parse_error"),
        ("\u0663", "parse_error"),  # a non-ASCII digit
        ("9^9^9^9", "too_large"),
        ("9**9**9**9", "too_large"),
        ("10**10**10", "too_large"),
        ("2^(2^(2^100))", "too_large"),
        ("2^1001", "too_large"),
        ("x^1001", "too_large"),
        ("(x^1000)^1000", "too_large"),
        ("(x^100)^100", "too_large"),
        ("(10^1999 x)^1000", "too_large"),
        ("\\sqrt{10^{999}}^{1000}", "too_large"),
        ("999^1000", "too_large"),
        ("1e1001", "too_large"),
        ("1e-1001", "too_large"),
        ("exp(10^6)", "too_large"),
        ("2^(10^6 x)", "too_large"),
        ("9" * 499 + "^9", "too_large"),
        ("1" * (MAX_INPUT_CHARS + 1), "too_large"),
        ("(" * 60 + "1" + ")" * 60, "too_large"),
        ("-" * 60 + "1", "too_large"),
        ("2^" * 60 + "2", "too_large"),
        ("\\sqrt{" * 60 + "2" + "}" * 60, "too_large"),
    ],
)
def test_refuses(text, code):
    started = time.perf_counter()
    with pytest.raises(MathParseError) as info:
        parse_math(text)
    assert info.value.code == code
    assert time.perf_counter() - started < 2.0  # refused before anything large is computed


def test_error_is_a_value_error_with_a_helpful_message():
    with pytest.raises(ValueError, match=r"expected a single-letter variable .* got 'xy'.*write products with \*"):
        parse_math("xy")
    with pytest.raises(ConvEnvError, match=f"expected an answer of at most {MAX_INPUT_CHARS} characters, got 501"):
        parse_math("1" * 501)
    with pytest.raises(MathParseError, match=f"expected at most {MAX_DEPTH} levels of nesting"):
        parse_math("(" * 100 + "1" + ")" * 100)


def test_nesting_below_the_cap_is_fine():
    depth = MAX_DEPTH - 5
    assert parse_math("(" * depth + "1" + ")" * depth).items == (1,)


def test_huge_inputs_are_refused_fast():
    started = time.perf_counter()
    for text in ("(" * 10_000 + ")" * 10_000, "1" * 1_000_000, "9^" * 500_000 + "9"):
        with pytest.raises(MathParseError) as info:
            parse_math(text)
        assert info.value.code == "too_large"
    assert time.perf_counter() - started < 2.0


def test_tokenize_refuses_unknown_characters():
    assert [t.kind for t in tokenize("3x")] == ["num", "name", "end"]
    with pytest.raises(MathParseError, match="got '@' at position 1"):
        tokenize("1@2")


def test_never_evaluates_strings(monkeypatch):
    texts = ["x^2+5x+6", "\\frac{\\sqrt{3}}{2}", "{1-sqrt(2), 1+sqrt(2)}", "sin(x)^2+cos(x)^2", "|x-1|", "2.5%"]
    for text in texts:  # warm up: sympy's lazy imports may legitimately exec while importing
        parse_math(text)

    def forbidden(*args, **kwargs):
        raise AssertionError("the parser evaluated a string")

    monkeypatch.setattr(builtins, "eval", forbidden)
    monkeypatch.setattr(builtins, "exec", forbidden)
    for text in texts:
        parse_math(text)
    for payload in ("__import__('os').system('ls')", "eval('1')", "exec('1')"):
        with pytest.raises(MathParseError):
            parse_math(payload)


_MATH_ALPHABET = st.sampled_from(
    list("0123456789.,+-*/^()[]{}|%$ =xyepi")
    + ["\\frac", "\\sqrt", "\\left(", "\\right)", "\\{", "\\}", "\\cdot", "\\pi", "\\pm", "sqrt", "sin", "**", "e5"]
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=80))
def test_arbitrary_text_only_raises_math_parse_error(text):
    try:
        answer = parse_math(text)
    except MathParseError as exc:
        assert exc.code in ("parse_error", "too_large")
    else:
        assert answer.form in ("scalar", "set", "tuple", "list")
        str(answer)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_MATH_ALPHABET, max_size=40).map("".join))
def test_math_like_text_only_raises_math_parse_error(text):
    try:
        answer = parse_math(text)
    except MathParseError as exc:
        assert exc.code in ("parse_error", "too_large")
    else:
        assert all(isinstance(v, sympy.Expr) for v in answer.items)
        str(answer)
