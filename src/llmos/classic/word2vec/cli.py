"""`llmos word2vec`: train word vectors on a text file, show neighbours, save a map."""
from __future__ import annotations

from pathlib import Path

from llmos.classic.word2vec.evaluate import evaluate_analogies, evaluate_similarity
from llmos.classic.word2vec.model import Word2VecConfig
from llmos.classic.word2vec.pca_map import plot_words
from llmos.classic.word2vec.train import train_word2vec
from llmos.classic.word2vec.vocab import read_sentences
from llmos.config import ConfigError, override, save_config


def word2vec(corpus: Path, out: Path = Path("runs/word2vec"), words: str = "",
             neighbours: int = 8, analogies: Path | None = None, wordsim: Path | None = None,
             quiet: bool = False, overrides: list[str] | None = None) -> None:
    """Train word2vec (skip-gram or CBOW) on a text file and show what it learned.

    Writes OUT/vectors.txt (word2vec text format), OUT/config.json and OUT/map.png
    (a PCA map of the chosen words), and prints each chosen word's nearest neighbours.
    Settings are Word2VecConfig fields given as key=value, e.g. mode=cbow dim=50 epochs=10.

    Args:
        corpus: a UTF-8 text file; each line is one sentence.
        out: folder for the vectors, config and map.
        words: comma-separated words to show neighbours for and to place on the map, e.g.
            king,queen,man,woman (default: the 8 most frequent words past the first 30).
        neighbours: how many nearest words to print per word.
        analogies: an analogy file in questions-words.txt format to score the vectors on.
        wordsim: a WordSim-353-style TSV (word1, word2, score) to score the vectors on.
        quiet: no progress bar.
        overrides: Word2VecConfig settings, e.g. mode=cbow window=8 epochs=10.
    """
    try:
        cfg = override(Word2VecConfig(), overrides or [])
    except (ConfigError, ValueError) as e:
        raise ConfigError(f"word2vec settings: {e}") from None
    if not corpus.is_file():
        raise ConfigError(f"corpus {corpus} is not a file; pass a UTF-8 text file")
    sentences = read_sentences(corpus)
    vectors, stats = train_word2vec(sentences, cfg, progress=not quiet)
    out.mkdir(parents=True, exist_ok=True)
    vectors.save(out / "vectors.txt")
    save_config(cfg, out / "config.json")
    print(f"{cfg.mode}: {stats.vocab_size:,} words x {cfg.dim} dims from {stats.corpus_words:,} corpus words, "
          f"{stats.seconds:.1f}s ({stats.words_per_second:,.0f} words/s)")
    chosen = [w.strip().lower() for w in words.split(",") if w.strip()] or vectors.words[30:38]
    unknown = [w for w in chosen if w not in vectors]
    if unknown:
        print(f"not in the vocabulary (skipped): {', '.join(unknown)}")
    chosen = [w for w in chosen if w in vectors]
    for word in chosen:
        near = ", ".join(f"{w} {s:.2f}" for w, s in vectors.nearest(word, neighbours))
        print(f"  {word}: {near}")
    if len(chosen) >= 2:
        print(f"map: {plot_words(vectors, chosen, out / 'map.png')}")
    if analogies:
        result = evaluate_analogies(vectors, analogies)
        print(f"analogies: {result.accuracy:.2%} of {result.asked} questions ({result.skipped} skipped)")
    if wordsim:
        sim = evaluate_similarity(vectors, wordsim)
        print(f"word similarity: Spearman {sim.spearman:+.3f} over {sim.pairs_used}/{sim.pairs_total} pairs")
    print(f"vectors: {out / 'vectors.txt'}")
