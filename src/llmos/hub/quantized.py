"""Save and load a weight-quantized model folder, so it is not quantized again on every load.

    RUN/model-int8/
        config.json               the model's HF config (as for the fp32 folder)
        quantization.json         {"format": "llmos", "dtype": "int8"}
        quantized.safetensors     llmos's own tensor names: int8 weights, their fp32 scales, the rest fp32
        tokenizer.json ...        copied from the model

`load_for_decoding` (behind `--dtype` on `llmos generate`, `serve` and `chat`)
recognises such a folder by its quantization.json. `transformers` cannot open it: its weights are not in
a format it knows.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Literal

import torch
from safetensors.torch import load_file, save_file

from llmos.config import atomic_write_text, read_json
from llmos.hub.families import ADAPTERS, adapter_for
from llmos.hub.pretrained import load_model, load_tokenizer, read_hf_config, resolve_model_dir, write_generation_config
from llmos.nn.causal_lm import CausalLM
from llmos.nn.positions import RotaryEmbedding, SinusoidalPositions
from llmos.nn.quantize import DTYPES, empty_quantized, quantized_dtype

QUANT_CONFIG = "quantization.json"
QUANT_WEIGHTS = "quantized.safetensors"


def is_quantized_folder(folder: str | Path) -> bool:
    return (Path(folder) / QUANT_CONFIG).is_file()


def save_quantized(model: CausalLM, folder: str | Path, tokenizer=None) -> Path:
    """Write a model made by `quantize(model, dtype)` to `folder`."""
    dtype = quantized_dtype(model)
    if dtype == "fp32":
        raise ValueError("the model is not quantized; call llmos.nn.quantize.quantize(model, 'int8') first, "
                         "or save an fp32 model with save_pretrained")
    cfg = model.config
    if cfg.family not in ADAPTERS:
        raise ValueError(f"family {cfg.family!r} has no HF config format to save")
    adapter, _ = ADAPTERS[cfg.family]
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    sd = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    if cfg.tie_embeddings:             # lm_head is the embedding's own table: store it once
        sd = {k: v for k, v in sd.items() if not k.startswith("lm_head.")}
    tmp = folder / f".{QUANT_WEIGHTS}.tmp{os.getpid()}"
    save_file(sd, str(tmp), metadata={"format": "llmos", "dtype": dtype})
    os.replace(tmp, folder / QUANT_WEIGHTS)
    hf = adapter.config_to_hf(cfg)
    atomic_write_text(folder / "config.json", json.dumps(hf, indent=2) + "\n")
    write_generation_config(folder, cfg)
    atomic_write_text(folder / QUANT_CONFIG, json.dumps({"format": "llmos", "dtype": dtype}, indent=2) + "\n")
    if tokenizer is not None:
        tokenizer.save(folder)
    return folder


def load_quantized(folder: str | Path, device: torch.device | str = "cpu") -> CausalLM:
    """The model saved by `save_quantized`, with its int8 or bf16 weights as stored."""
    folder = Path(folder)
    meta = read_json(folder / QUANT_CONFIG, ValueError)
    dtype = meta.get("dtype") if isinstance(meta, dict) else None
    if dtype is None:
        raise ValueError(f"{folder / QUANT_CONFIG} is not a valid quantization record (no \"dtype\")")
    if dtype not in DTYPES:
        raise ValueError(f"{folder / QUANT_CONFIG} names dtype {dtype!r}; llmos knows {', '.join(DTYPES)}")
    weights = folder / QUANT_WEIGHTS
    if not weights.is_file():
        raise ValueError(f"{folder} has {QUANT_CONFIG} but no {QUANT_WEIGHTS}: the weights are missing")
    hf = read_hf_config(folder)
    _, adapter = adapter_for(hf, str(folder / "config.json"))
    cfg = adapter.config_from_hf(hf)
    with torch.device("meta"):
        model = empty_quantized(CausalLM(cfg), dtype)
    # safetensors may hand back views into one buffer at any byte offset; the int8 matmul needs
    # aligned rows, so a tensor that is not on a 64-byte boundary gets its own allocation
    sd = {k: v.clone() if v.data_ptr() % 64 else v for k, v in load_file(str(weights), device=str(device)).items()}
    expected = set(model.state_dict())
    if cfg.tie_embeddings:
        expected = {k for k in expected if not k.startswith("lm_head.")}
    missing, unexpected = sorted(expected - set(sd)), sorted(set(sd) - expected)
    if missing or unexpected:
        what = f"missing {missing[0]!r}" if missing else f"unexpected {unexpected[0]!r}"
        raise ValueError(f"{weights}: tensor {what} for this config.json ({len(missing)} missing, "
                         f"{len(unexpected)} unexpected)")
    model.load_state_dict(sd, strict=False, assign=True)
    if cfg.tie_embeddings:
        model.lm_head = model.tok_emb.head
    if model.rotary is not None:        # non-persistent tables are rebuilt, not stored
        model.rotary = RotaryEmbedding(cfg.dim_per_head, cfg.rope_theta, cfg.rope_scaling,
                                       cfg.rope_interleaved).to(device)
    if isinstance(model.pos_emb, SinusoidalPositions):
        model.pos_emb = SinusoidalPositions(cfg.max_seq_len, cfg.d_model).to(device)
    for name, m in model.named_modules():
        if hasattr(m, "scales_bf16"):
            m.scales_bf16 = m.scales.to(torch.bfloat16)
    left = [n for n, t in list(model.named_parameters()) + list(model.named_buffers()) if t.is_meta]
    if left:
        raise ValueError(f"{weights}: no values for {', '.join(left[:3])}")
    return model.eval()


def load_for_decoding(path: str | Path, weights: str = "fp32", device: torch.device | str = "cpu"):
    """(model, tokenizer or None) with `weights` in fp32, bf16 or int8, for `--dtype` on the CLIs.

    An fp32 folder is loaded and quantized here; a folder saved by `save_quantized`
    is loaded as stored, and asking it for another dtype is an error (its fp32
    weights are gone).
    """
    from llmos.nn.quantize import quantize
    if weights not in DTYPES:
        raise ValueError(f"unknown --dtype {weights!r}; choose one of {', '.join(DTYPES)}")
    folder = resolve_model_dir(path)
    if is_quantized_folder(folder):
        model = load_quantized(folder, device)
        stored = quantized_dtype(model)
        if weights not in ("fp32", stored):
            raise ValueError(f"{folder} holds {stored} weights; it cannot be loaded as {weights} "
                             f"(load the fp32 model it was made from, or use --dtype {stored})")
        return model, load_tokenizer(folder)
    model = load_model(folder, torch.float32, device)
    return quantize(model, weights), load_tokenizer(folder)


def quantize_folder(model: Path, out: Path, dtype: Literal["int8", "bf16"] = "int8") -> int:
    """Quantize a model's weights to int8 or bf16 once, and save them for fast loading.

    The folder it writes loads with `--dtype` left at its default on `llmos
    generate`, `llmos serve` and `llmos chat` (or with the same --dtype), and
    is 4x (int8) or 2x (bf16) smaller than the fp32 model. Tokenizer files are
    copied across.

        llmos quantize runs/demo runs/demo-int8
        llmos generate runs/demo-int8 --prompt "This module "

    Args:
        model: a training run folder or an HF-format model folder (fp32 weights).
        out: the folder to write.
        dtype: int8 (per-output-channel scales, 1 byte a weight) or bf16 (2 bytes).
    """
    from llmos.config import ConfigError
    if dtype not in ("int8", "bf16"):
        raise ConfigError(f"--dtype must be int8 or bf16, got {dtype!r}")
    try:
        lm, tokenizer = load_for_decoding(model, dtype)
    except (OSError, ValueError) as e:
        raise ConfigError(str(e)) from None
    save_quantized(lm, out, tokenizer)
    size = sum(f.stat().st_size for f in Path(out).iterdir() if f.is_file())
    print(f"wrote {dtype} weights to {out} ({size / 1e6:.1f} MB)")
    return 0
