"""Family ``list``: filtering, mapping and scanning lists of integers.

Level 1: one pass with a condition or a formula. Level 2: state carried along the list, slicing. Level 3: runs,
chunks and interval merging, where the edge cases decide.
"""

from __future__ import annotations

import numpy as np

from convenv.tasks.base import Task
from convenv.tasks.code.common import Problem, Variant, block, choice, ints, make_task, randint


def sum_greater(rng: np.random.Generator) -> Problem:
    """Sum of the elements above a threshold."""
    k = randint(rng, 0, 6)
    inputs = [
        (ints(rng, 5, -3, 12),),
        (ints(rng, 4, 0, 9) + [k],),
        ([],),
        ([k, k, k],),
        (ints(rng, 6, -10, 10),),
        ([-5, -1, k + 1],),
    ]
    return Problem(
        name="sum_greater",
        params="xs",
        spec=f"Return the sum of the numbers in the list xs that are strictly greater than {k}.",
        reference=Variant(f"    return sum(x for x in xs if x > {k})\n", lambda xs: sum(x for x in xs if x > k)),
        bugs=(
            Variant(f"    return sum(x for x in xs if x >= {k})\n", lambda xs: sum(x for x in xs if x >= k)),
            Variant("    return sum(xs)\n", lambda xs: sum(xs)),
        ),
        inputs=inputs,
        hints=(
            "Look at each number on its own and decide whether it counts towards the sum.",
            "A number equal to the threshold does not count: the comparison is strict.",
            "sum() over a generator expression with an if clause does it in one line.",
        ),
        approach="add up only the elements that pass the strict comparison; an empty selection sums to zero.",
    )


