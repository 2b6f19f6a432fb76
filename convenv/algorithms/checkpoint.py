"""Atomic, resumable training checkpoints: one ``torch.save`` file per checkpoint, the last K kept.

A checkpoint is written to a temporary file in the same directory, flushed and fsynced, then renamed over its
final name with ``os.replace`` (atomic on POSIX), and the directory is fsynced. A crash or a kill at any moment
therefore leaves either the new checkpoint complete or no new file at all: the previous ones stay readable.
Files are named ``checkpoint-000012.pt`` (12 iterations done); :func:`latest_checkpoint` picks the highest.

What goes in a checkpoint is up to the caller (the training loop stores weights, optimizer, scheduler, generator
states, history and config, see :func:`convenv.algorithms.train.train`); :func:`model_state` and
:func:`load_model_state` store a model whole, or only its trainable parameters when some are frozen (a LoRA
adapter), so a LoRA checkpoint does not repeat the base model.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import torch

__all__ = [
    "atomic_save",
    "checkpoint_path",
    "latest_checkpoint",
    "list_checkpoints",
    "load_checkpoint",
    "load_model_state",
    "model_state",
    "save_checkpoint",
]

_NAME = re.compile(r"^checkpoint-(\d+)\.pt$")
_TMP = ".tmp-"


def checkpoint_path(directory: str | os.PathLike, iteration: int) -> Path:
    """Where the checkpoint after ``iteration`` completed iterations goes."""
    return Path(directory) / f"checkpoint-{int(iteration):06d}.pt"


def list_checkpoints(directory: str | os.PathLike) -> list[Path]:
    """The complete checkpoints in ``directory``, oldest first (temporary files of interrupted writes skipped)."""
    root = Path(directory)
    if not root.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in root.iterdir() if (m := _NAME.match(p.name))]
    return [p for _, p in sorted(found)]


def latest_checkpoint(directory: str | os.PathLike) -> Path | None:
    """The newest checkpoint in ``directory``, or None."""
    found = list_checkpoints(directory)
    return found[-1] if found else None


def atomic_save(obj: Any, path: str | os.PathLike) -> Path:
    """``torch.save(obj)`` to ``path`` atomically: a temp file in the same directory, fsync, ``os.replace``.

    If anything fails while writing (pickling included), the temp file is removed, ``path`` is untouched and the
    error propagates.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{_TMP}{path.name}.{os.getpid()}")
    try:
        with open(tmp, "wb") as f:
            torch.save(obj, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)  # make the rename itself durable
    return path


def save_checkpoint(directory: str | os.PathLike, iteration: int, state: dict[str, Any], *, keep: int = 3) -> Path:
    """Write ``state`` as the checkpoint of ``iteration`` atomically, then delete all but the newest ``keep``.

    Args:
        directory: the checkpoint directory (created).
        iteration: completed iterations (names the file).
        state: anything ``torch.save`` can write and ``torch.load(weights_only=True)`` can read back: tensors,
            state dicts, numbers, strings, lists, dicts.
        keep: checkpoints to keep (>= 1).

    Returns:
        The checkpoint's path.
    """
    if int(keep) < 1:
        raise ValueError(f"expected keep >= 1 checkpoints, got {keep}; keep at least the newest")
    path = atomic_save(state, checkpoint_path(directory, iteration))
    for old in list_checkpoints(directory)[: -int(keep)]:
        old.unlink(missing_ok=True)
    for stale in Path(directory).glob(f"{_TMP}*"):  # left by a killed writer (never the one just renamed)
        stale.unlink(missing_ok=True)
    return path


def load_checkpoint(path: str | os.PathLike) -> dict[str, Any]:
    """Read a checkpoint (on the CPU, ``weights_only=True``: no arbitrary code runs)."""
    try:
        return torch.load(Path(path), map_location="cpu", weights_only=True)
    except Exception as e:
        raise ValueError(
            f"expected a readable convenv checkpoint at {path}, got {type(e).__name__}: {e}; delete it to resume "
            "from the one before"
        ) from e


def model_state(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    """The tensors a checkpoint needs of ``model``: its whole ``state_dict``, or its trainable parameters only.

    Only the trainable parameters when some parameters are frozen (a LoRA adapter): the frozen base then comes
    from the model you resume with.
    """
    params = dict(model.named_parameters())
    if all(p.requires_grad for p in params.values()):
        return {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
    return {k: p.detach().cpu().clone() for k, p in params.items() if p.requires_grad}


def load_model_state(model: torch.nn.Module, state: dict[str, torch.Tensor]) -> None:
    """Load :func:`model_state`'s tensors into ``model`` (in place), checking every tensor found its place.

    Raises:
        ValueError: a tensor names no parameter of ``model`` (a different architecture, or LoRA on one side only).
    """
    result = model.load_state_dict(state, strict=False)
    if result.unexpected_keys:
        raise ValueError(
            f"expected checkpoint tensors matching the model, got {len(result.unexpected_keys)} unknown ones "
            f"(e.g. {result.unexpected_keys[0]!r}); resume with the same model and the same lora_rank"
        )
    trainable = {k for k, p in model.named_parameters() if p.requires_grad}
    missing = sorted(trainable & set(result.missing_keys))
    if missing:
        raise ValueError(
            f"expected a checkpoint holding every trainable parameter, got {len(missing)} missing (e.g. "
            f"{missing[0]!r}); resume with the same model and the same lora_rank"
        )


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # e.g. a platform without directory fds: the rename is still atomic
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
