"""Family ``word``: short word problems from templates.

Each template draws its numbers first and computes the answer from them, and records the arithmetic as a plain
expression (``metadata["problem"]``) that the tests evaluate independently.
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction

import numpy as np

from convenv.tasks.base import Task
from convenv.tasks.math.common import choice, fmt_decimal, make_task, randint

NAMES = ("Ana", "Ben", "Chloe", "Dev", "Emma", "Farid", "Grace", "Hugo", "Ines", "Jon", "Kira", "Liam", "Maya")
ITEMS = ("marbles", "stickers", "apples", "pencils", "cards", "cookies", "shells", "stamps")

# (prompt, answer, expression over the prompt's numbers, solution lines, hints)
Problem = tuple[str, Fraction, str, list[str], list[str]]


def _add(rng: np.random.Generator) -> Problem:
    n, item, a, b = choice(rng, NAMES), choice(rng, ITEMS), randint(rng, 3, 40), randint(rng, 2, 30)
    prompt = f"{n} has {a} {item} and gets {b} more. How many {item} does {n} have now?"
    hints = ["Getting more means the amount grows: add.", f"Add {b} to what {n} started with."]
    return prompt, Fraction(a + b), f"{a} + {b}", [f"{a} + {b} = {a + b}."], hints


def _sub(rng: np.random.Generator) -> Problem:
    n, item = choice(rng, NAMES), choice(rng, ITEMS)
    a = randint(rng, 10, 60)
    b = randint(rng, 2, a - 1)
    prompt = f"{n} has {a} {item} and gives {b} of them to a friend. How many {item} does {n} have left?"
    hints = ["Giving some away makes the amount smaller: subtract.", f"Take {b} away from {a}."]
    return prompt, Fraction(a - b), f"{a} - {b}", [f"{a} - {b} = {a - b}."], hints


def _mul(rng: np.random.Generator) -> Problem:
    item, a, b = choice(rng, ITEMS), randint(rng, 3, 12), randint(rng, 2, 10)
    prompt = f"A box holds {a} {item}. How many {item} are in {b} full boxes?"
    hints = ["Every box holds the same amount, so this is repeated addition: multiply.", f"Multiply {a} by {b}."]
    return prompt, Fraction(a * b), f"{a} * {b}", [f"{b} * {a} = {a * b}."], hints


def _div(rng: np.random.Generator) -> Problem:
    n, item, b, q = choice(rng, NAMES), choice(rng, ITEMS), randint(rng, 2, 9), randint(rng, 2, 12)
    prompt = f"{n} shares {b * q} {item} equally among {b} friends. How many {item} does each friend get?"
    hints = ["Sharing equally means dividing.", f"Divide the {item} into {b} equal groups."]
    return prompt, Fraction(q), f"{b * q} / {b}", [f"{b * q} / {b} = {q}."], hints


def _shopping(rng: np.random.Generator) -> Problem:
    n, p, q = choice(rng, NAMES), randint(rng, 2, 9), randint(rng, 1, 5)
    m, k = randint(rng, 2, 6), randint(rng, 2, 8)
    prompt = (
        f"A notebook costs {p} dollars and a pen costs {q} dollars. {n} buys {m} notebooks and {k} pens. "
        f"How many dollars does {n} spend?"
    )
    lines = [
        f"Notebooks: {m} * {p} = {m * p}.",
        f"Pens: {k} * {q} = {k * q}.",
        f"Total: {m * p} + {k * q} = {m * p + k * q}.",
    ]
    hints = [
        "Find the cost of the notebooks and the cost of the pens separately, then combine them.",
        f"The notebooks cost {m} * {p} dollars.",
        f"The notebooks cost {m * p} dollars and the pens cost {k * q} dollars.",
    ]
    return prompt, Fraction(m * p + k * q), f"{m} * {p} + {k} * {q}", lines, hints


def _reading(rng: np.random.Generator) -> Problem:
    n, a, d = choice(rng, NAMES), randint(rng, 5, 30), randint(rng, 2, 7)
    t = a * d + randint(rng, 5, 120)
    prompt = f"A book has {t} pages. {n} reads {a} pages a day for {d} days. How many pages are left to read?"
    lines = [f"Pages read: {a} * {d} = {a * d}.", f"Pages left: {t} - {a * d} = {t - a * d}."]
    hints = [
        "First find how many pages have been read, then compare with the length of the book.",
        f"In {d} days {n} reads {a} * {d} pages.",
        f"{n} has read {a * d} pages so far.",
    ]
    return prompt, Fraction(t - a * d), f"{t} - {a} * {d}", lines, hints


def _bakery(rng: np.random.Generator) -> Problem:
    a, b = randint(rng, 2, 6), randint(rng, 6, 12)
    c = randint(rng, 1, a * b - 1)
    prompt = f"A baker makes {a} trays of {b} muffins and sells {c} muffins. How many muffins are left?"
    lines = [f"Muffins made: {a} * {b} = {a * b}.", f"Left: {a * b} - {c} = {a * b - c}."]
    hints = [
        "First work out how many muffins were made in total.",
        f"The baker makes {a} * {b} muffins.",
        f"That is {a * b} muffins before any are sold.",
    ]
    return prompt, Fraction(a * b - c), f"{a} * {b} - {c}", lines, hints


def _change(rng: np.random.Generator) -> Problem:
    n, k, p = choice(rng, NAMES), randint(rng, 2, 6), randint(rng, 3, 15)
    s = k * p + randint(rng, 0, 40)
    prompt = f"{n} has {s} dollars and buys {k} tickets at {p} dollars each. How many dollars are left?"
    lines = [f"Tickets: {k} * {p} = {k * p}.", f"Left: {s} - {k * p} = {s - k * p}."]
    hints = [
        "Find what the tickets cost altogether, then take that from the money available.",
        f"The tickets cost {k} * {p} dollars.",
        f"The tickets cost {k * p} dollars in total.",
    ]
    return prompt, Fraction(s - k * p), f"{s} - {k} * {p}", lines, hints


def _speed(rng: np.random.Generator) -> Problem:
    while True:
        v, t, w, u = randint(rng, 4, 12) * 10, randint(rng, 1, 4), randint(rng, 4, 12) * 10, randint(rng, 1, 4)
        if v != w and (10 * (v * t + w * u)) % (t + u) == 0:  # at most one decimal place
            break
    dist = v * t + w * u
    value = Fraction(dist, t + u)
    prompt = (
        f"A train travels at {v} km per hour for {t} hours, then at {w} km per hour for {u} hours. What is its "
        "average speed for the whole trip, in km per hour?"
    )
    lines = [
        f"Distance: {v} * {t} + {w} * {u} = {dist} km.",
        f"Time: {t} + {u} = {t + u} hours.",
        f"Average speed: {dist} / {t + u} = {fmt_decimal(value)} km per hour.",
    ]
    hints = [
        "Average speed is total distance divided by total time, not the average of the two speeds.",
        f"The first part covers {v} * {t} km and the second {w} * {u} km.",
        f"The whole trip is {dist} km long.",
    ]
    return prompt, value, f"({v} * {t} + {w} * {u}) / ({t} + {u})", lines, hints


def _discount(rng: np.random.Generator) -> Problem:
    p, k = randint(rng, 20, 120), choice(rng, (10, 15, 20, 25, 30, 40, 50))
    value = Fraction(p * (100 - k), 100)
    off = Fraction(p * k, 100)
    prompt = f"A jacket costs {p} dollars. It is on sale for {k}% off. What is the sale price in dollars?"
    lines = [
        f"Discount: {k}% of {p} = {fmt_decimal(off)}.",
        f"Sale price: {p} - {fmt_decimal(off)} = {fmt_decimal(value)}.",
    ]
    hints = [
        "Work out how much the discount is, then take it off the original price.",
        f"{k}% of {p} means {k}/100 * {p}.",
        f"The discount is {fmt_decimal(off)} dollars.",
    ]
    return prompt, value, f"{p} - {k} * {p} / 100", lines, hints


def _ages(rng: np.random.Generator) -> Problem:
    first, second = (str(v) for v in rng.choice(NAMES, size=2, replace=False))
    y, d, t = randint(rng, 3, 20), randint(rng, 1, 10), randint(rng, 1, 10)
    s = 2 * y + d + 2 * t
    prompt = (
        f"{first} is {d} years older than {second}. In {t} years, the sum of their ages will be {s}. "
        f"How old is {second} now?"
    )
    lines = [
        f"Let {second}'s age now be a. In {t} years the ages are a + {t} and a + {d + t}.",
        f"So 2a + {d + 2 * t} = {s}, 2a = {s - d - 2 * t}, a = {y}.",
    ]
    hints = [
        f"Call {second}'s age now a and write both ages in {t} years in terms of a.",
        f"In {t} years {second} is a + {t} and {first} is a + {d + t}.",
        f"Their sum gives 2a + {d + 2 * t} = {s}.",
    ]
    return prompt, Fraction(y), f"({s} - {d} - 2 * {t}) / 2", lines, hints


def _spending(rng: np.random.Generator) -> Problem:
    n, a, b = choice(rng, NAMES), randint(rng, 2, 5), randint(rng, 2, 4)
    m = a * b * randint(rng, 2, 10)  # so that m/a and (m - m/a)/b are whole
    books = m // a
    lunch = (m - books) // b
    value = Fraction(m - books - lunch)
    prompt = (
        f"{n} has {m} dollars, spends 1/{a} of it on books and then 1/{b} of what is left on lunch. "
        f"How many dollars does {n} have now?"
    )
    lines = [
        f"Books: {m} / {a} = {books}, leaving {m - books}.",
        f"Lunch: {m - books} / {b} = {lunch}, leaving {m - books - lunch}.",
    ]
    hints = [
        "Take the steps in order: the second fraction is of what is left, not of the original amount.",
        f"The books cost {m} / {a} dollars.",
        f"After the books, {m - books} dollars are left.",
    ]
    return prompt, value, f"{m} - {m} / {a} - ({m} - {m} / {a}) / {b}", lines, hints


TEMPLATES: dict[int, tuple[Callable[[np.random.Generator], Problem], ...]] = {
    1: (_add, _sub, _mul, _div),
    2: (_shopping, _reading, _bakery, _change),
    3: (_speed, _discount, _ages, _spending),
}


def word(difficulty: int, rng: np.random.Generator) -> Task:
    """A word problem with a numeric answer.

    Difficulty levels:
        1: one operation.
        2: two steps (totals, what is left).
        3: rates, percentages, ages, fractions of a remainder (answers may be decimals).
    """
    template = choice(rng, TEMPLATES[difficulty])
    prompt, value, expr, lines, hints = template(rng)
    answer = fmt_decimal(value)
    return make_task(
        "word",
        difficulty,
        prompt=f"{prompt} Give the answer as a number.",
        answer=answer,
        solution="\n".join([*lines, f"The answer is {answer}."]),
        hints=hints,
        answer_kind="number",
        answer_value=value,
        fallback_hints=(
            "Write down which quantities are given and what the question asks for.",
            "Write one calculation for each step and check that the units make sense.",
        ),
        problem=expr,
        template=template.__name__.lstrip("_"),
    )