def count_multiples(rng: np.random.Generator) -> Problem:
    """How many elements are divisible by m."""
    m = randint(rng, 2, 5)
    inputs = [
        (ints(rng, 6, 0, 20),),
        ([m, 2 * m, m + 1],),
        ([],),
        ([0, -m, 1],),
        (ints(rng, 7, -15, 15),),
    ]
    return Problem(
        name="count_multiples",
        params="xs",
        spec=f"Return how many numbers in the list xs are divisible by {m} (zero and negatives included).",
        reference=Variant(
            f"    return sum(1 for x in xs if x % {m} == 0)\n", lambda xs: sum(1 for x in xs if x % m == 0)
        ),
        bugs=(
            Variant(
                f"    return sum(1 for x in xs if x % {m} != 0)\n", lambda xs: sum(1 for x in xs if x % m != 0)
            ),
            Variant(f"    return len(xs) // {m}\n", lambda xs: len(xs) // m),
        ),
        inputs=inputs,
        hints=(
            "Count the elements one by one; each either is or is not a multiple.",
            "The remainder operator % tells you whether one number divides another.",
            "Zero is a multiple of every number.",
        ),
        approach="count the elements whose remainder modulo the divisor is zero.",
    )


def scale_shift(rng: np.random.Generator) -> Problem:
    """A linear map applied to every element."""
    a, b = randint(rng, 2, 5), randint(rng, 1, 9)
    inputs = [(ints(rng, 4, 0, 9),), (ints(rng, 3, -5, 5),), ([],), ([0],), (ints(rng, 5, -20, 20),)]
    return Problem(
        name="scale_shift",
        params="xs",
        spec=f"Return a new list in which each number x of xs is replaced by {a} * x + {b}, in the same order.",
        reference=Variant(f"    return [{a} * x + {b} for x in xs]\n", lambda xs: [a * x + b for x in xs]),
        bugs=(
            Variant(f"    return [{a} * (x + {b}) for x in xs]\n", lambda xs: [a * (x + b) for x in xs]),
            Variant(f"    return [{a} * x for x in xs]\n", lambda xs: [a * x for x in xs]),
        ),
        inputs=inputs,
        hints=(
            "Build a new list with one output element for each input element.",
            "Multiply first, then add: mind the order of operations.",
        ),
        approach="a list comprehension that applies the formula to each element.",
    )


def rotate_left(rng: np.random.Generator) -> Problem:
    """Rotate a list left by k positions (k may exceed the length)."""
    xs = ints(rng, 5, 0, 9)
    inputs = [
        (xs, 2),
        (ints(rng, 4, 0, 9), 1),
        ([], 3),
        (ints(rng, 3, 0, 9), 7),
        (ints(rng, 4, -9, 9), 0),
        (ints(rng, 5, 0, 9), 5),
        (ints(rng, 6, 0, 9), 13),
    ]
    body = block("""
        if not xs:
            return []
        k = k % len(xs)
        return xs[k:] + xs[:k]
    """)

    def reference(xs: list[int], k: int) -> list[int]:
        if not xs:
            return []
        k = k % len(xs)
        return xs[k:] + xs[:k]

    return Problem(
        name="rotate_left",
        params="xs, k",
        spec=(
            "Return a new list: xs rotated left by k positions (the first k elements move to the end).\n"
            "k is a non-negative integer and may be larger than len(xs); an empty list stays empty."
        ),
        reference=Variant(body, reference),
        bugs=(
            Variant("    return xs[k:] + xs[:k]\n", lambda xs, k: xs[k:] + xs[:k]),
            Variant(
                block("""
                    if not xs:
                        return []
                    k = k % len(xs)
                    return xs[-k:] + xs[:-k]
                """),
                lambda xs, k: xs[-(k % len(xs)) :] + xs[: -(k % len(xs))] if xs else [],
            ),
        ),
        inputs=inputs,
        hints=(
            "Rotating by the length of the list gives the list back unchanged.",
            "Reduce k with the remainder operator before slicing.",
            "Slices can split the list in two; glue the pieces back in the other order.",
        ),
        approach="reduce k modulo the length (guarding the empty list), then join the two slices swapped.",
    )


def running_max(rng: np.random.Generator) -> Problem:
    """Prefix maxima."""
    inputs = [
        (ints(rng, 6, 0, 20),),
        ([3, 1, 4, 1, 5],),
        ([],),
        (ints(rng, 5, -30, -1),),
        (ints(rng, 7, -10, 10),),
    ]
    body = block("""
        result = []
        best = None
        for x in xs:
            if best is None or x > best:
                best = x
            result.append(best)
        return result
    """)

    def reference(xs: list[int]) -> list[int]:
        return [max(xs[: i + 1]) for i in range(len(xs))]

    def from_zero(xs: list[int]) -> list[int]:
        return [max([0, *xs[: i + 1]]) for i in range(len(xs))]

    return Problem(
        name="running_max",
        params="xs",
        spec="Return the list whose i-th element is the largest of xs[0], ..., xs[i].",
        reference=Variant(body, reference),
        bugs=(
            Variant(body.replace("best = None", "best = 0").replace("best is None or ", ""), from_zero),
            Variant("    return sorted(xs)\n", lambda xs: sorted(xs)),
        ),
        inputs=inputs,
        hints=(
            "Walk through the list once, remembering the largest value seen so far.",
            "The output has exactly as many elements as the input.",
            "Start from the first element, not from a fixed number: the list may hold only negatives.",
        ),
        approach="keep the best value seen so far and append it after each element.",
    )


def dedupe(rng: np.random.Generator) -> Problem:
    """Remove duplicates, keeping the first occurrence and the order."""
    inputs = [
        ([3, 1, 3, 2, 1],),
        (ints(rng, 6, 0, 5),),
        ([],),
        ([7, 7, 7],),
        (ints(rng, 8, -3, 3),),
        ([5, 4, 3, 2, 1],),
    ]
    body = block("""
        seen = set()
        result = []
        for x in xs:
            if x not in seen:
                seen.add(x)
                result.append(x)
        return result
    """)
    return Problem(
        name="dedupe",
        params="xs",
        spec=(
            "Return a new list with the duplicates of xs removed: keep the first occurrence of each value,\n"
            "in the order the values first appear."
        ),
        reference=Variant(body, lambda xs: list(dict.fromkeys(xs))),
        bugs=(Variant("    return sorted(set(xs))\n", lambda xs: sorted(set(xs))),),
        inputs=inputs,
        hints=(
            "Remember which values you have already kept.",
            "A set forgets the order of the values, so use it only to remember what was seen.",
        ),
        approach="scan once, remembering seen values in a set, appending each value the first time it appears.",
    )


def longest_run(rng: np.random.Generator) -> Problem:
    """Length of the longest strictly increasing contiguous run."""
    inputs = [
        ([1, 2, 2, 3, 4, 1],),
        (ints(rng, 8, 0, 9),),
        ([],),
        ([5],),
        ([4, 4, 4],),
        (ints(rng, 10, -5, 5),),
        ([9, 7, 5, 3],),
    ]
    body = block("""
        best = 0
        run = 0
        prev = None
        for x in xs:
            if prev is not None and x > prev:
                run += 1
            else:
                run = 1
            best = max(best, run)
            prev = x
        return best
    """)

    def make(strict: bool, start: int) -> Variant:
        def func(xs: list[int]) -> int:
            best, run = start, 0
            for i, x in enumerate(xs):
                run = run + 1 if i and (x > xs[i - 1] if strict else x >= xs[i - 1]) else 1
                best = max(best, run)
            return best

        text = body if strict else body.replace("x > prev", "x >= prev")
        return Variant(text.replace("best = 0", f"best = {start}"), func)

    return Problem(
        name="longest_run",
        params="xs",
        spec=(
            "Return the length of the longest run of consecutive elements of xs in which each element is\n"
            "strictly greater than the one before it. A single element is a run of length 1."
        ),
        reference=make(True, 0),
        bugs=(make(False, 0), make(True, 1)),
        inputs=inputs,
        hints=(
            "Track the length of the current run and the best length so far.",
            "Equal neighbours break a run: the increase must be strict.",
            "Think about what an empty list should give before you initialise the best length.",
        ),
        approach="one pass: extend the current run when the element rises, else restart it at one.",
    )


def chunk_sums(rng: np.random.Generator) -> Problem:
    """Sums of consecutive chunks of size n (the last chunk may be shorter)."""
    n = randint(rng, 2, 4)
    inputs = [
        (ints(rng, 2 * n, 0, 9),),
        (ints(rng, 2 * n + 1, 0, 9),),
        ([],),
        (ints(rng, n - 1, 1, 9),),
        (ints(rng, 3 * n + n - 1, -9, 9),),
    ]
    return Problem(
        name="chunk_sums",
        params="xs",
        spec=(
            f"Split xs into consecutive chunks of {n} elements (the last chunk may be shorter) and return the\n"
            "list of the sums of the chunks."
        ),
        reference=Variant(
            f"    return [sum(xs[i:i + {n}]) for i in range(0, len(xs), {n})]\n",
            lambda xs: [sum(xs[i : i + n]) for i in range(0, len(xs), n)],
        ),
        bugs=(
            Variant(
                f"    return [sum(xs[i:i + {n}]) for i in range(0, len(xs) - {n} + 1, {n})]\n",
                lambda xs: [sum(xs[i : i + n]) for i in range(0, len(xs) - n + 1, n)],
            ),
            Variant(
                f"    return [sum(xs[i:i + {n} - 1]) for i in range(0, len(xs), {n})]\n",
                lambda xs: [sum(xs[i : i + n - 1]) for i in range(0, len(xs), n)],
            ),
        ),
        inputs=inputs,
        hints=(
            "Step through the start indices of the chunks: 0, then one chunk further, and so on.",
            "A slice past the end of a list is simply shorter, which handles the last chunk.",
        ),
        approach="slice at every multiple of the chunk size up to the length and sum each slice.",
    )


def merge_intervals(rng: np.random.Generator) -> Problem:
    """Merge overlapping or touching [start, end] intervals."""

    def interval() -> list[int]:
        start = randint(rng, 0, 15)
        return [start, start + randint(rng, 0, 4)]

    inputs = [
        ([[1, 3], [2, 6], [8, 10]],),
        ([interval() for _ in range(4)],),
        ([],),
        ([[1, 2], [2, 3]],),
        ([[5, 9], [1, 2], [6, 7]],),
        ([interval() for _ in range(6)],),
    ]
    body = block("""
        result = []
        for start, end in sorted(pairs):
            if result and start <= result[-1][1]:
                result[-1][1] = max(result[-1][1], end)
            else:
                result.append([start, end])
        return result
    """)

    def make(touching: bool, keep_max: bool) -> Variant:
        def func(pairs: list[list[int]]) -> list[list[int]]:
            result: list[list[int]] = []
            for start, end in sorted(pairs):
                if result and (start <= result[-1][1] if touching else start < result[-1][1]):
                    result[-1][1] = max(result[-1][1], end) if keep_max else end
                else:
                    result.append([start, end])
            return result

        text = body if touching else body.replace("start <= result", "start < result")
        return Variant(text if keep_max else text.replace("max(result[-1][1], end)", "end"), func)

    return Problem(
        name="merge_intervals",
        params="pairs",
        spec=(
            "pairs is a list of [start, end] intervals with start <= end. Merge intervals that overlap or\n"
            "touch (one ends where the next starts) and return the merged intervals as [start, end] lists,\n"
            "sorted by start."
        ),
        reference=make(True, True),
        bugs=(make(False, True), make(True, False)),
        inputs=inputs,
        hints=(
            "Sorting the intervals by their start makes overlaps adjacent.",
            "Intervals that merely touch must be merged too.",
            "When merging, an interval can lie entirely inside the previous one: keep the larger end.",
        ),
        approach="sort, then extend the last merged interval while the next one starts at or before its end.",
    )


LEVELS = {
    1: (sum_greater, count_multiples, scale_shift),
    2: (rotate_left, running_max, dedupe),
    3: (longest_run, chunk_sums, merge_intervals),
}


def lists(level: int, rng: np.random.Generator) -> Task:
    """One ``list`` task at ``level``."""
    return make_task("list", level, choice(rng, LEVELS[level])(rng))
