"""`llmos train`: pretrain a language model from a preset plus key=value overrides."""
from __future__ import annotations

from pathlib import Path
from typing import Literal

from rich.console import Console

from llmos.config import ConfigError, override
from llmos.train.checkpoint import list_checkpoints
from llmos.train.metrics import bits
from llmos.train.presets import PRESETS, preset as get_preset
from llmos.train.pretrain import pretrain
from llmos.train.run_folder import CHECKPOINTS, RUN_CONFIG, has_final_model, is_run, load_run_config


def train(preset: str, run_dir: Path | None = None, resume: bool = True,
          resume_from: Path | None = None, progress: bool = True, overrides: list[str] = []) -> int:
    """Pretrain a language model by next-token prediction.

    Starts from a preset, applies `key=value` overrides, and trains in a run
    folder that ends up holding train_config.json, metrics.jsonl, loss.png,
    checkpoints/, tokenizer/, data/ and the final model in Hugging Face format
    at model/. Run the same command again, or `llmos train RUN_DIR`, to resume
    an interrupted run from its newest checkpoint. For several processes,
    launch it with torchrun:

        llmos train char train.max_steps=500
        llmos train llama data.corpus=my_texts/ model.n_layers=6 train.lr=3e-4
        llmos train runs/llama train.max_steps=6000     # resume, and train longer
        torchrun --nproc_per_node=2 -m llmos train char --run-dir runs/ddp

    Presets: char (nanoGPT's CPU character model), gpt (small BPE GPT), llama
    (small Llama-style), mixtral (small mixture of experts), demo.
    Settings: model.* (llmos.nn.ModelConfig), data.corpus/tokenizer/vocab_size/
    val_fraction, train.max_steps/batch_size/grad_accum/lr/min_lr/warmup_steps/
    weight_decay/grad_clip/precision/compile/eval_every/checkpoint_every/
    device/threads/parallel (ddp or fsdp).

    Args:
        preset: starting configuration: char, gpt, llama, mixtral or demo; or an existing
            run folder, to resume it with its own configuration.
        run_dir: the run folder (default: runs/PRESET, or the run folder given as preset).
        resume: continue from the run folder's newest checkpoint when it has one.
        resume_from: a specific checkpoint file to continue from.
        progress: show the progress bar.
        overrides: settings such as model.n_layers=6 train.lr=3e-4 data.corpus=PATH.
    """
    if is_run(preset):
        run_dir = Path(run_dir or preset)
        cfg = load_run_config(preset)
    elif preset in PRESETS:
        run_dir = Path(run_dir or f"runs/{preset}")
        cfg = get_preset(preset)
    else:
        raise ConfigError(f"{preset!r} is neither a preset ({', '.join(sorted(PRESETS))}) nor a run folder "
                          f"holding {RUN_CONFIG}")
    cfg = override(cfg, overrides)
    if not resume and resume_from is None and list_checkpoints(run_dir / CHECKPOINTS):
        raise ConfigError(f"{run_dir} already holds checkpoints; resume it, or pass a new --run-dir")
    console = Console(soft_wrap=True)
    result = pretrain(cfg, run_dir, resume=resume, resume_from=resume_from, console=console,
                      progress=progress)
    if result.val_loss is not None:
        h = result.unigram_entropy
        console.print(f"val loss {result.val_loss:.4f} nats/token ({bits(result.val_loss):.3f} bits); "
                      f"unigram entropy of the corpus {h:.4f} nats/token ({bits(h):.3f} bits)")
    if has_final_model(run_dir):
        console.print(f"model saved to {run_dir / 'model'}; sample it with: llmos generate {run_dir}")
    return 0


def seq2seq(task: Literal["dates", "reverse"] = "dates", run_dir: Path | None = None, progress: bool = True,
            overrides: list[str] = []) -> int:
    """Train the encoder-decoder Transformer on a synthetic task; report exact match.

    The tasks are made on the spot (llmos.text.synthetic): `dates` turns dates
    written many ways ("wednesday, march 5, 1997", "05 mar 1997") into ISO 8601;
    `reverse` reverses strings of letters. Training follows "Attention Is All
    You Need": teacher forcing, label smoothing 0.1, Adam (0.9, 0.98, 1e-9) with
    the warmup / inverse-square-root schedule. The held-out examples (never
    seen in training) are decoded greedily and with beam search.

        llmos seq2seq --task dates
        llmos seq2seq --task reverse max_steps=1500 model.d_model=64 beam_size=8

    Args:
        task: dates or reverse.
        run_dir: the run folder for metrics.jsonl, loss.png and model.pt (default: runs/seq2seq-TASK).
        progress: show the progress bar.
        overrides: settings such as max_steps=3000 batch_size=64 warmup_steps=400 model.d_model=128
            model.n_encoder_layers=2 label_smoothing=0.1 beam_size=4 n_train=20000.
    """
    from llmos.train.seq2seq import Seq2SeqRunConfig, run_seq2seq
    cfg = override(Seq2SeqRunConfig(), [f"task={task}", *overrides])
    run_dir = Path(run_dir or f"runs/seq2seq-{cfg.task}")
    console = Console(soft_wrap=True)
    result = run_seq2seq(cfg, run_dir, console=console, progress=progress)
    for src, ref, out in result.examples[:5]:
        console.print(f"  {src!r:>36} -> {out!r}  {'ok' if out == ref else 'expected ' + repr(ref)}")
    console.print(f"held-out exact match ({len(result.task.test):,} examples): greedy "
                  f"{result.greedy_exact_match:.2%}, beam search (k={cfg.beam_size}) {result.beam_exact_match:.2%}")
    console.print(f"trained {cfg.max_steps:,} steps in {result.seconds:.0f} s; files in {run_dir}")
    return 0
