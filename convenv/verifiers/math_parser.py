r"""A restricted math parser for hostile text: tokens in, sympy objects out, no string evaluation anywhere.

Student text is never handed to sympy's string parsers (they run Python's evaluator even with
``evaluate=False``). This module tokenizes with one anchored regex, parses an allow-listed grammar by
recursive descent, and builds sympy objects directly from checked integers. Every sympy operation is
preceded or followed by a size check, so ``9^9^9^9`` is refused before anything big is computed.

Grammar (``^`` and ``**`` are powers, right-associative; juxtaposition multiplies)::

    answer  := item (',' item)*                       bare list when more than one
    item    := term (('+' | '-') term)*
    term    := unary (('*' | '/' | \cdot | \times) unary | implicit power)*
    unary   := ('+' | '-') unary | power
    power   := postfix ('^' (group | unary))?
    postfix := primary '%'*
    primary := number | letter | pi | function | '(' answer ')' | '[' answer ']'
             | '{' answer '}' | '\{' answer '\}' | '|' item '|' | \frac a b | \sqrt[n] a

Implicit multiplication applies when the right side starts with a letter, a function, ``(`` or a LaTeX
command (``3x``, ``2(x+1)``, ``(x+2)(x-3)``, ``x y``, ``2\sqrt{3}``), never before a number.
Multi-letter words other than the allow-listed function names are refused (``xy`` must be written ``x*y``).
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import NamedTuple

import sympy

from convenv.error import ConvEnvError

MAX_INPUT_CHARS = 500
"""Longest answer string the parser reads (longer input is refused as ``too_large``)."""
MAX_DEPTH = 50
"""Deepest nesting of parentheses, braces, functions, signs and powers."""
MAX_NODES = 1000
"""Most sympy operations one answer may build."""
MAX_EXPONENT = 1000
"""Largest absolute value of any numeric exponent (literal, computed or scientific-notation)."""
MAX_DIGITS = 2000
"""Most decimal digits in any exact number (numerator or denominator) built while parsing."""
_MAX_BITS = int(MAX_DIGITS * 3.3219280948873626) + 1  # digits -> bits

FUNCTIONS = {
    "sqrt": sympy.sqrt,
    "abs": sympy.Abs,
    "sin": sympy.sin,
    "cos": sympy.cos,
    "tan": sympy.tan,
    "log": sympy.log,
    "ln": sympy.log,
    "exp": sympy.exp,
}
"""Allow-listed functions, by the names a student may write (plain or as LaTeX commands)."""

_UNDEFINED = (sympy.nan, sympy.zoo, sympy.oo, -sympy.oo)
_SIZE_MESSAGE = (
    f"expected numbers of at most {MAX_DIGITS} digits and exponents of at most {MAX_EXPONENT}, got a larger "
    "one; simplify the answer"
)


class MathParseError(ConvEnvError, ValueError):
    """The text is not an answer the restricted parser accepts.

    Attributes:
        code: ``"parse_error"`` (not in the grammar) or ``"too_large"`` (a size cap was hit).
    """

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


def _fail(message: str) -> MathParseError:
    return MathParseError("parse_error", message)


def _too_large(message: str) -> MathParseError:
    return MathParseError("too_large", message)


@dataclass(frozen=True)
class ParsedAnswer:
    """A parsed answer.

    Attributes:
        form: ``"scalar"`` (one number or expression), ``"set"`` (``{a, b}``), ``"tuple"`` (``(a, b)``)
            or ``"list"`` (a bare ``a, b`` whose meaning the gold answer decides).
        items: the values; exactly one for a scalar.
    """

    form: str
    items: tuple[sympy.Expr, ...]

    def __str__(self) -> str:
        texts = [format_value(v) for v in self.items]
        if self.form == "set":  # by value, each once
            keyed = sorted(zip(map(_sort_key, self.items), texts, strict=True))
            texts = list(dict.fromkeys(text for _, text in keyed))
        brackets = {"set": "{}", "tuple": "()"}.get(self.form)
        return brackets[0] + ", ".join(texts) + brackets[1] if brackets else ", ".join(texts)


def format_value(value: sympy.Expr) -> str:
    """Return the normalized text of one value, e.g. ``"4/3"``, ``"x^2 + 5*x + 6"``, ``"sqrt(2)"``.

    A rational with a long power-of-ten denominator stays a decimal (``"1.4142"``, not ``"7071/5000"``).
    """
    places = _decimal_places(int(value.q)) if value.is_Rational and value.q >= 100 else None
    if places is not None:
        digits = str(abs(int(value.p)) * 10**places // int(value.q)).rjust(places + 1, "0")
        return f"{'-' if value < 0 else ''}{digits[:-places]}.{digits[-places:]}"
    return sympy.sstr(value).replace("**", "^")


def _decimal_places(denominator: int) -> int | None:
    """The k with ``denominator`` dividing ``10**k`` (None if there is none)."""
    twos = fives = 0
    while denominator % 2 == 0:
        denominator //= 2
        twos += 1
    while denominator % 5 == 0:
        denominator //= 5
        fives += 1
    return max(twos, fives) if denominator == 1 else None


def _sort_key(value: sympy.Expr) -> tuple[int, float]:
    """Real numbers by value, anything else after them."""
    if value.is_number and value.is_real:
        try:
            return (0, float(value.evalf(15)))
        except (TypeError, ValueError, OverflowError):
            pass
    return (1, 0.0)


# ---------------------------------------------------------------------------------------------- normalizing

_REPLACEMENTS = (  # (old, new), applied in order: "\$" before "$"
    *(("\\$", ""), ("$", ""), ("\\left.", ""), ("\\right.", ""), ("\\!", ""), ("{,}", ","), ("\\%", "%")),
    *(("\\,", " "), ("\\;", " "), ("\\:", " "), ("\\ ", " "), ("~", " ")),
    *(("\\(", ""), ("\\)", ""), ("\\[", ""), ("\\]", "")),  # inline and display math delimiters
    *(("\u2212", "-"), ("\u2013", "-"), ("\u00d7", "*"), ("\u00b7", "*"), ("\u22c5", "*"), ("\u00f7", "/")),
    *(("\u03c0", "\\pi "), ("\u221a", "\\sqrt "), ("\u00b0", "")),  # pi, square root, degree sign
)
_TEXT_RE = re.compile(r"\\(?:text|textrm|textbf|textit|mbox|operatorname)\s*\{[^{}]*\}")
_DEGREE_RE = re.compile(r"\^\s*\{?\s*\\circ\s*\}?")
_PLUS_MINUS_RE = re.compile(r"\\pm(?![A-Za-z])|\u00b1|\+/-")
_THOUSANDS_RE = re.compile(r"[+-]?[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]+)?")


def _normalize(text: str) -> str:
    for old, new in _REPLACEMENTS:
        text = text.replace(old, new)
    text = _TEXT_RE.sub(" ", text)  # units and prose: "5\text{ cm}" -> "5"
    text = _DEGREE_RE.sub("", text)
    return text.strip()


# ---------------------------------------------------------------------------------------------- tokenizing


class Token(NamedTuple):
    """One token: ``kind`` is num, name, func, op, frac, lsqrt, wrap or end."""

    kind: str
    text: str
    pos: int


_TOKEN_RE = re.compile(
    r"(?P<ws>\s+)"
    r"|(?P<num>(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)"
    r"|(?P<cmd>\\(?:[A-Za-z]+|[{}|]))"
    r"|(?P<name>[A-Za-z]+)"
    r"|(?P<op>\*\*|[-+*/^()\[\]{},|%])"
)
_SKIPPED_COMMANDS = {"left", "right", "big", "Big", "bigl", "bigr", "Bigl", "Bigr", "quad", "qquad", "displaystyle"}
_COMMANDS = {  # LaTeX command -> (token kind, token text)
    **{name: ("frac", "frac") for name in ("frac", "dfrac", "tfrac")},
    **{name: ("op", "*") for name in ("cdot", "times", "ast")},
    **{name: ("op", "|") for name in ("|", "lvert", "rvert")},
    **{name: ("wrap", name) for name in ("mathrm", "mathbf", "mathit", "boxed")},
    **{"sqrt": ("lsqrt", "sqrt"), "div": ("op", "/"), "pi": ("name", "pi")},
    **{"{": ("op", "\\{"), "}": ("op", "\\}"), "lbrace": ("op", "\\{"), "rbrace": ("op", "\\}")},
}


def tokenize(text: str) -> list[Token]:
    """Split normalized text into tokens, refusing any character outside the allow-list.

    Raises:
        MathParseError: on a character or LaTeX command the grammar does not know.
    """
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        match = _TOKEN_RE.match(text, pos)
        if match is None:
            raise _fail(
                f"expected numbers, letters, + - * / ^ ( ) or LaTeX math, got {text[pos]!r} at position {pos}; "
                "write the answer as a plain value such as 4/3 or {-2, 3}"
            )
        kind, value = match.lastgroup, match.group()
        pos = match.end()
        if kind == "ws":
            continue
        if kind == "op" and value == "**":
            value = "^"
        elif kind == "cmd":
            kind, value = _command_token(value[1:], match.start())
            if kind == "skip":
                continue
        elif kind == "name":
            kind = "func" if value in FUNCTIONS else "name"
        tokens.append(Token(kind, value, match.start()))
    tokens.append(Token("end", "", len(text)))
    return tokens


def _command_token(name: str, pos: int) -> tuple[str, str]:
    if name in _SKIPPED_COMMANDS:
        return "skip", ""
    if name in _COMMANDS:  # before FUNCTIONS: \sqrt takes LaTeX arguments, sqrt(...) does not
        return _COMMANDS[name]
    if name in FUNCTIONS:
        return "func", name
    raise _fail(f"expected a supported LaTeX command (\\frac, \\sqrt, \\cdot, \\pi, ...), got \\{name} at {pos}")


# ---------------------------------------------------------------------------------------------- parsing


class _Seq:
    """A set or tuple while parsing: it may not take part in arithmetic."""

    def __init__(self, form: str, items: list[sympy.Expr]):
        self.form = form
        self.items = items


_CLOSERS = {"(": ")", "[": "]", "{": "}", "\\{": "\\}"}


class _Parser:
    def __init__(self, tokens: list[Token]):
        self.tokens = tokens
        self.i = 0
        self.depth = 0
        self.nodes = 0

    # -- helpers

    def peek(self) -> Token:
        return self.tokens[self.i]

    def advance(self) -> Token:
        token = self.tokens[self.i]
        self.i += 1
        return token

    def at(self, *texts: str) -> bool:
        token = self.tokens[self.i]
        return token.kind == "op" and token.text in texts

    def expect(self, text: str) -> None:
        token = self.advance()
        if token.kind != "op" or token.text != text:
            got = "the end" if token.kind == "end" else repr(token.text)
            raise _fail(f"expected {text!r} at position {token.pos}, got {got}; check the brackets")

    @contextmanager
    def nested(self) -> Iterator[None]:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise _too_large(f"expected at most {MAX_DEPTH} levels of nesting, got more; simplify the answer")
        try:
            yield
        finally:
            self.depth -= 1

    # -- grammar

    def answer(self) -> ParsedAnswer:
        items = self.items()
        token = self.peek()
        if token.kind != "end":
            raise _fail(f"expected the end of the answer, got {token.text!r} at position {token.pos}")
        if len(items) == 1:
            item = items[0]
            if isinstance(item, _Seq):
                return ParsedAnswer(item.form, tuple(item.items))
            return ParsedAnswer("scalar", (item,))
        return ParsedAnswer("list", tuple(_scalar(v) for v in items))

    def items(self) -> list[sympy.Expr | _Seq]:
        items = [self.item()]
        while self.at(","):
            self.advance()
            items.append(self.item())
        return items

    def item(self) -> sympy.Expr | _Seq:
        left = self.term()
        while self.at("+", "-"):
            op = operator.add if self.advance().text == "+" else operator.sub
            left = self.build(op, left, self.term())
        return left

    def term(self) -> sympy.Expr | _Seq:
        left = self.unary()
        while True:
            if self.at("*", "/"):
                op = operator.mul if self.advance().text == "*" else operator.truediv
                left = self.build(op, left, self.unary())
            elif self.starts_implicit():
                left = self.build(operator.mul, left, self.power())
            else:
                return left

    def starts_implicit(self) -> bool:
        token = self.peek()
        return token.kind in ("name", "func", "frac", "lsqrt", "wrap") or self.at("(", "[")

    def unary(self) -> sympy.Expr | _Seq:
        if self.at("+", "-"):
            op = self.advance().text
            with self.nested():
                operand = self.unary()
            return operand if op == "+" else self.build(operator.neg, operand)
        return self.power()

    def power(self) -> sympy.Expr | _Seq:
        base = self.postfix()
        if not self.at("^"):
            return base
        self.advance()
        with self.nested():
            exponent = self.latex_arg() if self.at("{") else self.unary()
        return self.build(_checked_pow, base, exponent)

    def postfix(self) -> sympy.Expr | _Seq:
        value = self.primary()
        while self.at("%"):
            self.advance()
            value = self.build(lambda a: a / 100, value)
        return value

    def primary(self) -> sympy.Expr | _Seq:
        token = self.peek()
        if token.kind == "num":
            self.advance()
            return _number(token.text)
        if token.kind == "name":
            self.advance()
            return _name(token)
        if token.kind == "func":
            self.advance()
            return self.function(token.text)
        if token.kind in ("frac", "lsqrt", "wrap"):
            self.advance()
            return self.latex(token.kind)
        if self.at("(", "[", "{", "\\{"):
            return self.bracket(self.advance().text)
        if self.at("|"):
            self.advance()
            with self.nested():
                inner = self.item()
                self.expect("|")
            return self.build(sympy.Abs, inner)
        got = "the end of the answer" if token.kind == "end" else repr(token.text)
        raise _fail(f"expected a number, a variable or '(', got {got} at position {token.pos}")

    def bracket(self, opener: str) -> sympy.Expr | _Seq:
        with self.nested():
            items = self.items()
            self.expect(_CLOSERS[opener])
        if opener in ("{", "\\{"):
            return _Seq("set", [_scalar(v) for v in items])
        if len(items) == 1:
            return items[0]
        return _Seq("tuple", [_scalar(v) for v in items])

    def function(self, name: str) -> sympy.Expr:
        with self.nested():
            power = None
            if self.at("^"):  # \sin^2 x is (sin x)^2
                self.advance()
                power = self.latex_arg()
                if power == -1:
                    raise _fail(f"expected a power of {name}, got {name}^-1 (inverse functions are not supported)")
            if self.at("("):
                self.advance()
                args = self.items()
                self.expect(")")
                if len(args) != 1:
                    raise _fail(f"expected one argument for {name}, got {len(args)}")
                arg = args[0]
            elif self.at("{"):
                arg = self.latex_arg()
            else:
                arg = self.power()
        value = self.build(_checked_pow, sympy.E, arg) if name == "exp" else self.build(FUNCTIONS[name], arg)
        return value if power is None else self.build(_checked_pow, value, power)

    def latex(self, kind: str) -> sympy.Expr:
        with self.nested():
            if kind == "frac":
                numerator = self.latex_arg()
                denominator = self.latex_arg()
                return self.build(operator.truediv, numerator, denominator)
            if kind == "wrap":
                return self.latex_arg()
            index = None
            if self.at("["):
                self.advance()
                index = self.item()
                self.expect("]")
            radicand = self.latex_arg()
        if index is None:
            return self.build(sympy.sqrt, radicand)
        return self.build(_checked_root, radicand, index)

    def latex_arg(self) -> sympy.Expr:
        r"""One LaTeX argument: ``{...}``, or a single digit or letter as in ``\frac12`` or ``\sqrt x``."""
        token = self.peek()
        if self.at("{"):
            self.advance()
            with self.nested():
                value = self.item()
                self.expect("}")
            return _scalar(value)
        if token.kind in ("num", "name") and len(token.text) > 1 and token.text != "pi":
            first, rest = token.text[0], token.text[1:]  # "\frac12" is \frac{1}{2}
            self.tokens[self.i] = Token(token.kind, rest, token.pos + 1)
            return _number(first) if token.kind == "num" else _name(Token("name", first, token.pos))
        if token.kind in ("num", "name", "func", "frac", "lsqrt"):
            return _scalar(self.primary())
        raise _fail(f"expected a LaTeX argument such as {{2}}, got {token.text!r} at position {token.pos}")

    def build(self, op: Callable[..., sympy.Expr], *operands: sympy.Expr | _Seq) -> sympy.Expr:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise _too_large(f"expected at most {MAX_NODES} operations, got more; simplify the answer")
        args = [_scalar(v) for v in operands]
        result = op(*args)
        _check_shallow(result)
        return result


def _scalar(value: sympy.Expr | _Seq) -> sympy.Expr:
    if isinstance(value, _Seq):
        raise _fail(f"expected a number or expression, got a {value.form} inside arithmetic or another set/tuple")
    return value


def _name(token: Token) -> sympy.Expr:
    if token.text == "pi":
        return sympy.pi
    if len(token.text) == 1:
        return sympy.Symbol(token.text)
    raise _fail(
        f"expected a single-letter variable or one of {', '.join(sorted(FUNCTIONS))}, got {token.text!r} at "
        f"position {token.pos}; write products with * (x*y)"
    )


def _number(text: str) -> sympy.Rational:
    """Build an exact number from a checked literal (no float rounding, no string evaluation)."""
    mantissa, _, exponent_text = text.lower().partition("e")
    whole, _, fraction = mantissa.partition(".")
    digits = (whole + fraction).lstrip("0") or "0"
    exponent = int(exponent_text) if exponent_text else 0
    if abs(exponent) > MAX_EXPONENT:
        raise _too_large(f"expected a power of ten of at most {MAX_EXPONENT}, got {text!r}")
    if len(digits) + max(exponent, 0) > MAX_DIGITS or len(fraction) - exponent > MAX_DIGITS:
        raise _too_large(f"expected a number with at most {MAX_DIGITS} digits, got {text!r}")
    return sympy.Rational(int(whole + fraction or "0")) * sympy.Rational(10) ** (exponent - len(fraction))


def _is_huge_rational(value: sympy.Basic) -> bool:
    return bool(value.is_Rational) and max(int(value.p).bit_length(), int(value.q).bit_length()) > _MAX_BITS


def _check_shallow(value: sympy.Basic) -> None:
    """Refuse a freshly built value whose own numbers (up to two levels down) broke a cap."""
    for node in (value, *value.args, *(a for arg in value.args for a in arg.args)):
        if _is_huge_rational(node) or (node.is_Pow and _huge_exponent(node.exp)):
            raise _too_large(_SIZE_MESSAGE)


def _huge_exponent(exponent: sympy.Expr) -> bool:
    """An exponent beyond the cap, or a symbolic one holding a number beyond it (``2^(10^6 x)``)."""
    if exponent.is_Rational:
        return abs(exponent) > MAX_EXPONENT
    if exponent.is_number:
        return _log10_size(exponent, signed=True) > math.log10(MAX_EXPONENT)
    return any(abs(n) > MAX_EXPONENT for n in exponent.atoms(sympy.Rational))


def _checked_pow(base: sympy.Expr, exponent: sympy.Expr) -> sympy.Expr:
    """``base ** exponent``, refused before sympy computes anything too large."""
    if _huge_exponent(exponent) or (exponent.is_number and _power_digits(base, exponent) > MAX_DIGITS):
        raise _too_large(_SIZE_MESSAGE)
    return sympy.Pow(base, exponent)


def _power_digits(base: sympy.Expr, exponent: sympy.Expr) -> float:
    """Estimated digits of the numbers sympy would compute for ``base ** exponent`` (numeric exponent)."""
    coeff, rest = base.as_coeff_Mul()  # (10^9 x)^k makes sympy compute 10^(9k)
    digits = max(int(coeff.p).bit_length(), int(coeff.q).bit_length()) / 3.32 if coeff.is_Rational else 0.0
    if rest.is_number and rest != 1:
        digits += _log10_size(rest)
    size = abs(exponent) if exponent.is_Rational else 10 ** _log10_size(exponent, signed=True)
    return digits * float(size) if digits else 0.0


def _log10_size(value: sympy.Expr, signed: bool = False) -> float:
    """``|log10 |value||`` (``log10 |value|`` when ``signed``); infinite when it cannot be evaluated."""
    try:
        size = float(sympy.log(abs(value.evalf(15)), 10))
    except (TypeError, ValueError, OverflowError):
        return math.inf
    return size if signed else abs(size)


def _checked_root(radicand: sympy.Expr, index: sympy.Expr) -> sympy.Expr:
    if not (index.is_Integer and 1 < index <= MAX_EXPONENT):
        raise _fail(f"expected a root index that is an integer from 2 to {MAX_EXPONENT}, got {index}")
    return _checked_pow(radicand, sympy.Rational(1, index))


def _check_final(answer: ParsedAnswer) -> None:
    for value in answer.items:
        if value.has(*_UNDEFINED):
            raise _fail("expected a defined value, got a division by zero or an infinite value")
        for node in sympy.preorder_traversal(value):
            if _is_huge_rational(node) or (node.is_Pow and _huge_exponent(node.exp)):
                raise _too_large(_SIZE_MESSAGE)


# ---------------------------------------------------------------------------------------------- entry point


def parse_math(text: str, *, thousands: bool = True, percent: bool = True) -> ParsedAnswer:
    r"""Parse one answer string into sympy values, refusing anything outside the grammar or the caps.

    Args:
        text: the answer, e.g. ``"4/3"``, ``"\frac{4}{3}"``, ``"{-2, 3}"``, ``"(2, -1)"``, ``"x^2+5x+6"``.
            ``$`` signs, ``\text{...}`` units and LaTeX spacing are dropped; one ``\pm`` gives a set.
        thousands: read a whole answer like ``1,000`` or ``$12,500.50`` as one number (with
            thousands separators) rather than as a list; pass False where a list is expected.
        percent: read ``50%`` as ``1/2``; with False the percent sign is ignored (``50``).

    Returns:
        The parsed answer.

    Raises:
        MathParseError: ``code="parse_error"`` when the text is outside the grammar, ``code="too_large"``
            when it breaks one of the caps (:data:`MAX_INPUT_CHARS`, :data:`MAX_DEPTH`, :data:`MAX_NODES`,
            :data:`MAX_EXPONENT`, :data:`MAX_DIGITS`).
    """
    if not isinstance(text, str):
        raise _fail(f"expected the answer as a str, got {type(text).__name__}")
    if len(text) > MAX_INPUT_CHARS:
        raise _too_large(f"expected an answer of at most {MAX_INPUT_CHARS} characters, got {len(text)}")
    text = _normalize(text)
    if not percent:
        text = text.replace("%", "")
    if thousands and _THOUSANDS_RE.fullmatch(text):
        text = text.replace(",", "")
    if not text:
        raise _fail("expected an answer, got an empty string")
    signs = _PLUS_MINUS_RE.findall(text)
    if len(signs) > 1:
        raise _fail("expected at most one \\pm in an answer, got several; list the values as a set {a, b}")
    if signs:
        plus = _parse_normalized(_PLUS_MINUS_RE.sub("+", text))
        minus = _parse_normalized(_PLUS_MINUS_RE.sub("-", text))
        if plus.form in ("scalar", "set") and minus.form == plus.form:
            return ParsedAnswer("set", plus.items + minus.items)
        raise _fail("expected \\pm in a single value or a set, e.g. 1 \\pm \\sqrt{2}")
    return _parse_normalized(text)


def _parse_normalized(text: str) -> ParsedAnswer:
    try:
        answer = _Parser(tokenize(text)).answer()
        _check_final(answer)
    except MathParseError:
        raise
    except RecursionError as exc:  # sympy recursing on a legal but deep value
        raise _too_large("expected a smaller expression, got one too deeply nested to build") from exc
    except (ArithmeticError, ValueError, TypeError, AttributeError) as exc:
        raise _fail(f"expected a value sympy can build, got an error ({type(exc).__name__})") from exc
    return answer
