import subprocess
import sys

HEAVY = ("torch", "transformers", "stable_baselines3")
# Files that run only inside the bubblewrap sandbox (under the system python with -I -S): executing the
# submission there is their job. The host only ships their source and uses their encoders on trusted test data.
SANDBOXED = {"sandbox/runner.py"}


def test_import_convenv_pulls_no_heavy_modules():
    code = (
        "import sys, convenv, convenv.wrappers, convenv.agents, convenv.utils, convenv.tokenizers;"
        f"print([m for m in {HEAVY!r} if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_library_code_never_evals_strings():
    """Student text is hostile: no eval/exec/sympify/parse_expr calls anywhere in the package."""
    import pathlib
    import re

    root = pathlib.Path(__file__).resolve().parents[1] / "convenv"
    pattern = re.compile(r"(?<![\w.])(eval|exec|sympify|parse_expr)\s*\(|\.(sympify|parse_expr)\s*\(")
    hits = []
    for path in root.rglob("*.py"):
        if path.relative_to(root).as_posix() in SANDBOXED:
            continue
        for n, line in enumerate(path.read_text().splitlines(), 1):
            code = line.split("#", 1)[0]
            if pattern.search(code):
                hits.append(f"{path}:{n}: {line.strip()}")
    assert hits == []
