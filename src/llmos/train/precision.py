"""Mixed precision: which dtype the forward pass runs in, and the autocast context for it.

Weights, gradients and the optimizer's moments stay fp32 whatever the
precision; only the matmuls of the forward (and so of the backward) run in
bf16 or fp16 under `torch.autocast`. On a CPU with AVX-512 BF16 (or AMX)
bf16 trains up to about twice as fast as fp32; elsewhere it is emulated and slower.
"""
from __future__ import annotations

from contextlib import nullcontext

import torch

from llmos.config import ConfigError


def resolve_precision(precision: str, device: torch.device) -> str:
    if precision != "auto":
        if precision == "fp16" and device.type != "cuda":
            raise ConfigError("train.precision=fp16 needs a CUDA device; on the CPU use bf16 or fp32")
        return precision
    if device.type == "cuda":
        return "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    return "fp32"


def autocast(device: torch.device, precision: str):
    """Run the forward pass in bf16/fp16 where asked; weights and optimizer stay fp32."""
    if precision == "fp32":
        return nullcontext()
    return torch.autocast(device.type, dtype=torch.bfloat16 if precision == "bf16" else torch.float16)


def cpu_has_native_bf16() -> bool:
    """True where the CPU multiplies bf16 in hardware (AVX-512 BF16 or AMX), read from /proc/cpuinfo."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            flags = next((line for line in f if line.startswith("flags")), "").split()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def cpu_precision(precision: str) -> str:
    """"auto" on the CPU: bf16 where the CPU has it natively, else fp32; any other choice as given."""
    if precision != "auto":
        return precision
    return "bf16" if cpu_has_native_bf16() else "fp32"
