import copy
import subprocess
import sys
from types import SimpleNamespace

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

import convenv  # noqa: E402
from convenv.agents import HFAgent, ValueHead  # noqa: E402
from convenv.agents.kv_batch import AgentStats, KVBatch, Runner, match_rows  # noqa: E402
from convenv.tokenizers import ByteTokenizer  # noqa: E402

R = 24  # max_new_tokens: with the biased tiny models some replies stop before it, some are cut at it


# --------------------------------------------------------------------------------------------------- drivers
def make_envs(max_turns=6, n=8, tokenizer="byte"):
    turns = max_turns if isinstance(max_turns, list) else [max_turns] * n
    return [convenv.make("MathTutor-v0", max_turns=t, tokenizer=tokenizer) for t in turns]


def transcripts(envs):
    return [[(m.speaker, m.body) for m in env.transcript.messages] for env in envs]


def play(envs, agents, seeds, *, running_only=False):
    """Reset every env and step them together; each call passes every conversation (finished ones too, as a
    vector env does) or, with ``running_only``, just the running ones (rows shift as episodes end)."""
    obs, infos = map(list, zip(*(env.reset(seed=s) for env, s in zip(envs, seeds, strict=True)), strict=True))
    while any(env.agents for env in envs):
        running = [k for k, env in enumerate(envs) if env.agents]
        speaker = envs[running[0]].to_act
        assert all(envs[k].to_act == speaker for k in running)
        rows = running if running_only else range(len(envs))
        actions = agents[speaker].act([obs[k][speaker] for k in rows], [infos[k][speaker] for k in rows])
        for k, action in zip(rows, actions, strict=True):
            assert (action is None) == (not envs[k].agents)
            if action is not None:
                obs[k], _, _, _, infos[k] = envs[k].step({speaker: action})  # never raises: ids are valid
    return transcripts(envs)


def play_staggered(envs, agents, seeds, starts):
    """Env k starts at global step ``starts[k]``; every step asks both agents about every conversation, so the
    student sees rows at its turn and rows waiting for the teacher at the same time."""
    obs = [None] * len(envs)
    infos = [None] * len(envs)
    idle = {"tokens": np.zeros(0, dtype=np.int64), "to_act": 2}
    step = 0
    while step <= max(starts) or any(env.agents for env in envs):
        for k, env in enumerate(envs):
            if starts[k] == step:
                obs[k], infos[k] = env.reset(seed=seeds[k])
        for role, agent in agents.items():
            view = [o[role] if o is not None else idle for o in obs]
            info = [i[role] if i is not None else {"to_act": None} for i in infos]
            for k, action in enumerate(agent.act(view, info)):
                if action is not None:
                    obs[k], _, _, _, infos[k] = envs[k].step({role: action})
        step += 1
    return transcripts(envs)


def student_bodies(envs):
    return [m.body for env in envs for m in env.transcript.messages if m.speaker == "student"]


def close(envs):
    for env in envs:
        env.close()


class Recorder:
    """Wraps an HFAgent and keeps ``(view, Generation)`` for every reply."""

    def __init__(self, agent):
        self.agent, self.role, self.log = agent, agent.role, []

    def act(self, observations, infos):
        generations = self.agent.generate(observations, infos)
        for o, g in zip(observations, generations, strict=True):
            if g is not None:
                self.log.append((np.asarray(o["tokens"]), g))
        return [None if g is None else g.ids for g in generations]


# ------------------------------------------------------------------------------------- greedy equivalence
@pytest.mark.parametrize("which", ["gpt2", "llama"])
def test_greedy_cache_reuse_gives_exactly_the_reencoding_tokens(which, byte_gpt2, chatml_llama, chatml_tok):
    model, tokenizer = (byte_gpt2, "byte") if which == "gpt2" else (chatml_llama, chatml_tok)
    runs, fed = [], []
    for reuse in (True, False):
        envs = make_envs(6, tokenizer=tokenizer)
        student = HFAgent.for_env(envs[0], model, role="student", max_new_tokens=R, reuse_cache=reuse)
        runs.append(play(envs, {"teacher": envs[0].default_teacher(), "student": student}, seeds=range(8)))
        bodies = student_bodies(envs)
        assert student.stats.replies == len(bodies) == 48  # 8 conversations x 6 turns, none solved
        fed.append(student.stats.tokens_fed)
        close(envs)
    assert runs[0] == runs[1]
    lengths = {len(b) for b in bodies}
    assert R in lengths and min(lengths) < R - 1  # cut at max_new_tokens and stopped by the end-of-turn id
    assert fed[0] < fed[1] / 2


