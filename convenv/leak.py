"""Leak detection: does a teacher message give the gold answer away?

Every teacher message passes :func:`detect_leak`. It is pure, regex-only and never evaluates anything, so it is
safe on any text and cheap enough to run on every message of every rollout.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache

from convenv.tasks.base import Task

__all__ = ["LeakReport", "detect_leak", "gold_needles", "redact"]

REDACTED = "[redacted]"


@dataclass(frozen=True)
class LeakReport:
    """What :func:`detect_leak` found in one message.

    Attributes:
        leaked: whether the message gives the answer away (see :func:`detect_leak` for the rule).
        matches: the spans of the message that carry a leaked value, verbatim, in text order.
    """

    leaked: bool
    matches: tuple[str, ...] = ()


# A needle is one gold component to look for: ("num", Fraction) compared by value, ("str", text) compared after
# normalization (math expressions), ("word", text) compared as a whole word (non-math answers).
Needle = tuple[str, object]
# An occurrence: (start, end, in_answer_context) in the original text.
Occurrence = tuple[int, int, bool]

_MINUS = "-\u2212\u2013"  # ASCII hyphen-minus, unicode minus, en dash (often typed as a minus)
_NUMBER = re.compile(
    r"\\[dt]?frac\s*\{\s*(?P<fsign>[" + _MINUS + r"]?)\s*(?P<fnum>[0-9]+(?:\.[0-9]+)?)\s*\}"
    r"\s*\{\s*(?P<fden>[0-9]+(?:\.[0-9]+)?)\s*\}"
    r"|(?P<num>[0-9]{1,3}(?:,[0-9]{3})+(?![0-9])|[0-9]+(?:\.[0-9]+)?|\.[0-9]+)"
    r"(?:\s*/\s*(?P<den>[0-9]+(?:\.[0-9]+)?))?"
)
# A number glued to a variable or unit ("3x", "2sqrt(5)", "4ac") is a coefficient, not a value.
_COEFFICIENT = re.compile(
    r"[A-Za-z\u221a\u03c0]|\s*(?:\*|\\cdot)\s*(?:[A-Za-z]|\\sqrt|\\pi|\u221a)|\s*\\(?:sqrt|pi)\b"
)
# Words before a value that make it read as the answer: "x = 6", "is 6", "\boxed{6}", "equals 6".
_CONTEXT_END = re.compile(
    r"(?:=|\u2248|\\approx|\\boxed\s*\{|\b(?:is|are|was|were|be|equals?|equal\s+to|becomes?|gives?|get|got))"
    r"\s*\$?\s*(?:\\left)?\s*[({\[]?\s*(?:\\\{)?\s*$",
    re.IGNORECASE,
)
_ANSWER_WORD = re.compile(r"\banswer", re.IGNORECASE)
_SENTENCE_BREAK = re.compile(r"[.!?](?:\s|$)|\n")
_CONTEXT_WINDOW = 80
_MAX_DIGITS = 200

# Normalization of math text for expression matching, as one left-to-right scan so that every output character
# maps back to a span of the original text (redaction needs the original spans).
_NORMALIZE = re.compile(
    r"(?P<sqrtb>\\sqrt\s*\{(?P<sb>[^{}]*)\})"
    r"|(?P<sqrtd>(?:\\sqrt|\u221a)\s*(?P<sd>[0-9]+|[A-Za-z]))"
    r"|(?P<sqrtp>\u221a\s*\()"
    r"|(?P<pow>\^\s*\{(?P<pw>[^{}]*)\})"
    r"|(?P<pm>\\pm|\u00b1|\+\s*/\s*-|\+-)"
    r"|(?P<frac>\\[dt]frac)"
    r"|(?P<dstar>\*\*)"
    r"|(?P<drop>\\left|\\right|\\[!,;:]|\\ |\\cdot|\\times|[\s*$\u00b7\u00d7])"
    r"|(?P<sup2>\u00b2)|(?P<sup3>\u00b3)"
    r"|(?P<minus>[\u2212\u2013])"
)


def _glued(text: str, i: int, after: bool) -> bool:
    """Whether ``text[i]``, just before (or ``after``) a match, makes it part of a longer expression or word."""
    ch = text[i]
    if ch == ".":  # a decimal point continues a number ("6.5"); a full stop ends a sentence
        return text[i + 1 : i + 2].isdigit() if after else text[i - 1 : i].isdigit()
    return ch.isalnum() or ch in "^_"


def _parse_rational(text: str) -> Fraction | None:
    r"""The value of a plain number written as ``6``, ``-2.5``, ``1,000``, ``4/3`` or ``\frac{4}{3}``."""
    s = text.strip().strip("$").strip()
    for ch in _MINUS[1:]:
        s = s.replace(ch, "-")
    sign = 1
    if s.startswith("-"):
        sign, s = -1, s[1:].strip()
    m = _NUMBER.fullmatch(s)
    if m is None:
        return None
    value = _match_value(m)
    return None if value is None else sign * value


def _match_value(m: re.Match[str]) -> Fraction | None:
    if m.end() - m.start() > _MAX_DIGITS:  # no gold answer is that long; also keeps int() within its limits
        return None
    if m.group("fnum") is not None:
        num, den = Fraction(m.group("fnum")), Fraction(m.group("fden"))
        sign = -1 if m.group("fsign") else 1
    else:
        num = Fraction(m.group("num").replace(",", ""))
        den = Fraction(m.group("den")) if m.group("den") else Fraction(1)
        sign = 1
    return None if den == 0 else sign * num / den


def _split_top_level(s: str) -> list[str]:
    """Split on commas that are not nested in brackets."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(s):
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(s[start:i])
            start = i + 1
    parts.append(s[start:])
    return [p.strip() for p in parts if p.strip()]


