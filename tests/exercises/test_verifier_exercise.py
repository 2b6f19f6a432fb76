"""Exercise 2's checker: the reference verifier passes; eval-based, hanging and sloppy ones fail as intended."""

import pathlib

import convenv
from convenv.exercises.verifier import HOSTILE, RIGHT, WRONG, check_verifier

SOLUTIONS = pathlib.Path(__file__).parent / "solutions"
STARTER = pathlib.Path(convenv.__file__).parent / "exercises" / "starters" / "verifier.py"


def submission(tmp_path, source, name="verifier.py"):
    path = tmp_path / name
    path.write_text("import re\nfrom convenv import Verdict\n\n" + source)
    return str(path)


def failed(report):
    return {c.name for c in report.checks if not c.passed}


def test_reference_solution_passes_every_check():
    report = check_verifier(str(SOLUTIONS / "verifier.py"))
    assert report.passed and report.score == report.total == 10, report.format()
    assert "BisectionStudent, 20 seeds: success by turn 1..5:" in report.check("drives an env").detail


def test_the_cases_cover_what_the_page_promises():
    assert (len(RIGHT), len(WRONG), len(HOSTILE)) == (13, 14, 12)
    assert max(len(text) for _, text, _ in HOSTILE) > 1_000_000


def test_an_eval_verifier_is_caught_in_the_source_and_at_run_time(tmp_path):
    source = """
def check(text, task):
    try:
        value = eval(text)
    except Exception:
        return Verdict(False, None, "no_answer")
    return Verdict(value == int(task.answer), str(value))
"""
    report = check_verifier(submission(tmp_path, source))
    assert {"no eval in the source", "never evaluates the text"} <= failed(report), report.format()
    assert report.check("no eval in the source").detail == "calls eval (line 7)"
    assert report.check("never evaluates the text").detail.startswith("called eval on '7'")


def test_a_hidden_eval_is_caught_at_run_time_only(tmp_path):
    source = """
import builtins

def check(text, task):
    run = getattr(builtins, "ev" + "al")
    try:
        value = run(text)
    except Exception:
        value = None
    return Verdict(value == int(task.answer), None if value is None else str(value))
"""
    report = check_verifier(submission(tmp_path, source))
    assert "no eval in the source" not in failed(report) and "never evaluates the text" in failed(report)
    assert "'__import__(\"os\").system(...)' would run" in report.check("never evaluates the text").hint


def test_a_backtracking_verifier_times_out_and_int_of_100000_digits_raises(tmp_path):
    source = """
def check(text, task):
    m = re.search(r"(\\d+\\s*)+$", text)
    if not m:
        return Verdict(False, None, "no_answer")
    said = m.group(0).split()[-1]
    ok = int(said) == int(task.answer)
    return Verdict(ok, said, None if ok else "wrong_value")
"""
    report = check_verifier(submission(tmp_path, source), deadline=0.5)
    assert {"hostile: within 0.5 s", "hostile: never raises"} <= failed(report), report.format()
    assert ": timeout" in report.check("hostile: within 0.5 s").detail
    assert "Exceeds the limit (4300 digits)" in report.check("hostile: never raises").detail


def test_a_float_verifier_accepts_a_wrong_answer(tmp_path):
    source = """
def check(text, task):
    found = re.findall(r"[-+]?[0-9]+(?:\\.[0-9]+)?", text)
    if not found:
        return Verdict(False, None, "no_answer")
    value, gold = float(found[-1]), float(task.answer)
    direction = "too_high" if value > gold else "too_low"
    error = None if value == gold else "wrong_value"
    return Verdict(value == gold, task.answer, error, "", {"direction": direction})
"""
    report = check_verifier(submission(tmp_path, source))
    check = report.check("rejects wrong answers")
    assert "'7.0000000000000001' (answer 7): correct=True, expected False" in check.detail
    assert "float() would call it 7" in check.hint


def test_unicode_digits_are_not_answers(tmp_path):
    reference = (SOLUTIONS / "verifier.py").read_text().replace("[0-9]", "\\d")
    path = tmp_path / "unicode.py"
    path.write_text(reference)
    report = check_verifier(str(path))
    assert failed(report) == {"hostile: right verdicts"}, report.format()
    assert "'x = \u0667' (answer 7): correct=True, expected False" in report.check("hostile: right verdicts").detail


def test_the_starter_loads_and_fails_with_hints():
    report = check_verifier(str(STARTER))
    assert report.check("loads").passed and report.check("never evaluates the text").passed
    assert not report.passed and report.check("drives an env").detail.startswith("not run")


def test_a_file_that_does_not_load(tmp_path):
    report = check_verifier(submission(tmp_path, "def check(text, task)\n    return None\n"))
    assert report.score == 0 and "SyntaxError" in report.check("loads").detail, report.format()
    report = check_verifier(submission(tmp_path, "def verify(text, task):\n    return None\n", "nocheck.py"))
    assert "the file defines no function check(text, task)" in report.check("loads").detail
    report = check_verifier(submission(tmp_path, "def check(text, task):\n    return True\n", "bool.py"))
    assert report.check("loads").detail == "check('7', task) returned bool, not a convenv.Verdict"
    report = check_verifier(str(tmp_path / "missing.py"))
    assert report.check("loads").detail.startswith("no such .py file") and report.total == 10
