"""LoRA adapters through ``peft``: train a few low-rank matrices instead of the whole model.

:func:`apply_lora` injects LoRA layers into a causal LM *in place* (peft's ``get_peft_model``) and freezes every
other parameter, so an :class:`~convenv.agents.hf.HFAgent` built on the model before or after keeps working and
its optimizer only sees the adapter. ``TrainConfig.lora_rank > 0`` does this before training, and checkpoints
then hold only the trainable parameters (the adapter) and the value head. :func:`merged_copy` gives a plain
model with the adapter folded into its weights, for ``save_pretrained``.

>>> import transformers
>>> model = transformers.GPT2LMHeadModel(transformers.GPT2Config(n_layer=1, n_head=2, n_embd=16, vocab_size=50))
>>> peft_model = apply_lora(model, r=4)
>>> has_lora(model), 0 < trainable_parameters(model) < sum(p.numel() for p in model.parameters())
(True, True)
"""

from __future__ import annotations

import copy
import warnings
from typing import Any

from convenv.error import missing_extra

__all__ = ["DEFAULT_TARGETS", "apply_lora", "has_lora", "merged_copy", "trainable_parameters"]

_LLAMA_LIKE = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
DEFAULT_TARGETS: dict[str, list[str]] = {
    "gpt2": ["c_attn", "c_proj", "c_fc"],  # Conv1D layers: attention qkv and output, MLP in and out
    **{name: _LLAMA_LIKE for name in ("llama", "mistral", "qwen2", "qwen3", "gemma", "gemma2", "phi3", "olmo2")},
}
"""LoRA target modules by ``config.model_type``; other models get peft's ``"all-linear"``."""


def apply_lora(
    model: Any, *, r: int = 8, alpha: float = 16, dropout: float = 0.0, target_modules: Any = None
) -> Any:
    """Add LoRA adapters to ``model`` (in place) and freeze its other parameters; return peft's wrapper.

    Args:
        model: a ``transformers`` causal LM. Its target layers are replaced by LoRA layers in place, so the
            object itself (and an ``HFAgent`` built on it) now runs with the adapter.
        r: the adapters' rank.
        alpha: LoRA's scale numerator (the update is scaled by ``alpha / r``).
        dropout: dropout on the adapters' input (0 keeps training deterministic and log-probs exact).
        target_modules: names of the layers to adapt; None: :data:`DEFAULT_TARGETS` for the model type, else
            every linear layer.

    Returns:
        The ``peft.PeftModelForCausalLM`` wrapping ``model`` (``save_pretrained`` saves the adapter only).

    Raises:
        MissingExtra: peft is not installed (``pip install 'convenv[lora]'``).
        ValueError: ``r < 1``.
    """
    try:
        import peft
    except ImportError as e:
        raise missing_extra("peft", "lora") from e
    if int(r) < 1:
        raise ValueError(f"expected a LoRA rank r >= 1, got {r}; pass lora_rank=0 to train the whole model")
    model_type = getattr(getattr(model, "config", None), "model_type", None)
    if target_modules is None:
        target_modules = DEFAULT_TARGETS.get(model_type, "all-linear")
    config = peft.LoraConfig(
        r=int(r),
        lora_alpha=alpha,
        lora_dropout=float(dropout),
        target_modules=target_modules,
        fan_in_fan_out=model_type == "gpt2",  # GPT-2's Conv1D stores its weight transposed
        task_type="CAUSAL_LM",
    )
    with warnings.catch_warnings():  # peft calls a transformers method deprecated in v5: noise, not news
        warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing", category=FutureWarning)
        return peft.get_peft_model(model, config)


def has_lora(model: Any) -> bool:
    """Whether ``model`` holds LoRA layers (peft's, as :func:`apply_lora` injects them)."""
    return any(hasattr(m, "lora_A") for m in model.modules())


def trainable_parameters(model: Any) -> int:
    """The number of parameters with ``requires_grad`` (the adapter's, after :func:`apply_lora`)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def merged_copy(model: Any) -> Any:
    """A deep copy of ``model`` with every LoRA layer merged into its base layer and removed.

    The result is the plain ``transformers`` model (``save_pretrained`` writes full weights that load without
    peft). ``model`` itself is left as it is. A model without LoRA layers is just copied.
    """
    plain = copy.deepcopy(_unwrap(model))
    for name, module in list(plain.named_modules()):
        if not hasattr(module, "lora_A") or not hasattr(module, "get_base_layer"):
            continue
        module.merge()
        parent_name, _, child = name.rpartition(".")
        setattr(plain.get_submodule(parent_name) if parent_name else plain, child, module.get_base_layer())
    for p in plain.parameters():
        p.requires_grad_(True)
    return plain


def _unwrap(model: Any) -> Any:
    """The ``transformers`` model under peft's wrappers (itself when it is not wrapped)."""
    try:
        import peft
    except ImportError:  # without peft there are no wrappers
        return model
    if isinstance(model, peft.PeftModel):
        model = model.base_model
    if isinstance(model, peft.tuners.tuners_utils.BaseTuner):
        model = model.model
    return model
