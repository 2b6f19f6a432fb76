"""Answer equivalence: a pure function of (student text, gold answer) that runs inside the worker process.

Numbers compare exactly when both are rational and within a relative 1e-9 otherwise (``sqrt(2)`` against
``1.4142135623731``); sets compare as sets of values; tuples componentwise; expressions by a numeric
spot check at fixed rational points, confirmed exactly (``cancel``) for rational functions and by a guarded
``simplify`` where the points are undefined. All values come from the restricted parser.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Sequence

import sympy

from convenv.verifiers.base import Verdict
from convenv.verifiers.math_extract import extract_answer
from convenv.verifiers.math_parser import MathParseError, ParsedAnswer, format_value, parse_math

ANSWER_KINDS = ("number", "set", "tuple", "expression")
"""The values ``task.metadata["answer_kind"]`` may take (None infers the kind from the gold answer)."""
TOLERANCE = 1e-9
"""Relative tolerance for numbers that are not both rational, and for expression spot checks."""

_DEFAULT_VARIABLES = ("x", "y", "z", "w")
_POINTS = tuple(sympy.Rational(p, q) for p, q in ((7, 5), (13, 11), (3, 7), (19, 13), (5, 3), (23, 17), (2, 9)))
_MIN_AGREEING_POINTS = 3
_MAX_CANCEL_DEGREE = 30  # cancel() expands: (x + y + z)^30 is fine, (x + y + z)^1000 is not
_MAX_CANCEL_SYMBOLS = 3
_MAX_SIMPLIFY_OPS = 60
_UNDEFINED = (sympy.nan, sympy.zoo, sympy.oo, -sympy.oo)


def check_answer(
    student_text: str, gold: str, kind: str | None = None, variables: Sequence[str] = (), marked_only: bool = False
) -> Verdict:
    r"""Extract the answer from ``student_text`` and compare it with ``gold``.

    Args:
        student_text: the student's whole message.
        gold: the gold answer in canonical form (``"6"``, ``"4/3"``, ``"{-2, 3}"``, ``"(2, -1)"``,
            ``"x^2 + 5*x + 6"``) or LaTeX. A gold answer the parser refuses is compared as normalized text.
        kind: ``"number"``, ``"set"``, ``"tuple"``, ``"expression"`` or None (inferred from ``gold``).
        variables: the unknowns in order; a tuple answer ``x = 2, y = -1`` is read in this order
            (default ``x, y, z``).
        marked_only: only ``\boxed{}`` / "answer:" answers count (see :func:`extract_answer`).

    Returns:
        The verdict. ``error`` is None when the attempt parsed and matched, else one of ``"no_answer"``,
        ``"parse_error"``, ``"too_large"``, ``"wrong_form"``, ``"wrong_count"``, ``"wrong_value"``.
        ``signals`` holds ``"direction"`` (``"too_high"``/``"too_low"``) when both sides are real numbers
        and differ; ``"parts"`` (one bool per tuple component, or per distinct student element of a set:
        True = that element is a root); ``"missing"`` and ``"extra"`` (counts) for sets.
    """
    try:
        gold_answer = _parse_gold(gold)
    except MathParseError:
        return _compare_strings(student_text, gold, variables, marked_only)
    form = _expected_form(gold_answer, kind)
    gold_items = gold_answer.items
    if not variables and form == "tuple":
        variables = _DEFAULT_VARIABLES[: len(gold_items)]
    candidate = extract_answer(student_text, variables, marked_only)
    if candidate is None:
        return Verdict(False, None, "no_answer", "no answer found (no \\boxed{}, 'answer:', 'x = ...' or number)")
    try:
        student = parse_math(candidate, thousands=form in ("number", "expression"))
    except MathParseError as exc:
        shown = _clip(candidate)
        return Verdict(False, shown, exc.code, f"could not read the answer {shown!r}: {exc}")
    try:
        verdict = _COMPARE[form](student, gold_items)
    except (TypeError, ValueError, ArithmeticError, RecursionError) as exc:
        return Verdict(False, str(student), "parse_error", f"could not compare {student} with the gold: {exc}")
    if not verdict.correct and "%" in candidate + gold:  # "50%" against 50, or 50 against "50%"
        alternative = _percent_alternative(candidate, gold, form)
        if alternative is not None:
            return alternative
    return verdict


@functools.lru_cache(maxsize=512)
def _parse_gold(gold: str) -> ParsedAnswer:
    return parse_math(gold)


def _expected_form(gold: ParsedAnswer, kind: str | None) -> str:
    if kind in ("set", "tuple"):
        return kind
    if gold.form == "tuple":
        return "tuple"
    if gold.form in ("set", "list"):
        return "set"
    return "expression" if gold.items[0].free_symbols else "number"


def _percent_alternative(candidate: str, gold: str, form: str) -> Verdict | None:
    try:
        student = parse_math(candidate, percent=False, thousands=form in ("number", "expression"))
        gold_items = parse_math(gold, percent=False).items
        verdict = _COMPARE[form](student, gold_items)
    except (MathParseError, TypeError, ValueError, ArithmeticError):
        return None
    return verdict if verdict.correct else None


# ---------------------------------------------------------------------------------------------- comparing forms


def _compare_number(student: ParsedAnswer, gold: tuple[sympy.Expr, ...]) -> Verdict:
    shown, expected = str(student), format_value(gold[0])
    if len(student.items) != 1:
        return Verdict(False, shown, "wrong_form", f"expected a single number ({expected}), got {shown}")
    value = student.items[0]
    if values_equal(value, gold[0]):  # sin(x)^2 + cos(x)^2 is 1 too
        return Verdict(True, shown, None, f"correct: {shown}")
    if value.free_symbols:
        return Verdict(False, shown, "wrong_form", f"expected a number ({expected}), got an expression {shown}")
    signals = _direction(value, gold[0])
    how = f" ({signals['direction'].replace('_', ' ')})" if signals else ""
    return Verdict(False, shown, "wrong_value", f"expected {expected}, got {shown}{how}", signals)


def _compare_set(student: ParsedAnswer, gold: tuple[sympy.Expr, ...]) -> Verdict:
    shown = str(student)
    expected = "{" + ", ".join(format_value(g) for g in gold) + "}"
    if any(v.free_symbols for v in student.items):
        return Verdict(False, shown, "wrong_form", f"expected the set of values {expected}, got {shown}")
    mine, theirs = _distinct(student.items), _distinct(gold)
    parts = [any(values_equal(v, g) for g in theirs) for v in mine]
    missing = sum(not any(values_equal(g, v) for v in mine) for g in theirs)
    extra = parts.count(False)
    signals: dict[str, object] = {"parts": parts, "missing": missing, "extra": extra}
    if len(mine) == 1 and len(theirs) == 1 and not parts[0]:
        signals.update(_direction(mine[0], theirs[0]))
    if missing == 0 and extra == 0:
        return Verdict(True, shown, None, f"correct: {shown}", signals)
    if student.form == "scalar" and len(theirs) > 1:
        error, what = "wrong_form", f"expected all {len(theirs)} values as a set {expected}, got one value {shown}"
    else:
        error, what = "wrong_value", f"expected {expected}, got {shown}"
    return Verdict(False, shown, error, f"{what} ({missing} missing, {extra} wrong)", signals)


def _compare_tuple(student: ParsedAnswer, gold: tuple[sympy.Expr, ...]) -> Verdict:
    shown = str(student)
    expected = "(" + ", ".join(format_value(g) for g in gold) + ")"
    if student.form == "set" or (student.form == "scalar" and len(gold) > 1):
        return Verdict(False, shown, "wrong_form", f"expected an ordered tuple {expected}, got {shown}")
    if len(student.items) != len(gold):
        detail = f"expected {len(gold)} values {expected}, got {len(student.items)}: {shown}"
        return Verdict(False, shown, "wrong_count", detail)
    parts = [values_equal(v, g) for v, g in zip(student.items, gold, strict=True)]
    if all(parts):
        return Verdict(True, shown, None, f"correct: {shown}", {"parts": parts})
    wrong = ", ".join(str(i + 1) for i, ok in enumerate(parts) if not ok)
    detail = f"expected {expected}, got {shown} (wrong components: {wrong})"
    return Verdict(False, shown, "wrong_value", detail, {"parts": parts})


def _compare_expression(student: ParsedAnswer, gold: tuple[sympy.Expr, ...]) -> Verdict:
    shown, expected = str(student), format_value(gold[0])
    if len(student.items) != 1:
        return Verdict(False, shown, "wrong_form", f"expected one expression ({expected}), got {shown}")
    if not student.items[0].free_symbols:
        return Verdict(False, shown, "wrong_form", f"expected an expression in variables ({expected}), got {shown}")
    if values_equal(student.items[0], gold[0]):
        return Verdict(True, shown, None, f"correct: {shown}")
    return Verdict(False, shown, "wrong_value", f"expected {expected} (or an equivalent form), got {shown}")


_COMPARE: dict[str, Callable[[ParsedAnswer, tuple[sympy.Expr, ...]], Verdict]] = {
    "number": _compare_number,
    "set": _compare_set,
    "tuple": _compare_tuple,
    "expression": _compare_expression,
}


# ---------------------------------------------------------------------------------------------- comparing values


def values_equal(a: sympy.Expr, b: sympy.Expr) -> bool:
    """Whether two parsed values are equal.

    Rationals compare exactly, other numbers within :data:`TOLERANCE` (relative), expressions as functions.
    """
    if a == b:
        return True
    if a.is_Rational and b.is_Rational:
        return False
    if not a.free_symbols and not b.free_symbols:
        return _close(_numeric(a), _numeric(b))
    return _expressions_equal(a, b)


def _expressions_equal(a: sympy.Expr, b: sympy.Expr) -> bool:
    symbols = sorted(a.free_symbols | b.free_symbols, key=str)
    agreeing = 0
    for k in range(len(_POINTS)):
        point = {s: _POINTS[(k + 3 * j) % len(_POINTS)] for j, s in enumerate(symbols)}
        value_a, value_b = _numeric(a, point), _numeric(b, point)
        if value_a is None or value_b is None:
            continue  # outside a domain (log of a negative, a pole): try the next point
        if not _close(value_a, value_b):
            return False  # a counterexample is a proof
        agreeing += 1
    difference = a - b
    small = len(symbols) <= _MAX_CANCEL_SYMBOLS and _max_degree(difference) <= _MAX_CANCEL_DEGREE
    if small and difference.is_rational_function(*symbols):
        return sympy.cancel(difference) == 0  # exact for polynomials and rational functions
    if agreeing >= _MIN_AGREEING_POINTS:
        return True
    return sympy.count_ops(difference) <= _MAX_SIMPLIFY_OPS and sympy.simplify(difference) == 0


def _max_degree(value: sympy.Expr) -> int:
    exponents = [abs(p.exp) for p in value.atoms(sympy.Pow) if p.exp.is_Integer]
    return int(max(exponents, default=1))


def _numeric(value: sympy.Expr, point: dict | None = None) -> tuple[sympy.Float, sympy.Float] | None:
    """``(real, imaginary)`` as 30-digit floats, or None where the value is undefined."""
    number = value.evalf(30, subs=point) if point else value.evalf(30)
    if number.free_symbols or number.has(*_UNDEFINED):
        return None
    real, imaginary = number.as_real_imag()
    if not (real.is_Number and imaginary.is_Number):
        return None
    return sympy.Float(real, 30), sympy.Float(imaginary, 30)


def _close(a: tuple[sympy.Float, sympy.Float] | None, b: tuple[sympy.Float, sympy.Float] | None) -> bool:
    if a is None or b is None:
        return False
    distance = (a[0] - b[0]) ** 2 + (a[1] - b[1]) ** 2
    scale = max(a[0] ** 2 + a[1] ** 2, b[0] ** 2 + b[1] ** 2, sympy.Float(1e-40))
    return bool(distance <= TOLERANCE**2 * scale)


def _direction(value: sympy.Expr, gold: sympy.Expr) -> dict[str, str]:
    mine, theirs = _numeric(value), _numeric(gold)
    if mine is None or theirs is None or not (mine[1].is_zero and theirs[1].is_zero):
        return {}
    return {"direction": "too_high" if mine[0] > theirs[0] else "too_low"}


def _distinct(values: Sequence[sympy.Expr]) -> list[sympy.Expr]:
    distinct: list[sympy.Expr] = []
    for value in values:
        if not any(values_equal(value, seen) for seen in distinct):
            distinct.append(value)
    return distinct


# ---------------------------------------------------------------------------------------------- fallbacks

_LATEX_NOISE_RE = re.compile(r"\\(?:left|right|!|,|;|:|displaystyle)|\$|\s")
_TEXT_WRAPPER_RE = re.compile(r"\\(?:text|textrm|textbf|mathrm|mathbf|mbox)\s*\{([^{}]*)\}")


def normalize_text(answer: str) -> str:
    r"""Normalize an answer the parser cannot read, for an exact text comparison (``\text{(A)}`` == ``(a)``)."""
    return _LATEX_NOISE_RE.sub("", _TEXT_WRAPPER_RE.sub(r"\1", answer)).lower()


def _compare_strings(student_text: str, gold: str, variables: Sequence[str], marked_only: bool) -> Verdict:
    candidate = extract_answer(student_text, variables, marked_only)
    if candidate is None:
        return Verdict(False, None, "no_answer", "no answer found in the message")
    shown = _clip(candidate)
    if normalize_text(candidate) == normalize_text(gold):
        return Verdict(True, shown, None, f"correct: {shown} (compared as text)")
    return Verdict(False, shown, "wrong_value", f"expected {gold!r}, got {shown!r} (compared as text)")


def _clip(text: str, limit: int = 100) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."
