"""Family ``dict``: building, combining and walking dictionaries (string keys throughout).

Level 1: one comprehension or lookup. Level 2: combining and grouping with tie-breaks. Level 3: nested
dictionaries and inverted indexes.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from convenv.tasks.base import Task
from convenv.tasks.code.common import WORDS, Problem, Variant, block, choice, make_task, randint, sample, words

NAMES = ("ann", "bob", "cy", "dee", "eve", "finn", "gus", "hal", "ida", "jo")
COLOURS = ("red", "blue", "green", "gold", "grey", "pink")


def invert(rng: np.random.Generator) -> Problem:
    """Swap keys and values (values are distinct strings)."""

    def pairs(size: int) -> dict[str, str]:
        return dict(zip(sample(rng, NAMES, size), sample(rng, COLOURS, size), strict=True))

    inputs = [(pairs(3),), (pairs(2),), ({},), (pairs(1),), (pairs(5),)]
    return Problem(
        name="invert",
        params="d",
        spec="d maps strings to distinct strings. Return a new dict that maps each value of d back to its key.",
        reference=Variant("    return {v: k for k, v in d.items()}\n", lambda d: {v: k for k, v in d.items()}),
        bugs=(Variant("    return dict(d)\n", lambda d: dict(d)),),
        inputs=inputs,
        hints=(
            "Iterate over the key-value pairs of d.",
            "A dict comprehension can build the new mapping directly.",
        ),
        approach="a dict comprehension over d.items() with key and value swapped.",
    )


def char_counts(rng: np.random.Generator) -> Problem:
    """Character counts, spaces excluded."""
    inputs = [(" ".join(words(rng, 2)),), ("hello world",), ("",), ("   ",), (" ".join(words(rng, 4)),)]
    body = block("""
        counts = {}
        for c in s:
            if c != " ":
                counts[c] = counts.get(c, 0) + 1
        return counts
    """)

    def count(s: str, skip_space: bool) -> dict[str, int]:
        counts: dict[str, int] = {}
        for c in s:
            if c != " " or not skip_space:
                counts[c] = counts.get(c, 0) + 1
        return counts

    return Problem(
        name="char_counts",
        params="s",
        spec="Return a dict mapping each character of s, except the space ' ', to how many times it occurs in s.",
        reference=Variant(body, lambda s: count(s, True)),
        bugs=(
            Variant(
                body.replace('        if c != " ":\n            counts', "        counts"),
                lambda s: count(s, False),
            ),
        ),
        inputs=inputs,
        hints=("Start from an empty dict and add one for each character.", "Spaces are not counted at all."),
        approach="count characters into a dict with get(c, 0) + 1, skipping spaces.",
    )


def lookup(rng: np.random.Generator) -> Problem:
    """A dictionary lookup with a default."""
    default = choice(rng, ["unknown", "none", "?", "missing"])
    table = dict(zip(sample(rng, NAMES, 3), sample(rng, COLOURS, 3), strict=True))
    present, absent = next(iter(table)), next(n for n in NAMES if n not in table)
    inputs = [(table, present), (table, absent), ({}, present), (table, list(table)[-1]), ({"": "x"}, "")]
    return Problem(
        name="lookup",
        params="d, key",
        spec=f"Return d[key] if key is in the dict d, otherwise the string {default!r}.",
        reference=Variant(f"    return d.get(key, {default!r})\n", lambda d, key: d.get(key, default)),
        bugs=(Variant("    return d.get(key)\n", lambda d, key: d.get(key)),),
        inputs=inputs,
        hints=("A missing key must not raise an error.", "dict.get takes a second argument."),
        approach="dict.get with the default as its second argument.",
    )


def merge_counts(rng: np.random.Generator) -> Problem:
    """Add up two count dicts."""

    def counts(size: int) -> dict[str, int]:
        return {k: randint(rng, 1, 9) for k in sample(rng, COLOURS, size)}

    inputs = [
        (counts(3), counts(2)),
        ({"red": 1}, {"red": 2, "blue": 3}),
        ({}, {}),
        ({}, counts(2)),
        (counts(4), {}),
    ]
    body = block("""
        result = dict(a)
        for k, v in b.items():
            result[k] = result.get(k, 0) + v
        return result
    """)

    def merge(a: dict[str, int], b: dict[str, int]) -> dict[str, int]:
        result = dict(a)
        for k, v in b.items():
            result[k] = result.get(k, 0) + v
        return result

    return Problem(
        name="merge_counts",
        params="a, b",
        spec=(
            "a and b map strings to integers. Return a new dict with every key of a or b, mapped to the sum of\n"
            "its values in a and b (a missing key counts as 0). Do not modify a or b."
        ),
        reference=Variant(body, merge),
        bugs=(Variant("    return {**a, **b}\n", lambda a, b: {**a, **b}),),
        inputs=inputs,
        hints=(
            "Start from a copy of one dict and fold the other one in.",
            "A key present in both dicts must add the two values, not replace one with the other.",
        ),
        approach="copy a, then add each value of b with get(k, 0) + v.",
    )


def top_scorer(rng: np.random.Generator) -> Problem:
    """The name with the highest score; ties alphabetical; None when empty."""

    def scores(size: int) -> dict[str, int]:
        return {n: randint(rng, 0, 5) for n in sample(rng, NAMES, size)}

    inputs = [
        (scores(4),),
        ({"eve": 3, "bob": 3, "cy": 1},),
        ({},),
        ({"jo": 0},),
        (scores(6),),
        ({"ida": 2, "ann": 2},),
    ]
    body = block("""
        if not scores:
            return None
        return min(scores, key=lambda name: (-scores[name], name))
    """)

    def best(scores: dict[str, int]) -> str | None:
        return min(scores, key=lambda name: (-scores[name], name)) if scores else None

    def first(scores: dict[str, int]) -> str | None:
        return max(scores, key=scores.__getitem__) if scores else None

    return Problem(
        name="top_scorer",
        params="scores",
        spec=(
            "scores maps names to integer scores. Return the name with the highest score; if several names\n"
            "share it, the alphabetically first of them. Return None for an empty dict."
        ),
        reference=Variant(body, best),
        bugs=(
            Variant(
                body.replace("min(scores, key=lambda name: (-scores[name], name))", "max(scores, key=scores.get)"),
                first,
            ),
        ),
        inputs=inputs,
        hints=(
            "Handle the empty dict before anything else.",
            "Break ties by name: a key function can return a tuple.",
        ),
        approach="min over the names keyed by (negated score, name), after the empty case.",
    )


def group_by_first(rng: np.random.Generator) -> Problem:
    """Group words by first letter, keeping order."""
    inputs = [
        (words(rng, 5, WORDS[:25]),),
        (["ant", "bee", "asp", "bat", "cow"],),
        ([],),
        (["one"],),
        (words(rng, 8, WORDS[:25]),),
    ]
    body = block("""
        groups = {}
        for w in words:
            groups.setdefault(w[0], []).append(w)
        return groups
    """)

    def group(ws: list[str], keep: bool) -> dict[str, list[str]]:
        groups: dict[str, list[str]] = {}
        for w in ws:
            if keep:
                groups.setdefault(w[0], []).append(w)
            else:
                groups[w[0]] = [w]
        return groups

    return Problem(
        name="group_by_first",
        params="words",
        spec=(
            "words is a list of non-empty strings. Return a dict mapping each first letter to the list of the\n"
            "words that start with it, in their order in words."
        ),
        reference=Variant(body, lambda words: group(words, True)),
        bugs=(
            Variant(
                body.replace("groups.setdefault(w[0], []).append(w)", "groups[w[0]] = [w]"),
                lambda ws: group(ws, False),
            ),
        ),
        inputs=inputs,
        hints=(
            "Each letter maps to a list that grows as you scan the words.",
            "dict.setdefault returns the list already stored for a key, or stores a new one.",
        ),
        approach="setdefault(first letter, []) and append each word.",
    )


def flatten(rng: np.random.Generator) -> Problem:
    """Flatten nested dicts into dotted keys."""

    def nested(depth: int) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key in sample(rng, ("a", "b", "c", "x", "y"), randint(rng, 1, 3)):
            out[key] = nested(depth - 1) if depth > 0 and rng.random() < 0.5 else randint(rng, 0, 9)
        return out

    inputs = [
        ({"a": 1, "b": {"c": 2, "d": {"e": 3}}},),
        (nested(2),),
        ({},),
        ({"k": {"j": {"i": 0}}},),
        (nested(3),),
    ]
    body = block("""
        flat = {}
        for key, value in d.items():
            if isinstance(value, dict):
                for sub, inner in flatten(value).items():
                    flat[key + "." + sub] = inner
            else:
                flat[key] = value
        return flat
    """)

    def flat(d: dict[str, Any], deep: bool) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in d.items():
            if isinstance(value, dict):
                for sub, inner in (flat(value, deep) if deep else value).items():
                    out[key + "." + sub] = inner
            else:
                out[key] = value
        return out

    return Problem(
        name="flatten",
        params="d",
        spec=(
            "d is a dict whose values are integers or dicts of the same kind, nested to any depth. Return a flat\n"
            "dict mapping the dotted path of each integer ('a.b.c' for d['a']['b']['c']) to the integer."
        ),
        reference=Variant(body, lambda d: flat(d, True)),
        bugs=(Variant(body.replace("flatten(value).items()", "value.items()"), lambda d: flat(d, False)),),
        inputs=inputs,
        hints=(
            "A nested dict is itself a smaller instance of the same problem.",
            "isinstance(value, dict) tells a nested level from a leaf.",
            "Dicts can be nested more than two levels deep.",
        ),
        approach="recurse into nested dicts and prefix their flattened keys with the current key and a dot.",
    )


def nested_get(rng: np.random.Generator) -> Problem:
    """Follow a dotted path through nested dicts; None when it breaks."""
    d = {"a": {"b": {"c": randint(rng, 0, 9)}, "n": randint(rng, 0, 9)}, "x": randint(rng, 0, 9)}
    inputs = [(d, "a.b.c"), (d, "x"), (d, "a.z"), (d, "x.y"), ({}, "a"), (d, "a.b"), (d, "a.n.q")]
    body = block("""
        current = d
        for key in path.split("."):
            if not isinstance(current, dict) or key not in current:
                return None
            current = current[key]
        return current
    """)

    def get(d: dict[str, Any], path: str) -> Any:
        current: Any = d
        for key in path.split("."):
            if not isinstance(current, dict) or key not in current:
                return None
            current = current[key]
        return current

    def loose(d: dict[str, Any], path: str) -> Any:
        current: Any = d
        for key in path.split("."):
            current = current.get(key)  # raises AttributeError on a non-dict, like the buggy source
            if current is None:
                return None
        return current

    return Problem(
        name="nested_get",
        params="d, path",
        spec=(
            "d is a dict of nested dicts; path is a dot-separated list of keys, like 'a.b.c'. Follow the keys\n"
            "from d and return the value reached, or None if a key is missing or a value along the way is\n"
            "not a dict."
        ),
        reference=Variant(body, get),
        bugs=(
            Variant(
                block("""
                    current = d
                    for key in path.split("."):
                        current = current.get(key)
                        if current is None:
                            return None
                    return current
                """),
                loose,
            ),
        ),
        inputs=inputs,
        hints=(
            "Split the path on dots and walk one key at a time.",
            "Before each step, check that the current value is a dict and has the key.",
        ),
        approach="walk the keys, returning None as soon as the current value is not a dict holding the key.",
    )


def tag_index(rng: np.random.Generator) -> Problem:
    """Invert name -> tags into tag -> sorted names."""

    def tagged(size: int) -> dict[str, list[str]]:
        return {n: sample(rng, COLOURS, randint(rng, 0, 3)) for n in sample(rng, NAMES, size)}

    inputs = [(tagged(3),), ({"zed": ["red"], "amy": ["red", "blue"]},), ({},), ({"bo": []},), (tagged(5),)]
    body = block("""
        result = {}
        for name, tags in d.items():
            for tag in tags:
                result.setdefault(tag, []).append(name)
        return {tag: sorted(names) for tag, names in result.items()}
    """)

    def index(d: dict[str, list[str]], ordered: bool) -> dict[str, list[str]]:
        result: dict[str, list[str]] = {}
        for name, tags in d.items():
            for tag in tags:
                result.setdefault(tag, []).append(name)
        return {tag: sorted(names) for tag, names in result.items()} if ordered else result

    return Problem(
        name="tag_index",
        params="d",
        spec=(
            "d maps names to lists of tags. Return a dict mapping each tag that occurs to the alphabetically\n"
            "sorted list of the names that carry it."
        ),
        reference=Variant(body, lambda d: index(d, True)),
        bugs=(
            Variant(
                body.replace("{tag: sorted(names) for tag, names in result.items()}", "result"),
                lambda d: index(d, False),
            ),
        ),
        inputs=inputs,
        hints=(
            "Loop over every (name, tag) pair and add the name to that tag's list.",
            "The lists of names must be sorted.",
        ),
        approach="build tag -> names with setdefault, then sort each list.",
    )


LEVELS = {
    1: (invert, char_counts, lookup),
    2: (merge_counts, top_scorer, group_by_first),
    3: (flatten, nested_get, tag_index),
}


def dicts(level: int, rng: np.random.Generator) -> Task:
    """One ``dict`` task at ``level``."""
    return make_task("dict", level, choice(rng, LEVELS[level])(rng))
