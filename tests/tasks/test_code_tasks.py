"""Code task generators and the HumanEval/MBPP loaders: determinism, reference solutions and bugs in the sandbox."""

import json
import subprocess
import sys

import numpy as np
import pytest

from convenv.envs.code_feedback import code_leak_check
from convenv.sandbox import Sandbox
from convenv.tasks.code import (
    FAMILIES,
    LEVELS,
    CodeTaskGenerator,
    ShardedCodeTaskGenerator,
    dicts,
    generate,
    lists,
    load_humaneval_jsonl,
    load_mbpp_jsonl,
    numeric,
    strings,
)
from convenv.tasks.code.common import make_task
from convenv.tasks.code.sharded import TEMPLATES, sharded

MODULES = {"list": lists, "string": strings, "number": numeric, "dict": dicts}
TEMPLATE_CASES = [
    pytest.param(family, level, template, id=f"{family}-{level}-{template.__name__}")
    for family, module in MODULES.items()
    for level, templates in module.LEVELS.items()
    for template in templates
]
SHARDED_CASES = [
    pytest.param(template, count, id=template.__name__) for pairs in TEMPLATES.values() for template, count in pairs
]


@pytest.fixture(scope="module")
def sandbox():
    return Sandbox()


def test_families_and_levels():
    assert set(FAMILIES) == {"list", "string", "number", "dict"} and LEVELS == (1, 2, 3)
    assert all(len(t) == 3 for m in MODULES.values() for t in m.LEVELS.values())


def test_generation_is_deterministic_and_ids_are_stable_across_processes():
    ids = [generate(f, lvl, np.random.default_rng(s)).id for f in FAMILIES for lvl in LEVELS for s in range(3)]
    assert ids == [
        generate(f, lvl, np.random.default_rng(s)).id for f in FAMILIES for lvl in LEVELS for s in range(3)
    ]
    script = (
        "import numpy as np\nfrom convenv.tasks.code import FAMILIES, LEVELS, generate\n"
        "print([generate(f, l, np.random.default_rng(s)).id for f in FAMILIES for l in LEVELS for s in range(3)])"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    assert out.strip() == repr(ids)
    assert all(i.startswith("code/") and len(i.rsplit("/", 1)[1]) == 12 for i in ids)
    assert len(set(ids)) > len(ids) // 2


@pytest.mark.parametrize(("family", "level", "template"), TEMPLATE_CASES)
def test_reference_passes_and_bugs_fail_in_the_sandbox(family, level, template, sandbox):
    task = make_task(family, level, template(np.random.default_rng(level)))
    meta = task.metadata
    assert task.id.startswith(f"code/{family}/{level}/") and task.domain == "code"
    assert meta["signature"] in task.prompt and meta["entry_point"] in meta["signature"]
    assert task.prompt.count(">>>") == 2 and 5 <= len(task.tests) <= 8
    assert len(task.hints) >= 2 and task.answer in task.solution
    report = sandbox.run_tests(task.answer, meta["entry_point"], task.tests)
    assert report.all_passed, (task.answer, report)
    assert meta["wrong_solutions"], "every template needs at least one failing bug"
    for bug in meta["wrong_solutions"]:
        assert not sandbox.run_tests(bug, meta["entry_point"], task.tests).all_passed, bug
    for hint in task.hints:
        assert not code_leak_check(hint, task).leaked, hint


@pytest.mark.parametrize(("family", "level", "template"), TEMPLATE_CASES)
def test_many_seeds_generate_without_error(family, level, template):
    for seed in range(25):
        task = make_task(family, level, template(np.random.default_rng(seed)))
        assert task.metadata["wrong_solutions"]
        assert task.answer.splitlines()[1] not in task.prompt


def test_generator_source_draws_from_its_families_and_levels():
    source = CodeTaskGenerator(families=["dict", "number"], difficulty=(2, 3))
    rng = np.random.default_rng(0)
    tasks = [source.sample(rng) for _ in range(20)]
    assert {t.metadata["family"] for t in tasks} == {"dict", "number"}
    assert {t.metadata["difficulty"] for t in tasks} <= {2, 3}
    assert "CodeTaskGenerator" in repr(source)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"families": ["lists"]}, "did you mean 'list'"),
        ({"families": []}, "got an empty list"),
        ({"difficulty": 4}, "integer level in 1..3"),
        ({"difficulty": (3, 1)}, "swap them"),
        ({"difficulty": (1, 2, 3)}, r"\(low, high\) pair"),
    ],
)
def test_generator_arguments_are_checked(kwargs, match):
    with pytest.raises(ValueError, match=match):
        CodeTaskGenerator(**kwargs)


def test_generate_rejects_a_global_random_state():
    with pytest.raises(TypeError, match="numpy.random.Generator"):
        generate("list", 1, np.random)


@pytest.mark.parametrize(("template", "count"), SHARDED_CASES)
def test_sharded_tasks_exercise_every_shard(template, count, sandbox):
    for level in range(1, count + 1):
        task = sharded(template(np.random.default_rng(level)), level, np.random.default_rng(level))
        meta = task.metadata
        assert len(task.shards) == level == meta["difficulty"] and meta["needed_shards"] == tuple(range(level))
        assert len(meta["shard_keywords"]) == level
        prompt, full = " ".join(task.prompt.split()), " ".join(meta["full_prompt"].split())
        for shard in task.shards:
            assert shard not in prompt and shard in full
        assert sandbox.run_tests(task.answer, meta["entry_point"], task.tests).all_passed
        assert len(meta["wrong_solutions"]) == level  # one variant ignoring each shard, each failing
        for bug in meta["wrong_solutions"]:
            assert not sandbox.run_tests(bug, meta["entry_point"], task.tests).all_passed


