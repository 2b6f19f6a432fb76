"""``check_env``: the conversation contract, checked on a real env (beyond PettingZoo's ``parallel_api_test``).

Each check raises ``AssertionError`` with a message that says what broke and where to look.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from convenv.error import InvalidAction, NotYourTurn, ResetNeeded

PRIVILEGED_INFO_KEYS = ("task", "verdict", "leak")


def check_env(env: Any, *, seed: int = 0, episodes: int = 3, pettingzoo: bool = True) -> None:
    """Check ``env`` (a :class:`~convenv.env.ConversationEnv`) against the convenv contract.

    Checks, in order: PettingZoo's ``parallel_api_test`` (if ``pettingzoo``); the same seed gives identical
    transcripts, rewards and infos; every view is append-only at every step; the student never sees privileged
    knowledge (teacher system prompt, verifier reports, the answer or solution outside the public prompt, and no
    privileged info keys); only the speaker acts; invalid actions raise and change nothing; a correct attempt
    terminates with reward ``gamma ** (t - 1)``; ``step`` after the end raises.

    Args:
        env: the env to check (it is reset many times; close it yourself afterwards).
        seed: first seed used; episodes use ``seed, seed + 1, ...``.
        episodes: how many random-student episodes the determinism and append-only checks play.
        pettingzoo: also run ``pettingzoo.test.parallel_api_test``.

    """
    if pettingzoo:
        from pettingzoo.test import parallel_api_test

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            parallel_api_test(env, num_cycles=4 * env.max_turns + 4)
    for episode in range(episodes):
        first = _record_episode(env, seed + episode)
        second = _record_episode(env, seed + episode)
        assert first == second, (
            f"same seed ({seed + episode}) gave different episodes: reset(seed) must fix the task and every random "
            "choice through the env's own generator, and agents must be seeded"
        )
    check_only_speaker_acts(env, seed)
    check_invalid_actions_change_nothing(env, seed)
    check_success_reward(env, seed)


def _random_student(env: Any, seed: int) -> Callable[[int], np.ndarray]:
    space = env.action_space("student")
    rng = np.random.default_rng(seed)
    allowed = np.setdiff1d(np.arange(space.vocab_size), list(space.exclude))

    def act(turn: int) -> np.ndarray:
        if turn % 2:  # alternate random ids with a plausible wrong answer, so both paths are exercised
            return np.asarray(env.tokenizer.encode(env.domain.wrong_answer(env.task, rng)), dtype=np.int64)
        return rng.choice(allowed, size=int(rng.integers(1, min(space.max_length, 64) + 1))).astype(np.int64)

    return act


def _record_episode(env: Any, seed: int) -> list[Any]:
    """Play one episode (default teacher, seeded random student); check views as it goes; return a record."""
    teacher = env.default_teacher()
    student = _random_student(env, seed)
    observations, infos = env.reset(seed=seed)
    record: list[Any] = [env.task.id]
    views = {a: observations[a]["tokens"].copy() for a in env.possible_agents}
    _check_student_sees_nothing_privileged(env, infos)
    while env.agents:
        speaker = infos[env.agents[0]]["to_act"]
        if speaker == "teacher":
            action = teacher.act([observations["teacher"]], [infos["teacher"]])[0]
        else:
            action = student(infos["student"]["turn"])
        observations, rewards, terms, truncs, infos = env.step({speaker: action})
        for agent, obs in observations.items():
            new = obs["tokens"]
            old = views[agent]
            assert len(new) >= len(old) and np.array_equal(new[: len(old)], old), (
                f"{agent!r}'s view is not append-only at step {len(record)}: earlier tokens changed; "
                "never re-render or re-tokenize history (DESIGN §3)"
            )
            views[agent] = new.copy()
        _check_student_sees_nothing_privileged(env, infos)
        record.append(
            (
                speaker,
                tuple(int(i) for i in action),
                rewards,
                terms,
                truncs,
                {a: dict(info) for a, info in infos.items()},
            )
        )
    record.append({a: views[a].tolist() for a in views})
    return record


def _check_student_sees_nothing_privileged(env: Any, infos: dict[str, dict]) -> None:
    transcript, task = env.transcript, env.task
    for message in transcript.view_messages("student"):
        assert message.speaker != "verifier", "a verifier report reached the student's view; make it teacher-only"
        assert "student" in message.visible_to
    teacher_system = next(m for m in transcript.messages if m.speaker == "system" and "teacher" in m.visible_to)
    student_text = transcript.view_text("student")
    assert teacher_system.text not in student_text, "the teacher's system prompt appears in the student's view"
    others = " ".join(m.text for m in transcript.view_messages("student") if m.speaker != "student")
    if len(task.solution) >= 20:
        assert task.solution not in others, "the worked solution appears in the student's view"
    said = [m.text for m in transcript.messages if m.speaker == "student"]
    for message in transcript.view_messages("student"):
        if message.speaker == "teacher":
            report = env.domain.leak_check(message.text, task, public=said)
            assert not report.leaked, (
                f"a teacher message leaks the answer ({report.matches}): {message.text[:200]!r}; "
                "the scripted teacher must never state the answer"
            )
    student_info = infos.get("student", {})
    leaked_keys = [k for k in PRIVILEGED_INFO_KEYS if k in student_info]
    assert not leaked_keys, f"the student's info holds privileged keys {leaked_keys}; keep them teacher-only"


def check_only_speaker_acts(env: Any, seed: int = 0) -> None:
    """An action from the agent whose turn it is not is ignored (and flagged); a missing speaker action raises."""
    teacher = env.default_teacher()
    observations, infos = env.reset(seed=seed)
    before = len(env.transcript)
    stray = env.action_space("student").sample()
    try:
        env.step({"student": stray})
    except NotYourTurn:
        pass
    else:
        raise AssertionError("stepping without the speaker's action must raise NotYourTurn")
    assert len(env.transcript) == before, "a rejected step changed the transcript"
    action = teacher.act([observations["teacher"]], [infos["teacher"]])[0]
    observations, _, _, _, infos = env.step({"teacher": action, "student": stray})
    spoken = [m for m in env.transcript.messages[before:]]
    assert [m.speaker for m in spoken] == ["teacher"], "only the speaker's utterance may be appended"
    assert infos["student"]["ignored_action"] is True, "the non-speaker's action must be reported as ignored"
    assert infos["teacher"]["ignored_action"] is False


def check_invalid_actions_change_nothing(env: Any, seed: int = 0) -> None:
    """Out-of-vocabulary ids, wrong dtype, overlong and structural ids raise InvalidAction; nothing changes."""
    env.reset(seed=seed)
    tok = env.tokenizer
    bad = {
        "out of vocabulary": np.array([1, tok.vocab_size + 5], dtype=np.int64),
        "negative id": np.array([-1], dtype=np.int64),
        "float dtype": np.array([1.0, 2.0]),
        "overlong": np.ones(env.max_utterance_tokens + 1, dtype=np.int64) * tok.encode("a")[0],
        "structural id": np.array([*tok.encode("hi"), next(iter(tok.special_ids.values())), *tok.encode("x")]),
        "empty": np.array([], dtype=np.int64),
        "2-D": np.ones((2, 2), dtype=np.int64),
        "text": "hello",
    }
    for name, action in bad.items():
        views = {a: env.transcript.view_ids(a) for a in env.possible_agents}
        count = len(env.transcript)
        try:
            env.step({"teacher": action})
        except InvalidAction:
            pass
        else:
            raise AssertionError(f"a {name} action was accepted; it must raise InvalidAction")
        assert len(env.transcript) == count, f"a rejected {name} action changed the transcript"
        for agent, ids in views.items():
            assert np.array_equal(env.transcript.view_ids(agent), ids), f"a rejected {name} action changed a view"


def check_success_reward(env: Any, seed: int = 0) -> None:
    """A wrong then a correct attempt: termination at student turn 2 with reward gamma; then step raises."""
    teacher = env.default_teacher()
    observations, infos = env.reset(seed=seed)
    rng = np.random.default_rng(seed)
    attempts = [env.domain.wrong_answer(env.task, rng), env.domain.format_answer(env.task)]
    total = 0.0
    while env.agents:
        speaker = infos["teacher"]["to_act"]
        if speaker == "teacher":
            action = teacher.act([observations["teacher"]], [infos["teacher"]])[0]
        else:
            action = np.asarray(env.tokenizer.encode(attempts.pop(0)), dtype=np.int64)
        observations, rewards, terms, truncs, infos = env.step({speaker: action})
        total += rewards["student"]
    if env.max_turns >= 2:
        episode = infos["student"]["episode"]
        assert episode["success"] and episode["success_turn"] == 2, (
            f"a wrong then a correct attempt must succeed at turn 2, got {episode}; check the verifier and "
            "the domain's wrong_answer/format_answer"
        )
        expected = env.gamma - 2 * env.turn_cost
        assert abs(total - expected) < 1e-9, f"student return {total} != gamma - 2 * turn_cost = {expected}"
        assert all(terms.values()) and not any(truncs.values()), "success must terminate, not truncate"
    try:
        env.step({"teacher": np.array(env.tokenizer.encode("more"))})
    except ResetNeeded:
        pass
    else:
        raise AssertionError("step after the end must raise ResetNeeded")
