import json
from fractions import Fraction

import numpy as np
import pytest

from convenv.tasks.base import TaskList
from convenv.tasks.loaders import extract_boxed, load_gsm8k_jsonl, load_math_jsonl

GSM8K = [
    {
        "question": "Natalia sold clips to 48 of her friends in April, and then she sold half as many clips "
        "in May. How many clips did Natalia sell altogether in April and May?",
        "answer": "Natalia sold 48/2 = <<48/2=24>>24 clips in May.\nNatalia sold 48+24 = <<48+24=72>>72 clips "
        "altogether in April and May.\n#### 72",
    },
    {
        "question": "A farm has 1,200 cows and buys 34 more. How many cows?",
        "answer": "1200+34=<<1200+34=1234>>1234\n#### 1,234",
    },
    {"question": "What is 3 - 5?", "answer": "3 - 5 = -2\n#### -2"},
]

MATH = [
    {
        "problem": "What is $\\frac{1}{2} + \\frac{1}{4}$?",
        "solution": "We get $\\frac{2}{4} + \\frac{1}{4} = \\boxed{\\frac{3}{4}}$.",
        "level": "Level 2",
        "type": "Prealgebra",
    },
    {
        "problem": "Solve $x^2 = 4$.",
        "solution": "First guess \\boxed{2}, but both signs work: $\\boxed{\\{-2, 2\\}}$.",
        "level": "Level ?",
        "type": "Algebra",
    },
    {"problem": "Evaluate.", "solution": "It is \\fbox{7}."},
]


def write_jsonl(path, records, extra_lines=()):
    lines = [json.dumps(r) for r in records] + list(extra_lines)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_gsm8k_loads_and_normalizes(tmp_path):
    path = write_jsonl(tmp_path / "gsm8k.jsonl", GSM8K, extra_lines=["", "   "])
    tasks = load_gsm8k_jsonl(path)
    assert isinstance(tasks, TaskList) and len(tasks) == 3
    first, second, third = tasks.tasks
    assert first.answer == "72" and second.answer == "1234" and third.answer == "-2"
    assert first.prompt == GSM8K[0]["question"]
    assert "<<" not in first.solution and "####" not in first.solution
    assert first.solution.startswith("Natalia sold 48/2 = 24 clips in May.")
    assert first.domain == "math" and first.id.startswith("gsm8k/") and len(first.id) == len("gsm8k/") + 12
    assert first.metadata["answer_kind"] == "number" and second.metadata["answer_value"] == Fraction(1234)
    assert first.metadata["line"] == 1
    assert len({t.id for t in tasks.tasks}) == 3
    assert [t.id for t in load_gsm8k_jsonl(str(path)).tasks] == [t.id for t in tasks.tasks]
    assert tasks.sample(np.random.default_rng(0)) in tasks.tasks


def test_gsm8k_limit(tmp_path):
    path = write_jsonl(tmp_path / "gsm8k.jsonl", GSM8K)
    assert len(load_gsm8k_jsonl(path, limit=2)) == 2
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match=r"expected limit to be a positive int or None"):
            load_gsm8k_jsonl(path, limit=bad)


def test_gsm8k_errors_name_file_and_line(tmp_path):
    bad_json = write_jsonl(tmp_path / "a.jsonl", GSM8K[:1], extra_lines=["{not json"])
    with pytest.raises(ValueError, match=r"a\.jsonl:2: expected one JSON object per line, got invalid JSON"):
        load_gsm8k_jsonl(bad_json)
    missing = write_jsonl(tmp_path / "b.jsonl", [GSM8K[0], {"question": "q"}])
    with pytest.raises(ValueError, match=r"b\.jsonl:2: expected a string field 'answer', got nothing"):
        load_gsm8k_jsonl(missing)
    no_marker = write_jsonl(tmp_path / "c.jsonl", [{"question": "q", "answer": "it is 4"}])
    with pytest.raises(ValueError, match=r"c\.jsonl:1: expected the 'answer' field to end with '#### <number>'"):
        load_gsm8k_jsonl(no_marker)
    not_object = write_jsonl(tmp_path / "d.jsonl", [[1, 2]])
    with pytest.raises(ValueError, match=r"d\.jsonl:1: expected a JSON object, got list"):
        load_gsm8k_jsonl(not_object)
    with pytest.raises(FileNotFoundError, match=r"expected a JSONL file at .*nope\.jsonl.*never downloads"):
        load_gsm8k_jsonl(tmp_path / "nope.jsonl")
    empty = write_jsonl(tmp_path / "e.jsonl", [])
    with pytest.raises(ValueError, match=r"expected at least one task"):
        load_gsm8k_jsonl(empty)


def test_math_loads_last_boxed_with_balanced_braces(tmp_path):
    tasks = load_math_jsonl(write_jsonl(tmp_path / "math.jsonl", MATH))
    first, second, third = tasks.tasks
    assert first.answer == "\\frac{3}{4}"
    assert second.answer == "\\{-2, 2\\}"
    assert third.answer == "7"
    assert first.metadata["level"] == "Level 2" and first.metadata["type"] == "Prealgebra"
    assert first.metadata["difficulty"] == 2 and second.metadata["difficulty"] is None
    assert first.metadata["answer_kind"] is None
    assert first.solution == MATH[0]["solution"]
    assert first.id.startswith("MATH/")
    assert len(load_math_jsonl(tmp_path / "math.jsonl", limit=1)) == 1


def test_math_errors(tmp_path):
    no_box = write_jsonl(tmp_path / "m.jsonl", [MATH[0], {"problem": "p", "solution": "no box here"}])
    with pytest.raises(ValueError, match=r"m\.jsonl:2: expected the 'solution' field to contain a complete"):
        load_math_jsonl(no_box)
    unbalanced = write_jsonl(tmp_path / "u.jsonl", [{"problem": "p", "solution": "\\boxed{\\frac{1}{2}"}])
    with pytest.raises(ValueError, match=r"u\.jsonl:1: .*complete \\boxed"):
        load_math_jsonl(unbalanced)
    wrong_type = write_jsonl(tmp_path / "w.jsonl", [{"problem": 3, "solution": "\\boxed{1}"}])
    with pytest.raises(ValueError, match=r"w\.jsonl:1: expected a string field 'problem', got int"):
        load_math_jsonl(wrong_type)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("\\boxed{5}", "5"),
        ("a \\boxed{1} b \\boxed{ {2, 3} }", "{2, 3}"),
        ("\\boxed{\\frac{\\sqrt{3}}{2}}", "\\frac{\\sqrt{3}}{2}"),
        ("\\boxed {x}", "x"),
        ("nothing", None),
        ("\\boxed{unclosed", None),
    ],
)
def test_extract_boxed(text, expected):
    assert extract_boxed(text) == expected