def test_batched_equals_one_conversation_at_a_time(byte_gpt2):
    envs = make_envs(3)
    batched = play(envs, {"teacher": envs[0].default_teacher(), "student": HFAgent.for_env(
        envs[0], byte_gpt2, role="student", max_new_tokens=R)}, seeds=range(8))  # fmt: skip
    close(envs)
    single = []
    for seed in range(8):
        (env,) = make_envs(3, n=1)
        agent = HFAgent.for_env(env, byte_gpt2, role="student", max_new_tokens=R)
        single += play([env], {"teacher": env.default_teacher(), "student": agent}, seeds=[seed])
        close([env])
    assert batched == single


def test_rows_dropping_out_and_new_episodes_keep_the_reencoding_tokens(byte_gpt2):
    turns = [2, 6, 3, 6, 1, 4, 6, 5]  # episodes end at different turns
    runs, stats = [], []
    for reuse, running_only in ((False, False), (True, False), (True, True)):
        envs = make_envs(turns)
        student = HFAgent.for_env(envs[0], byte_gpt2, role="student", max_new_tokens=R, reuse_cache=reuse)
        agents = {"teacher": envs[0].default_teacher(), "student": student}
        first = play(envs, agents, seeds=range(8), running_only=running_only)
        second = play(envs, agents, seeds=range(10, 18), running_only=running_only)  # the same agent, new episodes
        runs.append(first + second)
        stats.append(student.stats)
        close(envs)
    assert runs[0] == runs[1] == runs[2]
    assert stats[1].tokens_fed < stats[0].tokens_fed / 2
    assert stats[1].rollbacks + stats[1].restarts >= 16  # every new episode was noticed


def test_conversations_out_of_phase_are_parked_and_resumed(byte_gpt2):
    runs = []
    for reuse in (False, True):
        envs = make_envs(4, n=6)
        student = HFAgent.for_env(envs[0], byte_gpt2, role="student", max_new_tokens=R, reuse_cache=reuse)
        runs.append(play_staggered(envs, {"teacher": envs[0].default_teacher(), "student": student},
                                   seeds=range(6), starts=[0, 1, 1, 2, 3, 5]))  # fmt: skip
        close(envs)
    assert runs[0] == runs[1]
    assert student.stats.restarts == 6  # each conversation encoded from scratch once, then continued


def test_memory_budget_compacts_the_cache_and_still_matches(byte_gpt2):
    runs = []
    for budget in (None, 5_000):
        envs = make_envs([3, 6, 2, 6, 4, 6, 5, 6])
        student = HFAgent.for_env(envs[0], byte_gpt2, role="student", max_new_tokens=R, max_cache_tokens=budget)
        runs.append(play(envs, {"teacher": envs[0].default_teacher(), "student": student}, seeds=range(8)))
        close(envs)
        if budget is None:
            assert student.stats.compactions == 0
            peak = student.stats.peak_cache_tokens
    assert runs[0] == runs[1]
    assert student.stats.compactions > 0
    assert student.stats.peak_cache_tokens < peak


