"""The cost of constrained decoding per token, at batch 1 and 16, beside a decode step.

    python bench/serve_structured.py [--vocab 32000] [--d-model 512] [--layers 8] [--steps 40]

A byte-level BPE tokenizer of about `--vocab` tokens is trained on llmos's
embedded corpus (nothing downloaded), and a random Llama-family model of
that vocabulary is built. For a JSON schema with nested objects, arrays,
enums and bounded numbers, B grammar states (B = 1 and 16) walk through
sampled valid outputs; at every step we time

    mask      llguidance's next-token bitmask for the B states, unpacked to a
              bool (B, V) mask and applied to the logits (`constrain_logits`)
    decode    one batched decode forward of the model for B rows (KV cache)

and report mask / decode. The goal is < 10% of a decode step.

`outlines-core` (if installed: pip install outlines-core) is measured beside
it on the same schema and vocabulary: the time to build its index for the
schema (paid once per new schema) and its per-token mask time. Saves
bench/results/serve_structured.json.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
from llmos.infer.grammar import Grammar, compile_grammar, constrain_logits  # noqa: E402
from llmos.nn import CausalLM, ModelConfig  # noqa: E402
from llmos.text import Tokenizer  # noqa: E402
from llmos.text.default_corpus import default_corpus_documents  # noqa: E402

SCHEMA = {"type": "object", "additionalProperties": False, "required": ["name", "tags", "address", "kind", "score"],
          "properties": {
              "name": {"type": "string", "maxLength": 40},
              "tags": {"type": "array", "maxItems": 4, "items": {"type": "string", "maxLength": 12}},
              "address": {"type": "object", "additionalProperties": False, "required": ["city", "zip"],
                          "properties": {"city": {"type": "string", "maxLength": 20},
                                         "zip": {"type": "string", "pattern": "^[0-9]{5}$"}}},
              "kind": {"enum": ["person", "company", "robot"]},
              "score": {"type": "integer", "minimum": 0, "maximum": 100}}}


def walk_tokens(grammar, steps: int, seed: int) -> list[list[int]]:
    """Valid token walks: at each step a uniformly random allowed token (restarting when done)."""
    g = torch.Generator().manual_seed(seed)
    state, walk = grammar.start(), []
    while len(walk) < steps:
        allowed = state.allowed().nonzero().flatten()
        allowed = allowed[allowed != grammar.eos_id]
        if state.is_finished or len(allowed) == 0:
            state = grammar.start()
            continue
        token = int(allowed[torch.randint(len(allowed), (1,), generator=g)])
        state.advance(token)
        walk.append(token)
    return walk


def time_llguidance(grammar, batch: int, steps: int, vocab: int) -> list[float]:
    walks = [walk_tokens(grammar, steps, seed) for seed in range(batch)]
    states = [grammar.start() for _ in range(batch)]
    logits = torch.randn(batch, vocab)
    times = []
    for t in range(steps):
        start = time.perf_counter()
        constrain_logits(logits, states)
        times.append(time.perf_counter() - start)
        for i, w in enumerate(walks):
            if not states[i].advance(w[t]) or states[i].is_finished:
                states[i] = grammar.start()        # the walk restarted here too
    return times


def time_decode(model, batch: int, steps: int, prompt: int = 64) -> list[float]:
    cache = model.new_cache(batch, prompt + steps + 1)
    ids = torch.randint(model.config.vocab_size, (batch, prompt))
    times = []
    with torch.inference_mode():
        model(ids, cache=cache, last_only=True)
        tok = ids[:, -1:]
        for _ in range(steps):
            start = time.perf_counter()
            tok = model(tok, cache=cache).logits[:, -1].argmax(-1, keepdim=True)
            times.append(time.perf_counter() - start)
    return times


def outlines_vocabulary(tok: Tokenizer):
    """outlines-core's Vocabulary: token text -> ids (byte-level stand-ins decoded to text)."""
    import outlines_core
    table: dict[str, list[int]] = {}
    for i in range(tok.vocab_size):
        if i == tok.eos_id:
            continue
        text = tok.decode([i])
        if text and "\ufffd" not in text:   # partial UTF-8 tokens are left out of this comparison
            table.setdefault(text, []).append(i)
    return outlines_core.Vocabulary(tok.eos_id, table)


