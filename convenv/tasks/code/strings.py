"""Family ``string``: counting, transforming and checking text.

Level 1: one pass over the characters or words. Level 2: character arithmetic, runs and normalisation. Level 3:
counting with tie-breaks, a stack, and rules with exceptions.
"""

from __future__ import annotations

import numpy as np

from convenv.tasks.base import Task
from convenv.tasks.code.common import (
    LETTERS,
    WORDS,
    Problem,
    Variant,
    block,
    choice,
    make_task,
    randint,
    sample,
    words,
)


def count_letters(rng: np.random.Generator) -> Problem:
    """How many characters are one of a few letters, in either case."""
    chosen = "".join(sorted(sample(rng, "bcdfgklmnprst", 3)))
    listed = ", ".join(repr(c) for c in chosen)

    def text() -> str:
        return "".join(choice(rng, chosen + chosen.upper() + "aeio ") for _ in range(randint(rng, 5, 12)))

    inputs = [(text(),), (text(),), ("",), (chosen.upper(),), ("hello world",), (text() + " " + text(),)]
    return Problem(
        name="count_letters",
        params="s",
        spec=f"Return how many characters of the string s are one of the letters {listed}, in either case.",
        reference=Variant(
            f"    return sum(1 for c in s.lower() if c in {chosen!r})\n",
            lambda s: sum(1 for c in s.lower() if c in chosen),
        ),
        bugs=(
            Variant(
                f"    return sum(1 for c in s if c in {chosen!r})\n", lambda s: sum(1 for c in s if c in chosen)
            ),
        ),
        inputs=inputs,
        hints=(
            "Look at every character and decide whether it counts.",
            "Upper-case letters count too: compare in one case.",
        ),
        approach="lower-case the string and count the characters that belong to the set of letters.",
    )


def initials(rng: np.random.Generator) -> Problem:
    """Upper-case initials followed by dots."""

    def name() -> str:
        return " ".join(words(rng, randint(rng, 2, 3), WORDS[:25]))

    inputs = [(name(),), ("ada lovelace",), ("",), ("  grace   hopper ",), (name().title(),), ("x",)]
    return Problem(
        name="initials",
        params="name",
        spec=(
            "name holds words separated by one or more spaces. Return the first letter of each word in upper\n"
            "case, each followed by a dot, all joined together."
        ),
        reference=Variant(
            '    return "".join(w[0].upper() + "." for w in name.split())\n',
            lambda name: "".join(w[0].upper() + "." for w in name.split()),
        ),
        bugs=(
            Variant(
                '    return "".join(w[0].upper() + "." for w in name.split(" "))\n',
                lambda name: "".join(w[0].upper() + "." for w in name.split(" ")),
            ),
            Variant(
                '    return "".join(w[0] + "." for w in name.split())\n',
                lambda name: "".join(w[0] + "." for w in name.split()),
            ),
        ),
        inputs=inputs,
        hints=(
            "Split the name into words first.",
            "Several spaces in a row must not produce empty words: str.split() without an argument handles it.",
        ),
        approach="split on whitespace, take each word's first letter upper-cased with a dot, join.",
    )


def shout(rng: np.random.Generator) -> Problem:
    """Upper case plus n exclamation marks."""
    n = randint(rng, 2, 4)
    inputs = [(choice(rng, WORDS[:25]),), ("hello there",), ("",), ("MiXeD 42",), (" ".join(words(rng, 3)),)]
    return Problem(
        name="shout",
        params="s",
        spec=f"Return s in upper case followed by {n} exclamation marks.",
        reference=Variant(f'    return s.upper() + "!" * {n}\n', lambda s: s.upper() + "!" * n),
        bugs=(
            Variant(f'    return s.upper() + "!" * {n - 1}\n', lambda s: s.upper() + "!" * (n - 1)),
            Variant(f'    return s.capitalize() + "!" * {n}\n', lambda s: s.capitalize() + "!" * n),
        ),
        inputs=inputs,
        hints=(
            "Strings have a method that converts every letter to upper case.",
            "A string times a number repeats it.",
        ),
        approach="upper-case the string and append the repeated exclamation mark.",
    )


def caesar(rng: np.random.Generator) -> Problem:
    """Shift lower-case letters forward by k, wrapping around."""
    k = randint(rng, 1, 25)

    def text() -> str:
        return " ".join(words(rng, randint(rng, 1, 3)))

    inputs = [(text(),), ("xyz abc",), ("",), ("Hello, World!",), (text(),), (LETTERS,)]
    body = block(f"""
        out = []
        for c in s:
            if "a" <= c <= "z":
                out.append(chr((ord(c) - ord("a") + {k}) % 26 + ord("a")))
            else:
                out.append(c)
        return "".join(out)
    """)

    def shift(s: str, wrap: bool) -> str:
        out = []
        for c in s:
            if "a" <= c <= "z":
                out.append(chr((ord(c) - ord("a") + k) % 26 + ord("a")) if wrap else chr(ord(c) + k))
            else:
                out.append(c)
        return "".join(out)

    return Problem(
        name="caesar",
        params="s",
        spec=(
            f"Shift every lower-case letter of s forward by {k} places in the alphabet, wrapping around from\n"
            "'z' back to 'a'. Leave every other character unchanged and return the result."
        ),
        reference=Variant(body, lambda s: shift(s, True)),
        bugs=(
            Variant(
                body.replace(f'chr((ord(c) - ord("a") + {k}) % 26 + ord("a"))', f"chr(ord(c) + {k})"),
                lambda s: shift(s, False),
            ),
        ),
        inputs=inputs,
        hints=(
            "ord() and chr() convert between characters and numbers.",
            "Work with the position of the letter in the alphabet, and use % 26 to wrap around.",
            "Upper-case letters, spaces and punctuation stay as they are.",
        ),
        approach="map each lower-case letter to its alphabet index, add the shift modulo 26, map back.",
    )


