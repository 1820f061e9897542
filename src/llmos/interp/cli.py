"""Command-line verbs for looking inside models: attention maps, logit lens, causal tracing, patching, ROME."""
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


def _load(model: Path):
    """(model, tokenizer) or a SystemExit that names what to fix."""
    from llmos.hub import CheckpointError, UnsupportedArchitecture, load_pretrained

    try:
        lm, tokenizer = load_pretrained(model)
    except (UnsupportedArchitecture, CheckpointError) as e:
        raise SystemExit(f"error: {e}") from None
    if tokenizer is None:
        raise SystemExit(f"error: {model} has no tokenizer.json; save the model with its tokenizer")
    return lm.eval(), tokenizer


def _encoder(tokenizer):
    bos = [tokenizer.bos_id] if tokenizer.bos_id is not None else []
    encode = lambda text: tokenizer.encode(text, add_special_tokens=False)  # noqa: E731
    return encode, bos


def _one_token(encode, word: str, what: str) -> int:
    ids = encode(" " + word.strip())
    if not ids:
        raise SystemExit(f"error: --{what} is empty; give a word")
    return ids[0]


def lens(model: Path, prompt: str, answer: str | None = None, k: int = 5, out: Path = Path("lens.png")) -> None:
    """Logit lens: what the model would predict after each layer, and a PNG of layers x positions.

    Args:
        model: an HF-format model folder (or a run folder) with its tokenizer.
        prompt: the text to read.
        answer: a word whose probability to follow at every layer (its first token counts).
        k: how many top tokens to print per layer (at the last position).
        out: where to write the PNG (colour: P(answer), or the top-1 probability; text: the top-1 token).
    """
    from llmos.interp.attention_maps import token_labels
    from llmos.interp.logit_lens import logit_lens, plot_logit_lens

    lm, tok = _load(model)
    encode, bos = _encoder(tok)
    ids = bos + encode(prompt)
    target = _one_token(encode, answer, "answer") if answer else None
    result = logit_lens(lm, ids, answer=target, k=k)
    for label, top_i, top_p, row in zip(result.labels, result.top_ids[:, -1], result.top_probs[:, -1],
                                        range(len(result.labels))):
        words = "  ".join(f"{tok.decode([int(i)])!r} {float(p):.2f}" for i, p in zip(top_i, top_p))
        extra = f"   P({answer!r}) = {float(result.answer_prob[row, -1]):.3f}" if target is not None else ""
        print(f"{label:>10s}  {words}{extra}")
    path = plot_logit_lens(result, token_labels(ids, tok), lambda i: tok.decode([i]), out,
                           title=f"logit lens: {prompt!r}")
    print(f"wrote {path}")


def trace(model: Path, prompt: str, subject: str, answer: str | None = None, out: Path = Path("trace.png"),
          samples: int = 10, window: int = 3, noise: float = 3.0) -> None:
    """Causal tracing (ROME fig. 1): which hidden states, MLPs and attention layers recall a fact.

    The subject's token embeddings get Gaussian noise (noise x the embeddings' standard
    deviation); then each hidden state, and each window of MLP or attention outputs, is put
    back to its clean value at one token, and the answer's probability recovered is drawn.

    Args:
        model: an HF-format model folder (or a run folder) with its tokenizer.
        prompt: the fact's prompt, e.g. "The Eiffel Tower is in the city of".
        subject: the words of the prompt to corrupt, e.g. "The Eiffel Tower"; must occur in the prompt.
        answer: the expected next word; default the model's own greedy prediction.
        out: where to write the PNG of the three heatmaps.
        samples: noise samples to average over.
        window: how many consecutive layers' MLP / attention outputs are restored together.
        noise: the noise's standard deviation, in multiples of the embeddings' standard deviation.
    """
    import torch

    from llmos.interp.attention_maps import token_labels
    from llmos.interp.rome import find_subject
    from llmos.interp.tracing import causal_trace, plot_trace

    lm, tok = _load(model)
    encode, bos = _encoder(tok)
    ids = bos + encode(prompt)
    try:
        span = find_subject(encode, ids, subject)
        with torch.no_grad():
            target = (_one_token(encode, answer, "answer") if answer
                      else int(lm(torch.tensor([ids])).logits[0, -1].argmax()))
        tr = causal_trace(lm, ids, span, target, samples=samples, noise=noise, window=window)
    except ValueError as e:
        raise SystemExit(f"error: {e}") from None
    labels = token_labels(ids, tok)
    labels = [f"{s}*" if span[0] <= i < span[1] else s for i, s in enumerate(labels)]
    path = plot_trace(tr.effects, labels, out, f"causal trace of {tok.decode([target])!r} "
                      f"(p clean {tr.clean_prob:.2f}, corrupted {tr.corrupt_prob:.2f}; * = subject)", window)
    for kind, grid in tr.effects.items():
        t, l = divmod(int(grid.argmax()), grid.shape[1])
        print(f"{kind:>6s}: strongest at token {labels[t]!r} (position {t}), layer {l}: +{float(grid.max()):.3f}")
    print(f"wrote {path}")


