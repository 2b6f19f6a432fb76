"""Families ``linear``, ``system``, ``quadratic`` and ``expand``.

Every problem is built backwards from its answer (pick the solution, then the equation), so the gold answer is
right by construction; the tests re-check each one with sympy.
"""

from __future__ import annotations

from fractions import Fraction
from math import gcd, isqrt

import numpy as np

from convenv.tasks.base import Task
from convenv.tasks.math.common import (
    choice,
    fmt_number,
    fmt_poly,
    fmt_set,
    fmt_terms,
    fmt_tuple,
    make_task,
    monomial,
    nonzero,
    paren,
    poly_add,
    poly_mul,
    randint,
)

_LINEAR_FALLBACK = (
    "Get all the x terms on one side of the equals sign and all the numbers on the other.",
    "Whatever you do to one side of the equation, do the same to the other side.",
)


def _move_constant(b: int) -> str:
    return f"Subtract {b} from both sides" if b > 0 else f"Add {-b} to both sides"


def _divide(m: int, x: Fraction) -> str:
    return f"So x = {fmt_number(x)}." if m == 1 else f"Divide both sides by {m}: x = {fmt_number(x)}."


def _linear_1(rng: np.random.Generator) -> tuple[str, Fraction, list[str], list[str]]:
    x, a, b = randint(rng, -10, 10), randint(rng, 2, 9), nonzero(rng, -20, 20)
    c = a * x + b
    eq = f"{fmt_terms([(a, 'x'), (b, '')])} = {c}"
    lines = [f"{_move_constant(b)}: {a}x = {c - b}.", f"Divide both sides by {a}: x = {x}."]
    hints = [
        "Undo the constant term first, then the coefficient of x.",
        f"{_move_constant(b)}.",
        f"That leaves {a}x = {c - b}. What do you divide by?",
    ]
    return eq, Fraction(x), lines, hints


def _linear_2(rng: np.random.Generator) -> tuple[str, Fraction, list[str], list[str]]:
    x, a, c, b = randint(rng, -10, 10), nonzero(rng, -9, 9), nonzero(rng, -9, 9), nonzero(rng, -15, 15)
    while c == a:
        c = nonzero(rng, -9, 9)
    d = (a - c) * x + b
    eq = f"{fmt_terms([(a, 'x'), (b, '')])} = {fmt_terms([(c, 'x'), (d, '')])}"
    move_x = f"Subtract {fmt_terms([(c, 'x')])} from both sides" if c > 0 else f"Add {fmt_terms([(-c, 'x')])}"
    lines = [
        f"{move_x}: {fmt_terms([(a - c, 'x'), (b, '')])} = {d}.",
        f"{_move_constant(b)}: {fmt_terms([(a - c, 'x')])} = {d - b}.",
        f"Divide by {a - c}: x = {x}.",
    ]
    hints = [
        "Collect the x terms on one side and the constants on the other.",
        f"{move_x}.",
        f"You should reach {fmt_terms([(a - c, 'x')])} = {d - b}.",
    ]
    return eq, Fraction(x), lines, hints


def _linear_3(rng: np.random.Generator) -> tuple[str, Fraction, list[str], list[str]]:
    if randint(rng, 0, 1) == 0:  # a(x + b) = dx + e
        a, b, d = nonzero(rng, -6, 6), nonzero(rng, -9, 9), nonzero(rng, -9, 9)
        while d == a or a in (1, -1):
            a, d = nonzero(rng, -6, 6), nonzero(rng, -9, 9)
        m = a - d
        n = nonzero(rng, -30, 30)
        x, e = Fraction(n, m), n + a * b
        inner = fmt_terms([(1, "x"), (b, "")])
        eq = f"{a}({inner}) = {fmt_terms([(d, 'x'), (e, '')])}"
        lines = [
            f"Expand the bracket: {fmt_terms([(a, 'x'), (a * b, '')])} = {fmt_terms([(d, 'x'), (e, '')])}.",
            f"Collect terms: {fmt_terms([(m, 'x')])} = {n}.",
            _divide(m, x),
        ]
        hints = [
            "Expand the bracket first, then collect like terms.",
            f"After expanding, the left side is {fmt_terms([(a, 'x'), (a * b, '')])}.",
            f"Collecting terms gives {fmt_terms([(m, 'x')])} = {n}.",
        ]
        return eq, x, lines, hints
    p, q = randint(rng, 2, 6), randint(rng, 2, 6)  # (x + b)/p = (x + c)/q
    while q == p:
        q = randint(rng, 2, 6)
    b, c = nonzero(rng, -9, 9), nonzero(rng, -9, 9)
    x = Fraction(p * c - q * b, q - p)
    left, right = fmt_terms([(1, "x"), (b, "")]), fmt_terms([(1, "x"), (c, "")])
    eq = f"({left})/{p} = ({right})/{q}"
    lines = [
        f"Multiply both sides by {p * q}: {q}({left}) = {p}({right}).",
        f"Expand: {fmt_terms([(q, 'x'), (q * b, '')])} = {fmt_terms([(p, 'x'), (p * c, '')])}.",
        f"Collect terms: {fmt_terms([(q - p, 'x')])} = {p * c - q * b}.",
        _divide(q - p, x),
    ]
    hints = [
        "Clear the denominators by multiplying both sides by a common multiple.",
        f"Multiply both sides by {p * q}.",
        f"You should reach {fmt_terms([(q - p, 'x')])} = {p * c - q * b}.",
    ]
    return eq, x, lines, hints


