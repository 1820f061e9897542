"""`llmos generate`: sample text from a trained run or a Hugging Face folder."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Literal

import torch

from llmos.config import ConfigError
from llmos.infer.detokenize import IncrementalDetokenizer
from llmos.infer.sampling import GenerationConfig
from llmos.infer.speculative import SpeculativeStats, speculative_stream
from llmos.infer.window import stream_window


def generate(model: Path, prompt: str = "", max_new_tokens: int = 200, temperature: float = 0.8,
             top_k: int | None = None, top_p: float | None = None, repetition_penalty: float = 1.0,
             seed: int | None = None, num_samples: int = 1, stop: list[str] = [], chat: bool = False,
             device: str = "auto", dtype: Literal["fp32", "bf16", "int8"] = "fp32", draft: Path | None = None,
             speculate_k: int = 4) -> int:
    """Sample text from a model: a training run folder or a Hugging Face folder.

    Prints each sample as it is generated. Without a prompt the model starts a
    new document (after its end-of-text token), so the samples show what it
    learned of its corpus. Samples longer than the model's context slide the
    window over the last max_seq_len tokens.

        llmos generate runs/char
        llmos generate runs/llama --prompt "The import statement" --temperature 0.7 --top-k 50
        llmos generate path/to/hf_model --prompt "Hello" --chat
        llmos generate runs/big --dtype int8 --draft runs/char --speculate-k 4

    Args:
        model: a run folder (its model/ subfolder is used) or an HF-format model folder.
        prompt: text to continue (or, with --chat, the user's message).
        max_new_tokens: tokens to generate per sample.
        temperature: randomness of sampling; 0 is greedy.
        top_k: sample only among the k most likely tokens.
        top_p: sample only among the most likely tokens whose probabilities sum to p.
        repetition_penalty: above 1, discourages repeating tokens already present.
        seed: random seed, for repeatable samples.
        num_samples: how many samples to draw.
        stop: strings that end a sample.
        chat: wrap the prompt in the tokenizer's chat template as a user message.
        device: cpu, cuda, or auto.
        dtype: weight precision: fp32; bf16 or int8 (per-channel scales) read 2x or 4x fewer bytes
            per token, the bound on decoding one sequence on a CPU. Activations stay fp32.
        draft: a smaller model on the same tokenizer that proposes tokens for speculative decoding;
            the samples still follow this model's distribution. Prints the acceptance rate. Stops at
            the end of the smaller context (no sliding window).
        speculate_k: tokens the draft proposes per check of the target (with --draft).
    """
    from llmos.hub.quantized import load_for_decoding
    if speculate_k < 1:
        raise ConfigError(f"--speculate-k must be at least 1, got {speculate_k}")
    dev = torch.device("cuda" if device == "auto" and torch.cuda.is_available() else
                       ("cpu" if device == "auto" else device))
    try:
        lm, tokenizer = load_for_decoding(model, dtype, dev)
        small = load_for_decoding(draft, dtype, dev)[0] if draft is not None else None
    except (OSError, ValueError) as e:      # hub errors name the folder and what is wrong with it
        raise ConfigError(str(e)) from None
    if tokenizer is None:
        raise ConfigError(f"{model} has no tokenizer.json beside the model; llmos generate needs one to "
                          "read the prompt and print text")
    lm.eval()
    if chat:
        ids = tokenizer.apply_chat_template([{"role": "user", "content": prompt}], tokenize=True)
    elif prompt:
        ids = tokenizer.encode(prompt)
    else:
        start = tokenizer.bos_id if tokenizer.bos_id is not None else tokenizer.eos_id
        if start is None:
            raise ConfigError("this tokenizer has no BOS or end-of-text token to start from; give --prompt")
        ids = [start]
    for i in range(num_samples):
        cfg = GenerationConfig(max_new_tokens=max_new_tokens, temperature=temperature, top_k=top_k,
                               top_p=top_p, repetition_penalty=repetition_penalty,
                               seed=None if seed is None else seed + i)
        if num_samples > 1:
            print(f"--- sample {i + 1} ---")
        print(prompt if not chat else "", end="", flush=True)
        detok = IncrementalDetokenizer(tokenizer, skip_special_tokens=True)
        text = ""
        stats = SpeculativeStats()
        tokens = (speculative_stream(lm, small, ids, cfg, speculate_k, stats) if small is not None
                  else stream_window(lm, ids, cfg))
        for token in tokens:
            piece = detok.add(token)
            text += piece
            cut = min((text.find(s) for s in stop if s in text), default=-1)
            if cut >= 0:
                sys.stdout.write(piece[:max(0, len(piece) - (len(text) - cut))])
                break
            sys.stdout.write(piece)
            sys.stdout.flush()
        print()
        if small is not None:
            print(f"[speculative: {stats.acceptance_rate:.0%} of {stats.proposed} draft tokens accepted, "
                  f"{stats.tokens_per_round:.2f} tokens per target forward]", file=sys.stderr)
    return 0
