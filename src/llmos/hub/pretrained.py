"""Read and write Hugging Face format model folders.

A folder is `config.json` + `model.safetensors` (or shards with
`model.safetensors.index.json`) + tokenizer files. llmos writes what
`transformers` reads (`AutoModelForCausalLM.from_pretrained(folder)`), and reads
what it writes, for the GPT-2, Llama, Mistral, Qwen2 and Mixtral families.

Every way a folder can be wrong gets an error that names the thing: an
unsupported architecture, a missing file, a missing or unexpected tensor, or a
tensor whose shape disagrees with config.json (both shapes given).
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Callable, Iterable

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save_file
from torch import Tensor

from llmos.config import atomic_write_text, read_json
from llmos.hub.families import ADAPTERS, adapter_for
from llmos.nn.config import ModelConfig
from llmos.nn.causal_lm import CausalLM


class CheckpointError(ValueError):
    """A model folder is missing something or disagrees with itself."""


def resolve_model_dir(path: str | Path) -> Path:
    """An HF folder itself, or a run folder holding one at `model/`."""
    path = Path(path)
    if (path / "config.json").is_file():
        return path
    if (path / "model" / "config.json").is_file():
        return path / "model"
    if not path.exists():
        raise CheckpointError(f"{path} does not exist; give an HF-format model folder or a run folder")
    raise CheckpointError(f"{path} has no config.json (nor model/config.json): "
                          "give an HF-format model folder (config.json + *.safetensors) or a run folder")


def read_hf_config(folder: str | Path) -> dict[str, Any]:
    return read_json(resolve_model_dir(folder) / "config.json", CheckpointError)


def generation_eos_ids(folder: str | Path) -> set[int]:
    """End-of-sequence ids listed in the folder's generation_config.json (one id or a list; none if absent)."""
    path = resolve_model_dir(folder) / "generation_config.json"
    if not path.is_file():
        return set()
    gen = read_json(path, CheckpointError)
    eos = gen.get("eos_token_id") if isinstance(gen, dict) else None
    eos = eos if isinstance(eos, list) else [eos]
    return {int(e) for e in eos if isinstance(e, int)}


def write_generation_config(folder: Path, cfg) -> None:
    """generation_config.json with the model's bos / eos ids, as `transformers` reads them."""
    gen = {k: v for k, v in (("bos_token_id", cfg.bos_token_id), ("eos_token_id", cfg.eos_token_id))
           if v is not None}
    atomic_write_text(folder / "generation_config.json", json.dumps(gen, indent=2) + "\n")


def check_tensor_names(expected: Iterable[str], found: Iterable[str], folder: Path, model: str,
                       file_of: Callable[[str], str], shown: Callable[[str], str] = str,
                       ignored: Callable[[str], bool] = lambda name: False) -> None:
    """Every expected tensor is in the checkpoint and nothing else is, or a CheckpointError names the first odd one.

    file_of(name): the file a found tensor came from; shown(name): the name as the checkpoint spells it;
    ignored(name): a found tensor that may be there without being expected (a buffer, a task head).
    """
    found = list(found)
    present = set(found)
    missing = [k for k in expected if k not in present]
    if missing:
        raise CheckpointError(f"{folder}: tensor {shown(missing[0])!r} is missing from the weights"
                              f" ({len(missing)} missing in all) for a {model} model with this config.json")
    expected = set(expected)
    unexpected = [k for k in found if k not in expected and not ignored(k)]
    if unexpected:
        raise CheckpointError(f"{folder}: unexpected tensor {shown(unexpected[0])!r} in {file_of(unexpected[0])} "
                              f"({len(unexpected)} in all); config.json does not describe these weights")


def check_tensor_shape(name: str, shape: tuple[int, ...], expected: tuple[int, ...], source: str) -> None:
    """A tensor's shape is the one config.json implies, or a CheckpointError gives both."""
    if tuple(shape) != tuple(expected):
        raise CheckpointError(f"{source}: tensor {name} has shape {tuple(shape)} but config.json implies "
                              f"{tuple(expected)}")


def load_config(folder: str | Path) -> ModelConfig:
    hf = read_hf_config(folder)
    _, adapter = adapter_for(hf, str(resolve_model_dir(folder) / "config.json"))
    return adapter.config_from_hf(hf)


