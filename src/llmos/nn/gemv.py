"""Fast matrix-vector products for int8, bf16 and fp32 weights on the CPU (the kernel is `gemv.cpp`).

    int8(x, q, s, b):  y = (x q^T) * s + b     x (M, K) fp32, q (N, K) int8, s (N,) fp32, M <= 16
    bf16(x, w, b):     y = x w^T + b           w (N, K) bf16
    fp32(x, w, b):     y = x w^T + b           w (N, K) fp32

b (N,) fp32 is optional (None: no bias); it is added in the kernel's own pass.

The C++ source is compiled with torch's extension builder the first time it is
needed (about a minute; the build is cached under TORCH_EXTENSIONS_DIR, by
default ~/.cache/torch_extensions). It needs a C++ compiler, ninja and an AVX2
CPU; on an AVX-512 CPU it is built with AVX-512 as well (a separate build;
LLMOS_GEMV_ISA=avx2 takes the AVX2 one there), and where the CPU has AVX-512
VNNI, one row of x against int8 weights goes through int16 dot products
(`vpdpwssd`: x rounded once to 15 bits, 1.5e-5 of its largest entry) instead of
widening every weight to fp32 (LLMOS_GEMV_ISA=avx512 takes the build without). `available()` is False when any
of those is missing, or when LLMOS_NO_GEMV=1 is set, and the quantized layers
then use torch's own operators: correct, but slower (see `quantize.py`).
"""
from __future__ import annotations

import os
import warnings
from pathlib import Path

import torch
from torch import Tensor

# one build holds the matrix-vector products and the fused decoding operators (`fused.py`)
_SOURCES = [Path(__file__).with_name("gemv.cpp"), Path(__file__).with_name("decode.cpp")]
_state: dict[str, object] = {}


def available() -> bool:
    """Whether the compiled kernel can be used (building it on first call)."""
    if "ok" not in _state:
        _state["ok"] = _build()
    return bool(_state["ok"])


def _build() -> bool:
    if os.environ.get("LLMOS_NO_GEMV") == "1":
        return False
    capability = torch.backends.cpu.get_cpu_capability()
    if capability == "AVX512" and os.environ.get("LLMOS_GEMV_ISA") == "avx2":   # compare the two builds
        capability = "AVX2"
    if capability not in ("AVX2", "AVX512"):
        return False
    vnni = capability == "AVX512" and _has_vnni() and os.environ.get("LLMOS_GEMV_ISA") != "avx512"
    # -fopenmp: at::parallel_for is an OpenMP loop compiled into this file; without the flag it
    # runs on one thread whatever torch.get_num_threads() says
    flags = ["-O3", "-mavx2", "-mfma", "-fopenmp"] + (["-mavx512f", "-mavx512bw"] if capability == "AVX512" else [])
    flags += ["-mavx512vnni"] if vnni else []
    try:
        from torch.utils.cpp_extension import load
        # one build per instruction set, so a cache shared by two machines never runs the wrong one
        name = "llmos_gemv" + ("_avx512" if capability == "AVX512" else "") + ("_vnni" if vnni else "")
        load(name=name, sources=[str(f) for f in _SOURCES],
             extra_cflags=flags, extra_ldflags=["-fopenmp"], is_python_module=False, verbose=False)
        return True
    except Exception as e:      # no compiler, no ninja: fall back, and say so once
        warnings.warn(f"llmos: the int8/bf16 matrix-vector kernel could not be built ({e}); "
                      "quantized layers use slower torch operators", stacklevel=3)
        return False


def _has_vnni() -> bool:
    """Whether the CPU has AVX-512 VNNI (int16 dot products for the int8 kernel), from /proc/cpuinfo."""
    try:
        return "avx512_vnni" in Path("/proc/cpuinfo").read_text().split()
    except OSError:
        return False


def int8(x: Tensor, q: Tensor, s: Tensor, b: Tensor | None = None) -> Tensor:
    return torch.ops.llmos_gemv.int8(x, q, s, b)


def bf16(x: Tensor, w: Tensor, b: Tensor | None = None) -> Tensor:
    return torch.ops.llmos_gemv.bf16(x, w, b)


def fp32(x: Tensor, w: Tensor, b: Tensor | None = None) -> Tensor:
    return torch.ops.llmos_gemv.fp32(x, w, b)
