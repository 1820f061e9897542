"""The DPO paper's controlled-sentiment experiment in miniature: reward against KL for each method.

    python bench/dpo_frontier.py [--quick] [--out bench/results]

Rafailov et al. (2023, fig. 2 left) align a language model to write positive
movie reviews and plot, for each method and setting, the average reward
against the sequence-level KL(pi || pi_ref) from the starting model: the
better method reaches more reward for the same drift. Here, all offline:

1. corpus: short reviews made from templates, each written in a random mood,
   so positive, negative and mixed reviews all occur;
2. base policy: a small GPT pretrained by llmos on that corpus (it is also the
   reference model, pi_ref);
3. ground truth: a sentiment score in code, sigmoid(#positive - #negative
   words) of the completion, the stand-in for the paper's classifier;
4. preferences: 4 samples per training prompt from the base, every pair whose
   ground-truth scores differ, the higher one chosen;
5. methods: preferred-only fine-tuning (SFT on the chosen responses), DPO at
   several beta, PPO on a reward model learned from the same pairs, and PPO on
   the ground truth itself, at several KL coefficients;
6. every method is measured at several points of its run on held-out
   prompts: average ground-truth reward of samples, and KL(pi || pi_ref)
   estimated as the mean of log pi(y|x) - log pi_ref(y|x) over those samples.

Writes bench/results/dpo_frontier.{png,json,md}.
"""
from __future__ import annotations

import argparse
import copy
import json
import math
import os
import random
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
from llmos.nn import ModelConfig  # noqa: E402
from llmos.train.align.data import PreferencePair, SFTExample, encode_prompt  # noqa: E402
from llmos.train.align.dpo import DPOConfig, train_dpo  # noqa: E402
from llmos.train.align.logprobs import token_logprobs  # noqa: E402
from llmos.train.align.ppo import PPOConfig, train_ppo  # noqa: E402
from llmos.train.align.reward import RewardConfig, ranking_accuracy, reward_function, train_reward  # noqa: E402
from llmos.train.align.rollout import Rollout, sample_rollouts  # noqa: E402
from llmos.train.align.sft import SFTConfig, train_sft  # noqa: E402

# ---------------------------------------------------------------------- the world
POS_ADJ = ("great wonderful excellent amazing lovely brilliant delightful superb fantastic charming "
           "beautiful enjoyable perfect pleasant").split()
NEG_ADJ = ("terrible awful boring dull horrible bad poor disappointing dreadful ugly bland weak "
           "annoying painful").split()
POS_VERB, NEG_VERB = "loved enjoyed liked adored".split(), "hated disliked regretted".split()
NEUTRAL_ADJ = "long short loud quiet new old simple strange busy expensive cheap small".split()
NEUTRAL_VERB = "watched tried visited saw".split()
POSITIVE, NEGATIVE = set(POS_ADJ + POS_VERB), set(NEG_ADJ + NEG_VERB)
SUBJECTS = ("movie film book hotel restaurant food service show album game staff room story ending "
            "music trip class coffee concert museum").split()
HELD_OUT_SUBJECTS = {"coffee", "concert", "museum", "trip"}
ADVERBS = "really very quite so rather".split()
PARTS = "plot acting price view menu sound pace cast".split()
SENTENCES = ["the {s} was {a}.", "the {s} was {a} and {a}.", "the {s} was {adv} {a}.", "i thought the {s} was {a}.",
             "i {v} the {s}.", "the {s} felt {a}, but the {p} was {a}.", "overall it was a {a} {s}.",
             "the {p} was {a}.", "i would call it {a}.", "we had a {a} time.", "the {p} was {adv} {a}."]
PROMPT_STARTS = ["the {s} was", "i thought the {s}", "the {s}", "overall the {s}", "i {nv} the {s} and"]
_ALL_TEXT = " ".join(POS_ADJ + NEG_ADJ + POS_VERB + NEG_VERB + NEUTRAL_ADJ + NEUTRAL_VERB + SUBJECTS + ADVERBS
                     + PARTS + SENTENCES + PROMPT_STARTS + ["it was"])
VOCABULARY = set(re.findall(r"[a-z]+", re.sub(r"\{\w+\}", " ", _ALL_TEXT))) | {"a"}   # every word of the corpus


