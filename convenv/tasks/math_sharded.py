"""Underspecified math word problems: the question without its facts, and the facts as shards.

Built on the word-problem templates of :mod:`convenv.tasks.math.word` (and a linear equation told in words). A
task's ``prompt`` is the question with every number removed ("Ana has some apples and then gets some more. How
many apples does Ana have now?"); ``shards`` are the facts, one sentence each ("Ana has 12 apples at first.",
"Ana gets 7 more apples."); every shard is needed (``metadata["needed_shards"]``). ``metadata["shard_keywords"]``
lists, per shard, words a student's question about that fact is likely to use ("start", "first", "more", ...),
which :class:`convenv.envs.sharded.ShardedTeacher` matches questions against. ``metadata["full_prompt"]`` is the
complete problem (privileged, for the teacher's prompt).

No shard contains the answer's value, so revealing every shard never leaks it.

>>> import numpy as np
>>> task = ShardedMathTasks(difficulty=1).sample(np.random.default_rng(0))
>>> all(shard in task.metadata["full_prompt"] for shard in task.shards)
True
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

from convenv.leak import detect_leak
from convenv.tasks.base import Task
from convenv.tasks.math.common import choice, fmt_decimal, randint
from convenv.tasks.math.word import ITEMS, NAMES

FALLBACK_HINTS = (
    "Write down each fact you were given and what the question asks for.",
    "Write one calculation for each step and check that the units make sense.",
)
ASK_FOR_NUMBER = "Give the answer as a number."
MAX_DRAWS = 100  # redraws of a template whose shards would state the answer's value


@dataclass
class Draft:
    """One drawn problem before it becomes a task: question, shards with their keywords, answer, solution."""

    question: str
    shards: list[str]
    keywords: list[tuple[str, ...]]
    answer: Fraction
    solution: list[str]
    hints: list[str] = field(default_factory=list)


GIVEN = ("start", "first", "begin", "beginning", "initially", "originally", "before", "had", "have", "own")


def _add(rng: np.random.Generator) -> Draft:
    n, item, a, b = choice(rng, NAMES), choice(rng, ITEMS), randint(rng, 3, 40), randint(rng, 2, 30)
    return Draft(
        f"{n} has some {item} and then gets some more. How many {item} does {n} have now?",
        [f"{n} has {a} {item} at first.", f"{n} gets {b} more {item}."],
        [GIVEN, ("get", "got", "gets", "more", "receive", "given", "extra", "add", "added", "after")],
        Fraction(a + b),
        [f"{a} + {b} = {a + b}."],
        ["Getting more means the amount grows: add.", f"Add {b} to what {n} started with."],
    )


def _sub(rng: np.random.Generator) -> Draft:
    n, item = choice(rng, NAMES), choice(rng, ITEMS)
    a = randint(rng, 10, 60)
    b = randint(rng, 2, a - 1)
    return Draft(
        f"{n} has some {item} and gives some of them to a friend. How many {item} does {n} have left?",
        [f"{n} has {a} {item} at first.", f"{n} gives {b} {item} to the friend."],
        [GIVEN, ("give", "gives", "gave", "given", "away", "friend", "lose", "lost", "share")],
        Fraction(a - b),
        [f"{a} - {b} = {a - b}."],
        ["Giving some away makes the amount smaller: subtract.", f"Take {b} away from {a}."],
    )


def _mul(rng: np.random.Generator) -> Draft:
    n, item, a, b = choice(rng, NAMES), choice(rng, ITEMS), randint(rng, 3, 12), randint(rng, 2, 10)
    return Draft(
        f"{n} has some full boxes of {item}, and every box holds the same number of {item}. "
        f"How many {item} does {n} have?",
        [f"Each box holds {a} {item}.", f"{n} has {b} full boxes."],
        [("each", "per", "one", "single", "hold", "holds", "inside", "contain", "size", "fit"), ("boxes", "full")],
        Fraction(a * b),
        [f"{b} * {a} = {a * b}."],
        ["Every box holds the same amount, so this is repeated addition: multiply.", f"Multiply {a} by {b}."],
    )


def _div(rng: np.random.Generator) -> Draft:
    n, item, b, q = choice(rng, NAMES), choice(rng, ITEMS), randint(rng, 2, 9), randint(rng, 2, 12)
    return Draft(
        f"{n} shares some {item} equally among some friends. How many {item} does each friend get?",
        [f"{n} has {b * q} {item} to share.", f"There are {b} friends."],
        [(*GIVEN, "total", "altogether", "all", "share"), ("friends", "people", "among", "group")],
        Fraction(q),
        [f"{b * q} / {b} = {q}."],
        ["Sharing equally means dividing.", f"Divide the {item} into {b} equal groups."],
    )


def _bakery(rng: np.random.Generator) -> Draft:
    a, b = randint(rng, 2, 6), randint(rng, 6, 12)
    c = randint(rng, 1, a * b - 1)
    return Draft(
        "A baker makes some trays of muffins and sells some of the muffins. How many muffins are left?",
        [f"The baker makes {a} trays.", f"Each tray holds {b} muffins.", f"The baker sells {c} muffins."],
        [
            ("make", "makes", "made", "bake", "baked", "trays"),
            ("each", "per", "one", "hold", "holds", "fit", "contain", "size"),
            ("sell", "sells", "sold", "buy", "bought", "customers"),
        ],
        Fraction(a * b - c),
        [f"Muffins made: {a} * {b} = {a * b}.", f"Left: {a * b} - {c} = {a * b - c}."],
        ["First work out how many muffins were made in total.", f"The baker makes {a} * {b} muffins."],
    )


def _reading(rng: np.random.Generator) -> Draft:
    n, a, d = choice(rng, NAMES), randint(rng, 5, 30), randint(rng, 2, 7)
    t = a * d + randint(rng, 5, 120)
    return Draft(
        f"A book has some pages. {n} reads the same number of pages every day for some days. "
        "How many pages are left to read?",
        [f"The book has {t} pages.", f"{n} reads {a} pages a day.", f"{n} has been reading for {d} days."],
        [
            ("book", "total", "length", "whole", "altogether"),
            ("per", "each", "every", "day", "daily", "rate", "read"),
            ("days", "reading", "time", "period", "been"),
        ],
        Fraction(t - a * d),
        [f"Pages read: {a} * {d} = {a * d}.", f"Pages left: {t} - {a * d} = {t - a * d}."],
        [
            "First find how many pages have been read, then compare with the length of the book.",
            f"In {d} days {n} reads {a} * {d} pages.",
        ],
    )


def _change(rng: np.random.Generator) -> Draft:
    n, k, p = choice(rng, NAMES), randint(rng, 2, 6), randint(rng, 3, 15)
    s = k * p + randint(rng, 0, 40)
    return Draft(
        f"{n} has some money and buys some tickets that all cost the same. How many dollars are left?",
        [f"{n} has {s} dollars.", f"{n} buys {k} tickets.", f"Each ticket costs {p} dollars."],
        [
            (*GIVEN, "money", "budget", "dollars", "has"),
            ("tickets", "buy", "buys", "bought"),
            ("cost", "costs", "price", "each", "per", "one", "single"),
        ],
        Fraction(s - k * p),
        [f"Tickets: {k} * {p} = {k * p}.", f"Left: {s} - {k * p} = {s - k * p}."],
        ["Find what the tickets cost altogether, then take that from the money available."],
    )


def _shopping(rng: np.random.Generator) -> Draft:
    n, p, q = choice(rng, NAMES), randint(rng, 3, 9), randint(rng, 2, 5)
    m, k = randint(rng, 2, 6), randint(rng, 2, 8)
    return Draft(
        f"Every notebook costs the same and every pen costs the same. {n} buys some notebooks and some pens. "
        f"How many dollars does {n} spend?",
        [
            f"A notebook costs {p} dollars.",
            f"A pen costs {q} dollars.",
            f"{n} buys {m} notebooks.",
            f"{n} buys {k} pens.",
        ],
        [
            ("cost", "costs", "price", "one", "each", "notebook"),
            ("cost", "costs", "price", "one", "each", "pen"),
            ("buy", "buys", "bought", "notebooks"),
            ("buy", "buys", "bought", "pens"),
        ],
        Fraction(m * p + k * q),
        [f"Notebooks: {m} * {p} = {m * p}.", f"Pens: {k} * {q} = {k * q}.", f"Total: {m * p + k * q}."],
        ["Find the cost of the notebooks and the cost of the pens separately, then combine them."],
    )


def _linear(rng: np.random.Generator) -> Draft:
    x, m, c = randint(rng, 2, 15), randint(rng, 2, 9), randint(rng, 1, 30)
    r = m * x + c
    return Draft(
        "I am thinking of a number. I multiply it by some number, then add another number, and get a result. "
        "What is my number?",
        [f"I multiply my number by {m}.", f"Then I add {c}.", f"The result is {r}."],
        [
            ("multiply", "multiplied", "times", "factor", "multiplier", "first"),
            ("add", "added", "plus", "another", "second"),
            ("result", "get", "end", "equal", "equals", "final", "total"),
        ],
        Fraction(x),
        [f"{m}x + {c} = {r}, so {m}x = {r - c} and x = {x}."],
        ["Undo the steps in reverse order: first take away what was added.", f"Subtract {c} from {r}."],
    )


def _ages(rng: np.random.Generator) -> Draft:
    first, second = (str(v) for v in rng.choice(NAMES, size=2, replace=False))
    y, d, t = randint(rng, 3, 20), randint(rng, 2, 10), randint(rng, 2, 10)
    s = 2 * y + d + 2 * t
    return Draft(
        f"{first} is some years older than {second}. Some years from now, the sum of their ages will be a "
        f"certain number. How old is {second} now?",
        [
            f"{first} is {d} years older than {second}.",
            f"We look {t} years ahead.",
            f"The sum of their ages then will be {s}.",
        ],
        [
            ("older", "difference", "gap", "apart", "than"),
            ("ahead", "future", "from", "later", "when", "long"),
            ("sum", "total", "together", "combined", "add"),
        ],
        Fraction(y),
        [
            f"Let {second}'s age now be a. In {t} years the ages are a + {t} and a + {d + t}.",
            f"So 2a + {d + 2 * t} = {s}, 2a = {s - d - 2 * t}, a = {y}.",
        ],
        [f"Call {second}'s age now a and write both ages in {t} years in terms of a."],
    )


def _spending(rng: np.random.Generator) -> Draft:
    n, a, b = choice(rng, NAMES), randint(rng, 2, 5), randint(rng, 2, 4)
    m = a * b * randint(rng, 2, 10)
    books = m // a
    lunch = (m - books) // b
    return Draft(
        f"{n} has some money, spends a fraction of it on books and then a fraction of what is left on lunch. "
        f"How many dollars does {n} have now?",
        [f"{n} has {m} dollars at first.", f"{n} spends 1/{a} of it on books.", f"Lunch costs 1/{b} of the rest."],
        [
            (*GIVEN, "money", "dollars", "budget"),
            ("books", "book", "fraction", "first"),
            ("lunch", "rest", "remaining", "second", "food"),
        ],
        Fraction(m - books - lunch),
        [f"Books: {m} / {a} = {books}, leaving {m - books}.", f"Lunch: {m - books} / {b} = {lunch}."],
        ["Take the steps in order: the second fraction is of what is left, not of the original amount."],
    )


TEMPLATES: dict[int, tuple[Callable[[np.random.Generator], Draft], ...]] = {
    1: (_add, _sub, _mul, _div),
    2: (_bakery, _reading, _change, _shopping),
    3: (_linear, _ages, _spending),
}
LEVELS = tuple(TEMPLATES)


def _last_question(text: str) -> str:
    return re.findall(r"[^.?]*\?", text)[-1].strip()


def _states_answer(draft: Draft) -> bool:
    probe = Task(id="", domain="math", prompt=draft.question, answer=fmt_decimal(draft.answer))
    return any(detect_leak(shard, probe).leaked for shard in draft.shards)


def sharded_word(difficulty: int, rng: np.random.Generator) -> Task:
    """One underspecified word problem at ``difficulty`` (1: two shards, 2: three or four, 3: three)."""
    template = choice(rng, TEMPLATES[difficulty])
    for _ in range(MAX_DRAWS):
        draft = template(rng)
        if not _states_answer(draft):
            break
    else:  # pragma: no cover -- the templates' ranges make this practically impossible
        raise RuntimeError(f"template {template.__name__} kept drawing shards that state the answer")
    answer = fmt_decimal(draft.answer)
    question = f"{draft.question} {ASK_FOR_NUMBER}"
    probe = Task(id="", domain="math", prompt=question, answer=answer)
    hints = [h for h in dict.fromkeys(draft.hints) if not detect_leak(h, probe).leaked]
    hints += [h for h in FALLBACK_HINTS if h not in hints][: max(0, 2 - len(hints))]
    name = template.__name__.lstrip("_")
    return Task(
        id=f"math-sharded/{name}/{difficulty}/{int(rng.integers(2**48)):012x}",
        domain="math",
        prompt=question,
        answer=answer,
        solution="\n".join([*draft.solution, f"The answer is {answer}."]),
        hints=tuple(hints),
        shards=tuple(draft.shards),
        metadata={
            "family": "word-sharded",
            "template": name,
            "difficulty": difficulty,
            "answer_kind": "number",
            "answer_value": draft.answer,
            "needed_shards": tuple(range(len(draft.shards))),
            "shard_keywords": tuple(tuple(k) for k in draft.keywords),
            "full_prompt": " ".join([*draft.shards, _last_question(draft.question), ASK_FOR_NUMBER]),
        },
    )


class ShardedMathTasks:
    """A :class:`~convenv.tasks.base.TaskSource` of underspecified word problems.

    Args:
        difficulty: one level (1..3) or an inclusive ``(low, high)`` range; each sample picks a level uniformly.

    """

    def __init__(self, difficulty: int | tuple[int, int] = (1, 3)):
        low, high = (difficulty, difficulty) if isinstance(difficulty, int) else tuple(difficulty)
        if not (isinstance(low, int) and isinstance(high, int) and 1 <= low <= high <= 3):
            raise ValueError(
                f"expected difficulty as a level in 1..3 or a (low, high) range, got {difficulty!r}; e.g. (1, 3)"
            )
        self.difficulty = (low, high)

    def sample(self, rng: np.random.Generator) -> Task:
        """One task drawn with ``rng`` only."""
        return sharded_word(int(rng.integers(self.difficulty[0], self.difficulty[1] + 1)), rng)

    def __repr__(self) -> str:
        return f"ShardedMathTasks(difficulty={self.difficulty!r})"
