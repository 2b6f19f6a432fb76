import pytest


@pytest.fixture
def chatml():
    """The tiny ChatML tokenizer wrapped in HFChatTokenizer (shared, do not mutate)."""
    pytest.importorskip("transformers")
    from tiny_hf import hf_chat_tokenizer

    return hf_chat_tokenizer("chatml")


@pytest.fixture
def llama3():
    """The tiny Llama-3 style tokenizer wrapped in HFChatTokenizer (shared, do not mutate)."""
    pytest.importorskip("transformers")
    from tiny_hf import hf_chat_tokenizer

    return hf_chat_tokenizer("llama3")
