"""``convenv exercise``: list, start, check; the pages show the starter files verbatim."""

import os
import pathlib
import re
import subprocess
import sys

import pytest

from convenv.cli import main
from convenv.exercises import EXERCISES, Report, check, get, starter_source, write_starter

ROOT = pathlib.Path(__file__).resolve().parents[2]
SOLUTIONS = pathlib.Path(__file__).parent / "solutions"


def test_list(capsys):
    assert main(["exercise", "list"]) == 0
    out = capsys.readouterr().out
    for e in EXERCISES.values():
        assert e.title in out and e.page in out
    assert "check: convenv exercise check 3 PATH, PATH being a convenv train --out directory" in out


def test_start_writes_the_starter_and_never_overwrites(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["exercise", "start", "2"]) == 0
    assert (tmp_path / "my_verifier.py").read_text() == starter_source(2)
    assert "grade it: convenv exercise check 2 my_verifier.py" in capsys.readouterr().out
    assert main(["exercise", "start", "1", "mine.py"]) == 0 and (
        tmp_path / "mine.py"
    ).read_text() == starter_source(1)
    assert main(["exercise", "start", "1", "mine.py"]) == 1
    assert "expected a path that does not exist yet, got 'mine.py'" in capsys.readouterr().err
    assert main(["exercise", "start", "3"]) == 1
    assert "exercise 3 is done with convenv train: read docs/course/3_train.md" in capsys.readouterr().err


def test_check_exit_status_and_report(capsys):
    assert main(["exercise", "check", "2", str(SOLUTIONS / "verifier.py")]) == 0
    assert "score 10/10: passed" in capsys.readouterr().out
    starter = ROOT / "convenv" / "exercises" / "starters" / "teacher.py"
    assert main(["exercise", "check", "1", str(starter)]) == 1
    out = capsys.readouterr().out
    assert "[FAIL] student: forgetful" in out and "hint: ForgetfulStudent" in out and "score 7/8" in out
    assert main(["exercise", "check", "7", "x.py"]) == 1
    assert "expected an exercise number in [1, 2, 3], got 7" in capsys.readouterr().err


def test_check_in_a_real_subprocess(tmp_path):
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    run = subprocess.run(
        [sys.executable, "-m", "convenv", "exercise", "check", "1", str(SOLUTIONS / "teacher.py")],
        capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.rstrip().endswith("score 8/8: passed")


@pytest.mark.parametrize("number", [n for n, e in EXERCISES.items() if e.starter])
def test_the_page_shows_the_starter_verbatim(number):
    page = (ROOT / get(number).page).read_text()
    blocks = re.findall(r"^```python\n(.*?)^```", page, re.S | re.M)
    assert starter_source(number) in blocks


def test_the_course_index_links_every_page():
    index = (ROOT / "docs" / "course" / "index.md").read_text()
    for e in EXERCISES.values():
        assert f"]({pathlib.Path(e.page).name})" in index


def test_errors():
    with pytest.raises(
        ValueError, match=r"expected an exercise number in \[1, 2, 3\], got 0; convenv exercise list"
    ):
        get(0)
    with pytest.raises(ValueError, match=r"expected an exercise with a starter file \(\[1, 2\]\), got 3"):
        starter_source(3)
    with pytest.raises(ValueError, match="expected an exercise number in"):
        check(4, "x.py")
    with pytest.raises(KeyError, match=r"expected one of \[\], got 'runs'"):
        Report(1, "t", "p").check("runs")


def test_write_starter_refuses_an_existing_file(tmp_path):
    target = tmp_path / "taken.py"
    target.write_text("mine\n")
    with pytest.raises(ValueError, match="expected a path that does not exist yet, got .*taken.py'; pass another"):
        write_starter(1, str(target))
    assert target.read_text() == "mine\n"