def test_batch_state_matches_fresh_forwards_of_each_row(byte_gpt2):
    """Ragged segments, holes, drop-outs, merges, rollbacks and compaction never change a row's logits."""
    runner = Runner(byte_gpt2, pad_id=256, want_hidden=False, stats=AgentStats())
    rng = np.random.default_rng(0)

    def reference(seq):
        return byte_gpt2(torch.tensor([seq])).logits[0, -1]

    def check(batch, logits, rows):
        for r in rows:
            assert torch.allclose(logits[r], reference(batch.seqs[r]), atol=1e-4), (r, batch)
        assert batch.mask.sum().item() == batch.cached

    def probe(batch, n=3):
        segments = [rng.integers(0, 256, n).tolist() for _ in range(batch.rows)]
        check(batch, batch.extend(segments)[0], range(batch.rows))

    with torch.inference_mode():
        batch = KVBatch.empty(runner, keys=range(5))
        for turn in range(4):
            lengths = rng.integers(0 if turn else 1, 40, size=5)  # ragged, some rows append nothing
            logits, _ = batch.extend([rng.integers(0, 256, n).tolist() for n in lengths])
            check(batch, logits, np.flatnonzero(lengths))
            for _ in range(3):  # decoding steps where some rows are finished (filler is a hole)
                valid = rng.random(5) < 0.6
                logits, _ = batch.step(rng.integers(0, 256, 5), valid)
                check(batch, logits, np.flatnonzero(valid))
        assert batch.holes > 0
        batch.rollback(1, len(batch.seqs[1]) - 7)
        batch.rollback(3, 5)
        probe(batch)
        other = KVBatch.empty(runner, keys=["x", "y"])
        other.extend([rng.integers(0, 256, 9).tolist(), rng.integers(0, 256, 4).tolist()])
        merged = batch.select([4, 0, 2]).trim().concat(other)
        assert merged.keys == [4, 0, 2, "x", "y"]
        probe(merged)
        compact = merged.compact()
        assert compact.holes < merged.holes and compact.length == max(map(len, compact.seqs))
        probe(compact)
        assert torch.isfinite(compact.cache.layers[0].keys).all()


def test_match_rows_continues_reorders_rolls_back_or_restarts():
    keys = [0, 1, 2, 3]
    seqs = [[1, 2, 3], [1, 2, 9], [5, 6], [7, 7, 7, 7]]
    views = {
        0: np.array([1, 2, 9, 4]),  # extends row 1's sequence, not its own row 0's: moved (a reordered batch)
        2: np.array([5, 6, 8]),  # extends its own row
        3: np.array([7, 7, 7, 1, 1]),  # its own row, cut back to the common prefix (3 of 5 ids)
        4: np.array([1, 2, 3, 4]),  # a new conversation that extends the free row 0
        5: np.array([8]),  # nothing to continue: encoded from scratch
    }
    assert match_rows(keys, seqs, views) == {2: (2, 2), 0: (1, 3), 4: (0, 3), 3: (3, 3)}
    assert match_rows([0], [[7, 7, 7, 7]], {0: np.array([7, 1, 1, 1])}) == {}  # too little in common


def test_asking_again_rolls_the_reply_back_and_repeats_it(byte_gpt2):
    envs = make_envs(3, n=4)
    student = HFAgent.for_env(envs[0], byte_gpt2, role="student", max_new_tokens=R)
    teacher = envs[0].default_teacher()
    obs, infos = zip(*(env.reset(seed=s) for s, env in enumerate(envs)), strict=True)
    steps = [env.step({"teacher": teacher.act([o["teacher"]], [i["teacher"]])[0]}) for env, o, i in
             zip(envs, obs, infos, strict=True)]  # fmt: skip
    obs, infos = [s[0]["student"] for s in steps], [s[4]["student"] for s in steps]
    first = student.act(obs, infos)
    again = student.act(obs, infos)  # the same observations: the previous replies are forgotten
    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))
    assert student.stats.rollbacks == 4 and student.stats.restarts == 4
    close(envs)


