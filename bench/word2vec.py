"""llmos's word2vec against gensim's, same corpus, same hyperparameters, one run.

    .venv/bin/python bench/word2vec.py                       # skip-gram on tinyshakespeare, 3 seeds each
    .venv/bin/python bench/word2vec.py --corpus gensim-wiki --out bench/results/word2vec-wiki.json
    .venv/bin/python bench/word2vec.py --corpus FILE --mode cbow

Both train on the same tokenized sentences (llmos's tokenizer, one sentence per
line) with the same vector size, window, negatives, min-count, subsampling,
epochs, learning-rate schedule and number of threads. Both are scored by the
same code (llmos's evaluators; gensim's own evaluators are run too, as a check
that the two agree). Speed is corpus words per second of training, vocabulary
building excluded for both. gensim is a benchmark dependency only (`pip install
'.[bench]'`).
"""
from __future__ import annotations

import argparse
import json
import logging
import platform
import statistics
import tempfile
import time
from pathlib import Path

import torch

from llmos.classic.word2vec import Word2VecConfig, WordVectors, read_sentences, train_word2vec
from llmos.classic.word2vec.evaluate import evaluate_analogies, evaluate_similarity

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def train_gensim(sentences, cfg: Word2VecConfig, seed: int) -> tuple[WordVectors, float]:
    from gensim.models import Word2Vec as GensimWord2Vec

    model = GensimWord2Vec(vector_size=cfg.dim, window=cfg.window, min_count=cfg.min_count,
                           sg=int(cfg.mode == "skipgram"), hs=0, negative=cfg.negative, cbow_mean=1,
                           sample=cfg.sample, alpha=cfg.lr, min_alpha=cfg.min_lr, workers=cfg.threads,
                           seed=seed, max_final_vocab=cfg.max_vocab)
    model.build_vocab(sentences)
    words = sum(len(s) for s in sentences)
    start = time.perf_counter()
    model.train(sentences, total_examples=len(sentences), total_words=words, epochs=cfg.epochs)
    seconds = time.perf_counter() - start
    return WordVectors(list(model.wv.index_to_key), model.wv.vectors), words * cfg.epochs / seconds


def gensim_scores(vectors: WordVectors, analogies: Path, wordsim: Path) -> tuple[float, float]:
    """gensim's own evaluators on the same vectors (a cross-check of llmos's)."""
    from gensim.models import KeyedVectors

    kv = KeyedVectors(vectors.dim)
    kv.add_vectors(vectors.words, vectors.vectors)
    return (float(kv.evaluate_word_analogies(str(analogies))[0]),
            float(kv.evaluate_word_pairs(str(wordsim))[1].statistic))


