"""Autodidact mode (teacher without privileged knowledge) and teacher prompt templates."""

import numpy as np
import pytest

import convenv


def say(env, text):
    return np.asarray(env.tokenizer.encode(text), dtype=np.int64)


def test_autodidact_teacher_sees_only_the_public_problem():
    env = convenv.make("MathTutor-v0", teacher_knowledge="none")
    obs, infos = env.reset(seed=3)
    teacher_view = env.transcript.view_text("teacher")
    assert env.task.prompt in teacher_view and "You do not know the answer" in teacher_view
    assert env.task.solution not in teacher_view and "task" not in infos["teacher"]
    env.step({"teacher": say(env, env.task.prompt)})
    _, _, _, _, infos = env.step({"student": say(env, "\\boxed{123456}")})
    assert "[verifier]" not in env.transcript.view_text("teacher")  # no reports: it judges on its own
    assert infos["teacher"]["correct"] is False and "verdict" not in infos["teacher"]
    with pytest.raises(ValueError, match="expected teacher_knowledge='privileged' for the scripted teacher"):
        env.default_teacher()
    env.close()


def test_teacher_prompt_template_fills_the_slots():
    template = "Problem: {problem}\nGold: {answer}\nHow: {solution}\nHints:\n{hints}"
    env = convenv.make("MathTutor-v0", teacher_prompt_template=template)
    env.reset(seed=0)
    system = env.transcript.messages[1]
    assert system.visible_to == frozenset({"teacher"})
    assert system.text.startswith(f"Problem: {env.task.prompt}\nGold: {env.task.answer}\n")
    env.close()


def test_bad_teacher_knowledge_is_rejected():
    with pytest.raises(ValueError, match="expected teacher_knowledge in \\('privileged', 'none'\\)"):
        convenv.make("MathTutor-v0", teacher_knowledge="partial")
