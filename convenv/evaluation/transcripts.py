"""Episode records: what one evaluated episode said, saved as JSONL and loadable back as SFT examples.

One JSON object per line, one line per episode (:class:`EpisodeRecord`). Every message of the transcript is kept,
system prompts and teacher-only verifier reports included, with who could see it, so any viewer's token view can
be rebuilt exactly by re-tokenizing the texts with the env's tokenizer (:func:`rebuild_transcript`). Where an
utterance's ids are not what its text re-encodes to (random ids that are not valid UTF-8, a model's
non-canonical token split), the message also stores its ``ids``, so the round trip stays exact.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from typing import Any

from convenv.error import missing_extra
from convenv.transcript import Transcript

__all__ = ["EpisodeRecord", "read_jsonl", "rebuild_transcript", "record_episode", "sft_examples", "write_jsonl"]


@dataclass
class EpisodeRecord:
    """One finished episode, as saved in a JSONL line.

    Attributes:
        env_id: the env played (``convenv.make`` id).
        env_kwargs: the keyword arguments it was made with, or None when they are not JSON (e.g. a tokenizer
            object): then pass ``tokenizer=`` to :func:`sft_examples`.
        tokenizer: the env tokenizer's ``name`` (checked when the texts are re-tokenized).
        task_id: the task played.
        seed: the reset seed.
        student: the student's spec or label.
        teacher: the teacher's spec or label.
        max_turns: the env's turn limit.
        success, success_turn, turns, reason, leaks, attempts, questions, premature_attempts: the env's
            ``info["episode"]``.
        returns: summed reward per agent.
        messages: every message in order: ``role`` (``system``, ``teacher``, ``student``, ``verifier``),
            ``text``, ``tokens`` (body length in ids), ``visible_to`` (viewers), ``verdict``
            (``{"correct", "extracted", "error"}``, on verified student attempts) and ``ids`` (only where the text
            does not re-encode to the spoken ids).
        gold_nll: for model students, the mean NLL per id of the gold answer after each teacher message
            (:func:`~convenv.evaluation.nll.gold_answer_nll`); None otherwise.

    """

    env_id: str
    env_kwargs: dict[str, Any] | None
    tokenizer: str
    task_id: str
    seed: int | None
    student: str
    teacher: str
    max_turns: int
    success: bool
    success_turn: int | None
    turns: int
    reason: str
    leaks: int
    attempts: int
    questions: int
    premature_attempts: int
    returns: dict[str, float]
    messages: list[dict[str, Any]]
    gold_nll: list[float] | None = None

    def to_dict(self) -> dict[str, Any]:
        """The record as a JSON-ready dict."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EpisodeRecord:
        """Build a record from a dict read from JSONL (unknown keys are ignored, missing ones raise)."""
        names = [f.name for f in fields(cls)]
        required = [f.name for f in fields(cls) if f.name != "gold_nll"]
        missing = [n for n in required if n not in data]
        if missing:
            raise ValueError(
                f"expected an episode record with keys {required}, got one missing {missing}; read a JSONL file "
                "written by convenv eval / write_jsonl"
            )
        return cls(**{n: data[n] for n in names if n in data})


def _json_or_none(value: Any) -> Any:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return None
    return value


def record_episode(
    env: Any,
    episode: Mapping[str, Any],
    returns: Mapping[str, float],
    *,
    seed: int | None,
    student: str,
    teacher: str,
    env_kwargs: Mapping[str, Any] | None = None,
    gold_nll: Sequence[float] | None = None,
) -> EpisodeRecord:
    """The record of ``env``'s finished episode.

    Args:
        env: the env right after its episode ended (its transcript is read).
        episode: the final ``info["episode"]`` of that episode.
        returns: summed reward per agent (e.g. :attr:`convenv.play.EpisodeResult.returns`).
        seed: the reset seed.
        student: label of the student that played.
        teacher: label of the teacher that played.
        env_kwargs: what the env was made with (stored when JSON-serializable).
        gold_nll: per teacher message, see :class:`EpisodeRecord`.

    """
    tok = env.transcript.tokenizer
    verdicts = {id(m): v for m, v in env.public_messages() if v is not None}
    messages = []
    for message in env.transcript.messages:
        entry: dict[str, Any] = {
            "role": message.speaker,
            "text": message.text,
            "tokens": len(message.body),
            "visible_to": sorted(message.visible_to),
        }
        verdict = verdicts.get(id(message))
        if verdict is not None:
            entry["verdict"] = {"correct": bool(verdict.correct), "extracted": verdict.extracted,
                                "error": verdict.error}  # fmt: skip
        if [int(i) for i in tok.encode(message.text)] != list(message.body):
            entry["ids"] = [int(i) for i in message.body]
        messages.append(entry)
    return EpisodeRecord(
        env_id=str(getattr(env, "env_id", "")),
        env_kwargs=_json_or_none(dict(env_kwargs or {})),
        tokenizer=str(tok.name),
        task_id=env.task.id,
        seed=None if seed is None else int(seed),
        student=student,
        teacher=teacher,
        max_turns=int(env.max_turns),
        success=bool(episode["success"]),
        success_turn=episode["success_turn"],
        turns=int(episode["turns"]),
        reason=str(episode["reason"]),
        leaks=int(episode["leaks"]),
        attempts=int(episode.get("attempts", 0)),
        questions=int(episode.get("questions", 0)),
        premature_attempts=int(episode.get("premature_attempts", 0)),
        returns={k: float(v) for k, v in returns.items()},
        messages=messages,
        gold_nll=None if gold_nll is None else [float(x) for x in gold_nll],
    )