def sentiment(text: str) -> float:
    """Ground-truth reward: sigmoid(#positive - #negative words), in (0, 1)."""
    ws = words(text)
    score = sum(w in POSITIVE for w in ws) - sum(w in NEGATIVE for w in ws)
    return 1 / (1 + math.exp(-score))


def review(rng: random.Random, subjects: list[str]) -> str:
    """2-3 sentences about one subject in one mood (the chance a sentiment word is positive)."""
    mood = rng.choice([0.1, 0.3, 0.5, 0.7, 0.9])
    s = rng.choice(subjects)

    def adj() -> str:
        if rng.random() < 0.25:
            return rng.choice(NEUTRAL_ADJ)
        return rng.choice(POS_ADJ if rng.random() < mood else NEG_ADJ)

    def verb() -> str:
        if rng.random() < 0.25:
            return rng.choice(NEUTRAL_VERB)
        return rng.choice(POS_VERB if rng.random() < mood else NEG_VERB)
    first = rng.choice(PROMPT_STARTS).format(s=s, nv=rng.choice(NEUTRAL_VERB))
    link = "was " if first.endswith(s) else "it was " if first.endswith("and") else ""
    opener = f"{first} {link}{adj()}."
    body = []
    for _ in range(rng.randint(1, 2)):
        t = rng.choice(SENTENCES)
        body.append(re.sub(r"\{(\w+)\}", lambda m: {"s": s, "a": adj(), "adv": rng.choice(ADVERBS), "v": verb(),
                                                    "p": rng.choice(PARTS)}[m.group(1)], t))
    return " ".join([opener] + body)


def prompts(n: int, subjects: list[str], seed: int) -> list[str]:
    rng = random.Random(seed)
    return [rng.choice(PROMPT_STARTS).format(s=rng.choice(subjects), nv=rng.choice(NEUTRAL_VERB)) for _ in range(n)]


