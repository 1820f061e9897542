"""nn.Linear whose inference on a few rows reads the weight once, at memory speed.

    y = x W^T + b        x (..., K), W (N, K), b (N,)

Decoding one token per sequence multiplies an (M, K) activation, M small, by
every weight matrix. torch's fp32 `F.linear` reaches about half the memory
bandwidth there (BENCHMARKS.md); `llmos.nn.gemv.fp32` streams each weight row
once and adds the bias in the same pass. `Linear` takes that path only when
nothing needs a gradient, the tensors are fp32 on the CPU, at most 16 rows come
in, the weight is contiguous and the kernel is built; otherwise it is `nn.Linear` exactly. It is a
subclass, so state dicts, `isinstance(m, nn.Linear)` and `quantize` see an
ordinary Linear.
"""
from __future__ import annotations

import torch
from torch import Tensor, nn

from llmos.nn import gemv

MAX_ROWS = 16          # the kernel's limit: rows of x a call multiplies at once


class Linear(nn.Linear):
    def forward(self, x: Tensor) -> Tensor:
        w = self.weight
        if (x.device.type == "cpu" and x.dtype == torch.float32 and w.dtype == torch.float32
                and w.is_contiguous() and x.numel() <= MAX_ROWS * self.in_features
                and not (torch.is_grad_enabled() and (w.requires_grad or x.requires_grad))
                and gemv.available()):
            y = gemv.fp32(x.reshape(-1, self.in_features).contiguous(), w, self.bias)
            return y.reshape(*x.shape[:-1], self.out_features)
        return super().forward(x)