def gensim_wiki_text(folder: Path) -> Path:
    """The Wikipedia sample that ships in gensim's test data (106 articles, ~450k words)
    as plain text: a bigger, encyclopedic corpus with no download."""
    from gensim.corpora.wikicorpus import WikiCorpus
    from gensim.test.utils import datapath

    out = folder / "llmos-bench-gensim-wiki.txt"
    if not out.exists():
        dump = datapath("enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2")
        texts = WikiCorpus(dump, dictionary={}, processes=1).get_texts()
        # Lines of at most 1000 words: gensim ignores words past 10,000 in one sentence.
        lines = [" ".join(t[i:i + 1000]) for t in texts for i in range(0, len(t), 1000)]
        out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--corpus", type=Path, default=DATA / "tinyshakespeare.txt",
                   help="a UTF-8 text file, or 'gensim-wiki' for the Wikipedia sample in gensim's test data")
    p.add_argument("--analogies", type=Path, default=DATA / "questions-words.txt")
    p.add_argument("--wordsim", type=Path, default=DATA / "wordsim353.tsv")
    p.add_argument("--mode", choices=["skipgram", "cbow"], default="skipgram")
    p.add_argument("--dim", type=int, default=100)
    p.add_argument("--window", type=int, default=5)
    p.add_argument("--negative", type=int, default=5)
    p.add_argument("--min-count", type=int, default=5)
    p.add_argument("--sample", type=float, default=1e-3)
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--lr", type=float, default=0.025)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seeds", type=int, default=3, help="independent runs per system")
    p.add_argument("--out", type=Path, default=Path("bench/results/word2vec.json"))
    args = p.parse_args()
    logging.getLogger("gensim").setLevel(logging.WARNING)
    torch.set_num_threads(args.threads)

    if str(args.corpus) == "gensim-wiki":
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.corpus = gensim_wiki_text(Path(tempfile.gettempdir()))
    sentences = read_sentences(args.corpus)
    words = sum(len(s) for s in sentences)
    print(f"corpus {args.corpus}: {words:,} words in {len(sentences):,} sentences")
    runs: dict[str, list[dict]] = {"llmos": [], "gensim": []}
    for seed in range(1, args.seeds + 1):
        cfg = Word2VecConfig(mode=args.mode, dim=args.dim, window=args.window, negative=args.negative,
                             min_count=args.min_count, sample=args.sample, epochs=args.epochs,
                             lr=args.lr, threads=args.threads, seed=seed)
        ours, stats = train_word2vec(sentences, cfg, progress=True)
        theirs, theirs_wps = train_gensim(sentences, cfg, seed)
        for name, vectors, wps in (("llmos", ours, stats.words_per_second), ("gensim", theirs, theirs_wps)):
            analogy = evaluate_analogies(vectors, args.analogies)
            similarity = evaluate_similarity(vectors, args.wordsim)
            check_analogy, check_spearman = gensim_scores(vectors, args.analogies, args.wordsim)
            runs[name].append(dict(
                seed=seed, words_per_second=wps, vocab=len(vectors),
                analogy_accuracy=analogy.accuracy, analogy_questions=analogy.asked,
                analogy_sections={s: c / n for s, (c, n) in analogy.sections.items() if n},
                wordsim_spearman=similarity.spearman, wordsim_pairs=similarity.pairs_used,
                gensim_evaluator=dict(analogy_accuracy=check_analogy, wordsim_spearman=check_spearman)))
            print(f"  seed {seed} {name:6s}: analogy {analogy.accuracy:.4f} ({analogy.asked} questions)  "
                  f"wordsim {similarity.spearman:+.4f} ({similarity.pairs_used} pairs)  {wps:,.0f} words/s"
                  f"   [gensim's evaluators: {check_analogy:.4f}, {check_spearman:+.4f}]")

    def summary(name: str, key: str) -> tuple[float, float]:
        values = [r[key] for r in runs[name]]
        return statistics.mean(values), statistics.pstdev(values)

    table = {name: {key: summary(name, key) for key in ("analogy_accuracy", "wordsim_spearman", "words_per_second")}
             for name in runs}
    print(f"\n{args.mode}, dim {args.dim}, window {args.window}, negative {args.negative}, "
          f"min_count {args.min_count}, sample {args.sample}, epochs {args.epochs}, {args.threads} threads, "
          f"mean +- std over {args.seeds} seeds")
    print(f"{'':8s} {'analogy acc':>18s} {'WordSim-353 rho':>18s} {'words/s':>22s}")
    for name, row in table.items():
        (a, sa), (r, sr), (w, sw) = row["analogy_accuracy"], row["wordsim_spearman"], row["words_per_second"]
        print(f"{name:8s} {a:10.4f} +- {sa:.4f} {r:+10.4f} +- {sr:.4f} {w:12,.0f} +- {sw:,.0f}")
    ratio = table["gensim"]["words_per_second"][0] / table["llmos"]["words_per_second"][0]
    print(f"gensim is {ratio:.2f}x llmos's speed")

    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(dict(
        corpus=str(args.corpus), corpus_words=words, settings={k: str(v) if isinstance(v, Path) else v
                                                               for k, v in vars(args).items()},
        machine=f"{platform.processor() or platform.machine()}, torch {torch.__version__}",
        summary=table, speed_ratio_gensim_over_llmos=ratio, runs=runs), indent=2))
    print(f"saved {args.out}")


if __name__ == "__main__":
    main()
