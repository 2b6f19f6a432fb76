"""Tiny causal LMs with random weights for the HFAgent tests (built locally, never downloaded)."""

import pytest

# Random tiny models rarely pick the end-of-turn id on their own. Each fixture nudges its output row so that
# some greedy replies stop early and others run to max_new_tokens (values tuned for max_new_tokens=24).


def _scale_row(model, eot_id, factor):
    import torch

    with torch.no_grad():
        model.get_output_embeddings().weight[eot_id] *= factor
    return model.eval()


def _copy_row(model, eot_id, source_id):
    """End the turn where the model would have said ``source_id``."""
    import torch

    with torch.no_grad():
        weight = model.get_output_embeddings().weight
        weight[eot_id] = 1.02 * weight[source_id]
    return model.eval()


@pytest.fixture(scope="session")
def byte_gpt2():
    """A 2-layer GPT-2 over the env's default ByteTokenizer (264 ids; end-of-turn is id 259)."""
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")

    torch.manual_seed(0)
    config = transformers.GPT2Config(
        n_layer=2, n_head=2, n_embd=64, vocab_size=264, n_positions=4096, bos_token_id=258, eos_token_id=257
    )
    return _scale_row(transformers.GPT2LMHeadModel(config), 259, 6.0)


@pytest.fixture(scope="session")
def chatml_tok():
    """The tiny ChatML tokenizer wrapped in HFChatTokenizer (260 ids; ``<|im_end|>`` = 259 ends a turn)."""
    pytest.importorskip("transformers")
    from tiny_hf import hf_chat_tokenizer

    return hf_chat_tokenizer("chatml")


@pytest.fixture(scope="session")
def chatml_llama(chatml_tok):
    """A 2-layer Llama (grouped-query attention, RoPE) over the tiny ChatML tokenizer."""
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")

    torch.manual_seed(1)
    config = transformers.LlamaConfig(
        vocab_size=chatml_tok.vocab_size,
        hidden_size=48,
        intermediate_size=96,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=4096,
        initializer_range=0.1,  # the default 0.02 makes a tiny random Llama repeat its last token
        bos_token_id=None,
        eos_token_id=chatml_tok.eos_id,
        pad_token_id=chatml_tok.pad_id,
    )
    return _copy_row(transformers.LlamaForCausalLM(config), chatml_tok.end_of_turn_id, 162)
