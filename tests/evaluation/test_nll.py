"""Gold-answer NLL under a model student: equal to scoring each prefix alone, and filled in by evaluate."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

import convenv  # noqa: E402
from convenv.agents import HFAgent  # noqa: E402
from convenv.envs.course import BisectionStudent, format_answer  # noqa: E402
from convenv.evaluation import evaluate, gold_answer_nll  # noqa: E402
from convenv.play import play_episode  # noqa: E402
from convenv.tokenizers import generation_prompt  # noqa: E402


@pytest.fixture(scope="module")
def char_gpt2():
    torch.manual_seed(0)
    config = transformers.GPT2Config(n_layer=1, n_head=2, n_embd=32, vocab_size=convenv.make("GuessNumber-v0")
                                     .tokenizer.vocab_size, n_positions=512)  # fmt: skip
    return transformers.GPT2LMHeadModel(config).eval()


def test_gold_nll_equals_scoring_each_prefix_alone(char_gpt2):
    env = convenv.make("GuessNumber-v0")
    play_episode(env, {"teacher": env.default_teacher(), "student": BisectionStudent(env.tokenizer)}, seed=1)
    got = gold_answer_nll(char_gpt2, env)
    tok = env.tokenizer
    view = env.transcript.view_ids("student").tolist()
    ends = [end for m, _, end in env.transcript.view_spans("student") if m.speaker == "teacher"]
    answer = tok.encode(format_answer(env.task))
    want = []
    for end in ends:  # one unpadded forward per prefix
        ids = torch.tensor([view[:end] + generation_prompt(tok, "student") + answer])
        with torch.no_grad():
            logprobs = torch.log_softmax(char_gpt2(input_ids=ids).logits[0].float(), -1)
        n = len(answer)
        want.append(float(-logprobs[-n - 1 : -1].gather(-1, torch.tensor(answer)[:, None]).mean()))
    assert len(got) == len(ends) == 5
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
    env.close()


def test_evaluate_scores_model_students(char_gpt2):
    def student(envs):
        return HFAgent.for_env(envs[0], char_gpt2, role="student", max_new_tokens=3, device="cpu")

    report = evaluate("GuessNumber-v0", {"tiny": student, "bisection": "bisection"}, episodes=4, batch_size=4)
    tiny, bisection = report.metrics
    # one value per teacher message: the opening, then feedback after each attempt but the last
    assert all(len(r.gold_nll) == r.turns for r in report.records["tiny"])
    assert len(tiny.gold_nll_by_turn) == 5 and tiny.gold_nll_change is not None
    assert bisection.gold_nll_by_turn is None and report.records["bisection"][0].gold_nll is None
    assert "gold NLL first -> last" in report.table("plain")