def linear(difficulty: int, rng: np.random.Generator) -> Task:
    """A linear equation in x.

    Difficulty levels:
        1: ``ax + b = c`` with an integer solution.
        2: x on both sides, integer solution.
        3: a bracket or two denominators, rational solution.
    """
    eq, x, lines, hints = (_linear_1, _linear_2, _linear_3)[difficulty - 1](rng)
    return make_task(
        "linear",
        difficulty,
        prompt=f"Solve for x: {eq}. Give x as an integer or a fraction a/b in lowest terms.",
        answer=fmt_number(x),
        solution="\n".join(lines),
        hints=hints,
        answer_kind="number",
        answer_value=x,
        variables=("x",),
        fallback_hints=_LINEAR_FALLBACK,
        problem=eq,
    )


def system(difficulty: int, rng: np.random.Generator) -> Task:
    """A 2x2 linear system with an integer solution (x, y).

    Difficulty levels:
        1: ``x + y = s`` and ``x - y = d``.
        2: coefficients 1..5 (one may be negative).
        3: coefficients from -9 to 9 and larger solutions.
    """
    if difficulty == 1:
        x, y = randint(rng, 0, 10), randint(rng, 0, 10)
        a1, b1, a2, b2 = 1, 1, 1, -1
    else:
        bound, span = (5, 9) if difficulty == 2 else (9, 12)
        x, y = randint(rng, -span, span), randint(rng, -span, span)
        while True:
            if difficulty == 2:
                a1, b1, a2, b2 = (randint(rng, 1, 5) for _ in range(4))
                b2 *= choice(rng, (1, -1))
            else:
                a1, b1, a2, b2 = (nonzero(rng, -bound, bound) for _ in range(4))
            if a1 * b2 - a2 * b1 != 0:
                break
    c1, c2 = a1 * x + b1 * y, a2 * x + b2 * y
    eq1 = f"{fmt_terms([(a1, 'x'), (b1, 'y')])} = {c1}"
    eq2 = f"{fmt_terms([(a2, 'x'), (b2, 'y')])} = {c2}"
    det, rhs = a1 * b2 - a2 * b1, c1 * b2 - c2 * b1
    if b1 == -b2:
        eliminate = f"Add the equations to eliminate y: {fmt_terms([(a1 + a2, 'x')])} = {c1 + c2}"
    elif b1 == b2:
        eliminate = f"Subtract the second equation from the first: {fmt_terms([(a1 - a2, 'x')])} = {c1 - c2}"
    else:
        eliminate = (
            f"Multiply the first equation by {paren(b2)} and the second by {paren(b1)}, then subtract to "
            f"eliminate y: {fmt_terms([(det, 'x')])} = {rhs}"
        )
    lines = [
        f"{eliminate}, so x = {x}.",
        f"Substitute x = {x} into the first equation: {fmt_terms([(b1, 'y')])} = {c1} - {paren(a1 * x)} = "
        f"{c1 - a1 * x}, so y = {y}.",
        f"The solution is (x, y) = ({x}, {y}).",
    ]
    if difficulty == 1:
        hints = [
            "Add the two equations: the y terms cancel.",
            f"Adding them gives 2x = {c1 + c2}.",
            "Once you have x, put it into the first equation to find y.",
        ]
    else:
        hints = [
            "Eliminate one variable: scale the equations so it has matching coefficients, then subtract.",
            f"Multiply the first equation by {paren(b2)} and the second by {paren(b1)}, then subtract.",
            f"Eliminating y leaves {fmt_terms([(det, 'x')])} = {rhs}.",
            "Once you have x, put it into the first equation to find y.",
        ]
    value = (Fraction(x), Fraction(y))
    return make_task(
        "system",
        difficulty,
        prompt=f"Solve the system of equations {eq1} and {eq2}. Give the solution as (x, y).",
        answer=fmt_tuple([str(x), str(y)]),
        solution="\n".join(lines),
        hints=hints,
        answer_kind="tuple",
        answer_value=value,
        variables=("x", "y"),
        fallback_hints=(
            "Eliminate one of the variables, or solve one equation for y and substitute it into the other.",
            "Check your pair in both equations before answering.",
        ),
        problem=(eq1, eq2),
    )