# ---------------------------------------------------------------------- base policy
def pretrain_base(docs: list[str], run_dir: Path, steps: int, threads: int):
    """`llmos train` on the reviews: a small GPT with a BPE vocabulary; returns (model, tokenizer).

    Each review is its own file, so the packed stream separates reviews with
    eos and the base model learns where a review ends. A finished run is reused.
    """
    from llmos.hub import load_pretrained
    from llmos.train.config import DataConfig, PretrainConfig, TrainConfig
    from llmos.train.pretrain import pretrain
    if not (run_dir / "model" / "config.json").exists():
        corpus = run_dir.parent / f"{run_dir.name}-corpus"
        corpus.mkdir(parents=True, exist_ok=True)
        for i, doc in enumerate(docs):
            (corpus / f"{i:06d}.txt").write_text(doc)
        cfg = PretrainConfig(
            model=ModelConfig.for_family("gpt2", d_model=96, n_layers=3, n_heads=4, d_ff=384, max_seq_len=64),
            data=DataConfig(corpus=str(corpus), tokenizer="bpe", vocab_size=400, val_fraction=0.05),
            train=TrainConfig(max_steps=steps, batch_size=32, lr=3e-3, min_lr=3e-4, warmup_steps=50,
                              weight_decay=0.01, eval_every=max(1, steps // 4), eval_batches=10,
                              checkpoint_every=max(1, steps // 4), log_every=25, threads=threads, device="cpu"),
            preset="reviews")
        result = pretrain(cfg, run_dir, progress=False)
        print(f"  pretrained: val loss {result.val_loss:.3f} nats/token "
              f"(unigram entropy {result.unigram_entropy:.3f}) in {result.seconds:.0f}s")
    model, tok = load_pretrained(run_dir)
    print(f"  base policy: {model.num_parameters() / 1e6:.2f}M parameters, BPE vocabulary {tok.vocab_size}")
    return model.eval(), tok


# ---------------------------------------------------------------------- measuring
@torch.no_grad()
def sample_texts(model, tok, prompt_list: list[str], max_new: int, seed: int, batch: int = 128):
    """(rollouts, completion texts) of one sample per prompt."""
    g = torch.Generator().manual_seed(seed)
    out, texts = [], []
    for i in range(0, len(prompt_list), batch):
        ids = [encode_prompt(tok, p) for p in prompt_list[i:i + batch]]
        r = sample_rollouts(model, ids, max_new, tok.eos_id, tok.pad_id, generator=g)
        out.append(r)
        texts += [tok.decode([t for t in row if t != tok.eos_id]) for row in r.responses()]
    return out, texts


@torch.no_grad()
def seq_logprob(model, r: Rollout) -> torch.Tensor:
    p = r.prompt_ids.shape[1]
    logits = model(r.input_ids, attention_mask=r.attention_mask).logits[:, p - 1:-1]
    return (token_logprobs(logits, r.response_ids) * r.response_mask).sum(-1)      # (B,)


def words(text: str) -> list[str]:
    return re.findall(r"[a-z]+", text.lower())


def measure(policy, ref, tok, eval_prompts: list[str], max_new: int, seed: int = 1234) -> dict[str, float]:
    """Average ground-truth reward and Monte Carlo KL(pi || ref) on held-out prompts.

    Also the share of words that are not words of the corpus ("non-words"): the
    ground truth only counts sentiment words, so it cannot see a policy that
    drifts into broken words; this does.
    """
    policy.eval()
    rollouts, texts = sample_texts(policy, tok, eval_prompts, max_new, seed)
    kl = torch.cat([seq_logprob(policy, r) - seq_logprob(ref, r) for r in rollouts])
    rewards = torch.tensor([sentiment(t) for t in texts])
    ws = [w for t in texts for w in words(t)]
    n = len(texts)
    return {"reward": float(rewards.mean()), "reward_se": float(rewards.std() / math.sqrt(n)),
            "kl": float(kl.mean()), "kl_se": float(kl.std() / math.sqrt(n)),
            "length": len(ws) / len(texts), "non_words": sum(w not in VOCABULARY for w in ws) / max(1, len(ws))}


def calibrated(rm_fn, prompt_list: list[str], base_texts: list[str]):
    """The reward model rescaled to the ground truth's mean and spread on the base model's samples.

    A reward model's scale is arbitrary (only differences are learned), but
    PPO weighs the reward against kl_coef * KL, so the same kl_coef would mean
    a different trade-off for each scale. Reward models are normalized against
    reference samples for this reason (Stiennon et al. 2020); matching the
    ground truth's two moments makes the kl_coef grid the same for both PPOs.
    Only those two numbers of the ground truth are used, not its ranking.
    """
    raw = torch.tensor(rm_fn(prompt_list, base_texts))
    truth = torch.tensor([sentiment(t) for t in base_texts])
    scale = float(truth.std() / raw.std())
    shift = float(truth.mean() - scale * raw.mean())
    print(f"  reward model calibrated: r' = {scale:.4f} r + {shift:.3f}", flush=True)
    return lambda prompts_, completions: [scale * r + shift for r in rm_fn(prompts_, completions)]


def frontier(points: list[dict]) -> list[dict]:
    """The points no point of lower KL beats on reward, by KL."""
    best, out = -math.inf, []
    for p in sorted(points, key=lambda p: p["kl"]):
        if p["reward"] > best:
            best = p["reward"]
            out.append(p)
    return out


def best_within(points: list[dict], budgets: list[float]) -> dict[str, list[float]]:
    """For each method, the best average reward among its points with KL <= each budget."""
    base = [p for p in points if p["method"] == "base"]
    table = {}
    for method in dict.fromkeys(p["method"] for p in points if p["method"] != "base"):
        pts = base + [p for p in points if p["method"] == method]
        table[method] = [max(p["reward"] for p in pts if p["kl"] <= b) for b in budgets]
    return table


# ---------------------------------------------------------------------- the experiment
def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "results")
    ap.add_argument("--quick", action="store_true", help="a smoke run: few steps, few points")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--work", type=Path, default=None,
                    help="folder for the runs (default: a temporary one); a finished base run there is reused")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    q = args.quick
    t0, load_before = time.time(), os.getloadavg()[0]
    work = args.work or Path(tempfile.mkdtemp(prefix="dpo_frontier_"))
    work.mkdir(parents=True, exist_ok=True)
    train_subjects = [s for s in SUBJECTS if s not in HELD_OUT_SUBJECTS]
    rng = random.Random(0)
    docs = [review(rng, SUBJECTS) for _ in range(4000 if q else 30000)]
    print(f"corpus: {len(docs)} reviews, e.g. {docs[0]!r}")
    base, tok = pretrain_base(docs, work / ("base-quick" if q else "base"), 150 if q else 1000, args.threads)
    ref = copy.deepcopy(base).requires_grad_(False)
    max_new = 20
    eval_prompts = prompts(64 if q else 256, sorted(HELD_OUT_SUBJECTS), seed=2)
    base_point = measure(base, ref, tok, eval_prompts, max_new)
    _, base_texts = sample_texts(base, tok, eval_prompts[:3], max_new, seed=7)
    examples = {"base": [p + t for p, t in zip(eval_prompts[:3], base_texts)]}
    print(f"  base: reward {base_point['reward']:.3f}")

    # preferences: 4 samples per prompt from the base, every pair with different ground truth
    train_prompts = prompts(150 if q else 1000, train_subjects, seed=1)
    samples = [sample_texts(base, tok, train_prompts, max_new, seed=10 + k)[1] for k in range(4)]
    pairs, best = [], []
    for i, p in enumerate(train_prompts):
        ys = sorted(dict.fromkeys(s[i] for s in samples), key=sentiment, reverse=True)   # distinct, in order
        best.append(SFTExample(p, ys[0]))
        pairs += [PreferencePair(p, a, b) for j, a in enumerate(ys) for b in ys[j + 1:] if sentiment(a) > sentiment(b)]
    print(f"preferences: {len(pairs)} pairs from {len(train_prompts)} prompts x 4 samples")

    points: list[dict] = [{"method": "base", "setting": "", "step": 0, **base_point}]
    common = dict(max_len=48, max_prompt_len=12, save_every=10_000, log_every=5)
    long_run = [10, 25] if q else [25, 50, 100, 200, 300, 500]   # DPO and preferred-FT checkpoints
    ppo_run = [10, 25] if q else [25, 50, 100, 150]              # PPO checkpoints (a step = 32 rollouts)

    def run(method: str, setting: str, checkpoints: list[int], train, data, cfg, *extra) -> None:
        policy = copy.deepcopy(base)

        def at(step: int) -> None:
            if step in checkpoints:
                point = {"method": method, "setting": setting, "step": step,
                         **measure(policy, ref, tok, eval_prompts, max_new)}
                points.append(point)
                print(f"  {method:<14} {setting:<14} step {step:>4}: reward {point['reward']:.3f}  "
                      f"KL {point['kl']:6.2f}  ({time.time() - t0:.0f}s)", flush=True)
        out = work / f"{method}-{setting}".replace(" ", "")
        shutil.rmtree(out, ignore_errors=True)
        train(policy, tok, data, out, cfg, *extra, callback=at, progress=False)
        _, texts = sample_texts(policy, tok, eval_prompts[:3], max_new, seed=7)
        examples[f"{method} {setting}"] = [p + t for p, t in zip(eval_prompts[:3], texts)]

    run("preferred-FT", "lr=1e-4", long_run, train_sft, best,
        SFTConfig(steps=max(long_run), batch_size=16, lr=1e-4, **common))
    for beta in ([0.1, 1.0] if q else [0.1, 0.3, 1.0, 3.0]):
        run("DPO", f"beta={beta}", long_run, train_dpo, pairs,
            DPOConfig(steps=max(long_run), batch_size=16, lr=1e-4, beta=beta, **common))
    rm_cfg = RewardConfig(steps=100 if q else 400, batch_size=16, lr=3e-4, **common)
    held_pairs = pairs[-200:]
    shutil.rmtree(work / "rm", ignore_errors=True)
    _, rm = train_reward(copy.deepcopy(base), tok, pairs[:-200], work / "rm", rm_cfg, progress=False)
    rm_accuracy = ranking_accuracy(rm, tok, held_pairs, rm_cfg)
    print(f"  reward model: held-out pair accuracy {rm_accuracy:.3f}", flush=True)
    rm_fn = calibrated(reward_function(rm, tok, max_len=48, max_prompt_len=12), train_prompts, samples[0])
    gt_fn = lambda _prompts, completions: [sentiment(c) for c in completions]  # noqa: E731
    for name, fn in (("PPO (RM)", rm_fn), ("PPO (GT)", gt_fn)):
        for kl_coef in ([0.1] if q else [0.03, 0.1, 0.3]):
            run(name, f"kl_coef={kl_coef}", ppo_run, train_ppo, train_prompts, PPOConfig(
                steps=max(ppo_run), batch_size=32, lr=1e-4, kl_coef=kl_coef, max_new_tokens=max_new,
                ppo_epochs=4, num_minibatches=2, **common), fn)
    elapsed = time.time() - t0
    report(points, args.out, elapsed, {"pairs": len(pairs), "rm_accuracy": rm_accuracy,
                                       "params": base.num_parameters(), "quick": q, "examples": examples,
                                       "threads": args.threads, "load_average": [load_before, os.getloadavg()[0]]})


def report(points: list[dict], out: Path, elapsed: float, info: dict) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    out.mkdir(parents=True, exist_ok=True)
    stem = "dpo_frontier_quick" if info["quick"] else "dpo_frontier"
    fig, axes = plt.subplots(1, 2, figsize=(13, 5))
    styles = {"base": ("black", "*"), "preferred-FT": ("tab:green", "s"), "DPO": ("tab:orange", "o"),
              "PPO (RM)": ("tab:blue", "^"), "PPO (GT)": ("tab:purple", "v")}
    max_kl = max(p["kl"] for p in points)
    for ax, right, title in ((axes[0], max_kl * 1.03, "every point"), (axes[1], 8.0, "zoom: KL <= 8")):
        for method, (color, marker) in styles.items():
            pts = [p for p in points if p["method"] == method and p["kl"] <= right]
            if not pts:
                continue
            ax.scatter([p["kl"] for p in pts], [p["reward"] for p in pts], c=color, marker=marker, s=36,
                       label=method, alpha=0.85, edgecolors="none")
            if method != "base":   # the method's frontier: the best reward reached within each KL
                front = frontier([p for p in points if p["method"] in ("base", method)])
                xs = [p["kl"] for p in front] + [right]
                ax.step(xs, [p["reward"] for p in front] + [front[-1]["reward"]], where="post", c=color,
                        lw=1, alpha=0.6)
        ax.set_xlim(-0.02 * right, right)
        ax.set_xlabel("KL(pi || pi_ref), nats per sequence (Monte Carlo, held-out prompts)")
        ax.set_ylabel("average ground-truth reward (sentiment)")
        ax.set_title(title)
        ax.grid(alpha=0.3)
    axes[0].legend()
    fig.suptitle("Reward vs KL: controlled sentiment, small scale (lines: each method's frontier)")
    fig.tight_layout()
    fig.savefig(out / f"{stem}.png", dpi=120)
    plt.close(fig)
    rows = ["| method | setting | step | reward | reward s.e. | KL (nats) | KL s.e. | words | non-words |",
            "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    rows += [f"| {p['method']} | {p['setting']} | {p['step']} | {p['reward']:.3f} | {p['reward_se']:.3f} | "
             f"{p['kl']:.2f} | {p['kl_se']:.2f} | {p['length']:.1f} | {100 * p['non_words']:.1f}% |" for p in points]
    budgets = [0.5, 1, 2, 4, 8]
    best = best_within(points, budgets)
    rows += ["", "Best average reward within a KL budget (nats):", "",
             "| method | " + " | ".join(f"KL <= {b:g}" for b in budgets) + " |",
             "|---|" + "---:|" * len(budgets)]
    rows += [f"| {m} | " + " | ".join(f"{r:.3f}" for r in rs) + " |" for m, rs in best.items()]
    info["best_within_kl"] = {"budgets": budgets, **best}
    table = "\n".join(rows)
    (out / f"{stem}.md").write_text(table + "\n")
    (out / f"{stem}.json").write_text(json.dumps({"points": points, "elapsed_s": elapsed, **info}, indent=2) + "\n")
    print(table)
    for name, texts in info["examples"].items():
        print(f"{name}: " + " | ".join(texts))
    print(f"total {elapsed / 60:.1f} min; wrote {out / stem}.png/.json/.md")


if __name__ == "__main__":
    main()