def _components(answer: str, kind: str | None) -> list[str]:
    """The parts of a gold answer to look for: the elements of a set or tuple, else the whole answer."""
    s = answer.strip().strip("$").strip()
    s = re.sub(r"^[A-Za-z]\s*=\s*", "", s)  # "x = 6" -> "6"
    if kind == "expression" or _parse_rational(s) is not None:
        return [s]
    for left, right in (("\\{", "\\}"), ("{", "}"), ("(", ")"), ("[", "]")):
        if s.startswith(left) and s.endswith(right):
            inner = s[len(left) : -len(right)]
            parts = _split_top_level(inner)
            if left in ("{", "\\{") or len(parts) > 1:
                return parts
    return _split_top_level(s)


def _plus_minus_needle(a: str, b: str) -> str | None:
    """The ``h±k`` form of a pair of conjugate roots ``h-k``, ``h+k`` (e.g. ``1±sqrt(2)``), if they are one."""
    if len(a) == len(b):
        diff = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
        if len(diff) == 1 and {a[diff[0]], b[diff[0]]} == {"+", "-"}:
            return a[: diff[0]] + "\u00b1" + a[diff[0] + 1 :]
    for x, y in ((a, b), (b, a)):
        if x == "-" + y:
            return "\u00b1" + y
    return None


@lru_cache(maxsize=4096)
def _needles(answer: str, domain: str, kind: str | None) -> tuple[Needle, ...]:
    parts = _components(answer, kind) if answer.strip() else []
    values = [_parse_rational(p) for p in parts]
    if parts and all(v is not None for v in values):
        return tuple(dict.fromkeys(("num", v) for v in values))
    if domain != "math":
        word = " ".join(answer.split()).lower()
        return (("word", word),) if len(word) >= 3 else ()
    needles: list[Needle] = []
    for part, value in zip(parts, values, strict=True):
        needles.append(("num", value) if value is not None else ("str", _normalize(part)[0]))
    strings = [n[1] for n in needles if n[0] == "str"]
    if len(strings) == 2:
        pm = _plus_minus_needle(str(strings[0]), str(strings[1]))
        if pm is not None:
            needles.append(("str", pm))
    return tuple(dict.fromkeys(n for n in needles if n[1] != ""))


def gold_needles(task: Task) -> tuple[Needle, ...]:
    """The gold components :func:`detect_leak` looks for, as ``(kind, value)`` pairs.

    ``kind`` is ``"num"`` (a :class:`~fractions.Fraction`, matched by value), ``"str"`` (a normalized math
    expression) or ``"word"`` (a lower-cased non-math answer, matched as a whole word).
    """
    kind = task.metadata.get("answer_kind") if isinstance(task.metadata, Mapping) else None
    return _needles(task.answer, task.domain, kind)


def _is_unary_minus(text: str, start: int) -> int:
    """If a minus sign precedes ``text[start]`` as a sign (not a subtraction), return its index, else -1."""
    j = start - 1
    while j >= 0 and text[j] == " ":
        j -= 1
    if j < 0 or text[j] not in _MINUS:
        return -1
    k = j - 1
    while k >= 0 and text[k] == " ":
        k -= 1
    if k < 0:
        return j
    c = text[k]
    if c.isdigit() or c in ")]}|!":
        return -1
    if c.isalpha():
        w = k
        while w >= 0 and text[w].isalpha():
            w -= 1
        # "x - 3" subtracts from a variable; "is -3" states a negative value.
        return -1 if k - w == 1 else j
    return j


