r"""Find the answer in a student's free text.

Order of preference: the last ``\boxed{...}``; else the last "answer: ..." / "answer is ..." line; else
assignments such as ``x = 6`` (a system ``x = 2, y = -1`` becomes the tuple ``(2, -1)`` in the order of
``variables``; roots ``x = -2 or x = 3`` become the set ``{-2, 3}``); else the last mathematical span of the
text. The result is a candidate string for :func:`convenv.verifiers.math_parser.parse_math`; nothing is
evaluated here. Every regex is linear-time, so hostile text cannot make extraction hang.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import NamedTuple

_MATH_WORDS = (
    "sqrt|pi|sin|cos|tan|log|ln|exp|abs|frac|dfrac|tfrac|cdot|times|div|left|right|pm|circ|quad|qquad"
    "|mathrm|mathbf|displaystyle|lbrace|rbrace|lvert|rvert"
)
_SPAN_RE = re.compile(
    rf"(?:\\(?:{_MATH_WORDS})(?![A-Za-z])"  # LaTeX commands of the math subset
    r"|\\[{}%$,;:! |()\[\]]"  # escaped punctuation: \{ \% \, \( ...
    rf"|(?<![A-Za-z\\])(?:{_MATH_WORDS})(?![A-Za-z])"  # plain function names: sqrt(2)
    r"|(?<![A-Za-z\\'])(?!I\b)[A-Za-z](?![A-Za-z'])"  # single letters, but not "I" or the s of "it's"
    r"|[0-9.,+\-*/^()\[\]{}|=%$~\s\u00b1\u221a\u03c0\u00d7\u00b7\u00f7\u2212])+"
)
_ASSIGN_RE = re.compile(r"(?<![A-Za-z0-9\\_])([A-Za-z])\s*=(?!=)\s*")
_CONNECTOR_RE = re.compile(r"[\s,;$]*(?:(?:or|and)[\s,;$]*)?")
_ANSWER_RE = re.compile(r"\banswer\b[\s*:]*(?:is\b|:|=)[\s*:]*([^\n]*)", re.IGNORECASE)
_BOXED_RE = re.compile(r"\\(?:boxed|fbox)\s*")
_TEXT_RE = re.compile(r"\\(?:text|textrm|textbf|textit|mbox)\s*\{([^{}]*)\}")
_HAS_MATH_RE = re.compile(r"[0-9]|\\pi|\bpi\b|[A-Za-z]\s*[+\-*/^]|[+\-*/^]\s*[A-Za-z]")
_STRIP = " \t\n\r.,;:=*"
_LEADING_WORD_RE = re.compile(r"^(?:[A-Za-z]\s+)+(?=[0-9.$])")  # "a 7" -> "7": no letter multiplies a number


class _Assignment(NamedTuple):
    var: str
    value: str
    connected: bool  # joined to the next assignment only by "," "and" "or"


def extract_answer(text: str, variables: Sequence[str] = (), marked_only: bool = False) -> str | None:
    r"""Return the candidate answer string in ``text``, or None when there is none.

    Args:
        text: the student's message (already capped in length by the caller).
        variables: the unknowns in order, e.g. ``("x", "y")`` for a 2x2 system; empty accepts any letter.
        marked_only: read only ``\boxed{}`` and "answer: ..." (no ``x = ...`` or last-expression fallback), so
            a policy cannot score by scattering numbers that happen to end on the right one.

    Returns:
        A string for the restricted parser, e.g. ``"6"``, ``"(2, -1)"``, ``"{-2, 3}"``, ``"\frac{4}{3}"``.
    """
    text = _clean(text)
    boxes = _boxed_contents(text)
    if boxes:
        region = boxes[-1]
        if len(variables) >= 2 and _ASSIGN_RE.search(region):  # \boxed{x=2}, \boxed{y=-1}
            region = " ; ".join(boxes)
        return _from_region(region, variables) or region.strip(_STRIP) or None
    answers = _ANSWER_RE.findall(text)
    if answers:
        found = _from_region(answers[-1], variables)
        if found:
            return found
    if marked_only:
        return None
    found = _from_assignments(text, variables)
    if found:
        return found
    spans = _math_spans(text)
    return _strip_lhs(spans[-1]) if spans else None


def _clean(text: str) -> str:
    text = text.replace("\u2212", "-")
    for delimiter in ("\\(", "\\)", "\\[", "\\]"):  # inline and display math delimiters
        text = text.replace(delimiter, " ")

    def unwrap(match: re.Match[str]) -> str:
        inner = match.group(1).strip()
        return " or " if inner in ("or", "and") else f" {inner} "

    return _TEXT_RE.sub(unwrap, text)


def _boxed_contents(text: str) -> list[str]:
    r"""Contents of every ``\boxed{...}`` with balanced braces (one pass over the text for all of them)."""
    closing: dict[int, int] = {}
    stack: list[int] = []
    for i, char in enumerate(text):
        if char == "{":
            stack.append(i)
        elif char == "}" and stack:
            closing[stack.pop()] = i
    contents = []
    for match in _BOXED_RE.finditer(text):
        start = match.end()
        if start < len(text) and text[start] == "{":
            end = closing.get(start)
            if end is not None and text[start + 1 : end].strip():
                contents.append(text[start + 1 : end])
        elif start < len(text):  # \boxed 5
            word = text[start:].split(None, 1)
            if word:
                contents.append(word[0].rstrip("$"))
    return contents


def _from_region(region: str, variables: Sequence[str]) -> str | None:
    """The answer inside a boxed or "answer:" region: its assignments, else its first math span."""
    found = _from_assignments(region, variables)
    if found:
        return found
    spans = _math_spans(region)
    return _strip_lhs(spans[0]) if spans else None


def _from_assignments(text: str, variables: Sequence[str]) -> str | None:
    assignments = _assignments(text)
    if not assignments:
        return None
    chain = [assignments[-1]]  # the trailing run joined by "," "and" "or"
    for previous in reversed(assignments[:-1]):
        if not previous.connected:
            break
        chain.insert(0, previous)
    if len(variables) >= 2:
        for pool in (chain, assignments):
            last = {a.var: a.value for a in pool}
            if all(v in last for v in variables):
                return "(" + ", ".join(last[v] for v in variables) + ")"
        return None
    target = variables[0] if variables else chain[-1].var
    values = list(dict.fromkeys(a.value for a in chain if a.var == target))
    if not values:
        values = [a.value for a in assignments if a.var == target][-1:]
    if not values:
        return None
    return values[0] if len(values) == 1 else "{" + ", ".join(values) + "}"


def _assignments(text: str) -> list[_Assignment]:
    matches = list(_ASSIGN_RE.finditer(text))
    found = []
    for k, match in enumerate(matches):
        stop = matches[k + 1].start() if k + 1 < len(matches) else len(text)
        rhs = text[match.end() : stop]
        span = _SPAN_RE.match(rhs)
        value = _strip_lhs(span.group()) if span else ""
        rest = rhs[span.end() :] if span else rhs
        if value and _HAS_MATH_RE.search(value):
            found.append(_Assignment(match.group(1), value, _CONNECTOR_RE.fullmatch(rest) is not None))
    return found


def _math_spans(text: str) -> list[str]:
    spans = []
    for match in _SPAN_RE.finditer(text):
        span = _trim(match.group())
        if span and _HAS_MATH_RE.search(span):
            spans.append(span)
    return spans


def _strip_lhs(span: str) -> str:
    """``"x = 18/3 = 6"`` -> ``"6"``: the value after the last equals sign."""
    parts = [p for p in (_trim(p) for p in span.split("=")) if p]
    return parts[-1] if parts else ""


def _trim(span: str) -> str:
    """Strip separators and unmatched brackets at both ends (``"(so x = 6)."`` leaves ``x = 6``)."""
    while True:
        before = span
        span = _LEADING_WORD_RE.sub("", span.strip(_STRIP))
        if len(span) > 1 and span[0] == span[-1] == "$":
            span = span[1:-1]
        if span.startswith("$") and span.count("$") % 2:
            span = span[1:]
        if span.endswith("$") and span.count("$") % 2:
            span = span[:-1]
        for opener, closer in ("()", "[]", "{}"):
            if span.endswith(closer) and span.count(closer) > span.count(opener):
                span = span[:-1]
            if span.startswith(opener) and span.count(opener) > span.count(closer):
                span = span[1:]
        if span == before:
            return span