def compress(rng: np.random.Generator) -> Problem:
    """Run-length encoding: 'aaab' -> 'a3b1'."""

    def text() -> str:
        return "".join(choice(rng, "abc") * randint(rng, 1, 3) for _ in range(randint(rng, 2, 5)))

    inputs = [(text(),), ("aabaa",), ("",), ("z",), (text(),), ("abcabc",)]
    body = block("""
        out = []
        i = 0
        while i < len(s):
            j = i
            while j < len(s) and s[j] == s[i]:
                j += 1
            out.append(s[i] + str(j - i))
            i = j
        return "".join(out)
    """)

    def reference(s: str) -> str:
        out, i = [], 0
        while i < len(s):
            j = i
            while j < len(s) and s[j] == s[i]:
                j += 1
            out.append(s[i] + str(j - i))
            i = j
        return "".join(out)

    return Problem(
        name="compress",
        params="s",
        spec=(
            "Return the run-length encoding of s: each maximal run of one repeated character becomes the\n"
            "character followed by the length of the run."
        ),
        reference=Variant(body, reference),
        bugs=(
            Variant(
                '    return "".join(c + str(s.count(c)) for c in dict.fromkeys(s))\n',
                lambda s: "".join(c + str(s.count(c)) for c in dict.fromkeys(s)),
            ),
        ),
        inputs=inputs,
        hints=(
            "A character can come back later in the string: each run is encoded separately.",
            "Use two indices: the start of the run and the first position after it.",
        ),
        approach="scan runs with two indices and emit the character and the run length for each.",
    )


def is_palindrome(rng: np.random.Generator) -> Problem:
    """Palindrome check ignoring case and non-letters."""
    base = "".join(sample(rng, LETTERS, 3))
    inputs = [
        ("A man, a plan, a canal: Panama",),
        (base + base[::-1],),
        ("",),
        (base.title() + "x",),
        ("No 'x' in Nixon",),
        (base + "!" + base[::-1].upper(),),
        ("ab",),
    ]
    body = "    letters = [c.lower() for c in s if c.isalpha()]\n    return letters == letters[::-1]\n"

    def letters(s: str) -> list[str]:
        return [c.lower() for c in s if c.isalpha()]

    return Problem(
        name="is_palindrome",
        params="s",
        spec=(
            "Return True if s reads the same forwards and backwards when only its letters are kept and case\n"
            "is ignored, else False."
        ),
        reference=Variant(body, lambda s: letters(s) == letters(s)[::-1]),
        bugs=(
            Variant("    return s.lower() == s.lower()[::-1]\n", lambda s: s.lower() == s.lower()[::-1]),
            Variant(
                "    letters = [c for c in s if c.isalpha()]\n    return letters == letters[::-1]\n",
                lambda s: [c for c in s if c.isalpha()] == [c for c in s if c.isalpha()][::-1],
            ),
        ),
        inputs=inputs,
        hints=(
            "Clean the string first, then compare it with its reverse.",
            "Spaces and punctuation are ignored, and so is the difference between upper and lower case.",
        ),
        approach="keep only the letters, lower-cased, and compare the list with its reverse.",
    )


def top_word(rng: np.random.Generator) -> Problem:
    """The most frequent word; ties go to the alphabetically first; '' for no words."""
    pool = sample(rng, WORDS[:25], 4)

    def text() -> str:
        return " ".join(w.title() if rng.random() < 0.3 else w for w in words(rng, randint(rng, 4, 9), pool))

    inputs = [
        (text(),),
        ("the cat and the hat",),
        ("",),
        ("pear apple pear apple",),
        ("Dog dog cat",),
        (text(),),
        ("zoo yak",),
    ]
    body = block("""
        counts = {}
        for word in text.lower().split():
            counts[word] = counts.get(word, 0) + 1
        if not counts:
            return ""
        return min(counts, key=lambda w: (-counts[w], w))
    """)

    def count(text: str) -> dict[str, int]:
        counts: dict[str, int] = {}
        for word in text.lower().split():
            counts[word] = counts.get(word, 0) + 1
        return counts

    def first_seen(text: str) -> str:
        counts = count(text)
        return max(counts, key=counts.__getitem__) if counts else ""

    return Problem(
        name="top_word",
        params="text",
        spec=(
            "Return the word that occurs most often in text (words are separated by whitespace and compared\n"
            "in lower case; return it in lower case). On a tie, return the alphabetically first of the tied\n"
            "words. Return the empty string if text has no words."
        ),
        reference=Variant(body, lambda text: min(count(text), key=lambda w: (-count(text)[w], w), default="")),
        bugs=(
            Variant(
                body.replace("min(counts, key=lambda w: (-counts[w], w))", "max(counts, key=counts.get)"),
                first_seen,
            ),
        ),
        inputs=inputs,
        hints=(
            "Count every word in a dictionary first, then choose.",
            "Ties matter: among the words with the top count, pick the one that comes first alphabetically.",
            "min() and max() accept a key function; a tuple key can sort on two things at once.",
        ),
        approach="count lower-cased words in a dict, then take the minimum by (negated count, word).",
    )


