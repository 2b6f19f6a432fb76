"""Family ``number``: integer arithmetic, divisibility and number representations.

Level 1: one formula or a few branches. Level 2: loops with a stopping rule. Level 3: digit and numeral systems.
"""

from __future__ import annotations

import numpy as np

from convenv.tasks.base import Task
from convenv.tasks.code.common import Problem, Variant, block, choice, make_task, randint


def digit_sum(rng: np.random.Generator) -> Problem:
    """Sum of the decimal digits of an integer (of its absolute value)."""
    inputs = [(randint(rng, 100, 99999),), (randint(rng, 10, 99),), (0,), (-randint(rng, 10, 999),), (7,), (1000,)]
    return Problem(
        name="digit_sum",
        params="n",
        spec="Return the sum of the decimal digits of the integer n. For a negative n, ignore the sign.",
        reference=Variant(
            "    return sum(int(d) for d in str(abs(n)))\n", lambda n: sum(int(d) for d in str(abs(n)))
        ),
        bugs=(Variant("    return sum(int(d) for d in str(n))\n", lambda n: sum(int(d) for d in str(n))),),
        inputs=inputs,
        hints=(
            "Either convert the number to a string or peel digits off with % 10 and // 10.",
            "A minus sign is not a digit.",
        ),
        approach="take the absolute value, turn it into a string and add up its digits.",
    )


def clamp(rng: np.random.Generator) -> Problem:
    """Limit x to [lo, hi]."""
    lo = randint(rng, -10, 5)
    hi = lo + randint(rng, 3, 20)
    inputs = [(lo + 1,), (hi + 5,), (lo - 3,), (lo,), (hi,), (randint(rng, -50, 50),)]
    return Problem(
        name="clamp",
        params="x",
        spec=f"Return x limited to the range from {lo} to {hi} (inclusive): the closest number in that range to x.",
        reference=Variant(f"    return max({lo}, min({hi}, x))\n", lambda x: max(lo, min(hi, x))),
        bugs=(
            Variant(f"    return min({lo}, max({hi}, x))\n", lambda x: min(lo, max(hi, x))),
            Variant(f"    return max({lo}, min({hi - 1}, x))\n", lambda x: max(lo, min(hi - 1, x))),
        ),
        inputs=inputs,
        hints=("Numbers inside the range come back unchanged.", "Combine min() and max(), one for each bound."),
        approach="cap from above with min and from below with max.",
    )


def fizz(rng: np.random.Generator) -> Problem:
    """FizzBuzz with two divisors."""
    a, b = choice(rng, [(3, 5), (2, 7), (3, 4), (4, 5), (2, 3)])
    both, only_a, only_b = a * b * randint(rng, 1, 3), a * choice(rng, [1, 2]), b
    if only_a % b == 0:
        only_a = a
    plain = next(n for n in range(randint(rng, 1, 20), 200) if n % a and n % b)
    inputs = [(only_a,), (plain,), (both,), (only_b,), (0,), (plain + a * b,)]
    both_case = f'    if n % {a} == 0 and n % {b} == 0:\n        return "FizzBuzz"\n'
    single = f'    if n % {a} == 0:\n        return "Fizz"\n    if n % {b} == 0:\n        return "Buzz"\n'
    body = both_case + single + "    return str(n)\n"

    def make(both_first: bool, as_text: bool) -> Variant:
        def func(n: int) -> object:
            if both_first and n % a == 0 and n % b == 0:
                return "FizzBuzz"
            if n % a == 0:
                return "Fizz"
            if n % b == 0:
                return "Buzz"
            return str(n) if as_text else n

        text = body if both_first else single + both_case + "    return str(n)\n"
        return Variant(text if as_text else text.replace("return str(n)", "return n"), func)

    return Problem(
        name="fizz",
        params="n",
        spec=(
            f'Return "FizzBuzz" if n is divisible by both {a} and {b}, "Fizz" if only by {a}, "Buzz" if only\n'
            f"by {b}, and otherwise n written as a string."
        ),
        reference=make(True, True),
        bugs=(make(False, True), make(True, False)),
        inputs=inputs,
        hints=(
            "Test the case of both divisors before the single ones.",
            "The last case returns a string, not a number.",
        ),
        approach="check divisibility by both first, then each divisor alone, else convert n to a string.",
    )


