"""JSONL episode records: what they hold, and the round trip back to the env's exact view ids (SFT examples)."""

import json

import numpy as np
import pytest

import convenv
from convenv.agents import OracleStudent, RandomAgent
from convenv.envs.course import BisectionStudent
from convenv.evaluation import EpisodeRecord, evaluate, read_jsonl, rebuild_transcript, record_episode, write_jsonl
from convenv.play import play_batch


def play_and_record(env_id, make_student, n=3, **env_kwargs):
    """Play n episodes; return the records and each env's (student view, teacher view) right after its episode."""
    envs = [convenv.make(env_id, **env_kwargs) for _ in range(n)]
    try:
        recorded = [_Recorder(env) for env in envs]
        results = play_batch(recorded, {"teacher": envs[0].default_teacher(), "student": make_student(envs)},
                             seeds=range(n))  # fmt: skip
        records, views = [], []
        for env, result, seed in zip(recorded, results, range(n), strict=True):
            episode = next(iter(env.last_infos.values()))["episode"]
            records.append(record_episode(env.env, episode, result.returns, seed=seed, student="s", teacher="t",
                                          env_kwargs=env_kwargs))  # fmt: skip
            views.append({v: env.env.transcript.view_ids(v) for v in ("student", "teacher")})
        return records, views
    finally:
        for env in envs:
            env.close()


class _Recorder:
    def __init__(self, env):
        self.env, self.last_infos = env, {}

    def reset(self, **kwargs):
        obs, self.last_infos = self.env.reset(**kwargs)
        return obs, self.last_infos

    def step(self, actions):
        out = self.env.step(actions)
        self.last_infos = out[-1]
        return out

    def __getattr__(self, name):
        return getattr(self.env, name)


def test_records_hold_every_message_with_role_text_tokens_and_verdicts(tmp_path):
    report = evaluate("GuessNumber-v0", "bisection", episodes=3)
    path = tmp_path / "t.jsonl"
    assert write_jsonl(report.records["bisection"], path) == 3
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    first = lines[0]
    assert {k: first[k] for k in ("env_id", "seed", "student", "teacher", "tokenizer")} == {
        "env_id": "GuessNumber-v0", "seed": 0, "student": "bisection", "teacher": "scripted", "tokenizer": "char"
    }  # fmt: skip
    assert first["task_id"] and first["success"] is True
    roles = [m["role"] for m in first["messages"]]
    assert roles[:3] == ["system", "system", "teacher"] and "verifier" in roles
    students = [m for m in first["messages"] if m["role"] == "student"]
    assert all(m["verdict"]["extracted"] == m["text"] for m in students)
    assert students[-1]["verdict"]["correct"] and not any(m["verdict"]["correct"] for m in students[:-1])
    assert all(m["tokens"] == len(m["text"]) and "ids" not in m for m in first["messages"])  # char: one id each
    assert [r.to_dict() for r in read_jsonl(path)] == lines


@pytest.mark.parametrize(
    "env_id, make_student, env_kwargs, keeps_ids",
    [
        ("GuessNumber-v0", lambda envs: BisectionStudent(envs[0].tokenizer), {"difficulty": 1}, False),  # char
        ("MathTutor-v0", lambda envs: OracleStudent(envs, correct_at=3), {"max_turns": 3}, False),  # byte
        # random byte ids are often not UTF-8: their text does not re-encode, so the record keeps the ids
        ("MathTutor-v0", lambda envs: RandomAgent("student", envs[0], seed=0, max_length=12), {"max_turns": 2},
         True),
    ],
)  # fmt: skip
def test_round_trip_reproduces_the_env_views_exactly(tmp_path, env_id, make_student, env_kwargs, keeps_ids):
    records, views = play_and_record(env_id, make_student, **env_kwargs)
    write_jsonl(records, tmp_path / "t.jsonl")
    for record, view in zip(read_jsonl(tmp_path / "t.jsonl"), views, strict=True):
        tokenizer = convenv.make(env_id, **env_kwargs).tokenizer
        transcript = rebuild_transcript(record, tokenizer)
        for viewer in ("student", "teacher"):
            np.testing.assert_array_equal(transcript.view_ids(viewer), view[viewer])
    assert any("ids" in m for r in records for m in r.messages) == keeps_ids


