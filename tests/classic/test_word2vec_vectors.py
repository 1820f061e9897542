import numpy as np
import pytest

from llmos.classic.word2vec.vectors import WordVectors

WORDS = ["man", "woman", "king", "queen", "prince"]
VECS = np.array([[1, 0, 0], [1, 1, 0], [1, 0, 1], [1, 1, 1], [0, 1, 1]], dtype=np.float32)


def test_similarity_and_nearest_by_cosine_and_euclidean():
    wv = WordVectors(WORDS, VECS)
    assert wv.similarity("man", "woman") == pytest.approx(1 / np.sqrt(2))
    near = wv.nearest("king", k=4)
    assert [w for w, _ in near][:1] == ["queen"] and "king" not in [w for w, _ in near]
    assert near[0][1] == pytest.approx(2 / np.sqrt(6))
    # Euclidean distances from man (1,0,0): woman 1, king 1, queen sqrt2, prince sqrt3
    eu = wv.nearest("man", k=4, metric="euclidean")
    assert [round(d, 5) for _, d in eu] == [1.0, 1.0, round(np.sqrt(2), 5), round(np.sqrt(3), 5)]
    assert eu[-1][0] == "prince"
    with pytest.raises(ValueError, match="metric"):
        wv.nearest("man", metric="manhattan")
    with pytest.raises(KeyError, match="'emperor'"):
        wv.similarity("man", "emperor")


def test_analogy_by_3cosadd_excludes_question_words():
    wv = WordVectors(WORDS, VECS)
    answers = wv.analogy("man", "woman", "king", k=5)
    assert answers[0][0] == "queen"
    assert {"man", "woman", "king"}.isdisjoint(w for w, _ in answers) and len(answers) == 2
    target = wv.unit[1] - wv.unit[0] + wv.unit[2]
    assert answers[0][1] == pytest.approx(float(wv.unit[3] @ target))
    batch = wv.analogy_batch(np.array([0, 2]), np.array([1, 3]), np.array([2, 0]))
    assert batch.tolist() == [3, 1]   # man:woman::king:queen, king:queen::man:woman


def test_save_and_load_word2vec_text_format(tmp_path):
    wv = WordVectors(WORDS, VECS * 0.5)
    wv.save(tmp_path / "v.txt")
    lines = (tmp_path / "v.txt").read_text().splitlines()
    assert lines[0] == "5 3" and lines[1] == "man 0.5 0 0"
    back = WordVectors.load(tmp_path / "v.txt")
    assert back.words == WORDS and np.allclose(back.vectors, wv.vectors)


@pytest.mark.parametrize("text, message", [
    ("hello\nman 1 2\n", "line 1"),
    ("2 2\nman 1 2\nwoman 1\n", ":3: expected a word and 2 numbers"),
    ("3 2\nman 1 2\n", "promises 3 words"),
])
def test_load_names_what_is_wrong(tmp_path, text, message):
    (tmp_path / "bad.txt").write_text(text)
    with pytest.raises(ValueError, match=message):
        WordVectors.load(tmp_path / "bad.txt")


def test_shape_mismatch_is_an_error():
    with pytest.raises(ValueError, match="2 words"):
        WordVectors(["a", "b"], np.zeros((3, 2)))
