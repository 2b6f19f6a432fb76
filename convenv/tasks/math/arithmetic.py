"""Families ``arithmetic`` (integer expressions) and ``fractions`` (rational expressions).

Expressions are small trees built from templates; the value and the worked steps come from the same tree, so
the answer is correct by construction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from math import lcm

import numpy as np

from convenv.tasks.base import Task
from convenv.tasks.math.common import choice, fmt_number, make_task, paren, randint

_PREC = {"+": 1, "-": 1, "*": 2, "/": 2, "^": 3}
_NAMES = {"+": "addition", "-": "subtraction", "*": "multiplication", "/": "division", "^": "power"}


@dataclass(frozen=True)
class Num:
    """A literal."""

    value: Fraction


@dataclass(frozen=True)
class Op:
    """A binary operation."""

    op: str
    left: Node
    right: Node


Node = Num | Op


def apply(op: str, a: Fraction, b: Fraction) -> Fraction:
    """``a op b`` exactly."""
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    if op == "/":
        return a / b
    return a ** int(b)


def evaluate(node: Node) -> Fraction:
    """The exact value of an expression tree."""
    if isinstance(node, Num):
        return node.value
    return apply(node.op, evaluate(node.left), evaluate(node.right))


def render(node: Node, parent: str | None = None, right: bool = False) -> str:
    """Plain-text infix form with only the parentheses precedence requires (negatives and fractions wrapped)."""
    if isinstance(node, Num):
        text = fmt_number(node.value)
        # "(1/2) / (3/4)": a bare fraction next to * or / would be read left to right.
        wrap = text.startswith("-") or ("/" in text and parent in ("*", "/", "^"))
        return f"({text})" if wrap else text
    inner = f"{render(node.left, node.op)} {node.op} {render(node.right, node.op, right=True)}"
    if node.op == "^":
        inner = f"{render(node.left, '^')}^{render(node.right, '^', right=True)}"
    if parent is not None:
        p, q = _PREC[node.op], _PREC[parent]
        if p < q or (p == q and (right or parent == "^") and parent in ("-", "/", "^")):
            return f"({inner})"
    return inner


def steps(node: Node, out: list[str]) -> Fraction:
    """Evaluate innermost-first, appending one line per operation (with common denominators shown)."""
    if isinstance(node, Num):
        return node.value
    a, b = steps(node.left, out), steps(node.right, out)
    value = apply(node.op, a, b)
    op = node.op
    line = f"{paren(a)} {op} {paren(b)}" if op != "^" else f"{paren(a)}^{paren(b)}"
    if op in "+-" and (a.denominator != 1 or b.denominator != 1) and a.denominator != b.denominator:
        d = lcm(a.denominator, b.denominator)
        line += f" = {a.numerator * (d // a.denominator)}/{d} {op} {b.numerator * (d // b.denominator)}/{d}"
    elif op == "/" and b.denominator != 1:
        line += f" = {paren(a)} * {paren(1 / b)}"
    out.append(f"{line} = {fmt_number(value)}")
    return value


def _int(rng: np.random.Generator, low: int, high: int) -> Num:
    return Num(Fraction(randint(rng, low, high)))


def _arith_level1(rng: np.random.Generator) -> Node:
    op = choice(rng, "+-*/")
    a, b = randint(rng, 2, 20), randint(rng, 2, 20)
    if op == "-":
        a, b = max(a, b), min(a, b)
    if op == "*":
        a, b = randint(rng, 2, 12), randint(rng, 2, 12)
    if op == "/":
        b = randint(rng, 2, 10)
        a = b * randint(rng, 2, 10)
    return Op(op, Num(Fraction(a)), Num(Fraction(b)))


def _arith_level2(rng: np.random.Generator) -> Node:
    n = [_int(rng, 2, 15) for _ in range(4)]
    kind = randint(rng, 0, 5)
    if kind == 0:
        return Op("+", n[0], Op("*", n[1], n[2]))
    if kind == 1:
        return Op("-", Op("*", n[0], n[1]), n[2])
    if kind == 2:
        return Op("*", Op("+", n[0], n[1]), n[2])
    if kind == 3:
        return Op("-", n[0], Op("*", n[1], n[2]))
    if kind == 4:
        return Op("+", Op("*", n[0], n[1]), Op("*", n[2], n[3]))
    divisor = randint(rng, 2, 9)
    return Op("+", Op("/", Num(Fraction(divisor * randint(rng, 2, 9))), Num(Fraction(divisor))), n[3])


def _arith_level3(rng: np.random.Generator) -> Node:
    n = [_int(rng, 2, 20) for _ in range(4)]
    kind = randint(rng, 0, 4)
    if kind == 0:
        return Op("*", Op("-", n[0], n[1]), Op("+", n[2], n[3]))
    if kind == 1:
        return Op("-", Op("^", _int(rng, 2, 12), Num(Fraction(2))), Op("*", n[1], n[2]))
    if kind == 2:
        product = evaluate(Op("*", Op("+", n[0], n[1]), n[2]))
        divisors = [d for d in range(2, 21) if product % d == 0]  # n[2] itself always divides
        return Op("/", Op("*", Op("+", n[0], n[1]), n[2]), Num(Fraction(choice(rng, divisors))))
    if kind == 3:
        neg = Num(Fraction(-randint(rng, 2, 9)))
        return Op("+", Op("*", neg, Op("-", n[1], n[2])), n[3])
    return Op("-", n[0], Op("*", Op("-", n[1], n[2]), _int(rng, 2, 9)))


def _fraction(rng: np.random.Generator, max_den: int, proper: bool, signed: bool = False) -> Num:
    while True:
        den = randint(rng, 2, max_den)
        num = randint(rng, 1, den - 1) if proper else randint(rng, 1, 9)
        value = Fraction(num, den) * (choice(rng, (1, -1)) if signed else 1)
        if value.denominator != 1:
            return Num(value)


def _frac_level1(rng: np.random.Generator) -> Node:
    return Op("+", _fraction(rng, 6, proper=True), _fraction(rng, 6, proper=True))


def _frac_level2(rng: np.random.Generator) -> Node:
    return Op(choice(rng, "+-*/"), _fraction(rng, 10, proper=False), _fraction(rng, 10, proper=False))


def _frac_level3(rng: np.random.Generator) -> Node:
    p, q, r = (_fraction(rng, 9, proper=False, signed=i == 1) for i in range(3))
    kind = randint(rng, 0, 3)
    if kind == 0:
        return Op("+", p, Op("*", q, r))
    if kind == 1:
        return Op("/", Op("-", p, q), r)
    if kind == 2:
        return Op("-", Op("*", p, q), r)
    return Op("*", Op("+", p, q), Op("-", r, Num(Fraction(randint(rng, 1, 3)))))


_ARITH: dict[int, Callable[[np.random.Generator], Node]] = {1: _arith_level1, 2: _arith_level2, 3: _arith_level3}
_FRAC: dict[int, Callable[[np.random.Generator], Node]] = {1: _frac_level1, 2: _frac_level2, 3: _frac_level3}


def _ops(node: Node) -> list[str]:
    return [] if isinstance(node, Num) else [*_ops(node.left), *_ops(node.right), node.op]


def _order_hint(node: Node) -> str:
    ops = set(_ops(node))
    if len(ops) == 1:
        return f"This is a single {_NAMES[ops.pop()]}; work it out carefully, one place value at a time."
    return (
        "Follow the order of operations: brackets first, then powers, then multiplication and division, "
        "then addition and subtraction."
    )


def _level1_hint(node: Op) -> str:
    a, b = int(evaluate(node.left)), int(evaluate(node.right))
    if node.op == "+" and b >= 10 and b % 10:
        return f"Add the tens and the ones separately: {a} + {b - b % 10} first, then add {b % 10}."
    if node.op == "+":
        return f"Count on {b} from {a}."
    if node.op == "-":
        return f"Count up from {b} to {a}: how far is it?"
    if node.op == "*":
        return f"{a} * {b} is {a} * {b - 1} plus one more {a}."
    return f"Ask yourself: which number times {b} gives {a}?"


def arithmetic(difficulty: int, rng: np.random.Generator) -> Task:
    """An integer expression.

    Difficulty levels:
        1: one operation on numbers up to 20.
        2: two or three operations with precedence (exact division).
        3: brackets, squares, negative numbers and exact division of a product.
    """
    node = _ARITH[difficulty](rng)
    shown = render(node)
    lines: list[str] = []
    value = steps(node, lines)
    hints = [_order_hint(node)]
    if difficulty == 1 and isinstance(node, Op):
        hints.append(_level1_hint(node))
    else:
        first = lines[0].split(" = ")[0]
        hints += [f"Start with {first}.", f"First step: {lines[0]}. Carry on from there."]
    return make_task(
        "arithmetic",
        difficulty,
        prompt=f"Compute {shown}. Give the answer as an integer.",
        answer=fmt_number(value),
        solution="\n".join([*lines, f"So {shown} = {fmt_number(value)}."]),
        hints=hints,
        answer_kind="number",
        answer_value=value,
        fallback_hints=(
            "Work out one operation at a time and write down each intermediate result.",
            "When you are done, check your result with a quick estimate.",
        ),
        problem=shown,
    )


def fractions(difficulty: int, rng: np.random.Generator) -> Task:
    """A rational expression.

    Difficulty levels:
        1: the sum of two proper fractions with denominators up to 6.
        2: one of + - * / on two fractions with denominators up to 10.
        3: three fractions (one negative) with precedence and brackets.
    """
    node = _FRAC[difficulty](rng)
    shown = render(node)
    lines: list[str] = []
    value = steps(node, lines)
    ops = set(_ops(node))
    hints = []
    if ops & {"+", "-"}:
        hints.append("To add or subtract fractions, rewrite them over a common denominator first.")
    if ops & {"*", "/"}:
        hints.append(
            "Multiply numerators together and denominators together; dividing means multiplying by the reciprocal."
        )
    if difficulty == 1 and isinstance(node, Op):
        a, b = evaluate(node.left), evaluate(node.right)
        d = lcm(a.denominator, b.denominator)
        hints.append(f"The least common denominator of {fmt_number(a)} and {fmt_number(b)} is {d}.")
        hints.append(
            f"Rewrite both over {d}: {fmt_number(a)} = {a.numerator * d // a.denominator}/{d} and "
            f"{fmt_number(b)} = {b.numerator * d // b.denominator}/{d}."
        )
    else:
        hints += [f"Start with {lines[0].split(' = ')[0]}.", f"First step: {lines[0]}."]
    return make_task(
        "fractions",
        difficulty,
        prompt=f"Compute {shown}. Give the answer as a fraction a/b in lowest terms, or as an integer if it is "
        "whole.",
        answer=fmt_number(value),
        solution="\n".join([*lines, f"So {shown} = {fmt_number(value)}."]),
        hints=hints,
        answer_kind="number",
        answer_value=value,
        fallback_hints=(
            "Handle one operation at a time, respecting the order of operations.",
            "Simplify at the end by dividing numerator and denominator by their greatest common divisor.",
        ),
        problem=shown,
    )
