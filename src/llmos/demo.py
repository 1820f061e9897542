"""`llmos demo`, the main job: train a small language model offline, then sample from it.

It uses nothing but what is already on the machine: the corpus is the
English prose inside Python's own standard library (`llmos.text.default_corpus`),
and the model is nanoGPT's CPU-sized character-level GPT. The run is sized to
the machine: a few timed steps pick the thread count and how many steps fit
the time budget. Then it trains (progress bar with loss, tokens/s and ETA),
writes `metrics.jsonl`, `loss.png` and the model as a Hugging Face folder, and
shows what was learned: the validation loss beside the corpus's unigram
entropy (the best loss a model that ignores context can reach), and samples.
"""
from __future__ import annotations

import dataclasses
import math
import os
import re
import time
from pathlib import Path

import torch
from rich.console import Console
from rich.panel import Panel

from llmos.config import override
from llmos.nn import CausalLM
from llmos.train.metrics import bits
from llmos.train.presets import preset
from llmos.train.pretrain import pretrain
from llmos.train.run_folder import RUN_CONFIG, load_run_config

PROMPTS = ["", "", "The ", "This module "]


def calibrate(model_cfg, batch: int, seq_len: int, console: Console) -> tuple[int, float]:
    """Time a few training steps of the model with 1 and with all CPU threads; the faster wins."""
    options = sorted({1, os.cpu_count() or 1})
    best = (1, float("inf"))
    for threads in options:
        torch.set_num_threads(threads)
        torch.manual_seed(0)
        model = CausalLM(model_cfg)
        opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
        x = torch.randint(0, model_cfg.vocab_size, (batch, seq_len))
        times = []
        for _ in range(8):
            t0 = time.perf_counter()
            model(x, targets=x).loss.backward()
            opt.step()
            opt.zero_grad()
            times.append(time.perf_counter() - t0)
        step = sorted(times[2:])[len(times[2:]) // 2]          # median after warm-up
        console.print(f"  {threads} thread{'s' if threads > 1 else ''}: {step * 1000:.0f} ms per step")
        if step < best[1]:
            best = (threads, step)
    return best


def corpus_word_share(samples: list[str], corpus_words: set[str]) -> float:
    """Fraction of the sampled words (3+ letters) that are words of the corpus."""
    words = [w.lower() for s in samples for w in re.findall(r"[A-Za-z]{3,}", s)]
    return sum(w in corpus_words for w in words) / max(len(words), 1)


def demo(minutes: float = 3.5, steps: int | None = None, run_dir: Path = Path("runs/demo"),
         samples: int = 4, overrides: list[str] = []) -> int:
    """Train a small language model on the built-in corpus, then sample from it (the main job).

    Needs no download: the corpus is the English prose of Python's own standard
    library (help topics, docstrings, license, about 1.1 MB), the model a
    character-level GPT of nanoGPT's CPU size (4 layers, 4 heads, 128 dims,
    context 64). Running it again reuses (or resumes) the run in --run-dir;
    delete that folder to start over.

    Args:
        minutes: training time budget; the number of steps is fitted to it.
        steps: train exactly this many steps instead of fitting them to the budget.
        run_dir: the run folder.
        samples: how many samples to print.
        overrides: settings for the `demo` preset, e.g. model.n_layers=6.
    """
    console = Console(soft_wrap=True)
    console.rule("[bold]llmos demo: pretraining a language model from scratch, offline")
    resuming = (run_dir / RUN_CONFIG).exists()
    if resuming:
        cfg = override(load_run_config(run_dir), overrides)
        console.print(f"found an earlier demo run in {run_dir}: resuming it (delete the folder to start over)")
    else:
        cfg = override(preset("demo"), overrides)
        console.print("timing a few steps to fit the run to this machine:")
        probe = cfg.model.replace(vocab_size=110)             # about the corpus's character count
        threads, step_s = calibrate(probe, cfg.train.batch_size, cfg.seq_len, console)
        n = steps or int(max(200, min(5000, minutes * 60 / (step_s * 1.15))))   # 15% for evals, checkpoints
        cfg = dataclasses.replace(cfg, train=dataclasses.replace(
            cfg.train, max_steps=n, threads=threads, eval_every=max(50, n // 8),
            checkpoint_every=max(100, n // 4), warmup_steps=min(cfg.train.warmup_steps, n // 10)))
        console.print(f"training {n:,} steps with {threads} thread{'s' if threads > 1 else ''} "
                      f"(about {n * step_s * 1.15 / 60:.1f} minutes)")
    result = pretrain(cfg, run_dir, console=console)

    h, v = result.unigram_entropy, result.val_loss
    console.rule("[bold]what it learned")
    if v is not None:
        console.print(f"validation loss        {v:.3f} nats/token  ({bits(v):.2f} bits)")
        console.print(f"unigram entropy        {h:.3f} nats/token  ({bits(h):.2f} bits)   "
                      "<- the best a model that ignores context can do")
        console.print(f"perplexity             {math.exp(v):.1f}  (vs {math.exp(h):.1f} from token frequencies alone)")
    texts = sample_texts(run_dir, samples, console)
    from llmos.text.corpus import read_corpus
    words = {w.lower() for d in read_corpus(cfg.data.corpus) for w in re.findall(r"[A-Za-z]{3,}", d)}
    share = corpus_word_share(texts, words)
    console.print(f"{share:.0%} of the sampled words (3+ letters) are words of the corpus")
    console.rule("[bold]files")
    for name in ("metrics.jsonl", "loss.png", "model", "train_config.json"):
        console.print(f"  {run_dir / name}")
    console.print(f"sample more with: llmos generate {run_dir} --prompt \"The \" --temperature 0.8")
    return 0


def sample_texts(run_dir: Path, n: int, console: Console) -> list[str]:
    """Print `n` samples from the saved model (loaded back from its HF folder, as a user would)."""
    from llmos.hub import load_pretrained
    from llmos.infer import GenerationConfig
    from llmos.infer.window import generate_window
    model, tok = load_pretrained(run_dir)
    model.eval()
    texts = []
    for i in range(n):
        prompt = PROMPTS[i % len(PROMPTS)]
        ids = tok.encode(prompt) if prompt else [tok.eos_id]
        cfg = GenerationConfig(max_new_tokens=300, temperature=0.8, seed=i)
        text = prompt + tok.decode(generate_window(model, ids, cfg), skip_special_tokens=True)
        texts.append(text)
        title = f"sample {i + 1}" + (f" (prompt {prompt!r})" if prompt else " (a new document)")
        console.print(Panel(text.strip(), title=title, title_align="left"))
    return texts
