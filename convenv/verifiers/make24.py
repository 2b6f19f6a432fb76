r"""The make-24 check: a restricted arithmetic parser of our own, evaluated exactly with ``Fraction``.

Student text is never evaluated by Python: one regex splits it into tokens from an allow-list (whole numbers,
``+ - * /``, parentheses, and the usual stand-ins ``x × · ÷ −``), a recursive-descent parser with a depth cap
builds the value, and the literals are collected as they are read (sympy would fold ``3 + 3`` into ``6`` and lose
them). Unary signs, decimals and everything else are refused. :func:`check` runs in the killable worker.

Where the expression is read from, first match wins: the text after the last ``answer:`` up to the end of its
line; the last ``\boxed{...}``; the last non-empty line. If it holds ``=``, the first side with an operator is
the expression (``(8 - 4) * 6 = 24`` reads ``(8 - 4) * 6``).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

from convenv.tasks.base import Task
from convenv.verifiers.base import Verdict

MAX_CHARS = 300
"""Longest expression read (longer is refused as ``too_large``)."""
MAX_TOKENS = 120
MAX_DEPTH = 30
"""Deepest nesting of parentheses."""
MAX_DIGITS = 6
"""Longest number literal."""

_TOKEN = re.compile(
    r"\s*(?:(?P<num>\d+)|(?P<op>[-+*/()\u00d7\u00b7\u00f7\u2212\u2013])|(?P<x>(?<![A-Za-z])[xX](?![A-Za-z])))"
)
_CANON = {"\u00d7": "*", "\u00b7": "*", "x": "*", "X": "*", "\u00f7": "/", "\u2212": "-", "\u2013": "-"}
_ANSWER = re.compile(r"\banswer\s*:", re.IGNORECASE)
_BOXED = re.compile(r"\\boxed\{([^{}]*)\}")


class ExpressionError(ValueError):
    """Not an expression the parser accepts; ``code`` is ``parse_error``, ``too_large`` or ``division_by_zero``."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Token:
    """One token: ``kind`` is ``"num"`` or ``"op"`` (``+ - * / ( )``); ``start``/``end`` index the text."""

    kind: str
    value: str
    start: int
    end: int


def tokenize(text: str) -> list[Token]:
    """Split ``text`` into tokens, refusing any other character.

    Raises:
        ExpressionError: a character outside the allow-list, a too-long number, or too many tokens.
    """
    tokens, pos = [], 0
    stripped = text.rstrip()
    while pos < len(stripped):
        m = _TOKEN.match(stripped, pos)
        if m is None or m.end() == pos:
            ch = stripped[pos:].lstrip()[:1]
            raise ExpressionError(
                "parse_error",
                f"expected whole numbers, + - * / and parentheses, got {ch!r}; write e.g. (8 - 4) * 6",
            )
        if m.group("num") is not None:
            if len(m.group("num")) > MAX_DIGITS:
                raise ExpressionError("too_large", f"expected numbers of at most {MAX_DIGITS} digits")
            tokens.append(Token("num", m.group("num"), m.start("num"), m.end()))
        else:
            raw = m.group("op") or m.group("x")
            tokens.append(Token("op", _CANON.get(raw, raw), m.end() - 1, m.end()))
        if len(tokens) > MAX_TOKENS:
            raise ExpressionError("too_large", f"expected at most {MAX_TOKENS} numbers and symbols")
        pos = m.end()
    return tokens


class _Parser:
    """expr := term (('+'|'-') term)* ; term := factor (('*'|'/') factor)* ; factor := NUMBER | '(' expr ')'."""

    def __init__(self, tokens: Sequence[Token]):
        self.tokens = tokens
        self.i = 0
        self.literals: list[int] = []

    def peek(self) -> Token | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def expr(self, depth: int) -> Fraction:
        value = self.term(depth)
        while (t := self.peek()) is not None and t.value in "+-" and t.kind == "op":
            self.i += 1
            rhs = self.term(depth)
            value = value + rhs if t.value == "+" else value - rhs
        return value

    def term(self, depth: int) -> Fraction:
        value = self.factor(depth)
        while (t := self.peek()) is not None and t.value in "*/" and t.kind == "op":
            self.i += 1
            rhs = self.factor(depth)
            if t.value == "/" and rhs == 0:
                raise ExpressionError("division_by_zero", "the expression divides by zero")
            value = value * rhs if t.value == "*" else value / rhs
        return value

    def factor(self, depth: int) -> Fraction:
        t = self.peek()
        if t is None:
            raise ExpressionError("parse_error", "expected a number or '(', got the end of the expression")
        self.i += 1
        if t.kind == "num":
            self.literals.append(int(t.value))
            return Fraction(int(t.value))
        if t.value == "(":
            if depth >= MAX_DEPTH:
                raise ExpressionError("too_large", f"expected at most {MAX_DEPTH} nested parentheses")
            value = self.expr(depth + 1)
            close = self.peek()
            if close is None or close.value != ")":
                raise ExpressionError("parse_error", "expected ')' to close a parenthesis")
            self.i += 1
            return value
        if t.value in "+-":
            raise ExpressionError("parse_error", "expected a number, got a sign: unary + and - are not allowed")
        raise ExpressionError("parse_error", f"expected a number or '(', got {t.value!r}")