def time_outlines(tok: Tokenizer, batch: int, steps: int) -> dict | None:
    try:
        import outlines_core
        from outlines_core.json_schema import build_regex_from_schema
    except ImportError:
        return None
    vocabulary = outlines_vocabulary(tok)
    start = time.perf_counter()
    index = outlines_core.Index(build_regex_from_schema(json.dumps(SCHEMA)), vocabulary)
    build_s = time.perf_counter() - start
    guides = [outlines_core.Guide(index) for _ in range(batch)]
    gens = [torch.Generator().manual_seed(s) for s in range(batch)]
    mask = torch.zeros(batch, (tok.vocab_size + 31) // 32, dtype=torch.int32)
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        for i, g in enumerate(guides):
            g.write_mask_into(mask[i].data_ptr(), mask[i].numel(), 4)
        times.append(time.perf_counter() - start)
        for g, gen in zip(guides, gens):
            allowed = [t for t in g.get_tokens() if t != tok.eos_id]
            if g.is_finished() or not allowed:
                g.reset()
                continue
            g.advance(allowed[int(torch.randint(len(allowed), (1,), generator=gen))])
    return {"index_build_s": build_s, "mask_ms": 1e3 * statistics.median(times)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--vocab", type=int, default=32000)
    ap.add_argument("--d-model", type=int, default=512)
    ap.add_argument("--layers", type=int, default=8)
    ap.add_argument("--steps", type=int, default=40)
    ap.add_argument("--threads", type=int, default=None)
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    t0 = time.perf_counter()
    tok = Tokenizer.train_bpe(default_corpus_documents()[:2000], vocab_size=args.vocab)
    print(f"tokenizer: {tok.vocab_size} tokens ({time.perf_counter() - t0:.1f} s)")
    torch.manual_seed(0)
    model = CausalLM(ModelConfig.for_family("llama", vocab_size=tok.vocab_size, d_model=args.d_model,
                                            n_layers=args.layers, n_heads=8, d_ff=4 * args.d_model,
                                            max_seq_len=512)).eval()
    start = time.perf_counter()
    grammar = compile_grammar(Grammar.json_schema(SCHEMA), tok, tok.vocab_size)
    compile_s = time.perf_counter() - start
    rows = {}
    for batch in (1, 16):
        mask = statistics.median(time_llguidance(grammar, batch, args.steps, tok.vocab_size))
        decode = statistics.median(time_decode(model, batch, args.steps))
        peer = time_outlines(tok, batch, args.steps)
        rows[batch] = {"mask_ms": 1e3 * mask, "decode_ms": 1e3 * decode, "ratio": mask / decode,
                       "outlines_core": peer}
        extra = (f"   outlines-core mask {peer['mask_ms']:.3f} ms (index build {peer['index_build_s']:.2f} s)"
                 if peer else "   (outlines-core not installed)")
        print(f"batch {batch:2d}: llguidance mask {1e3 * mask:.3f} ms   decode step {1e3 * decode:.2f} ms   "
              f"mask/decode {100 * mask / decode:.1f}%{extra}")
    print(f"llguidance grammar compile: {1e3 * compile_s:.1f} ms")
    out = {"vocab": tok.vocab_size, "model": {"d_model": args.d_model, "layers": args.layers,
                                               "params": model.num_parameters()},
           "llguidance_compile_ms": 1e3 * compile_s, "batches": rows, "steps": args.steps,
           "machine": {"cpu": platform.processor() or platform.machine(), "threads": torch.get_num_threads(),
                       "load": os.getloadavg()}}
    path = ROOT / "bench" / "results" / "serve_structured.json"
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps(out, indent=2))
    print(f"saved {path}")


if __name__ == "__main__":
    main()