def _surd(h: int, k: int, r: int, sign: int) -> str:
    term = ("" if k == 1 else f"{k}*") + f"sqrt({r})"
    if h == 0:
        return term if sign > 0 else f"-{term}"
    return f"{h} {'+' if sign > 0 else '-'} {term}"


def _factor(root: Fraction) -> str:
    """``(x - 2)``, ``(3x + 1)`` or ``x`` for the root 2, -1/3, 0."""
    if root == 0:
        return "x"
    return "(" + fmt_terms([(root.denominator, "x"), (-root.numerator, "")]) + ")"


def quadratic(difficulty: int, rng: np.random.Generator) -> Task:
    """A quadratic equation; the answer is its set of real roots.

    Difficulty levels:
        1: monic with integer roots (maybe a double root).
        2: non-monic with rational roots (at least one not an integer).
        3: irrational roots ``h ± k*sqrt(r)``.
    """
    if difficulty < 3:
        while True:
            p, r = (1, 1) if difficulty == 1 else (randint(rng, 1, 4), randint(rng, 1, 4))
            q, s = randint(rng, -9, 9) if difficulty == 1 else nonzero(rng, -6, 6), randint(rng, -9, 9)
            roots = sorted({Fraction(q, p), Fraction(s, r)})
            if difficulty == 1 or any(v.denominator != 1 for v in roots):
                break
        coeffs = poly_mul([-q, p], [-s, r])  # (px - q)(rx - s), constant term first
        g = gcd(*coeffs)
        coeffs = [v // g for v in coeffs]
        answer = fmt_set([fmt_number(v) for v in roots])
        value: tuple[Fraction | str, ...] = tuple(roots)
    else:
        h, k, r = randint(rng, -4, 4), randint(rng, 1, 2), choice(rng, (2, 3, 5, 6, 7))
        m = choice(rng, (1, 1, 2, 3))
        coeffs = [m * (h * h - k * k * r), -2 * h * m, m]
        texts = [_surd(h, k, r, -1), _surd(h, k, r, 1)]
        answer, value = fmt_set(texts), tuple(texts)
    c, b, a = coeffs
    eq = f"{fmt_poly(coeffs)} = 0"
    disc = b * b - 4 * a * c
    lines = [f"Here a = {a}, b = {b}, c = {c}; the discriminant is b^2 - 4ac = {disc}."]
    if difficulty < 3:
        # Gauss's lemma: the primitive quadratic is exactly the product of the primitive linear factors.
        ordered = sorted(roots, key=lambda v: v != 0)  # "x(x - 3)", not "(x - 3)x"
        factors = "".join(_factor(v) for v in ordered) if len(roots) == 2 else f"{_factor(roots[0])}^2"
        lines.append(f"Factor: {factors} = 0.")
        lines.append(" or ".join(f"x = {fmt_number(v)}" for v in roots) + ".")
    else:
        two_mk = isqrt(disc // r)
        lines.append(f"sqrt({disc}) = {two_mk}*sqrt({r}), so x = ({-b} ± {two_mk}*sqrt({r}))/{2 * a}.")
        lines.append(f"So x = {texts[0]} or x = {texts[1]}.")
    lines.append(f"The set of roots is {answer}.")
    if difficulty == 1:
        hints = [
            "Try to factor the left side as a product of two brackets (x - p)(x - q).",
            f"Look for two numbers that multiply to {c} and add up to {-b}.",
            "Each bracket equal to zero gives one root; list a repeated root once.",
        ]
    else:
        hints = [
            "Use the quadratic formula"
            + (
                ", or factor into two brackets."
                if difficulty == 2
                else "; this one does not factor over the integers."
            ),
            f"Here a = {a}, b = {b}, c = {c}.",
            f"The discriminant b^2 - 4ac equals {disc}.",
        ]
        if difficulty == 3:
            hints.append(f"Simplify the square root: {disc} = {disc // r} * {r}.")
    return make_task(
        "quadratic",
        difficulty,
        prompt=f"Solve {eq}. Give the set of real roots in braces, like {{a, b}} (list a repeated root once).",
        answer=answer,
        solution="\n".join(lines),
        hints=hints,
        answer_kind="set",
        answer_value=value,
        variables=("x",),
        fallback_hints=(
            "Write the equation as a x^2 + b x + c = 0 and read off a, b and c.",
            "Check each root you find by substituting it back into the equation.",
        ),
        problem=eq,
        coefficients=tuple(coeffs),
    )


def _products(p: list[int], q: list[int]) -> str:
    """The term-by-term products of two polynomials, before like terms are collected."""
    terms = [
        (p[i] * q[j], monomial(i + j))
        for i in reversed(range(len(p)))
        for j in reversed(range(len(q)))
        if p[i] and q[j]
    ]
    return fmt_terms(terms)


def _bracket(p: list[int]) -> str:
    return f"({fmt_poly(p)})"


def _expand_problem(difficulty: int, rng: np.random.Generator) -> tuple[str, list[int], list[str], str]:
    """(shown product, expanded coefficients, intermediate forms, a hint on how to start)."""
    lin = [nonzero(rng, -9, 9), 1]
    kind = randint(rng, 0, 2) if difficulty > 1 else 0
    distribute = "Multiply each term of the first bracket by the whole second bracket."
    if difficulty == 1 or (difficulty == 2 and kind == 0):
        p = lin if difficulty == 1 else [nonzero(rng, -9, 9), randint(rng, 2, 5)]
        q = [nonzero(rng, -9, 9), 1 if difficulty == 1 else randint(rng, 1, 5)]
        return _bracket(p) + _bracket(q), poly_mul(p, q), [_products(p, q)], distribute
    if difficulty == 2:
        p = lin if kind == 1 else [nonzero(rng, -9, 9), randint(rng, 2, 5)]
        start = "Use (u + v)^2 = u^2 + 2uv + v^2, or write the square as a product of two equal brackets."
        return f"{_bracket(p)}^2", poly_mul(p, p), [_products(p, p)], start
    if kind == 0:
        square = poly_mul(lin, lin)
        work = [f"{_bracket(square)}{_bracket(lin)}", _products(square, lin)]
        start = f"First expand {_bracket(lin)}^2, then multiply the result by {_bracket(lin)} once more."
        return f"{_bracket(lin)}^3", poly_mul(square, lin), work, start
    if kind == 1:
        p, q = [nonzero(rng, -9, 9), randint(rng, 2, 4)], [nonzero(rng, -9, 9), nonzero(rng, -9, 9), 1]
        return _bracket(p) + _bracket(q), poly_mul(p, q), [_products(p, q)], distribute
    a, b, c = nonzero(rng, -9, 9), nonzero(rng, -9, 9), nonzero(rng, -9, 9)
    while a + b == 2 * c:  # keep an x term so the answer stays a polynomial, not a number
        c = nonzero(rng, -9, 9)
    first, second = poly_mul([a, 1], [b, 1]), poly_mul([c, 1], [c, 1])
    shown = f"{_bracket([a, 1])}{_bracket([b, 1])} - {_bracket([c, 1])}^2"
    start = "Expand the product and the square separately, then subtract the whole second expansion."
    return shown, poly_add(first, second, -1), [f"{_bracket(first)} - {_bracket(second)}"], start


def expand(difficulty: int, rng: np.random.Generator) -> Task:
    """Expand and simplify a product; the answer is the polynomial in standard form.

    Difficulty levels:
        1: ``(x + a)(x + b)``.
        2: ``(ax + b)(cx + d)`` or a square.
        3: a cube, a binomial times a trinomial, or a difference of products.
    """
    shown, result, work, start = _expand_problem(difficulty, rng)
    answer = fmt_poly(result, star=True)
    hints = [
        "Multiply every term of one bracket by every term of the other, then collect like terms.",
        start,
        f"Before collecting like terms you have {work[-1]}.",
        f"The highest-power term is {fmt_poly([0] * (len(result) - 1) + [result[-1]])}.",
    ]
    return make_task(
        "expand",
        difficulty,
        prompt=f"Expand and simplify {shown}. Give the result as a polynomial in x in standard form, "
        "like a*x^2 + b*x + c.",
        answer=answer,
        solution=f"{shown} = " + " = ".join([*work, fmt_poly(result)]),
        hints=hints,
        answer_kind="expression",
        answer_value=answer,
        variables=("x",),
        fallback_hints=(
            "Multiply every term of one bracket by every term of the other, then collect like terms.",
            "Write the result with the highest power of x first.",
        ),
        problem=shown,
        coefficients=tuple(result),
    )
