"""Reference solution of exercise 2: read the last number with one flat regular expression, compare exactly."""

import re
from decimal import Decimal

from convenv import Verdict

NUMBER = re.compile(r"[-+]?[0-9]+(?:\.[0-9]+)?")  # ASCII digits only; no nested repetition
MAX_DIGITS = 12


def check(text, task):
    found = NUMBER.findall(text)
    if not found:
        return Verdict(False, None, "no_answer", "no number in the answer")
    said = found[-1]
    digits = sum(ch.isdigit() for ch in said)
    if digits > MAX_DIGITS:  # before any conversion: int() refuses more than 4300 digits, and this is no answer
        return Verdict(False, said[:MAX_DIGITS] + "...", "too_large", "the number is far too long")
    value, gold = Decimal(said), Decimal(task.answer)
    extracted = format(value.normalize(), "f") if value else "0"
    if value == gold:
        return Verdict(True, extracted, None, f"read {extracted}")
    direction = "too_high" if value > gold else "too_low"
    return Verdict(False, extracted, "wrong_value", f"read {extracted}, expected {gold}", {"direction": direction})
