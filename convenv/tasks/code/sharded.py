"""Underspecified function-writing tasks: requirements split off the spec into shards (``CodeTutor-Sharded-v0``).

Each template has a base spec ("Return the total of the numbers in xs.") and two or three requirements
("Ignore negative numbers.", "Count each distinct number only once.", ...), every one a switch in the
implementation. At level ``L``, ``L`` requirements are drawn as *shards*: left out of the prompt, kept in
``Task.shards`` and revealed by the teacher one per turn; the others are stated in the prompt. The hidden tests
exercise every shard (the variant that ignores a shard fails at least one test, checked at generation) and the
public examples do not give any away (every variant agrees on them).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from convenv.tasks.base import Task
from convenv.tasks.code.common import (
    EXAMPLES,
    Problem,
    Variant,
    check_families,
    check_levels,
    check_rng,
    choice,
    ints,
    make_task,
    prompt_text,
    randint,
    run_trusted,
    sample,
    words,
)

Build = Callable[[Sequence[bool]], Variant]


@dataclass(frozen=True)
class Template:
    """A sharded problem before the shards are chosen: ``build(flags)`` gives the variant honouring ``flags``.

    ``keywords[i]`` are words a student's question about ``requirements[i]`` may use (read by
    :func:`convenv.envs.sharded.match_shard` from ``metadata["shard_keywords"]``).
    """

    family: str
    name: str
    params: str
    spec: str
    requirements: tuple[str, ...]
    keywords: tuple[tuple[str, ...], ...]
    build: Build
    inputs: Sequence[tuple[Any, ...]]
    hints: tuple[str, ...]
    approach: str


def _lines(*parts: tuple[bool, str]) -> str:
    return "".join(text for keep, text in parts if keep)


def total(rng: np.random.Generator) -> Template:
    """Sum with three switches: skip negatives, distinct values, None for an empty list."""

    def build(f: Sequence[bool]) -> Variant:
        body = _lines(
            (f[2], "    if not xs:\n        return None\n"),
            (True, "    values = list(xs)\n"),
            (f[0], "    values = [x for x in values if x >= 0]\n"),
            (f[1], "    values = set(values)\n"),
            (True, "    return sum(values)\n"),
        )

        def func(xs: list[int]) -> int | None:
            if f[2] and not xs:
                return None
            values = [x for x in xs if x >= 0 or not f[0]]
            return sum(set(values) if f[1] else values)

        return Variant(body, func)

    distinct = sample(rng, range(1, 20), 3)
    inputs = [
        (distinct,),
        (sample(rng, range(1, 30), 4),),
        ([],),
        ([5, -3, 2],),
        ([4, 4, 1],),
        ([-2, -2, 3, 3, randint(rng, 5, 9)],),
        (ints(rng, 7, -5, 5),),
    ]
    return Template(
        family="list",
        name="total",
        params="xs",
        spec="Return the total of the numbers in the list xs.",
        requirements=(
            "Ignore negative numbers.",
            "Count each distinct number only once.",
            "Return None for an empty list.",
        ),
        keywords=(
            ("negative", "minus", "below zero", "sign"),
            ("duplicate", "repeated", "twice", "same", "distinct", "unique"),
            ("empty", "no numbers", "nothing", "none"),
        ),
        build=build,
        inputs=inputs,
        hints=("Filter the list before adding it up.", "A set keeps one copy of each value."),
        approach="handle the empty list, drop negatives, keep distinct values, then sum.",
    )


def find_index(rng: np.random.Generator) -> Template:
    """Index lookup with two switches: -1 when missing, last occurrence."""

    def build(f: Sequence[bool]) -> Variant:
        loop = "    for i in range(len(xs) - 1, -1, -1):\n" if f[1] else "    for i in range(len(xs)):\n"
        body = loop + "        if xs[i] == target:\n            return i\n" + ("    return -1\n" if f[0] else "")

        def func(xs: list[int], target: int) -> int | None:
            order = range(len(xs) - 1, -1, -1) if f[1] else range(len(xs))
            return next((i for i in order if xs[i] == target), -1 if f[0] else None)

        return Variant(body, func)

    xs = sample(rng, range(10, 40), 5)
    repeated = [7, 3, 7, 1, 7]
    inputs = [(xs, xs[2]), (xs[:3], xs[0]), (xs, 99), ([], 1), (repeated, 7), ([2, 5, 2], 2), (repeated, 1)]
    return Template(
        family="list",
        name="find_index",
        params="xs, target",
        spec="Return the index of target in the list xs.",
        requirements=(
            "Return -1 if target is not in xs.",
            "If target occurs several times, return the index of its last occurrence.",
        ),
        keywords=(
            ("missing", "absent", "not found", "none", "fail"),
            ("several", "multiple", "duplicate", "repeated", "twice", "occurrence", "first", "last"),
        ),
        build=build,
        inputs=inputs,
        hints=("Scan the indices and compare each element with the target.", "The direction of the scan matters."),
        approach="scan from the end and return the first matching index, or -1 when none matches.",
    )


def clean_words(rng: np.random.Generator) -> Template:
    """Word list with three switches: lower-case, drop short words, sort."""
    n = 3

    def build(f: Sequence[bool]) -> Variant:
        body = _lines(
            (True, "    words = text.split()\n"),
            (f[0], "    words = [w.lower() for w in words]\n"),
            (f[1], f"    words = [w for w in words if len(w) >= {n}]\n"),
            (f[2], "    words = sorted(words)\n"),
            (True, "    return words\n"),
        )

        def func(text: str) -> list[str]:
            ws = text.split()
            ws = [w.lower() for w in ws] if f[0] else ws
            ws = [w for w in ws if len(w) >= n] if f[1] else ws
            return sorted(ws) if f[2] else ws

        return Variant(body, func)

    long = sorted(w for w in ("apple", "bird", "grape", "kite", "lamp", "moon", "pear", "tree", "wolf"))
    inputs = [
        (" ".join(sorted(sample(rng, long, 3))),),
        (" ".join(sorted(sample(rng, long, 2))),),
        ("Zoo apple Moon",),
        ("an owl up in a tree",),
        ("pear  apple\tfig",),
        (" ".join(w.title() if rng.random() < 0.5 else w for w in words(rng, 6)),),
        ("",),
    ]
    return Template(
        family="string",
        name="clean_words",
        params="text",
        spec="Return the list of the words of text (words are separated by whitespace).",
        requirements=(
            "Lower-case every word.",
            f"Drop the words shorter than {n} characters.",
            "Return the words sorted alphabetically.",
        ),
        keywords=(
            ("case", "upper", "lower", "capital"),
            ("short", "length", "small", "long"),
            ("order", "sort", "sorted", "alphabetical"),
        ),
        build=build,
        inputs=inputs,
        hints=("str.split() without an argument splits on any whitespace.", "Apply the rules one after another."),
        approach="split, lower-case, keep the long enough words, sort.",
    )


def average(rng: np.random.Generator) -> Template:
    """Floor average with two switches: 0 for empty, skip None."""

    def build(f: Sequence[bool]) -> Variant:
        body = _lines(
            (True, "    values = list(xs)\n"),
            (f[1], "    values = [x for x in values if x is not None]\n"),
            (f[0], "    if not values:\n        return 0\n"),
            (True, "    return sum(values) // len(values)\n"),
        )

        def func(xs: list[int | None]) -> int:
            values = [x for x in xs if x is not None] if f[1] else list(xs)
            if f[0] and not values:
                return 0
            return sum(values) // len(values)  # type: ignore[arg-type] -- raises like the buggy source

        return Variant(body, func)

    inputs = [
        (ints(rng, 3, 1, 20),),
        (ints(rng, 4, 1, 20),),
        ([],),
        ([4, None, 7],),
        ([None, None],),
        ([None, randint(rng, 1, 9), randint(rng, 1, 9)],),
    ]
    return Template(
        family="number",
        name="average",
        params="xs",
        spec="Return the average of the numbers in the list xs, rounded down to an integer (use //).",
        requirements=("Return 0 for an empty list.", "Skip the None entries of xs."),
        keywords=(("empty", "nothing", "zero", "no numbers"), ("none", "missing", "null", "blank")),
        build=build,
        inputs=inputs,
        hints=("Dividing by zero raises an error: decide what happens before you divide.", "Clean the list first."),
        approach="drop the None entries, return 0 when nothing is left, else floor-divide the sum by the count.",
    )


def format_price(rng: np.random.Generator) -> Template:
    """Cents to a dollar string with two switches: negative sign, thousands separators."""

    def build(f: Sequence[bool]) -> Variant:
        dollars = "{dollars:,}" if f[1] else "{dollars}"
        body = _lines(
            (f[0], '    sign = "-" if cents < 0 else ""\n    cents = abs(cents)\n'),
            (True, "    dollars, rest = divmod(cents, 100)\n"),
            (
                True,
                f'    return f"{{sign}}${dollars}.{{rest:02d}}"\n'
                if f[0]
                else f'    return f"${dollars}.{{rest:02d}}"\n',
            ),
        )

        def func(cents: int) -> str:
            sign = "-" if f[0] and cents < 0 else ""
            dollars, rest = divmod(abs(cents) if f[0] else cents, 100)
            return f"{sign}${dollars:,}.{rest:02d}" if f[1] else f"{sign}${dollars}.{rest:02d}"

        return Variant(body, func)

    inputs = [
        (randint(rng, 100, 99999),),
        (randint(rng, 0, 99),),
        (-randint(rng, 101, 999),),
        (123456,),
        (-123456789,),
        (0,),
    ]
    return Template(
        family="number",
        name="format_price",
        params="cents",
        spec="cents is an integer number of cents. Return the amount in dollars with two decimals, like '$3.07'.",
        requirements=(
            "Put a minus sign before the dollar sign for a negative amount, like '-$3.07'.",
            "Separate the thousands of the dollars with commas, like '$1,234.50'.",
        ),
        keywords=(
            ("negative", "minus", "sign", "below zero"),
            ("thousand", "comma", "separator", "large", "big", "grouping"),
        ),
        build=build,
        inputs=inputs,
        hints=("divmod(cents, 100) splits dollars and cents.", "Format specifiers can pad and group digits."),
        approach="split off the sign, divmod by 100, format the dollars with grouping and the cents on two digits.",
    )


def word_counts(rng: np.random.Generator) -> Template:
    """Word counts with three switches: case-insensitive, strip punctuation, drop words seen once."""

    def build(f: Sequence[bool]) -> Variant:
        body = _lines(
            (True, "    counts = {}\n    for word in text.split():\n"),
            (f[0], "        word = word.lower()\n"),
            (f[1], '        word = word.strip(".,!?")\n'),
            (True, "        counts[word] = counts.get(word, 0) + 1\n"),
            (f[2], "    counts = {w: c for w, c in counts.items() if c > 1}\n"),
            (True, "    return counts\n"),
        )

        def func(text: str) -> dict[str, int]:
            counts: dict[str, int] = {}
            for word in text.split():
                word = word.lower() if f[0] else word
                word = word.strip(".,!?") if f[1] else word
                counts[word] = counts.get(word, 0) + 1
            return {w: c for w, c in counts.items() if c > 1} if f[2] else counts

        return Variant(body, func)

    pool = sample(rng, ("cat", "dog", "sun", "owl", "fig", "jam"), 3)
    inputs = [
        (" ".join([pool[0], pool[1], pool[0], pool[1]]),),
        (" ".join([pool[2]] * 3),),
        ("The cat saw the dog",),
        ("run, run! stop.",),
        ("a b a",),
        (" ".join(w.title() if rng.random() < 0.4 else w for w in words(rng, 6, pool)) + "!",),
        ("",),
    ]
    return Template(
        family="dict",
        name="word_counts",
        params="text",
        spec="Return a dict mapping each word of text (separated by whitespace) to how many times it occurs.",
        requirements=(
            "Treat words case-insensitively: count them in lower case.",
            "Strip the punctuation characters . , ! ? from both ends of each word.",
            "Leave out the words that occur only once.",
        ),
        keywords=(
            ("case", "upper", "lower", "capital"),
            ("punctuation", "comma", "period", "exclamation", "question mark", "mark"),
            ("once", "single", "rare", "filter", "leave"),
        ),
        build=build,
        inputs=inputs,
        hints=("Normalise each word before counting it.", "Filter the finished counts, not the words."),
        approach="normalise each word (lower case, stripped), count, then keep the counts above one.",
    )


# family -> (template, number of requirements); a task at level L hides L requirements of one template.
TEMPLATES: dict[str, tuple[tuple[Callable[[np.random.Generator], Template], int], ...]] = {
    "list": ((total, 3), (find_index, 2)),
    "string": ((clean_words, 3),),
    "number": ((average, 2), (format_price, 2)),
    "dict": ((word_counts, 3),),
}


def sharded(template: Template, level: int, rng: np.random.Generator) -> Task:
    """Hide ``level`` requirements of ``template`` as shards (in their spec order); state the others.

    Raises:
        RuntimeError: a public example would give a hidden requirement away, or a hidden requirement is not
            exercised by any test (generator bugs).
    """
    count = len(template.requirements)
    hidden = sorted(int(i) for i in rng.choice(count, size=min(level, count), replace=False))
    stated = [r for i, r in enumerate(template.requirements) if i not in hidden]
    reference = template.build([True] * count)
    bugs = tuple(template.build([j != i for j in range(count)]) for i in hidden)
    for bug in bugs:
        for args in template.inputs[:EXAMPLES]:
            if run_trusted(bug.func, args) != run_trusted(reference.func, args):
                raise RuntimeError(f"sharded template {template.name!r}: the example {args!r} reveals a shard")
    problem = Problem(
        name=template.name,
        params=template.params,
        spec=" ".join([template.spec, *stated]),
        reference=reference,
        inputs=template.inputs,
        hints=template.hints,
        approach=template.approach,
        bugs=bugs,
        shards=tuple(template.requirements[i] for i in hidden),
    )
    task = make_task(
        template.family,
        len(hidden),
        problem,
        needed_shards=tuple(range(len(hidden))),
        shard_keywords=tuple(template.keywords[i] for i in hidden),
    )
    full = prompt_text(replace(problem, spec=" ".join([template.spec, *template.requirements])), task.tests)
    return replace(task, metadata={**task.metadata, "full_prompt": full})


class ShardedCodeTaskGenerator:
    """Underspecified code tasks: a :class:`~convenv.tasks.base.TaskSource`.

    Each :meth:`sample` picks a level in the range, then a template of an allowed family with at least that many
    requirements, then its inputs and which requirements to hide, all with the generator it is handed.

    Args:
        families: allowed families among ``list``, ``string``, ``number``, ``dict`` (default all).
        difficulty: how many requirements are hidden as shards: one level (1..3) or an inclusive ``(low, high)``
            range.

    Raises:
        ValueError: unknown families, a bad level, or no template of the families has enough requirements.
    """

    def __init__(self, families: Sequence[str] | str | None = None, difficulty: int | tuple[int, int] = (1, 3)):
        self.families = check_families(families)
        self.difficulty = check_levels(difficulty)
        self._templates = [pair for f in self.families for pair in TEMPLATES[f]]
        most = max(n for _, n in self._templates)
        if most < self.difficulty[0]:
            raise ValueError(
                f"expected a difficulty the families {list(self.families)} can reach (at most {most} hidden "
                f"requirements), got {self.difficulty!r}; lower it or add a family among {list(TEMPLATES)}"
            )

    def __repr__(self) -> str:
        return f"ShardedCodeTaskGenerator(families={list(self.families)!r}, difficulty={self.difficulty!r})"

    def sample(self, rng: np.random.Generator) -> Task:
        """Return one underspecified task drawn with ``rng`` only."""
        check_rng(rng)
        most = max(n for _, n in self._templates)
        level = randint(rng, self.difficulty[0], min(self.difficulty[1], most))
        template = choice(rng, [t for t, n in self._templates if n >= level])(rng)
        return sharded(template, level, rng)