def is_prime(rng: np.random.Generator) -> Problem:
    """Primality by trial division."""
    inputs = [
        (choice(rng, [13, 17, 19, 23, 29, 31, 37, 41, 43, 47]),),
        (choice(rng, [15, 21, 27, 33, 35, 39, 45, 51]),),
        (1,),
        (2,),
        (choice(rng, [9, 25, 49, 121]),),
        (0,),
        (-7,),
        (randint(rng, 50, 200),),
    ]
    body = block("""
        if n < 2:
            return False
        d = 2
        while d * d <= n:
            if n % d == 0:
                return False
            d += 1
        return True
    """)

    def make(square: bool, low: int) -> Variant:
        def func(n: int) -> bool:
            if n < low:
                return False
            d = 2
            while (d * d <= n) if square else (d * d < n):
                if n % d == 0:
                    return False
                d += 1
            return True

        text = body if square else body.replace("d * d <= n", "d * d < n")
        return Variant(text.replace("n < 2", f"n < {low}"), func)

    return Problem(
        name="is_prime",
        params="n",
        spec="Return True if the integer n is a prime number, else False. Numbers below 2 are not prime.",
        reference=make(True, 2),
        bugs=(make(False, 2), make(True, 1)),
        inputs=inputs,
        hints=(
            "Try dividing n by every candidate divisor from 2 upwards.",
            "You can stop once the divisor squared exceeds n, but not before it equals n.",
            "Think about 0, 1 and negative numbers first.",
        ),
        approach="reject n < 2, then trial-divide by d while d * d <= n.",
    )


def collatz_steps(rng: np.random.Generator) -> Problem:
    """Steps of the Collatz map to reach 1."""

    def steps(n: int) -> int:
        count = 0
        while n != 1:
            n = n // 2 if n % 2 == 0 else 3 * n + 1
            count += 1
        return count

    inputs = [(6,), (randint(rng, 2, 30),), (1,), (2,), (randint(rng, 31, 99),), (27,)]
    body = block("""
        steps = 0
        while n != 1:
            n = n // 2 if n % 2 == 0 else 3 * n + 1
            steps += 1
        return steps
    """)
    return Problem(
        name="collatz_steps",
        params="n",
        spec=(
            "n is a positive integer. Repeatedly replace n by n // 2 if it is even, or by 3 * n + 1 if it is odd.\n"
            "Return how many replacements it takes to reach 1."
        ),
        reference=Variant(body, steps),
        bugs=(Variant(body.replace("steps = 0", "steps = 1"), lambda n: steps(n) + 1),),
        inputs=inputs,
        hints=(
            "Loop until n becomes 1, counting the replacements.",
            "Starting at 1 already, no replacement is needed.",
        ),
        approach="a while loop applying the rule and counting iterations.",
    )


def gcd(rng: np.random.Generator) -> Problem:
    """Greatest common divisor, always non-negative."""

    def euclid(a: int, b: int, absolute: bool) -> int:
        if absolute:
            a, b = abs(a), abs(b)
        while b:
            a, b = b, a % b
        return a

    g = randint(rng, 2, 9)
    inputs = [
        (g * randint(rng, 2, 9), g * randint(rng, 2, 9)),
        (randint(rng, 10, 60), randint(rng, 10, 60)),
        (0, 0),
        (4, -6),
        (-12, -18),
        (0, randint(rng, 1, 30)),
        (17, 5),
    ]
    body = block("""
        a, b = abs(a), abs(b)
        while b:
            a, b = b, a % b
        return a
    """)
    return Problem(
        name="gcd",
        params="a, b",
        spec=(
            "Return the greatest common divisor of the integers a and b, as a non-negative number.\n"
            "gcd(0, 0) is 0. Do not use math.gcd."
        ),
        reference=Variant(body, lambda a, b: euclid(a, b, True)),
        bugs=(Variant(body.replace("    a, b = abs(a), abs(b)\n", ""), lambda a, b: euclid(a, b, False)),),
        inputs=inputs,
        hints=(
            "Euclid's algorithm: replace the pair (a, b) by (b, a % b) until b is zero.",
            "Negative inputs must still give a non-negative result.",
        ),
        approach="Euclid's algorithm on the absolute values.",
    )