def balanced(rng: np.random.Generator) -> Problem:
    """Are the brackets ()[]{} balanced?"""

    def nested(depth: int) -> str:
        if depth == 0:
            return choice(rng, ["", "x", "1"])
        left, right = choice(rng, ["()", "[]", "{}"])
        return left + nested(depth - 1) + right + (nested(depth - 1) if rng.random() < 0.4 else "")

    inputs = [(nested(3),), ("([)]",), ("",), (")(",), ("(a[b]{c})",), (nested(2) + "(",), ("{[]}()",), ("((",)]
    body = block("""
        pairs = {")": "(", "]": "[", "}": "{"}
        stack = []
        for c in s:
            if c in "([{":
                stack.append(c)
            elif c in pairs:
                if not stack or stack.pop() != pairs[c]:
                    return False
        return not stack
    """)

    def check(s: str, strict_end: bool) -> bool:
        pairs, stack = {")": "(", "]": "[", "}": "{"}, []
        for c in s:
            if c in "([{":
                stack.append(c)
            elif c in pairs and (not stack or stack.pop() != pairs[c]):
                return False
        return not stack if strict_end else True

    counting = (
        '    return all(s.count(a) == s.count(b) for a, b in ("()", "[]", "{}"))\n',
        lambda s: all(s.count(a) == s.count(b) for a, b in ("()", "[]", "{}")),
    )
    return Problem(
        name="balanced",
        params="s",
        spec=(
            "Return True if the brackets (), [] and {} in s are balanced: every opening bracket is closed by\n"
            "the matching bracket, in the right order. Other characters are ignored."
        ),
        reference=Variant(body, lambda s: check(s, True)),
        bugs=(
            Variant(body.replace("return not stack", "return True"), lambda s: check(s, False)),
            Variant(*counting),
        ),
        inputs=inputs,
        hints=(
            "Counting brackets is not enough: the order matters.",
            "Keep the opening brackets on a stack and match each closing bracket with the top of it.",
            "At the end, brackets still open mean the string is not balanced.",
        ),
        approach="push opening brackets on a stack, pop and compare on each closing one, and require it empty.",
    )


def title_case(rng: np.random.Generator) -> Problem:
    """Title case except small words (but always the first word)."""

    def text() -> str:
        return " ".join(words(rng, randint(rng, 3, 6)))

    inputs = [(text(),), ("the lord of the rings",), ("",), ("A TALE OF TWO CITIES",), (text(),), ("of",)]
    body = block("""
        small = {"a", "an", "the", "of", "to"}
        out = []
        for i, w in enumerate(s.lower().split()):
            out.append(w if i > 0 and w in small else w.capitalize())
        return " ".join(out)
    """)
    small = {"a", "an", "the", "of", "to"}

    def make(first_rule: bool) -> Variant:
        def func(s: str) -> str:
            return " ".join(
                w if (i > 0 or not first_rule) and w in small else w.capitalize()
                for i, w in enumerate(s.lower().split())
            )

        return Variant(body if first_rule else body.replace("i > 0 and ", ""), func)

    return Problem(
        name="title_case",
        params="s",
        spec=(
            "Return s in title case: each word capitalised (first letter upper case, the rest lower case),\n"
            "except the small words a, an, the, of, to, which stay all lower case unless they are the first\n"
            "word. Words are separated by whitespace; join them with single spaces."
        ),
        reference=make(True),
        bugs=(
            make(False),
            Variant(
                '    return " ".join(w.capitalize() for w in s.split())\n',
                lambda s: " ".join(w.capitalize() for w in s.split()),
            ),
        ),
        inputs=inputs,
        hints=(
            "Lower-case everything first, then decide word by word.",
            "The first word is always capitalised, even when it is a small word.",
        ),
        approach="lower-case and split; capitalise each word unless it is a small word after the first position.",
    )


LEVELS = {
    1: (count_letters, initials, shout),
    2: (caesar, compress, is_palindrome),
    3: (top_word, balanced, title_case),
}


def strings(level: int, rng: np.random.Generator) -> Task:
    """One ``string`` task at ``level``."""
    return make_task("string", level, choice(rng, LEVELS[level])(rng))