def _in_context(text: str, start: int) -> bool:
    prefix = text[max(0, start - _CONTEXT_WINDOW) : start]
    if _CONTEXT_END.search(prefix):
        return True
    breaks = list(_SENTENCE_BREAK.finditer(prefix))
    sentence = prefix[breaks[-1].end() :] if breaks else prefix
    return _ANSWER_WORD.search(sentence) is not None


def _numbers(text: str) -> list[tuple[Fraction, int, int]]:
    """Every number in ``text`` that reads as a value (not an exponent, index or coefficient), with its span."""
    found = []
    for m in _NUMBER.finditer(text):
        s, e = m.span()
        if m.group("num") is not None:
            prev = text[s - 1] if s > 0 else " "
            before = text[:s].rstrip()[-1:]
            if prev.isalnum() or prev in "_." or before in ("^", "/") or text[:s].rstrip().endswith("**"):
                continue
            if _COEFFICIENT.match(text, e):
                continue
        value = _match_value(m)
        if value is None:
            continue
        minus = _is_unary_minus(text, s)
        if minus >= 0:
            value, s = -value, minus
        found.append((value, s, e))
    return found


def _normalize(text: str) -> tuple[str, list[tuple[int, int]]]:
    r"""Lower-case ``text`` without spaces, ``*``, ``$`` or ``\left``; map each output char to its source span."""
    out: list[str] = []
    spans: list[tuple[int, int]] = []

    def emit(piece: str, span: tuple[int, int]) -> None:
        out.append(piece)
        spans.extend([span] * len(piece))

    pos = 0
    for m in _NORMALIZE.finditer(text):
        for i in range(pos, m.start()):
            emit(text[i].lower(), (i, i + 1))
        pos = m.end()
        g, span = m.lastgroup, m.span()
        if g == "sqrtb":
            emit("sqrt(" + "".join(m.group("sb").split()).lower() + ")", span)
        elif g == "sqrtd":
            emit("sqrt(" + m.group("sd").lower() + ")", span)
        elif g == "sqrtp":
            emit("sqrt(", span)
        elif g == "pow":
            emit("^" + "".join(m.group("pw").split()).lower(), span)
        elif g == "pm":
            emit("\u00b1", span)
        elif g == "frac":
            emit("\\frac", span)
        elif g == "dstar":
            emit("^", span)
        elif g == "sup2":
            emit("^2", span)
        elif g == "sup3":
            emit("^3", span)
        elif g == "minus":
            emit("-", span)
    for i in range(pos, len(text)):
        emit(text[i].lower(), (i, i + 1))
    return "".join(out), spans


def _string_occurrences(text: str, needle: str) -> list[Occurrence]:
    norm, spans = _normalize(text)
    found = []
    i = norm.find(needle)
    while i >= 0:
        s, e = spans[i][0], spans[i + len(needle) - 1][1]
        # Whole-expression match, judged on the original text: "x^2+5x+6" is not in "2x^2 + 5x + 60".
        before_ok = s == 0 or not needle[0].isalnum() or not _glued(text, s - 1, after=False)
        after_ok = e == len(text) or not needle[-1].isalnum() or not (_glued(text, e, after=True) or text[e] == "(")
        if before_ok and after_ok:
            found.append((s, e, _in_context(text, s)))
        i = norm.find(needle, i + 1)
    return found


def _occurrences(text: str, needles: tuple[Needle, ...]) -> list[list[Occurrence]]:
    """For each needle, where it occurs in ``text``."""
    numbers = _numbers(text) if any(k == "num" for k, _ in needles) else []
    result = []
    for kind, value in needles:
        if kind == "num":
            occ = [(s, e, _in_context(text, s)) for v, s, e in numbers if v == value]
        elif kind == "str":
            occ = _string_occurrences(text, str(value))
            if len(str(value)) < 3:  # a one- or two-letter answer ("x", "C") counts only when stated as one
                occ = [o for o in occ if o[2]]
        else:
            pattern = r"(?<!\w)" + r"\s+".join(map(re.escape, str(value).split())) + r"(?!\w)"
            occ = [(m.start(), m.end(), _in_context(text, m.start())) for m in re.finditer(pattern, text, re.I)]
        result.append(occ)
    return result