def to_base(rng: np.random.Generator) -> Problem:
    """A non-negative integer written in base b."""
    base = randint(rng, 2, 9)

    def convert(n: int, reverse: bool, zero: bool) -> str:
        if n == 0:
            return "0" if zero else ""
        digits = []
        while n > 0:
            digits.append(str(n % base))
            n //= base
        return "".join(reversed(digits) if reverse else digits)

    inputs = [(randint(rng, base + 1, 200),), (base,), (0,), (1,), (randint(rng, 200, 5000),), (base * base - 1,)]
    body = block(f"""
        if n == 0:
            return "0"
        digits = []
        while n > 0:
            digits.append(str(n % {base}))
            n //= {base}
        return "".join(reversed(digits))
    """)
    return Problem(
        name="to_base",
        params="n",
        spec=f'Return the non-negative integer n written in base {base}, as a string of digits ("0" for zero).',
        reference=Variant(body, lambda n: convert(n, True, True)),
        bugs=(
            Variant(body.replace("reversed(digits)", "digits"), lambda n: convert(n, False, True)),
            Variant(body.replace('    if n == 0:\n        return "0"\n', ""), lambda n: convert(n, True, False)),
        ),
        inputs=inputs,
        hints=(
            "The last digit is n % base; then continue with n // base.",
            "Digits come out from the least significant one, so reverse them at the end.",
            "Zero is a special case: the loop never runs for it.",
        ),
        approach="collect remainders of repeated division by the base, then reverse them.",
    )


_ROMAN = ((1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"), (50, "L"), (40, "XL"),
          (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I"))  # fmt: skip


def roman(rng: np.random.Generator) -> Problem:
    """Integer to Roman numerals."""

    def convert(n: int, table: tuple[tuple[int, str], ...]) -> str:
        out = []
        for value, symbol in table:
            while n >= value:
                out.append(symbol)
                n -= value
        return "".join(out)

    simple = tuple(p for p in _ROMAN if len(p[1]) == 1)
    inputs = [(randint(rng, 10, 39),), (1994,), (4,), (randint(rng, 40, 999),), (3999,), (9,), (1,)]
    table = ",\n        ".join(f"({v}, {s!r})" for v, s in _ROMAN)
    body = (
        f"    values = [\n        {table},\n    ]\n    out = []\n    for value, symbol in values:\n"
        "        while n >= value:\n            out.append(symbol)\n            n -= value\n"
        '    return "".join(out)\n'
    )
    plain = ",\n        ".join(f"({v}, {s!r})" for v, s in simple)
    return Problem(
        name="roman",
        params="n",
        spec="Return the integer n (1 <= n <= 3999) in Roman numerals, with subtractive forms like IV and CM.",
        reference=Variant(body, lambda n: convert(n, _ROMAN)),
        bugs=(Variant(body.replace(table, plain), lambda n: convert(n, simple)),),
        inputs=inputs,
        hints=(
            "Work greedily from the largest value down.",
            "Treat the subtractive pairs (like nine and four) as symbols of their own in the table.",
        ),
        approach="greedy conversion over a table of values that includes the subtractive pairs.",
    )


def next_palindrome(rng: np.random.Generator) -> Problem:
    """Smallest palindromic number strictly greater than n."""

    def find(n: int, strictly: bool) -> int:
        if strictly:
            n += 1
        while str(n) != str(n)[::-1]:
            n += 1
        return n

    inputs = [(randint(rng, 10, 98),), (randint(rng, 100, 999),), (0,), (9,), (121,), (randint(rng, 1000, 9999),)]
    body = block("""
        n += 1
        while str(n) != str(n)[::-1]:
            n += 1
        return n
    """)
    return Problem(
        name="next_palindrome",
        params="n",
        spec=(
            "n is a non-negative integer. Return the smallest integer strictly greater than n whose decimal\n"
            "digits read the same forwards and backwards."
        ),
        reference=Variant(body, lambda n: find(n, True)),
        bugs=(Variant(body.replace("    n += 1\n    while", "    while", 1), lambda n: find(n, False)),),
        inputs=inputs,
        hints=(
            "Checking whether a number is a palindrome is easiest on its string form.",
            "The result must be strictly greater than n, even when n itself is a palindrome.",
        ),
        approach="start at n + 1 and count up until the digits read the same reversed.",
    )


LEVELS = {
    1: (digit_sum, clamp, fizz),
    2: (is_prime, collatz_steps, gcd),
    3: (to_base, roman, next_palindrome),
}


def numbers(level: int, rng: np.random.Generator) -> Task:
    """One ``number`` task at ``level``."""
    return make_task("number", level, choice(rng, LEVELS[level])(rng))