def patch(model: Path, clean: str, corrupt: str, answer: str, wrong: str | None = None,
          site: str = "resid_pre", heads: bool = False, out: Path = Path("patch.png")) -> None:
    """Activation patching: put clean activations into a corrupted run and see what comes back.

    The metric is the logit difference logit(answer) - logit(wrong) at the last token,
    normalised so 1 = the clean run's value and 0 = the corrupted run's.

    Args:
        model: an HF-format model folder (or a run folder) with its tokenizer.
        clean: the clean prompt.
        corrupt: the corrupted prompt; the same number of tokens as the clean one.
        answer: the clean prompt's answer word.
        wrong: the corrupted prompt's answer word; default the model's prediction on it.
        site: resid_pre, resid_mid, resid_post, attn_out or mlp_out (patched by layer x position).
        heads: patch each attention head's output instead (layer x head, every position).
        out: where to write the heatmap PNG.
    """
    import torch

    from llmos.interp.attention_maps import token_labels
    from llmos.interp.heatmap import save_heatmap
    from llmos.interp.patching import logit_diff, patch_by_position, patch_heads

    lm, tok = _load(model)
    encode, bos = _encoder(tok)
    clean_ids, corrupt_ids = bos + encode(clean), bos + encode(corrupt)
    good = _one_token(encode, answer, "answer")
    with torch.no_grad():
        bad = _one_token(encode, wrong, "wrong") if wrong else int(lm(torch.tensor([corrupt_ids])).logits[0, -1].argmax())
    metric = logit_diff(good, bad)
    try:
        if heads:
            grid = patch_heads(lm, torch.tensor(clean_ids), torch.tensor(corrupt_ids), metric)
            cols, xlabel = [str(h) for h in range(grid.shape[1])], "head"
        else:
            grid = patch_by_position(lm, torch.tensor(clean_ids), torch.tensor(corrupt_ids), metric, site)
            cols, xlabel = token_labels(clean_ids, tok), "position (clean tokens)"
    except ValueError as e:
        raise SystemExit(f"error: {e}") from None
    what = "head outputs (hook_z)" if heads else site
    path = save_heatmap(grid, out, row_labels=[str(i) for i in range(grid.shape[0])], col_labels=cols,
                        title=f"patching {what}: logit diff {answer!r} - {tok.decode([bad])!r} restored",
                        xlabel=xlabel, ylabel="layer", cbar="share of the clean logit difference")
    l, c = divmod(int(grid.argmax()), grid.shape[1])
    print(f"largest restoration {float(grid.max()):.2f} at layer {l}, {xlabel.split()[0]} {cols[c]!r}")
    print(f"wrote {path}")


def edit(model: Path, prompt: str, subject: str, target: str, out: Path, layer: int | None = None,
         corpus: Path | None = None, prefixes: int = 10, cache_dir: Path | None = None) -> None:
    """Rewrite one fact with ROME (rank-one update of one MLP) and save the edited model.

    Args:
        model: an HF-format model folder (or a run folder) with its tokenizer.
        prompt: the fact's prompt with {} where the subject goes, e.g. "{} plays the sport of".
        subject: the subject, e.g. "LeBron James".
        target: the new object, e.g. "golf".
        out: the folder to write the edited model to (HF format; transformers opens it).
        layer: the MLP to edit (from 0); default the middle layer.
        corpus: a text file whose lines estimate the key covariance; default text the model samples itself.
        prefixes: how many random prefixes to average the key over.
        cache_dir: where the covariance is cached; default ~/.cache/llmos/rome.
    """
    import torch

    from llmos.hub import save_pretrained
    from llmos.interp.rome import EditError, EditRequest, RomeConfig, key_covariance, rome_edit, sample_texts

    lm, tok = _load(model)
    encode, bos = _encoder(tok)
    layer = (lm.config.n_layers - 1) // 2 if layer is None else layer
    cache_dir = cache_dir or Path.home() / ".cache" / "llmos" / "rome"
    try:
        if corpus is not None:
            lines = [ln for ln in Path(corpus).read_text(encoding="utf-8").splitlines() if ln.strip()]
            rows = [(bos + encode(ln))[: lm.config.max_seq_len] for ln in lines[:2000]]
        else:
            rows = sample_texts(lm, bos or [0], n=64, length=min(32, lm.config.max_seq_len - 1), seed=0)
        cov = key_covariance(lm, layer, rows, cache_dir)
        pre = sample_texts(lm, bos or [0], n=prefixes, length=5, seed=1)
        with torch.no_grad():
            before = torch.softmax(lm(torch.tensor([bos + encode(prompt.format(subject))])).logits[0, -1], -1)
        result = rome_edit(lm, encode, EditRequest(prompt, subject, target), cov, pre, RomeConfig(layer=layer), bos)
    except (EditError, ValueError) as e:
        raise SystemExit(f"error: {e}") from None
    with torch.no_grad():
        after = torch.softmax(lm(torch.tensor([bos + encode(prompt.format(subject))])).logits[0, -1], -1)
    t = _one_token(encode, target, "target")
    print(f"P({target!r}) after {prompt.format(subject)!r}: {float(before[t]):.3f} -> {float(after[t]):.3f} "
          f"(layer {layer}, |delta| {result.delta_norm:.2f})")
    print(f"wrote {save_pretrained(lm, out, tok)}")
