"""Tables (rich and plain), the JSON written, the plot, and the import staying light."""

import json
import subprocess
import sys

import pytest

from convenv.evaluation import evaluate, format_report, read_jsonl, summarize


@pytest.fixture(scope="module")
def report():
    return evaluate("GuessNumber-v0", ["bisection", "no-feedback"], episodes=10)


def test_plain_and_rich_tables(report):
    plain = report.table("plain")
    assert plain.startswith("GuessNumber-v0, teacher scripted, 10 episodes per student (seeds 0-9), 95% Wilson")
    assert "\n5  1.00 [0.72, 1.00]  " in plain  # bisection always solves by turn 5; 10/10 -> [0.72, 1.00]
    lines = plain.splitlines()
    summary = lines[lines.index("summary") + 1]
    assert summary.split() == ["student", "success", "[95%", "CI]", "turns", "to", "success", "unchanged", "after",
                               "neg.", "(pairs)", "attempts/ep", "leak", "rate", "return"]  # fmt: skip
    assert "questions/ep" not in plain and "gold NLL" not in plain  # columns no student has
    pytest.importorskip("rich")
    rich = format_report(report, style="rich")
    assert "┃ student" in rich and "│ bisection" in rich
    with pytest.raises(ValueError, match=r"expected style 'auto', 'rich' or 'plain', got 'html'"):
        report.table("html")


def test_questions_and_premature_attempts_on_a_sharded_env():
    report = evaluate("MathTutor-Sharded-v0", "oracle", episodes=3)
    [m] = report.metrics
    assert m.premature_per_episode == 1.0 and m.success == 1.0  # answers at once, before any fact was revealed
    assert "premature/ep" in report.table("plain")


def test_write_json_jsonl_png_and_rescore(report, tmp_path):
    pytest.importorskip("matplotlib")
    assert report.write(tmp_path) == ["metrics.json", "success_by_turn.png", "transcripts.jsonl"]
    data = json.loads((tmp_path / "metrics.json").read_text())
    assert data["seeds"] == [0, 9] and data["interval"] == "wilson" and list(data["students"]) == [
        "bisection", "no-feedback"
    ]  # fmt: skip
    assert data["students"]["bisection"]["success_by_turn"][-1] == 1.0
    assert (tmp_path / "success_by_turn.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    records = read_jsonl(tmp_path / "transcripts.jsonl")
    assert len(records) == 20
    rescored = summarize([r for r in records if r.student == "no-feedback"], "no-feedback")
    assert rescored.to_dict() == data["students"]["no-feedback"]  # saved transcripts give the same metrics


def test_plot_errors(report, tmp_path, monkeypatch):
    from convenv.error import MissingExtra
    from convenv.evaluation import plot_success_by_turn

    with pytest.raises(ValueError, match=r"expected metrics of at least one agent, got none; pass report.metrics"):
        plot_success_by_turn([], tmp_path / "p.png")
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with pytest.raises(MissingExtra, match=r"'matplotlib'.*pip install 'convenv\[train\]'"):
        plot_success_by_turn(report, tmp_path / "p.png")


def test_import_stays_light():
    code = "import sys, convenv.evaluation, convenv.cli_eval; print([m for m in ('torch', 'matplotlib', 'rich') " \
           "if m in sys.modules])"  # fmt: skip
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
