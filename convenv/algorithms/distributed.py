"""Data parallelism for the trainers: torch.distributed helpers that are no-ops in a single process.

A run on N processes is launched by ``torchrun`` (``torchrun --nproc_per_node N train.py``), never by a launcher of
our own. Each process calls :func:`init_from_env`, collects its own episodes (whole GRPO groups: :func:`shard`)
and runs the same update; the updates make it exact by reducing across ranks:

- advantage whitening uses the statistics of every rank's tokens (:func:`masked_moments`, :func:`masked_whiten`);
- every minibatch loss is a token sum divided by the token count of the *global* minibatch (every micro-batch of
  every rank), so the ranks' gradients add up to the gradient of one big minibatch;
- gradients are summed across ranks (:func:`sync_gradients`) before clipping and the optimizer step.

With ``num_minibatches=1`` N processes holding 1/N of the episodes each end with the parameters one process gets
on the whole batch. With more minibatches, rank r splits its own episodes into ``num_minibatches`` parts and the
global minibatch k is the union of every rank's part k: the same PPO on the same data, with a different shuffle
than one process would draw.

Every helper works alone too (``WORLD_SIZE`` unset or 1): the reductions then return their input unchanged.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

import torch
import torch.distributed as dist

__all__ = [
    "all_reduce_sum",
    "broadcast_parameters",
    "init_from_env",
    "is_distributed",
    "is_main_process",
    "local_rank",
    "masked_moments",
    "masked_whiten",
    "rank",
    "shard",
    "sync_gradients",
    "world_size",
]

BUCKET_ELEMENTS = 1 << 24
"""Gradients are reduced in flat buckets of at most this many elements (fewer, larger messages)."""


# ----------------------------------------------------------------------------------------------- process group


def is_distributed() -> bool:
    """Whether a process group with more than one process is initialized."""
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def rank() -> int:
    """This process's rank (0 when not distributed)."""
    return dist.get_rank() if dist.is_available() and dist.is_initialized() else 0


def world_size() -> int:
    """The number of processes (1 when not distributed)."""
    return dist.get_world_size() if dist.is_available() and dist.is_initialized() else 1


def local_rank() -> int:
    """This process's rank on its machine, from torchrun's ``LOCAL_RANK`` (0 when unset): its GPU index."""
    return int(os.environ.get("LOCAL_RANK", 0))


def is_main_process() -> bool:
    """Whether this is rank 0, the process that logs, evaluates and writes checkpoints."""
    return rank() == 0


def init_from_env(backend: str | None = None) -> bool:
    """Join the process group torchrun describes in the environment, when it has more than one process.

    Reads ``WORLD_SIZE``, ``RANK``, ``MASTER_ADDR`` and ``MASTER_PORT`` (set by ``torchrun``). With CUDA, selects
    GPU ``LOCAL_RANK`` first. Does nothing when ``WORLD_SIZE`` is unset or 1, or the group already exists.

    Args:
        backend: ``"nccl"`` or ``"gloo"``; None picks nccl with CUDA, gloo without.

    Returns:
        Whether the process is now part of a group of several processes.
    """
    if int(os.environ.get("WORLD_SIZE", 1)) <= 1:
        return False
    if not dist.is_initialized():
        if backend is None:
            backend = "nccl" if torch.cuda.is_available() else "gloo"
        if backend == "nccl":
            torch.cuda.set_device(local_rank())
        dist.init_process_group(backend=backend)
    return is_distributed()


