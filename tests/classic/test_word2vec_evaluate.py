import numpy as np
import pytest

from llmos.classic.word2vec.evaluate import (
    evaluate_analogies, evaluate_similarity, rank, read_analogies, read_word_pairs, spearman,
)
from llmos.classic.word2vec.vectors import WordVectors

WORDS = ["man", "woman", "king", "queen", "prince"]
VECS = np.array([[1, 0, 0], [1, 1, 0], [1, 0, 1], [1, 1, 1], [0, 1, 1]], dtype=np.float32)

ANALOGIES = """\
: family
Man Woman King Queen
man king woman queen
king queen man prince
man woman boy girl
: reversed
woman man queen king
"""


def test_analogy_accuracy_matches_hand_computation(tmp_path):
    # By hand (unit vectors, 3CosAdd, question words excluded):
    #  man:woman::king:?  -> queen (right)       man:king::woman:? -> queen (right)
    #  king:queen::man:?  -> woman, not prince    man:woman::boy:girl -> skipped (unknown words)
    #  woman:man::queen:? -> king (right)
    path = tmp_path / "q.txt"
    path.write_text(ANALOGIES)
    result = evaluate_analogies(WordVectors(WORDS, VECS), path)
    assert result.sections == {"family": (2, 3), "reversed": (1, 1)}
    assert (result.correct, result.asked, result.skipped) == (3, 4, 1)
    assert result.accuracy == 0.75 and result.section_accuracy("family") == pytest.approx(2 / 3)
    # restricting the vocabulary to the first 4 words drops the question that needs "prince"
    restricted = evaluate_analogies(WordVectors(WORDS, VECS), path, restrict_vocab=4)
    assert (restricted.correct, restricted.asked) == (3, 3)


def test_malformed_analogy_file_names_the_line(tmp_path):
    (tmp_path / "q.txt").write_text(": s\na b c\n")
    with pytest.raises(ValueError, match=":2: expected four words"):
        read_analogies(tmp_path / "q.txt")


def test_rank_gives_ties_their_mean_rank():
    assert rank(np.array([10, 20, 20, 30])).tolist() == [1, 2.5, 2.5, 4]


def test_spearman_matches_hand_computation():
    # ranks y = [1, 2, 3.5, 5, 3.5]; rho = sum(rx ry) / sqrt(sum rx^2 sum ry^2) = 8 / sqrt(10 * 9.5)
    assert spearman(np.array([1, 2, 3, 4, 5]), np.array([5, 6, 7, 8, 7])) == pytest.approx(8 / np.sqrt(95))
    assert spearman(np.arange(6), -np.arange(6) ** 3) == pytest.approx(-1.0)
    with pytest.raises(ValueError):
        spearman(np.array([1.0]), np.array([2.0]))


def test_spearman_agrees_with_scipy():
    stats = pytest.importorskip("scipy.stats")
    rng = np.random.default_rng(0)
    x, y = rng.integers(0, 10, 50), rng.normal(size=50)
    assert spearman(x, y) == pytest.approx(stats.spearmanr(x, y).statistic)


def test_wordsim_spearman_matches_hand_computation(tmp_path):
    words = ["a", "b", "c", "d"]
    vecs = np.array([[1, 0], [0.8, 0.6], [0.6, 0.8], [0, 1]], dtype=np.float32)
    path = tmp_path / "ws.tsv"
    path.write_text("# Word 1\tWord 2\tHuman (mean)\na\tb\t9\nA\tc\t5\na\td\t1\nb\tc\t6\na\tzzz\t3\n")
    # cosines a-b .8, a-c .6, a-d 0, b-c .96 -> ranks 3,2,1,4; human ranks 4,2,1,3
    # rho = 1 - 6 * sum d^2 / (n (n^2 - 1)) = 1 - 6 * 2 / 60 = 0.8
    result = evaluate_similarity(WordVectors(words, vecs), path)
    assert result.spearman == pytest.approx(0.8)
    assert (result.pairs_used, result.pairs_total) == (4, 5) and result.oov_ratio == pytest.approx(0.2)


def test_malformed_word_pairs_name_the_line(tmp_path):
    (tmp_path / "ws.tsv").write_text("a\tb\t1\na b 2\n")
    with pytest.raises(ValueError, match=":2:"):
        read_word_pairs(tmp_path / "ws.tsv")
