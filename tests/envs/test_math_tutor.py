"""MathTutor-v0 beyond the generic checks: other tokenizers, local task files, every scripted teacher."""

import json

import numpy as np
import pytest
from tiny_hf import chatml_tokenizer, llama3_tokenizer

import convenv
from convenv.agents import OracleStudent
from convenv.play import play_episode
from convenv.utils import check_env


@pytest.mark.parametrize("build", [chatml_tokenizer, llama3_tokenizer], ids=["chatml", "llama3"])
def test_math_tutor_over_a_hugging_face_chat_template(build):
    env = convenv.make("MathTutor-v0", tokenizer=build(), max_turns=3)
    check_env(env, episodes=2, pettingzoo=False)
    obs, _ = env.reset(seed=0)
    text = env.tokenizer.decode(obs["student"]["tokens"], skip_special_tokens=False)
    assert "assistant" not in text.split("system", 1)[0]  # views start with the system prompt
    env.close()


def test_views_use_assistant_for_oneself_with_a_chat_template():
    env = convenv.make("MathTutor-v0", tokenizer=chatml_tokenizer())
    obs, infos = env.reset(seed=0)
    obs, *_ = env.step({"teacher": env.default_teacher().act([obs["teacher"]], [infos["teacher"]])[0]})
    decode = env.tokenizer.decode
    assert decode(obs["teacher"]["tokens"], skip_special_tokens=False).rstrip().endswith("<|im_end|>")
    assert "<|im_start|>assistant" in decode(obs["teacher"]["tokens"], skip_special_tokens=False)
    assert "<|im_start|>user" in decode(obs["student"]["tokens"], skip_special_tokens=False)
    env.close()


def test_tasks_from_a_local_gsm8k_file(tmp_path):
    path = tmp_path / "gsm8k.jsonl"
    rows = [
        {"question": "Tom has 3 apples and buys 4 more. How many apples?", "answer": "3 + 4 = <<3+4=7>>7\n#### 7"},
        {"question": "A pen costs 2 dollars. How much do 6 pens cost?", "answer": "6 * 2 = 12\n#### 12"},
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows))
    env = convenv.make("MathTutor-v0", tasks_file=str(path), tasks_format="gsm8k")
    seen = set()
    for seed in range(8):
        result = play_episode(
            env, {"teacher": env.default_teacher(), "student": OracleStudent(env, correct_at=2)}, seed=seed
        )
        assert result.success and result.success_turn == 2
        seen.add(env.task.answer)
    assert seen == {"7", "12"}
    with pytest.raises(ValueError, match="expected tasks_format in"):
        convenv.make("MathTutor-v0", tasks_file=str(path), tasks_format="csv")
    env.close()


@pytest.mark.parametrize("teacher", ["verdict", "direction", "locate", "hints"])
def test_every_scripted_teacher_plays_without_leaking(teacher):
    env = convenv.make("MathTutor-v0", teacher=teacher, max_turns=4)
    student = OracleStudent(env, correct_at=4, seed=1)
    for seed in range(10):
        result = play_episode(env, {"teacher": env.default_teacher(), "student": student}, seed=seed)
        assert result.success_turn == 4 and result.leaks == 0 and result.returns["student"] == 1.0
    env.close()


def test_difficulty_and_families_select_tasks():
    env = convenv.make("MathTutor-v0", families=["quadratic"], difficulty=1)
    for seed in range(5):
        env.reset(seed=seed)
        assert env.task.id.startswith("math/quadratic/1/")
    env.close()


def test_gamma_discounts_late_success():
    env = convenv.make("MathTutor-v0", gamma=0.7, max_turns=4)
    result = play_episode(
        env, {"teacher": env.default_teacher(), "student": OracleStudent(env, correct_at=3)}, seed=0
    )
    assert result.returns["student"] == pytest.approx(0.7**2)
    env.close()


def test_hostile_attempt_is_just_wrong():
    env = convenv.make("MathTutor-v0")
    obs, infos = env.reset(seed=0)
    env.step({"teacher": env.default_teacher().act([obs["teacher"]], [infos["teacher"]])[0]})
    payload = "\\boxed{__import__('os').system('echo pwned')}"
    _, rewards, _, _, infos = env.step({"student": np.array(env.tokenizer.encode(payload))})
    assert rewards["student"] == 0.0 and infos["teacher"]["verdict"].error == "parse_error"
    env.close()


def test_marked_answers_only_ignores_a_bare_number():
    env = convenv.make("MathTutor-v0", marked_answers_only=True, families=["arithmetic"])
    obs, infos = env.reset(seed=0)
    env.step({"teacher": env.default_teacher().act([obs["teacher"]], [infos["teacher"]])[0]})
    _, rewards, *_, infos = env.step({"student": np.array(env.tokenizer.encode(f"it is {env.task.answer}"))})
    assert rewards["student"] == 0.0 and infos["teacher"]["verdict"].error == "no_answer"
    env.close()