def test_sharded_generator_respects_difficulty_and_families():
    rng = np.random.default_rng(0)
    hard = ShardedCodeTaskGenerator(difficulty=3)
    assert all(len(hard.sample(rng).shards) == 3 for _ in range(10))
    strings_only = ShardedCodeTaskGenerator(families="string", difficulty=(1, 2))
    assert {strings_only.sample(rng).metadata["family"] for _ in range(10)} == {"string"}
    with pytest.raises(ValueError, match="at most 2 hidden requirements"):
        ShardedCodeTaskGenerator(families=["number"], difficulty=3)


# ------------------------------------------------------------------------------------------------- loaders
HUMANEVAL = {
    "task_id": "HumanEval/0",
    "prompt": 'def add(a: int, b: int) -> int:\n    """Add two numbers.\n    >>> add(2, 3)\n    5\n    """\n',
    "canonical_solution": "    return a + b\n",
    "test": (
        "METADATA = {}\n\n\ndef check(candidate):\n"
        "    assert candidate(2, 3) == 5\n"
        "    assert candidate(-1, 1) == 0\n"
        "    assert abs(candidate(0.1, 0.2) - 0.3) < 1e-9\n"
        "    for x in range(3):\n"
        "        assert candidate(x, 0) == x\n"
        "    assert 7 == candidate(3, 4)\n"
    ),
    "entry_point": "add",
}
MBPP = {
    "task_id": 11,
    "text": "Write a function to  remove first and last occurrence of a given character from the string.",
    "code": 'def remove_Occ(s,ch):\r\n    return s.replace(ch, "", 1)[::-1].replace(ch, "", 1)[::-1]',
    "test_list": [
        'assert remove_Occ("hello","l") == "heo"',
        'assert remove_Occ("abcda","a") == "bcd"',
        'assert set(remove_Occ("PHP","P")) == {"H"}',
    ],
}


def write_jsonl(path, rows):
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    return path


def test_load_humaneval_converts_literal_asserts_and_counts_the_rest(tmp_path, sandbox):
    tasks = load_humaneval_jsonl(write_jsonl(tmp_path / "he.jsonl", [HUMANEVAL]))
    (task,) = tasks.tasks
    assert [(t.args, t.expected) for t in task.tests] == [((2, 3), 5), ((-1, 1), 0), ((3, 4), 7)]
    meta = task.metadata
    assert meta["skipped_tests"] == 2 and meta["entry_point"] == "add" and meta["family"] == "humaneval"
    assert meta["signature"] == "def add(a: int, b: int) -> int:" and task.id.startswith("humaneval/")
    assert (
        task.answer.endswith("    return a + b\n") and sandbox.run_tests(task.answer, "add", task.tests).all_passed
    )


def test_load_mbpp_reads_the_entry_point_from_the_tests(tmp_path, sandbox):
    (task,) = load_mbpp_jsonl(write_jsonl(tmp_path / "mbpp.jsonl", [MBPP])).tasks
    assert task.metadata["entry_point"] == "remove_Occ" and task.metadata["skipped_tests"] == 1
    assert [t.args for t in task.tests] == [("hello", "l"), ("abcda", "a")]
    assert "def remove_Occ(s, ch):" in task.prompt and "assert remove_Occ('hello', 'l') == 'heo'" in task.prompt
    assert sandbox.run_tests(task.answer, "remove_Occ", task.tests).all_passed


def test_loaders_name_file_and_line_of_a_problem_without_convertible_tests(tmp_path):
    bad = dict(HUMANEVAL, test="def check(candidate):\n    assert abs(candidate(1, 2) - 3) < 1e-9\n")
    path = write_jsonl(tmp_path / "he.jsonl", [HUMANEVAL, bad])
    with pytest.raises(ValueError, match=r"he\.jsonl:2: expected at least one test .* \(1 assert\(s\)"):
        load_humaneval_jsonl(path)
    path = write_jsonl(tmp_path / "mbpp.jsonl", [dict(MBPP, test_list=["assert len(remove_Occ('a', 'a')) == 0"])])
    with pytest.raises(ValueError, match=r"mbpp\.jsonl:1: expected at least one test"):
        load_mbpp_jsonl(path)


@pytest.mark.parametrize(
    ("loader", "row", "match"),
    [
        (load_humaneval_jsonl, dict(HUMANEVAL, test="assert True\n"), "define check\\(candidate\\)"),
        (load_humaneval_jsonl, dict(HUMANEVAL, entry_point="plus"), "entry point 'plus'"),
        (load_humaneval_jsonl, {"prompt": "x"}, "expected a string field 'canonical_solution'"),
        (load_humaneval_jsonl, dict(HUMANEVAL, test="def check(:\n"), "syntax error"),
        (load_mbpp_jsonl, dict(MBPP, test_list="assert f(1) == 1"), "list of assert strings"),
        (load_mbpp_jsonl, dict(MBPP, code="def other(s, ch):\n    return s\n"), "define 'remove_Occ'"),
    ],
)
def test_loader_errors_are_clear(tmp_path, loader, row, match):
    with pytest.raises(ValueError, match=match):
        loader(write_jsonl(tmp_path / "x.jsonl", [row]))


def test_loader_missing_file_and_limit(tmp_path):
    with pytest.raises(FileNotFoundError, match="never downloads"):
        load_mbpp_jsonl(tmp_path / "missing.jsonl")
    path = write_jsonl(tmp_path / "mbpp.jsonl", [MBPP, dict(MBPP, text="Again.")])
    assert len(load_mbpp_jsonl(path, limit=1)) == 1 and len(load_mbpp_jsonl(path)) == 2