def test_weights_changed_in_place_drop_the_cache(byte_gpt2, monkeypatch):
    class PerturbingTeacher:  # after its second message, changes the weights the way `.data` writes do
        role = "teacher"

        def __init__(self, env, model):
            self.inner, self.model, self.calls = env.default_teacher(), model, 0

        def act(self, observations, infos):
            self.calls += 1
            if self.calls == 2:
                with torch.no_grad():
                    for p in self.model.parameters():
                        p.data.mul_(1.5)
            return self.inner.act(observations, infos)

    def run(reuse):
        model = copy.deepcopy(byte_gpt2)
        envs = make_envs(3, n=4)
        student = HFAgent.for_env(envs[0], model, role="student", max_new_tokens=R, reuse_cache=reuse)
        out = play(envs, {"teacher": PerturbingTeacher(envs[0], model), "student": student}, seeds=range(4))
        close(envs)
        return out, student.stats

    (reused, stats), (reencoded, _) = run(True), run(False)
    assert reused == reencoded
    assert stats.restarts == 8  # 4 at the start, 4 after the weights changed
    monkeypatch.setattr(HFAgent, "_drop_if_stale", lambda self: None)
    assert run(True)[0] != reencoded  # a stale cache would have changed the replies


# ----------------------------------------------------------------------------------------------- sampling
def sample_run(model, seed, n_turns=3, **kwargs):
    envs = make_envs(n_turns, n=4)
    kwargs.update(max_new_tokens=16, do_sample=True, seed=seed)
    student = HFAgent.for_env(envs[0], model, role="student", **kwargs)
    recorder = Recorder(student)
    play(envs, {"teacher": envs[0].default_teacher(), "student": recorder}, seeds=range(4))
    close(envs)
    return student, recorder.log


def test_sampling_is_seeded(byte_gpt2):
    a = [g.ids.tolist() for _, g in sample_run(byte_gpt2, seed=3)[1]]
    b = [g.ids.tolist() for _, g in sample_run(byte_gpt2, seed=3)[1]]
    c = [g.ids.tolist() for _, g in sample_run(byte_gpt2, seed=4)[1]]
    assert a == b
    assert a != c


def test_logprobs_and_values_match_one_teacher_forced_forward(byte_gpt2):
    head = ValueHead(64)
    student, log = sample_run(byte_gpt2, seed=0, temperature=0.7, top_k=40, top_p=0.9, value_head=head)
    prompt = [ByteTokenizer().special_ids["student"]]
    assert len(log) == 12
    for view, g in log:
        n = len(g.ids)
        assert g.ids.dtype == np.int64 and g.logprobs.dtype == np.float32 and g.values.shape == (n,)
        assert g.stopped == (g.ids[-1] == 259)
        seq = torch.tensor([[*view.tolist(), *prompt, *g.ids.tolist()]])
        with torch.no_grad():
            out = byte_gpt2(seq, output_hidden_states=True)
        start = len(view) + len(prompt) - 1  # the position whose logits drew the first generated id
        logits = out.logits[0, start : start + n]
        first = torch.arange(n) == 0
        expected = torch.log_softmax(student.processed_logits(logits, first=first), -1)
        expected = expected.gather(-1, torch.as_tensor(g.ids)[:, None])[:, 0]
        np.testing.assert_allclose(g.logprobs, expected.numpy(), atol=1e-4)
        values = head(out.hidden_states[-1][0, start : start + n])
        np.testing.assert_allclose(g.values, values.detach().numpy(), atol=1e-4)
        assert np.isfinite(g.logprobs).all() and (g.logprobs <= 0).all()


def test_leaking_teacher_replies_are_regenerated(byte_gpt2):
    calls = []

    def leak_check(text, task, public=()):  # flags about a third of random replies
        calls.append(len(public))
        return SimpleNamespace(leaked=sum(text.encode()) % 3 == 0)

    runs = []
    for reuse in (True, False):
        envs = make_envs(3, n=4)
        kwargs = dict(max_new_tokens=12, reuse_cache=reuse)
        teacher = HFAgent.for_env(envs[0], byte_gpt2, role="teacher", do_sample=True, seed=1, regenerate_on_leak=4,
                                  leak_check=leak_check, **kwargs)  # fmt: skip
        student = HFAgent.for_env(envs[0], byte_gpt2, role="student", **kwargs)
        runs.append(play(envs, {"teacher": teacher, "student": student}, seeds=range(4)))
        close(envs)
        assert teacher.stats.regenerations > 0
        said = [m.text for env in envs for m in env.transcript.messages if m.speaker == "teacher"]
        assert not any(leak_check(text, None).leaked for text in said)
    assert runs[0] == runs[1]  # rolling a row back leaves the cache exactly as re-encoding would
    assert max(calls) == 2  # the student messages seen so far count as public