def _tensor_files(folder: Path) -> dict[str, Path]:
    """tensor name -> the file holding it."""
    index = folder / "model.safetensors.index.json"
    if index.is_file():
        weight_map = read_json(index, CheckpointError)["weight_map"]
        files = {name: folder / f for name, f in weight_map.items()}
        for f in set(files.values()):
            if not f.is_file():
                raise CheckpointError(f"{index.name} lists {f.name}, which is missing from {folder}")
        return files
    shards = sorted(folder.glob("*.safetensors"))
    if not shards:
        raise CheckpointError(f"no model.safetensors in {folder}: the weights file is missing")
    files: dict[str, Path] = {}
    for f in shards:
        try:
            with safe_open(f, "pt") as st:
                files.update({k: f for k in st.keys()})
        except (SafetensorError, OSError) as e:
            raise CheckpointError(f"{f} is not a readable safetensors file ({e}); it is corrupt or truncated") from None
    return files


def load_model(path: str | Path, dtype: torch.dtype | None = torch.float32,
               device: torch.device | str = "cpu") -> CausalLM:
    """Load the model in an HF-format (or run) folder."""
    folder = resolve_model_dir(path)
    hf = read_hf_config(folder)
    model_type, adapter = adapter_for(hf, str(folder / "config.json"))
    cfg = adapter.config_from_hf(hf)
    with torch.device("meta"):
        expected = {k: tuple(v.shape) for k, v in adapter.to_hf(CausalLM(cfg).state_dict(), cfg).items()}
    files = _tensor_files(folder)
    check_tensor_names(expected, files, folder, model_type, lambda k: files[k].name,
                       ignored=lambda k: k.endswith(adapter.IGNORED))
    tensors: dict[str, Tensor] = {}
    by_file: dict[Path, list[str]] = {}
    for k in expected:
        by_file.setdefault(files[k], []).append(k)
    for f, names in by_file.items():
        try:
            with safe_open(f, "pt", device="cpu") as st:
                for k in names:
                    check_tensor_shape(repr(k), st.get_slice(k).get_shape(), expected[k], f.name)
                    tensors[k] = st.get_tensor(k)
        except SafetensorError as e:
            raise CheckpointError(f"{f} could not be read ({e}); it is corrupt or truncated") from None
    return CausalLM.from_state_dict(cfg, adapter.from_hf(tensors, cfg), device=device, dtype=dtype)


def load_tokenizer(path: str | Path):
    """The tokenizer saved beside a model, or None when the folder has none."""
    folder = resolve_model_dir(path)
    if not (folder / "tokenizer.json").is_file():
        return None
    from llmos.text import Tokenizer
    return Tokenizer.load(folder)


def load_pretrained(path: str | Path, dtype: torch.dtype | None = torch.float32,
                    device: torch.device | str = "cpu"):
    """(model, tokenizer or None) from an HF-format folder or a run folder."""
    return load_model(path, dtype, device), load_tokenizer(path)


def save_pretrained(model: CausalLM, folder: str | Path, tokenizer=None,
                    dtype: torch.dtype | None = None) -> Path:
    """Write `model` (and `tokenizer`) as an HF-format folder that `transformers` opens."""
    cfg = model.config
    if cfg.family not in ADAPTERS:
        raise CheckpointError(f"family {cfg.family!r} cannot be saved in HF format")
    adapter, _ = ADAPTERS[cfg.family]
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    hf = adapter.config_to_hf(cfg)
    sd = {k: v.detach() for k, v in model.state_dict().items()}
    tensors = {k: (v.to(dtype) if dtype and v.is_floating_point() else v).cpu().contiguous()
               for k, v in adapter.to_hf(sd, cfg).items()}
    hf["torch_dtype"] = hf["dtype"] = str(next(iter(tensors.values())).dtype).removeprefix("torch.")
    tmp = folder / f".model.safetensors.tmp{os.getpid()}"
    save_file(tensors, str(tmp), metadata={"format": "pt"})
    os.replace(tmp, folder / "model.safetensors")
    atomic_write_text(folder / "config.json", json.dumps(hf, indent=2) + "\n")
    write_generation_config(folder, cfg)
    if tokenizer is not None:
        tokenizer.save(folder)
    return folder
