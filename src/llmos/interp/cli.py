"""Command-line verbs for looking inside models."""
from __future__ import annotations

from pathlib import Path


def attention(model: Path, prompt: str = "The cat sat on the mat. The cat sat on the",
              out: Path = Path("attention.png"), layers: list[int] | None = None,
              heads: list[int] | None = None) -> None:
    """Save a prompt's attention maps as a PNG grid (rows: layers, columns: heads).

    Args:
        model: an HF-format model folder (config.json + *.safetensors + tokenizer) or a run folder.
        prompt: the text to look at; about 32 tokens or fewer keeps the labels readable. The
            default repeats a phrase, so induction heads (attending to what followed the
            earlier copy of the current token) stand out.
        out: where to write the PNG.
        layers: only these layers (numbered from 0); default all.
        heads: only these heads (numbered from 0); default all.
    """
    from llmos.hub import load_pretrained
    from llmos.interp.attention_maps import save_attention_maps

    lm, tokenizer = load_pretrained(model)
    if tokenizer is None:
        raise SystemExit(f"{model} has no tokenizer.json; save the model with its tokenizer to draw labelled maps")
    pic = save_attention_maps(lm, prompt, tokenizer, out, layers, heads)
    rows, cols = pic.grid
    print(f"wrote {pic.path}: {rows} layers x {cols} heads, {len(pic.tokens)} tokens")