def shard(n_items: int, group_size: int = 1) -> slice:
    """This rank's contiguous slice of ``n_items`` items in groups of ``group_size`` (whole groups only).

    Groups are spread as evenly as they go (the first ranks take one more when they do not divide); a rank may
    get none. GRPO groups must never be split across ranks: every group's baseline needs all of its episodes.

    Raises:
        ValueError: when ``n_items`` is not a multiple of ``group_size``.
    """
    if group_size < 1 or n_items % group_size:
        raise ValueError(
            f"expected n_items divisible by group_size >= 1, got n_items={n_items}, group_size={group_size}; "
            "collect whole groups"
        )
    n_groups, n = n_items // group_size, world_size()
    start = rank() * (n_groups // n) + min(rank(), n_groups % n)
    stop = start + n_groups // n + int(rank() < n_groups % n)
    return slice(start * group_size, stop * group_size)


# ----------------------------------------------------------------------------------------------- reductions


def all_reduce_sum(tensor: torch.Tensor) -> torch.Tensor:
    """Sum ``tensor`` over every rank, in place; returns it (unchanged when not distributed).

    Every rank must call it in the same order with a tensor of the same shape (on its GPU with nccl).
    """
    if is_distributed():
        dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
    return tensor


@torch.no_grad()
def sync_gradients(params: Iterable[torch.Tensor]) -> None:
    """Sum every parameter's ``.grad`` over the ranks, in place (a no-op when not distributed).

    A parameter that has a gradient on some rank but not on this one (e.g. the rank had no episodes in the
    minibatch) gets a zero gradient first, so that every rank reduces the same tensors; a parameter with no
    gradient anywhere keeps ``grad = None`` (optimizers then skip it, as in one process).
    """
    if not is_distributed():
        return
    params = [p for p in params if p.requires_grad]
    if not params:
        return
    has_grad = torch.tensor([p.grad is not None for p in params], dtype=torch.float32, device=params[0].device)
    all_reduce_sum(has_grad)
    active = [p for p, anywhere in zip(params, has_grad.tolist(), strict=True) if anywhere > 0]
    for p in active:
        if p.grad is None:
            p.grad = torch.zeros_like(p)
    buckets: list[list[torch.Tensor]] = []  # one flat message per bucket, not one per parameter
    sizes: list[int] = []
    open_bucket: dict[tuple[torch.device, torch.dtype], int] = {}  # the bucket still filling, per device and dtype
    for p in active:
        key = (p.grad.device, p.grad.dtype)
        i = open_bucket.get(key)
        if i is None or sizes[i] + p.grad.numel() > BUCKET_ELEMENTS:
            i = open_bucket[key] = len(buckets)
            buckets.append([])
            sizes.append(0)
        buckets[i].append(p.grad)
        sizes[i] += p.grad.numel()
    for grads in buckets:  # the same order on every rank: the parameters' order
        flat = all_reduce_sum(torch.cat([g.reshape(-1) for g in grads]))
        for g, part in zip(grads, flat.split([g.numel() for g in grads]), strict=True):
            g.copy_(part.view_as(g))


@torch.no_grad()
def broadcast_parameters(params: Iterable[torch.Tensor], src: int = 0) -> None:
    """Copy rank ``src``'s values of ``params`` (tensors or a module's parameters) to every rank, in place.

    Call it once after building the model so that every rank starts from the same weights.
    """
    if not is_distributed():
        return
    for p in params:
        dist.broadcast(p.data, src=src)


def masked_moments(x: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Mean, unbiased variance and count of ``x`` over the masked entries of every rank (two passes).

    Args:
        x: any shape.
        mask: same shape as ``x``; bool or 0/1.

    Returns:
        ``(mean, var, count)`` scalars; ``mean`` is 0 with no entries, ``var`` 0 with fewer than 2.
    """
    mask = mask.bool()
    zero = torch.zeros((), dtype=x.dtype, device=x.device)
    x = torch.where(mask, x, zero)  # junk in masked entries is dropped
    sums = all_reduce_sum(torch.stack([x.sum(), mask.sum().to(x.dtype)]))
    total, count = sums[0], sums[1]
    mean = total / count.clamp(min=1)
    squares = all_reduce_sum(torch.where(mask, (x - mean) ** 2, zero).sum())
    var = squares / (count - 1) if count >= 2 else zero
    return mean, var, count


def masked_whiten(x: torch.Tensor, mask: torch.Tensor, shift_mean: bool = True, eps: float = 1e-8) -> torch.Tensor:
    """:func:`convenv.algorithms.functional.masked_whiten` with the statistics of every rank's masked entries.

    Args:
        x: any shape.
        mask: same shape as ``x``; bool or 0/1.
        shift_mean: subtract the mean; False keeps it and only divides by the standard deviation.
        eps: added to the (unbiased) variance before the square root.

    Returns:
        ``(x - mean) / sqrt(var + eps)`` (``+ mean`` back when ``shift_mean=False``) on masked entries, 0 elsewhere.

    Raises:
        ValueError: with fewer than 2 masked entries over all ranks.
    """
    mean, var, count = masked_moments(x, mask)
    if count < 2:
        raise ValueError(
            f"expected at least 2 masked entries over all ranks to whiten, got {int(count)}; collect more "
            "episodes or turn advantage whitening off"
        )
    whitened = (x - mean) * torch.rsqrt(var + eps)
    if not shift_mean:
        whitened = whitened + mean
    return torch.where(mask.bool(), whitened, torch.zeros((), dtype=whitened.dtype, device=whitened.device))
