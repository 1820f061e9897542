"""`llmos serve`: an OpenAI-compatible HTTP server for a model folder."""
from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Literal


def serve(model: Path, host: str = "127.0.0.1", port: int = 8000, api_key: str | None = None,
          model_name: str | None = None, slots: int = 16, prefix_cache_mb: float = 256.0, device: str = "auto",
          dtype: Literal["fp32", "bf16", "int8", "float16"] = "fp32", threads: int | None = None,
          draft: Path | None = None, speculate_k: int = 4,
          log_level: Literal["debug", "info", "warning", "error"] = "info") -> int:
    """Serve a model over an OpenAI-compatible HTTP API, with continuous batching.

    Routes: GET /v1/models, POST /v1/completions, POST /v1/chat/completions
    (stream=true for server-sent events), GET /health. Point any OpenAI client
    at http://HOST:PORT/v1, e.g. `OpenAI(base_url="http://127.0.0.1:8000/v1", api_key=...)`.

    Args:
        model: a training run folder or a Hugging Face format folder (config.json, *.safetensors, tokenizer.json).
        host: address to listen on; 127.0.0.1 keeps the server on this machine.
        port: TCP port.
        api_key: require `Authorization: Bearer KEY` on /v1 routes (default: $LLMOS_API_KEY; none if unset).
        model_name: the model's id in the API (default: the folder's name).
        slots: requests decoded together (KV cache rows); more wait in a queue.
        prefix_cache_mb: memory for the keys and values of recent prompts' prefixes, reused by
            later prompts that start the same way (least recently used evicted first); 0 turns it off.
        device: cpu, cuda, cuda:1, ... (auto: cuda when available).
        dtype: weight precision. fp32; bf16 or int8 store the weights in 2 or 1 bytes (per-channel
            scales) and compute in fp32, reading 2x or 4x fewer bytes per token; float16 casts the
            whole model and KV cache (for GPUs). A folder saved by `llmos quantize` loads as stored.
        threads: torch CPU threads (default: torch's own choice, one per core).
        draft: a small model on the same tokenizer (a run or HF folder, loaded in --dtype). While one
            request runs alone, it guesses --speculate-k tokens that the model checks in one forward
            (speculative decoding: the output follows the model's own distribution); with two or more
            requests the batch decodes as usual.
        speculate_k: draft tokens checked per forward.
        log_level: uvicorn's log level.
    """
    import torch
    import uvicorn

    from llmos.hub import CheckpointError
    from llmos.infer.engine import EngineConfig
    from llmos.serve.app import create_app
    from llmos.serve.served_model import ServedModel

    if threads:
        torch.set_num_threads(threads)
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    api_key = api_key or os.environ.get("LLMOS_API_KEY") or None
    try:
        engine_config = EngineConfig(n_slots=slots, prefix_cache_mb=prefix_cache_mb)
        if dtype == "float16":
            if draft is not None:
                raise ValueError("--draft takes --dtype fp32, bf16 or int8")
            served = ServedModel.load(model, name=model_name, engine_config=engine_config,
                                      device=device, dtype=torch.float16)
        else:
            served = load_weights_as(model, dtype, model_name, engine_config, device, draft, speculate_k)
    except (CheckpointError, ValueError, OSError) as e:
        print(f"llmos serve: {e}", file=sys.stderr)
        return 2
    if host not in ("127.0.0.1", "localhost", "::1") and not api_key:
        print(f"llmos serve: warning: listening on {host} without an API key; anyone who can reach "
              "this port can use the model (set --api-key or LLMOS_API_KEY)", file=sys.stderr)
    spec = f", draft {Path(draft).name} k={speculate_k}" if draft is not None else ""
    print(f"serving {served.name!r} ({served.context}-token context, {slots} slots, {device}{spec}) at "
          f"http://{host}:{port}/v1" + (" (API key required)" if api_key else ""), file=sys.stderr)
    uvicorn.run(create_app(served, api_key=api_key), host=host, port=port, log_level=log_level)
    return 0


def load_weights_as(path: Path, dtype: str, name: str | None, engine_config, device: str,
                    draft: Path | None = None, speculate_k: int = 4):
    """A ServedModel whose weights are fp32, bf16 or int8 (`llmos.hub.quantized.load_for_decoding`),
    with a draft model for speculative decoding when `draft` is given."""
    from llmos.hub import generation_eos_ids, resolve_model_dir
    from llmos.hub.quantized import load_for_decoding
    from llmos.serve.served_model import ServedModel
    folder = resolve_model_dir(path)
    lm, tokenizer = load_for_decoding(folder, dtype, device)
    draft_lm = load_for_decoding(resolve_model_dir(draft), dtype, device)[0] if draft is not None else None
    return ServedModel(lm, tokenizer, name or Path(path).resolve().name, engine_config,
                       generation_eos_ids(folder), draft=draft_lm, speculate_k=speculate_k)