def evaluate_tokens(tokens: Sequence[Token]) -> tuple[Fraction, list[int]]:
    """The exact value of a token list and the number literals it uses, in order.

    Raises:
        ExpressionError: not a complete expression, too deep, or a division by zero.
    """
    if not tokens:
        raise ExpressionError("parse_error", "expected an expression, got nothing")
    parser = _Parser(tokens)
    value = parser.expr(0)
    if parser.i != len(tokens):
        raise ExpressionError("parse_error", f"expected an operator or the end, got {tokens[parser.i].value!r}")
    return value, parser.literals


def parse_expression(text: str) -> tuple[Fraction, list[int], str]:
    """``(value, literals, normalized text)`` of an expression such as ``"(8 - 4) * 6"``.

    Raises:
        ExpressionError: see :func:`tokenize` and :func:`evaluate_tokens`.
    """
    if len(text) > MAX_CHARS:
        raise ExpressionError("too_large", f"expected at most {MAX_CHARS} characters, got {len(text)}")
    tokens = tokenize(text)
    value, literals = evaluate_tokens(tokens)
    return value, literals, normalize(tokens)


def normalize(tokens: Sequence[Token]) -> str:
    """Tokens joined as ``"(8 - 4) * 6"``."""
    out = ""
    for t in tokens:
        if t.value == ")" or (out.endswith("(")):
            out += t.value
        else:
            out += ("" if not out else " ") + t.value
    return out


def fmt_value(value: Fraction) -> str:
    """``"24"`` or ``"17/3"``."""
    return str(value.numerator) if value.denominator == 1 else f"{value.numerator}/{value.denominator}"


def extract_expression(text: str) -> str | None:
    """The answer part of ``text`` (see the module docstring), or None."""
    markers = list(_ANSWER.finditer(text))
    if markers:
        segment = text[markers[-1].end() :].split("\n", 1)[0]
    else:
        boxes = list(_BOXED.finditer(text))
        if boxes:
            segment = boxes[-1].group(1)
        else:
            lines = [line for line in text.split("\n") if line.strip()]
            segment = lines[-1] if lines else ""
    segment = segment.strip().rstrip(".!").strip().strip("$").strip()
    if "=" in segment:
        sides = [s.strip() for s in segment.split("=")]
        with_op = [s for s in sides if re.search(r"[-+*/\u00d7\u00f7\u00b7\u2212]", s)]
        segment = with_op[0] if with_op else sides[0]
    return segment or None


def numbers_diff(used: Sequence[int], given: Sequence[int]) -> dict[str, list[int]] | None:
    """``{"missing": [...], "extra": [...]}`` between the literals used and the numbers given, None if equal."""
    have, want = Counter(used), Counter(given)
    missing, extra = sorted((want - have).elements()), sorted((have - want).elements())
    return {"missing": missing, "extra": extra} if missing or extra else None


def check(text: str, task: Task) -> Verdict:
    """The verdict on ``text`` as an answer to a make-24 task (run it through a pooled verifier).

    Correct when the expression uses exactly ``metadata["numbers"]`` (as a multiset) and equals
    ``metadata["target"]``. Errors: ``no_answer``, ``parse_error``, ``too_large``, ``division_by_zero``,
    ``wrong_numbers`` (checked first), ``wrong_value``. Signals: ``numbers_used_wrong`` (``missing`` /
    ``extra`` lists, or None), ``numbers_used``, ``value`` (exact, as text), ``direction`` (``too_high`` /
    ``too_low`` / None).
    """
    segment = extract_expression(text)
    if segment is None:
        return Verdict(False, None, "no_answer", "no expression found (expected a line 'Answer: ...')")
    try:
        value, used, normalized = parse_expression(segment)
    except ExpressionError as err:
        return Verdict(False, None, err.code, str(err))
    given, target = task.metadata["numbers"], Fraction(task.metadata["target"])
    wrong_numbers = numbers_diff(used, given)
    direction = None if value == target else ("too_high" if value > target else "too_low")
    signals = {
        "numbers_used_wrong": wrong_numbers,
        "numbers_used": used,
        "value": fmt_value(value),
        "direction": direction,
    }
    if wrong_numbers is not None:
        detail = f"uses {used} instead of {sorted(given)} (missing {wrong_numbers['missing']}, extra "
        detail += f"{wrong_numbers['extra']}); value {fmt_value(value)}, target {target}"
        return Verdict(False, normalized, "wrong_numbers", detail, signals)
    if direction is not None:
        detail = f"equals {fmt_value(value)}, target {target} ({direction.replace('_', ' ')})"
        return Verdict(False, normalized, "wrong_value", detail, signals)
    return Verdict(True, normalized, None, f"equals {target} using each number once", signals)
