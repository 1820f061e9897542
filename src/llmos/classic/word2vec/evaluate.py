"""The two standard intrinsic tests of word vectors.

- Analogies (Mikolov et al., 2013): a file in `questions-words.txt` format,
  ": section" lines followed by "a b c d" lines meaning a : b :: c : d. A
  question counts only when all four words are in the vocabulary; it is right
  when 3CosAdd's top answer (question words excluded) is d. Accuracy is
  reported per section and in total, as gensim's `evaluate_word_analogies` does.
- Similarity (WordSim-353, Finkelstein et al., 2002): a tab-separated file of
  "word1 word2 score" ('#' lines are comments). The score is Spearman's rank
  correlation between human scores and cosine similarities over the pairs whose
  words are both known.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from llmos.classic.word2vec.vectors import WordVectors


def _lines(path: str | Path, what: str) -> list[str]:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{what} file {path} does not exist")
    return path.read_text(encoding="utf-8").splitlines()


# ---------------------------------------------------------------- analogies

@dataclasses.dataclass
class AnalogyResult:
    sections: dict[str, tuple[int, int]]  # section -> (correct, asked)
    correct: int
    asked: int        # questions whose four words are all in the vocabulary
    skipped: int      # questions with an unknown word

    @property
    def accuracy(self) -> float:
        return self.correct / self.asked if self.asked else 0.0

    def section_accuracy(self, section: str) -> float:
        correct, asked = self.sections[section]
        return correct / asked if asked else 0.0


def read_analogies(path: str | Path) -> list[tuple[str, str, str, str, str]]:
    """(section, a, b, c, d) per question, lower-cased, in file order."""
    questions, section = [], None
    for lineno, line in enumerate(_lines(path, "analogy"), start=1):
        line = line.strip()
        if not line:
            continue
        if line.startswith(":"):
            section = line[1:].strip()
            continue
        words = line.lower().split()
        if len(words) != 4 or section is None:
            raise ValueError(f"{path}:{lineno}: expected four words after a ': section' line, got {line!r}")
        questions.append((section, *words))
    return questions


def evaluate_analogies(vectors: WordVectors, path: str | Path,
                       restrict_vocab: int | None = 300_000) -> AnalogyResult:
    """Analogy accuracy by 3CosAdd over questions whose words are all among the first
    `restrict_vocab` words (the most frequent; gensim's default limit is 300,000)."""
    limit = len(vectors) if restrict_vocab is None else min(restrict_vocab, len(vectors))
    questions = read_analogies(path)
    known = [q for q in questions if all(vectors.index.get(w, limit) < limit for w in q[1:])]
    sections: dict[str, list[int]] = {}
    for section, *_ in questions:
        sections.setdefault(section, [0, 0])
    if known:
        ids = np.array([[vectors.index[w] for w in q[1:]] for q in known])  # (Q, 4)
        answers = vectors.analogy_batch(ids[:, 0], ids[:, 1], ids[:, 2], candidates=limit)
        for (section, *_), hit in zip(known, answers == ids[:, 3]):
            sections[section][0] += int(hit)
            sections[section][1] += 1
    correct = sum(c for c, _ in sections.values())
    return AnalogyResult({s: (c, n) for s, (c, n) in sections.items()}, correct, len(known),
                         len(questions) - len(known))


# ---------------------------------------------------------------- similarity

@dataclasses.dataclass
class SimilarityResult:
    spearman: float
    pairs_used: int
    pairs_total: int

    @property
    def oov_ratio(self) -> float:
        return 1 - self.pairs_used / self.pairs_total if self.pairs_total else 0.0


def read_word_pairs(path: str | Path) -> list[tuple[str, str, float]]:
    pairs = []
    for lineno, line in enumerate(_lines(path, "word-pair"), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split("\t")
        try:
            pairs.append((parts[0].lower(), parts[1].lower(), float(parts[2])))
        except (IndexError, ValueError):
            raise ValueError(f"{path}:{lineno}: expected 'word1<TAB>word2<TAB>score', got {line!r}") from None
    return pairs


def rank(values: np.ndarray) -> np.ndarray:
    """Ranks 1..n, ties given the mean of the ranks they span (as Spearman needs)."""
    values = np.asarray(values, dtype=np.float64)
    order = np.argsort(values, kind="stable")
    ranks = np.empty(len(values))
    sorted_values = values[order]
    i = 0
    while i < len(values):
        j = i
        while j + 1 < len(values) and sorted_values[j + 1] == sorted_values[i]:
            j += 1
        ranks[order[i:j + 1]] = (i + j) / 2 + 1  # mean of ranks i+1 .. j+1
        i = j + 1
    return ranks


def spearman(x: np.ndarray, y: np.ndarray) -> float:
    """Spearman's rho: the Pearson correlation of the two rank vectors."""
    if len(x) != len(y) or len(x) < 2:
        raise ValueError(f"spearman: need two equal-length sequences of at least 2, got {len(x)}, {len(y)}")
    rx, ry = rank(x) - (len(x) + 1) / 2, rank(y) - (len(y) + 1) / 2
    denom = np.sqrt((rx ** 2).sum() * (ry ** 2).sum())
    return float((rx * ry).sum() / denom) if denom else float("nan")


def evaluate_similarity(vectors: WordVectors, path: str | Path) -> SimilarityResult:
    pairs = read_word_pairs(path)
    known = [(a, b, s) for a, b, s in pairs if a in vectors and b in vectors]
    if len(known) < 2:
        return SimilarityResult(float("nan"), len(known), len(pairs))
    human = np.array([s for _, _, s in known])
    model = np.array([vectors.similarity(a, b) for a, b, _ in known])
    return SimilarityResult(spearman(human, model), len(known), len(pairs))
