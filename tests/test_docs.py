"""Code in README and docs is executed: each ```python block runs in a fresh interpreter."""

import doctest
import importlib
import os
import pathlib
import re
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)  # fences at line starts only
BLOCKS = [
    pytest.param(code, id=f"{page.relative_to(ROOT)}#{n}")
    for page in PAGES
    for n, code in enumerate(BLOCK.findall(page.read_text()))
]
# every module whose docstrings hold examples (code that only runs inside the sandbox is not imported here)
DOCTEST_MODULES = sorted(
    ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
    for path in (ROOT / "convenv").rglob("*.py")
    if re.search(r"^\s*>>> ", path.read_text(), re.M) and path.name != "runner.py"
)


@pytest.mark.parametrize("code", BLOCKS)
def test_doc_block_runs(code, tmp_path):
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, env=env, timeout=300
    )
    assert result.returncode == 0, result.stderr[-3000:]


@pytest.mark.parametrize("name", DOCTEST_MODULES)
def test_docstring_examples(name):
    failures, tried = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert tried > 0 and failures == 0