def test_sft_examples_match_view_example(tmp_path):
    pytest.importorskip("torch")
    from convenv.algorithms.sft import view_example
    from convenv.evaluation import sft_examples

    envs = [convenv.make("MathTutor-v0", max_turns=3) for _ in range(4)]
    try:
        recorded = [_Recorder(env) for env in envs]
        student = OracleStudent(envs, correct_at=2)
        results = play_batch(recorded, {"teacher": envs[0].default_teacher(), "student": student}, seeds=range(4))
        expected = [view_example(env, "student") for env in envs]
        records = [record_episode(env.env, next(iter(env.last_infos.values()))["episode"], r.returns, seed=i,
                                  student="oracle:2", teacher="scripted", env_kwargs={"max_turns": 3})
                   for i, (env, r) in enumerate(zip(recorded, results, strict=True))]  # fmt: skip
    finally:
        for env in envs:
            env.close()
    write_jsonl(records, tmp_path / "t.jsonl")
    examples = sft_examples(tmp_path / "t.jsonl")  # the tokenizer is rebuilt from env_id and env_kwargs
    assert len(examples) == 4
    for got, want in zip(examples, expected, strict=True):
        np.testing.assert_array_equal(got.tokens, want.tokens)
        np.testing.assert_array_equal(got.loss_mask, want.loss_mask)
        assert got.task_id == want.task_id and got.success and got.meta["success_turn"] == 2
    teacher = sft_examples(records, role="teacher")
    assert teacher[0].trained_tokens > 0 and len(teacher[0]) > len(examples[0])


def test_round_trip_with_a_hugging_face_chat_tokenizer():
    pytest.importorskip("transformers")
    from tiny_hf import hf_chat_tokenizer

    tok = hf_chat_tokenizer("chatml")
    records, views = play_and_record("MathTutor-v0", lambda envs: OracleStudent(envs, correct_at=2), n=2,
                                     max_turns=2, tokenizer=tok)  # fmt: skip
    assert records[0].env_kwargs is None  # a tokenizer object is not JSON
    for record, view in zip(records, views, strict=True):
        np.testing.assert_array_equal(rebuild_transcript(record, tok).view_ids("student"), view["student"])


def test_errors(tmp_path):
    report = evaluate("GuessNumber-v0", "bisection", episodes=1)
    record = report.records["bisection"][0]
    with pytest.raises(ValueError, match=r"expected the tokenizer the episode was played with \(char\), got byte;"):
        rebuild_transcript(record, convenv.make("MathTutor-v0").tokenizer)
    bad = record.to_dict()
    bad["messages"][0] = {**bad["messages"][0], "tokens": 99}
    with pytest.raises(ValueError, match=r"expected message 0 of task .* to re-encode to its 99 ids, got \d+; the"):
        rebuild_transcript(bad, convenv.make("GuessNumber-v0").tokenizer)
    with pytest.raises(
        ValueError, match=r"expected an episode record with keys .*, got one missing \['messages'\]"
    ):
        EpisodeRecord.from_dict({k: v for k, v in record.to_dict().items() if k != "messages"})
    (tmp_path / "bad.jsonl").write_text("{not json\n")
    with pytest.raises(ValueError, match=r"expected one JSON object per line, got invalid JSON at .*bad.jsonl:1"):
        read_jsonl(tmp_path / "bad.jsonl")
    pytest.importorskip("torch")
    from convenv.evaluation import sft_examples

    with pytest.raises(
        ValueError, match=r"expected env_kwargs in the record of task .* got none .*pass tokenizer="
    ):
        sft_examples([{**record.to_dict(), "env_kwargs": None}])