@lru_cache(maxsize=4096)
def _allowance(public: tuple[str, ...], needles: tuple[Needle, ...]) -> tuple[tuple[int, int], ...]:
    """Per needle: (occurrences, answer-context occurrences) in the public texts."""
    totals = [[0, 0] for _ in needles]
    for text in public:
        for i, occ in enumerate(_occurrences(text, needles)):
            totals[i][0] += len(occ)
            totals[i][1] += sum(1 for o in occ if o[2])
    return tuple((a, b) for a, b in totals)


def _leaking(text: str, task: Task, public: Sequence[str]) -> list[list[Occurrence]]:
    needles = gold_needles(task)
    if not needles or not text:
        return []
    allowed = _allowance((task.prompt, *public), needles)
    leaking = []
    for occ, (total, context) in zip(_occurrences(text, needles), allowed, strict=True):
        if len(occ) > total or sum(1 for o in occ if o[2]) > context:
            leaking.append(occ)
    return leaking


def detect_leak(text: str, task: Task, *, public: Sequence[str] = ()) -> LeakReport:
    r"""Report whether ``text`` (a teacher message) gives away ``task.answer``.

    The rule:

    1. The gold answer is split into components: the elements of a set ``{a, b}`` or tuple ``(x, y)``, else
       the whole answer. A component that is a plain rational number (``6``, ``-2.5``, ``4/3``,
       ``\frac{4}{3}``, ``1,000``) is compared **by value** with every number in the text, whatever its
       notation (``6.0``, ``12/2``, ``\frac{4}{3}``, ``−3`` with a unicode minus). Numbers glued to a letter
       (``3x``, ``4ac``), exponents (``x^2``), indices (``x_1``) and divisors (``x/2``) are not values. A minus is
       a sign after ``=``, ``(``, ``,``, a word or the start (``x = -3``, ``is -3``), a subtraction after a
       number, a bracket or a one-letter variable (``5 - 3``, ``x - 3``).
    2. In the math domain, other components (``1 + sqrt(2)``, ``x^2 + 5*x + 6``) are compared as normalized
       strings: lower case, without spaces, ``*``, ``$``, ``\left``/``\right``; ``**`` and ``^{...}`` read as
       ``^``, ``\sqrt{2}``/``√2`` as ``sqrt(2)``. A conjugate pair of roots also matches its ``±`` form
       (``1 ± √2``). Components shorter than three characters count only in answer context.
    3. Outside math, a non-numeric answer of at least three characters is matched as a whole word, case
       insensitively; shorter ones are not checked.
    4. An occurrence is in *answer context* when it follows ``=``, ``≈``, ``is``, ``are``, ``was``, ``be``,
       ``equals``, ``gives``, ``get``, ``\boxed{`` (optionally with an opening bracket), or when the word
       "answer" comes earlier in the same sentence.
    5. A component leaks when the text has more answer-context occurrences of it, or more occurrences overall,
       than the task's public prompt (plus any ``public`` texts) has. So restating the problem never leaks, and
       neither does quoting a wrong attempt; one extra mention of the gold value does.

    Args:
        text: the message to check.
        task: the task whose ``answer`` must not be revealed; ``task.prompt`` is public.
        public: further texts the student has already seen (e.g. its own attempts), counted like the prompt.

    Returns:
        A :class:`LeakReport`; ``matches`` holds every occurrence of each leaking component.
    """
    leaking = _leaking(text, task, public)
    spans = sorted({(s, e) for occ in leaking for s, e, _ in occ})
    return LeakReport(leaked=bool(leaking), matches=tuple(text[s:e] for s, e in spans))


def redact(text: str, task: Task, *, public: Sequence[str] = ()) -> str:
    """Replace every occurrence of each leaking component of ``task.answer`` in ``text`` by ``"[redacted]"``.

    Occurrences are found as in :func:`detect_leak`. Every occurrence of a leaking component is replaced (also
    one that merely restates the prompt), so the result never leaks. Text without a leak is returned unchanged.
    """
    spans = sorted({(s, e) for occ in _leaking(text, task, public) for s, e, _ in occ})
    merged: list[list[int]] = []
    for s, e in spans:
        if merged and s <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], e)
        else:
            merged.append([s, e])
    pieces, pos = [], 0
    for s, e in merged:
        pieces += [text[pos:s], REDACTED]
        pos = e
    pieces.append(text[pos:])
    return "".join(pieces)
