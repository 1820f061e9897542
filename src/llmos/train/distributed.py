"""More than one process: `torchrun` sets the environment, this module reads it.

    torchrun --nproc_per_node=2 -m llmos train char train.parallel=ddp

Each process holds a replica (DDP) or a shard (FSDP) of the model and a slice
of every global batch (see `batches.py`); gradients are averaged across
processes before the optimizer step, so N processes with batch B compute the
update one process computes with batch N*B. CPUs talk through `gloo`, GPUs
through `nccl`.

DDP (`DistributedDataParallel`) keeps a full copy of weights and optimizer
state per process and all-reduces gradients. FSDP (`fully_shard`, FSDP2)
splits weights, gradients and optimizer state across processes and gathers
each block's weights just before it runs: less memory per process, more
communication.
"""
from __future__ import annotations

import os
from contextlib import nullcontext
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn


@dataclass
class Dist:
    rank: int = 0
    world: int = 1
    local_rank: int = 0

    @property
    def enabled(self) -> bool:
        return self.world > 1

    @property
    def main(self) -> bool:
        return self.rank == 0


def init_distributed(device_type: str) -> Dist:
    """Join the process group `torchrun` describes (WORLD_SIZE > 1), else run alone."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return Dist()
    rank, local = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
    if not dist.is_initialized():
        backend = "nccl" if device_type == "cuda" else "gloo"
        if device_type == "cuda":
            torch.cuda.set_device(local)
        dist.init_process_group(backend=backend)
    return Dist(rank=rank, world=world, local_rank=local)


def shutdown(d: Dist) -> None:
    if d.enabled and dist.is_initialized():
        dist.destroy_process_group()


def barrier(d: Dist) -> None:
    if d.enabled:
        dist.barrier()


def mean_across(d: Dist, value: torch.Tensor) -> torch.Tensor:
    """The mean of `value` over all processes (itself when alone)."""
    if not d.enabled:
        return value
    value = value.detach().clone()
    dist.all_reduce(value, op=dist.ReduceOp.SUM)
    return value / d.world


def sum_across(d: Dist, value: torch.Tensor) -> torch.Tensor:
    if not d.enabled:
        return value
    value = value.detach().clone()
    dist.all_reduce(value, op=dist.ReduceOp.SUM)
    return value


def wrap(model: nn.Module, d: Dist, parallel: str, device: torch.device, find_unused: bool = False) -> nn.Module:
    """Wrap for multi-process training: DDP, or FSDP2 sharding each block then the whole.

    `find_unused`: some parameters may get no gradient in a step (an MoE expert
    no token was routed to); DDP must then look for them instead of waiting."""
    if not d.enabled:
        return model
    if parallel == "fsdp":
        from torch.distributed.fsdp import fully_shard
        for block in getattr(model, "blocks", []):
            fully_shard(block)
        fully_shard(model)
        return model
    ids = [device.index] if device.type == "cuda" else None
    return nn.parallel.DistributedDataParallel(model, device_ids=ids, find_unused_parameters=find_unused)


def no_sync(model: nn.Module, last_micro: bool):
    """Skip DDP's gradient all-reduce on all but the last micro-step of an accumulated update."""
    if isinstance(model, nn.parallel.DistributedDataParallel) and not last_micro:
        return model.no_sync()
    return nullcontext()