def write_jsonl(records: Iterable[EpisodeRecord | Mapping[str, Any]], path: str | os.PathLike) -> int:
    """Write one JSON object per record to ``path`` (overwritten); returns the number of lines."""
    n = 0
    with open(path, "w", encoding="utf-8") as f:
        for record in records:
            data = record.to_dict() if isinstance(record, EpisodeRecord) else dict(record)
            f.write(json.dumps(data, ensure_ascii=False) + "\n")
            n += 1
    return n


def read_jsonl(path: str | os.PathLike) -> list[EpisodeRecord]:
    """Read the records written by :func:`write_jsonl` (or ``convenv eval --out``'s ``transcripts.jsonl``)."""
    records = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                records.append(EpisodeRecord.from_dict(json.loads(line)))
            except json.JSONDecodeError as e:
                raise ValueError(f"expected one JSON object per line, got invalid JSON at {path}:{n} ({e})") from e
    return records


# ----------------------------------------------------------------------------------------------- round trip
def rebuild_transcript(record: EpisodeRecord | Mapping[str, Any], tokenizer: Any) -> Transcript:
    """Re-tokenize a record's messages into a :class:`~convenv.transcript.Transcript` with the env's tokenizer.

    Each message is appended as the env appended it (its text encoded once, or its stored ``ids``), so every
    view's ids are those the env produced.

    Raises:
        ValueError: the tokenizer is not the one that played (its name differs), or a message re-encodes to a
            different number of ids than were spoken.

    """
    record = record if isinstance(record, EpisodeRecord) else EpisodeRecord.from_dict(record)
    if str(tokenizer.name) != record.tokenizer:
        raise ValueError(
            f"expected the tokenizer the episode was played with ({record.tokenizer}), got {tokenizer.name}; pass "
            "that tokenizer (e.g. convenv.make(env_id, **env_kwargs).tokenizer)"
        )
    transcript = Transcript(tokenizer, viewers=("teacher", "student"))
    for i, m in enumerate(record.messages):
        body = m["ids"] if "ids" in m else tokenizer.encode(m["text"])
        if len(body) != int(m["tokens"]):
            raise ValueError(
                f"expected message {i} of task {record.task_id} to re-encode to its {m['tokens']} ids, got "
                f"{len(body)}; the tokenizer differs from the one that played, pass the env's own tokenizer"
            )
        transcript.append(m["role"], body=body, text=m["text"], visible_to=m["visible_to"])
    return transcript


def sft_examples(
    records: str | os.PathLike | Iterable[EpisodeRecord | Mapping[str, Any]],
    *,
    role: str = "student",
    tokenizer: Any = None,
    only_successful: bool = True,
) -> list[Any]:
    """Turn saved episodes into :class:`~convenv.algorithms.sft.SFTExample` objects (needs the ``train`` extra).

    Each example is ``role``'s view re-tokenized with the env tokenizer, with ``loss_mask`` 1 on ``role``'s own
    message bodies and the end-of-turn id after each: the same example
    :func:`~convenv.algorithms.sft.view_example` builds from the live env.

    Args:
        records: a JSONL path or records (objects or dicts).
        role: whose view and messages (``"student"`` or ``"teacher"``).
        tokenizer: the env tokenizer; default: ``convenv.make(env_id, **env_kwargs).tokenizer`` of each record.
        only_successful: keep only the solved episodes (filtered SFT).

    Returns:
        One example per kept episode; ``meta`` holds ``seed``, ``success_turn``, ``turns`` and ``student``.

    """
    try:
        from convenv.algorithms.sft import SFTExample, message_mask
    except ImportError as e:
        raise missing_extra(e.name or "torch", "train") from e
    if isinstance(records, (str, os.PathLike)):
        records = read_jsonl(records)
    tokenizers: dict[str, Any] = {}
    examples = []
    for record in records:
        record = record if isinstance(record, EpisodeRecord) else EpisodeRecord.from_dict(record)
        if only_successful and not record.success:
            continue
        tok = tokenizer if tokenizer is not None else _env_tokenizer(record, tokenizers)
        transcript = rebuild_transcript(record, tok)
        examples.append(
            SFTExample(
                tokens=transcript.view_ids(role),
                loss_mask=message_mask(transcript, role, role),
                task_id=record.task_id,
                success=record.success,
                meta={
                    "seed": record.seed,
                    "success_turn": record.success_turn,
                    "turns": record.turns,
                    "student": record.student,
                },
            )
        )
    return examples


def _env_tokenizer(record: EpisodeRecord, cache: dict[str, Any]) -> Any:
    if record.env_kwargs is None:
        raise ValueError(
            f"expected env_kwargs in the record of task {record.task_id} to rebuild its tokenizer, got none (they "
            "were not JSON); pass tokenizer=<the env's tokenizer>"
        )
    key = json.dumps([record.env_id, record.env_kwargs], sort_keys=True)
    if key not in cache:
        import convenv

        env = convenv.make(record.env_id, **record.env_kwargs)
        cache[key] = env.tokenizer
        env.close()
    return cache[key]
