"""Exercise 2 starter: a verifier for "solve for x" answers (docs/course/2_verifier.md).

Run it to see a few verdicts; grade it with:  convenv exercise check 2 my_verifier.py
"""

import re

from convenv import Verdict


def check(text, task):
    """Read the student's last number and compare it with task.answer (an integer, e.g. "7" or "-3")."""
    found = re.findall(r"\d+", text)  # TODO: signs, decimals, ASCII digits only, too many digits
    if not found:
        return Verdict(False, None, "no_answer", "no number in the answer")
    said = found[-1]
    if int(said) == int(task.answer):
        return Verdict(True, said, None, f"read {said}")
    return Verdict(False, said, "wrong_value", f"read {said}")  # TODO: signals={"direction": ...}


if __name__ == "__main__":
    from convenv.exercises.verifier import make_task

    task = make_task("7")
    for text in ["x = 7", "The answer is 7.", "x = 7.5", "17", "-7", "no idea"]:
        verdict = check(text, task)
        print(f"{text!r:20} correct={verdict.correct!s:5} extracted={verdict.extracted!r:6} error={verdict.error}")
