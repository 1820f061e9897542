"""The LSTM-with-attention and the Transformer encoder-decoder on the same task and budget.

    .venv/bin/python bench/rnn_vs_transformer.py                 # dates task, 1500 steps each
    .venv/bin/python bench/rnn_vs_transformer.py --task reverse --steps 800

Both models train on the same synthetic pairs (`llmos.text.synthetic`) with the
same loop, steps, batch size, optimiser and schedule (`llmos.train.seq2seq.
train_seq2seq`, which takes either model) and have a similar number of parameters. Reported: held-out exact
match under greedy decoding, training wall time, and the time of one
teacher-forced forward pass as source and target length grow from 16 to 512,
where the RNN must take one step per token and the Transformer takes all
positions at once. Writes bench/results/rnn_vs_transformer.{json,png}.
"""
from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import torch

from llmos.classic.seq2seq import RNNSeq2Seq, RNNSeq2SeqConfig
from llmos.train.seq2seq import Seq2SeqTrainConfig, train_seq2seq
from llmos.nn.seq2seq import Seq2SeqConfig, Seq2SeqTransformer
from llmos.text.synthetic import VOCAB, make_task

LENGTHS = [16, 32, 64, 128, 256, 512]


def build_models(hidden: int, d_model: int, layers: int, max_len: int) -> dict[str, torch.nn.Module]:
    rnn = RNNSeq2Seq(RNNSeq2SeqConfig(VOCAB.size, emb_dim=hidden // 2, hidden=hidden, cell="lstm",
                                      attention="bahdanau"))
    transformer = Seq2SeqTransformer(Seq2SeqConfig(
        src_vocab_size=VOCAB.size, tgt_vocab_size=VOCAB.size, d_model=d_model, n_heads=4, d_ff=2 * d_model,
        n_encoder_layers=layers, n_decoder_layers=layers, dropout=0.0, max_len=max_len,
        share_embeddings=True, pad_id=VOCAB.pad_id, bos_id=VOCAB.bos_id, eos_id=VOCAB.eos_id))
    return {"LSTM+attention": rnn, "Transformer": transformer}


@torch.no_grad()
def forward_seconds(model: torch.nn.Module, length: int, batch: int, repeats: int) -> float:
    """Median wall time of one teacher-forced forward pass with source and target of `length`."""
    model.eval()
    g = torch.Generator().manual_seed(length)
    src = torch.randint(3, VOCAB.size, (batch, length), generator=g)
    tgt = torch.randint(3, VOCAB.size, (batch, length), generator=g)
    pad = torch.zeros(batch, length, dtype=torch.bool)
    model(src, tgt, pad)                                   # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        model(src, tgt, pad)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def plot(results: dict, path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import NullLocator

    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5), dpi=120)
    for name, r in results["models"].items():
        losses = r["losses"]
        smooth = [statistics.mean(losses[max(0, i - 24):i + 1]) for i in range(len(losses))]
        left.plot(smooth, label=f"{name} (held-out EM {r['exact_match']:.1%})")
        right.plot(LENGTHS, [1000 * s for s in r["forward_seconds"]], marker="o", label=name)
    left.set(title=f"training loss, {results['task']} task", xlabel="step", ylabel="cross-entropy", yscale="log")
    right.set(title=f"forward pass, batch {results['forward_batch']}", xlabel="source = target length",
              ylabel="milliseconds", xscale="log", yscale="log")
    right.xaxis.set_minor_locator(NullLocator())
    right.set_xticks(LENGTHS, [str(n) for n in LENGTHS])
    for ax in (left, right):
        ax.grid(alpha=0.3, which="both")
        ax.legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--task", choices=["dates", "reverse"], default="dates")
    p.add_argument("--n-train", type=int, default=20_000)
    p.add_argument("--n-test", type=int, default=1_000)
    p.add_argument("--steps", type=int, default=1500)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--hidden", type=int, default=128, help="LSTM state size (encoder: per direction)")
    p.add_argument("--d-model", type=int, default=128, help="Transformer width")
    p.add_argument("--layers", type=int, default=2, help="Transformer encoder and decoder layers")
    p.add_argument("--forward-batch", type=int, default=8)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, default=Path("bench/results/rnn_vs_transformer.json"))
    args = p.parse_args()
    torch.set_num_threads(args.threads)

    task = make_task(args.task, n_train=args.n_train, n_test=args.n_test, seed=args.seed)
    models = build_models(args.hidden, args.d_model, args.layers, max_len=max(LENGTHS) + 1)
    # one recipe for both models, as RNNs are trained: warmup + cosine, Adam's defaults, clipping
    cfg = Seq2SeqTrainConfig(max_steps=args.steps, batch_size=args.batch_size, schedule="cosine", lr=args.lr,
                             warmup_steps=100, adam_beta2=0.999, adam_eps=1e-8, label_smoothing=0.0,
                             grad_clip=1.0, average_last=1, beam_size=0, eval_every=args.steps, seed=args.seed)
    results = {"task": args.task, "settings": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
               "forward_batch": args.forward_batch, "lengths": LENGTHS, "models": {}}
    for name, model in models.items():
        torch.manual_seed(args.seed)
        trained = train_seq2seq(model, task, cfg, progress=True, name=name)
        forward = []
        for length in LENGTHS:
            forward.append(forward_seconds(model, length, args.forward_batch, args.repeats))
            print(f"  {name}: forward at length {length}: {1000 * forward[-1]:.1f} ms")
        results["models"][name] = dict(parameters=model.num_parameters(), exact_match=trained.greedy_exact_match,
                                       train_seconds=trained.seconds, steps=trained.steps,
                                       final_loss=trained.final_loss, forward_seconds=forward,
                                       losses=trained.losses)

    print(f"\n{args.task} task: {args.n_train:,} training pairs, {args.n_test:,} held-out, "
          f"{args.steps} steps of {args.batch_size}, {args.threads} threads")
    print(f"{'model':16s} {'params':>9s} {'held-out EM':>12s} {'train s':>9s}  "
          + "  ".join(f"{n:>7d}" for n in LENGTHS) + "   (forward ms by length)")
    for name, r in results["models"].items():
        print(f"{name:16s} {r['parameters']:9,d} {r['exact_match']:12.1%} {r['train_seconds']:9.1f}  "
              + "  ".join(f"{1000 * s:7.1f}" for s in r["forward_seconds"]))
    rnn, tf = results["models"]["LSTM+attention"], results["models"]["Transformer"]
    ratios = [a / b for a, b in zip(rnn["forward_seconds"], tf["forward_seconds"])]
    print("LSTM / Transformer forward time: " + "  ".join(f"{n}: {r:.1f}x" for n, r in zip(LENGTHS, ratios)))
    results["forward_ratio_rnn_over_transformer"] = ratios

    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1))
    png = args.out.with_suffix(".png")
    plot(results, png)
    print(f"saved {args.out} and {png}")


if __name__ == "__main__":
    main()