# ------------------------------------------------------------------------------------------------- safety
def test_structural_ids_are_never_generated(byte_gpt2):
    model = copy.deepcopy(byte_gpt2)
    with torch.no_grad():  # make structural ids other than the end of turn the most likely ones
        model.lm_head.weight[:256] = 0
        model.lm_head.weight[259] = 0
    env = convenv.make("MathTutor-v0", max_turns=2)
    obs, infos = env.reset(seed=0)
    with torch.no_grad():
        raw = model(torch.as_tensor(obs["teacher"]["tokens"])[None]).logits[0, -1]
    assert int(raw.argmax()) in set(env.tokenizer.special_ids.values()) - {259}
    teacher = HFAgent.for_env(env, model, role="teacher", max_new_tokens=8, do_sample=True)
    student = HFAgent.for_env(env, model, role="student", max_new_tokens=8)
    play([env], {"teacher": teacher, "student": student}, seeds=[0])  # the env raises on a structural id
    for m in env.transcript.messages[2:]:
        assert len(m.body) >= 1 and not set(m.body) & set(env.tokenizer.special_ids.values())
    env.close()


def test_clear_errors(byte_gpt2):
    transformers = pytest.importorskip("transformers")
    env = convenv.make("MathTutor-v0")
    small = transformers.GPT2LMHeadModel(transformers.GPT2Config(n_layer=1, n_head=1, n_embd=8, vocab_size=200))
    with pytest.raises(ValueError, match="covers the env tokenizer's 264 ids, got 200"):
        HFAgent.for_env(env, small, role="student")
    with pytest.raises(ValueError, match="expected do_sample=True with regenerate_on_leak=2"):
        HFAgent.for_env(env, byte_gpt2, role="teacher", regenerate_on_leak=2)
    with pytest.raises(ValueError, match=r"one of the env's agents \['teacher', 'student'\], got 'critic'"):
        HFAgent.for_env(env, byte_gpt2, role="critic")
    with pytest.raises(ValueError, match="expected env_tokenizer=env.tokenizer"):
        HFAgent(byte_gpt2, role="student")
    with pytest.raises(ValueError, match="max_new_tokens <= the env's max_utterance_tokens"):
        HFAgent.for_env(env, byte_gpt2, role="student", max_new_tokens=5000)
    with pytest.raises(ValueError, match="fits the model's 64 positions"):
        tiny = transformers.GPT2LMHeadModel(transformers.GPT2Config(n_layer=1, n_head=1, n_embd=8, vocab_size=264,
                                                                    n_positions=64))  # fmt: skip
        obs, infos = env.reset(seed=0)
        HFAgent.for_env(env, tiny, role="teacher").act([obs["teacher"]], [infos["teacher"]])
    env.close()


def test_a_model_path_loads_the_model_and_its_tokenizer(tmp_path, chatml_llama, chatml_tok):
    chatml_llama.save_pretrained(tmp_path)
    chatml_tok.save_pretrained(tmp_path)
    agent = HFAgent(str(tmp_path), role="student", dtype="float32", max_new_tokens=4)
    assert agent.env_tokenizer.vocab_size == 260 and agent.env_tokenizer.end_of_turn_id == 259
    env = convenv.make("MathTutor-v0", tokenizer=agent.tokenizer, max_turns=1)
    play([env], {"teacher": env.default_teacher(), "student": agent}, seeds=[0])
    assert agent.stats.replies == 1
    env.close()


def test_missing_torch_names_the_extra():
    code = (
        "import sys; sys.modules['torch'] = None\n"
        "import convenv.agents\n"
        "try:\n    convenv.agents.HFAgent\nexcept ImportError as e:\n    print(type(e).__name__, e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.startswith("MissingExtra") and "'torch'" in out and "pip install 'convenv[hf]'" in out


def test_importing_agents_stays_light():
    code = (
        "import sys, convenv.agents; print('torch' in sys.modules); "
        "convenv.agents.HFAgent; print('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "True"]  # torch loads on first access to HFAgent, not before
