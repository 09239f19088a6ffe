"""Several processes: PyTorch's own engine (``torchrun`` + ``DistributedDataParallel``), nothing home-made.

``torchrun --nproc_per_node N -m pushpull_viz.cli train ...`` starts ``N`` copies of the command with
``RANK``, ``LOCAL_RANK`` and ``WORLD_SIZE`` set. :func:`init_from_env` joins them into one process group
(NCCL on CUDA, gloo on CPU); :func:`~pushpull_viz.train.fit` then wraps the model in
``DistributedDataParallel``, gives each rank its share of every global batch, sums the metrics over the
ranks and lets rank 0 alone write logs and checkpoints. Without ``torchrun`` (or with one process) none of
this runs and training is the single-process path, unchanged.

The helpers here are what the rest of the package needs from ``torch.distributed``; each is a no-op in a
single process, so callers never branch on it.

Example:
    >>> world()   # a plain Python process: rank 0 of 1
    (0, 1)
    >>> share_of_batch(10, rank=1, world_size=4)   # rank 1's rows of a global batch of 10 over 4 ranks
    (3, 6)
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import Any

import torch
import torch.distributed as dist

__all__ = ["all_sum", "broadcast_from_main", "gather_objects", "init_from_env", "is_main", "local_batch_size",
           "share_of_batch", "shutdown", "together", "world"]


def world() -> tuple[int, int]:
    """``(rank, world size)`` of this process: ``(0, 1)`` unless a process group is running."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def is_main() -> bool:
    """True on rank 0 (the one that writes files and prints), and in a single process."""
    return world()[0] == 0


def init_from_env(device: torch.device) -> torch.device:
    """Join the process group that ``torchrun`` describes in the environment, if there is one.

    With ``WORLD_SIZE`` > 1 (set by ``torchrun``): the backend is NCCL when ``device`` is CUDA, else gloo;
    a CUDA process takes the GPU ``LOCAL_RANK``. Returns the device this process trains on
    (``device`` itself in a single process).
    """
    size = int(os.environ.get("WORLD_SIZE", "1") or 1)
    if size <= 1 or (dist.is_available() and dist.is_initialized()):
        return device
    if not dist.is_available():
        raise RuntimeError("WORLD_SIZE > 1 but this PyTorch build has no torch.distributed")
    if device.type == "cuda":
        local = int(os.environ.get("LOCAL_RANK", "0"))
        if local >= torch.cuda.device_count():
            raise RuntimeError(f"LOCAL_RANK {local} but only {torch.cuda.device_count()} GPU(s) here: start at most "
                               f"that many processes per machine (torchrun --nproc_per_node)")
        device = torch.device("cuda", local)
        torch.cuda.set_device(device)
        dist.init_process_group("nccl", device_id=device)
    elif device.type == "cpu":
        dist.init_process_group("gloo")
    else:
        raise ValueError(f"several processes need CUDA (NCCL) or the CPU (gloo), not {device.type!r}")
    return device


def shutdown() -> None:
    """Leave the process group (no-op when none runs)."""
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def all_sum(*tensors: torch.Tensor) -> None:
    """Sum each tensor over all ranks, in place (no-op in a single process)."""
    if world()[1] > 1:
        for tensor in tensors:
            dist.all_reduce(tensor, op=dist.ReduceOp.SUM)


def broadcast_from_main(*tensors: torch.Tensor) -> None:
    """Overwrite each tensor with rank 0's copy, in place (no-op in a single process)."""
    if world()[1] > 1:
        for tensor in tensors:
            dist.broadcast(tensor, src=0)


def gather_objects(obj: Any) -> list[Any]:
    """Every rank's ``obj``, in rank order (``[obj]`` in a single process)."""
    rank, size = world()
    if size == 1:
        return [obj]
    gathered: list[Any] = [None] * size
    dist.all_gather_object(gathered, obj)
    return gathered


@contextlib.contextmanager
def together(what: str) -> Iterator[None]:
    """Run a block on every rank and fail on every rank if it failed on any.

    A rank whose block raises re-raises its own error; the others raise ``RuntimeError`` naming the first
    failing rank and its message. Without this, a check that fails on one rank (a locked run folder, a
    missing file) would leave the others waiting forever at their next collective call.
    """
    error: BaseException | None = None
    try:
        yield
    except Exception as caught:  # noqa: BLE001 - re-raised below, on every rank
        error = caught
    messages = gather_objects(None if error is None else f"{type(error).__name__}: {error}")
    if error is not None:
        raise error
    for rank, message in enumerate(messages):
        if message is not None:
            raise RuntimeError(f"{what} failed on rank {rank} of {len(messages)}: {message}")


def local_batch_size(global_batch: int, world_size: int) -> int:
    """This rank's batch size for a global batch of ``global_batch`` images over ``world_size`` ranks.

    The recipe's batch size is the global one, so a run means the same on any number of processes; it must
    divide evenly.

    >>> local_batch_size(256, 8)
    32
    """
    if global_batch % world_size:
        raise ValueError(f"batch size {global_batch} must be divisible by the number of processes ({world_size}): "
                         f"the recipe's batch size is the global one, shared out evenly over the processes")
    return global_batch // world_size


def share_of_batch(n: int, rank: int, world_size: int) -> tuple[int, int]:
    """``(start, stop)``: the contiguous rows of a global batch of ``n`` images that ``rank`` takes.

    The same split as ``torch.tensor_split(range(n), world_size)``: the first ``n % world_size`` ranks take
    one image more.
    """
    base, extra = divmod(n, world_size)
    start = rank * base + min(rank, extra)
    return start, start + base + (rank < extra)
