"""Shared pieces of the math generators: seeded draws, number and polynomial formatting, task assembly."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from fractions import Fraction
from typing import Any, TypeVar

import numpy as np

from convenv.leak import detect_leak
from convenv.tasks.base import Task

T = TypeVar("T")

MIN_HINTS, MAX_HINTS = 2, 4


def randint(rng: np.random.Generator, low: int, high: int) -> int:
    """A uniform integer in ``[low, high]`` (both inclusive)."""
    return int(rng.integers(low, high + 1))


def nonzero(rng: np.random.Generator, low: int, high: int) -> int:
    """A uniform non-zero integer in ``[low, high]``."""
    values = [v for v in range(low, high + 1) if v != 0]
    return values[int(rng.integers(len(values)))]


def choice(rng: np.random.Generator, options: Sequence[T]) -> T:
    """One element of ``options`` chosen uniformly."""
    return options[int(rng.integers(len(options)))]


def fmt_number(value: Fraction | int) -> str:
    """Canonical answer text of a rational: ``"6"``, ``"-4/3"``."""
    value = Fraction(value)
    if value.denominator == 1:
        return str(value.numerator)
    return f"{value.numerator}/{value.denominator}"


def fmt_decimal(value: Fraction) -> str:
    """A terminating rational as a decimal (``"37.5"``), else as a fraction."""
    den = value.denominator
    while den % 2 == 0:
        den //= 2
    while den % 5 == 0:
        den //= 5
    if den != 1 or value.denominator == 1:
        return fmt_number(value)
    digits = 0
    while (value * 10**digits).denominator != 1:
        digits += 1
    scaled = int(value * 10**digits)
    sign, scaled = ("-" if scaled < 0 else ""), abs(scaled)
    whole, frac = divmod(scaled, 10**digits)
    return f"{sign}{whole}.{frac:0{digits}d}"


def paren(value: Fraction | int) -> str:
    """A number for use inside an expression: negatives and fractions in parentheses."""
    text = fmt_number(value)
    return f"({text})" if text.startswith("-") or "/" in text else text


def fmt_terms(terms: Iterable[tuple[Fraction | int, str]], star: bool = False) -> str:
    """Join ``(coefficient, monomial)`` terms into ``"3x^2 - x + 2"`` (``"3*x^2 - x + 2"`` with ``star``).

    Zero terms are dropped; the empty sum is ``"0"``.
    """
    out = ""
    for coef, mono in terms:
        coef = Fraction(coef)
        if coef == 0:
            continue
        mag = abs(coef)
        if not mono:
            body = fmt_number(mag)
        elif mag == 1:
            body = mono
        else:
            body = fmt_number(mag) + ("*" if star else "") + mono
            if mag.denominator != 1 and not star:
                body = f"({fmt_number(mag)}){mono}"
        if not out:
            out = ("-" if coef < 0 else "") + body
        else:
            out += (" - " if coef < 0 else " + ") + body
    return out or "0"


def monomial(power: int, var: str = "x") -> str:
    """``"x^3"``, ``"x"`` or ``""`` for powers 3, 1, 0."""
    return "" if power == 0 else var if power == 1 else f"{var}^{power}"


def fmt_poly(coeffs: Sequence[int | Fraction], star: bool = False, var: str = "x") -> str:
    """A polynomial given by coefficients from the constant term up, highest power first."""
    return fmt_terms(((coeffs[p], monomial(p, var)) for p in reversed(range(len(coeffs)))), star=star)


def poly_mul(p: Sequence[int], q: Sequence[int]) -> list[int]:
    """Product of two polynomials (coefficients from the constant term up)."""
    out = [0] * (len(p) + len(q) - 1)
    for i, a in enumerate(p):
        for j, b in enumerate(q):
            out[i + j] += a * b
    return out


def poly_add(p: Sequence[int], q: Sequence[int], sign: int = 1) -> list[int]:
    """``p + sign * q``, with trailing zero coefficients removed (the zero polynomial is ``[0]``)."""
    out = [0] * max(len(p), len(q))
    for i, a in enumerate(p):
        out[i] += a
    for i, b in enumerate(q):
        out[i] += sign * b
    while len(out) > 1 and out[-1] == 0:
        out.pop()
    return out


def fmt_set(items: Sequence[str]) -> str:
    """``"{-2, 3}"``."""
    return "{" + ", ".join(items) + "}"


def fmt_tuple(items: Sequence[str]) -> str:
    """``"(2, -1)"``."""
    return "(" + ", ".join(items) + ")"


def task_id(family: str, difficulty: int, prompt: str) -> str:
    """``math/{family}/{difficulty}/{12 hex digits}`` from the public prompt only.

    Every agent's info shows the id, so it must not be a function of the answer (a digest of the answer could be
    inverted by hashing candidate answers).
    """
    digest = hashlib.sha256(prompt.encode()).hexdigest()[:12]
    return f"math/{family}/{difficulty}/{digest}"


def make_task(
    family: str,
    difficulty: int,
    prompt: str,
    answer: str,
    solution: str,
    hints: Sequence[str],
    answer_kind: str,
    answer_value: Any,
    variables: tuple[str, ...] = (),
    fallback_hints: Sequence[str] = (),
    **extra: Any,
) -> Task:
    """Assemble a task, keeping only hints that do not give the answer away.

    Candidate ``hints`` are ordered from gentle to strong. Each is run through :func:`convenv.leak.detect_leak`;
    a leaking one is dropped. If fewer than two survive, ``fallback_hints`` (generic, number-free) fill in.
    """
    metadata = {
        "family": family,
        "difficulty": difficulty,
        "answer_kind": answer_kind,
        "variables": variables,
        "answer_value": answer_value,
        **extra,
    }
    draft = Task(id="", domain="math", prompt=prompt, answer=answer, metadata=metadata)
    kept = [h for h in dict.fromkeys(hints) if not detect_leak(h, draft).leaked]
    for h in fallback_hints:
        if len(kept) >= MIN_HINTS:
            break
        if h not in kept and not detect_leak(h, draft).leaked:
            kept.insert(0, h)
    if len(kept) < MIN_HINTS:  # every family passes number-free fallbacks, so this means a generator bug
        raise RuntimeError(f"math generator {family!r} produced fewer than {MIN_HINTS} safe hints for {prompt!r}")
    return Task(
        id=task_id(family, difficulty, prompt),
        domain="math",
        prompt=prompt,
        answer=answer,
        solution=solution,
        hints=tuple(kept[:MAX_HINTS]),
        metadata=metadata,
    )
