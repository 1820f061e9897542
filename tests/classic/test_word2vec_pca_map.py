import numpy as np
import pytest

from llmos.classic.word2vec.pca_map import pca_2d, plot_words
from llmos.classic.word2vec.vectors import WordVectors


def test_pca_finds_the_directions_of_most_variance():
    rng = np.random.default_rng(0)
    # large spread along (1,1,0)/sqrt2, small along z, none along (1,-1,0)
    t, z = rng.normal(size=200) * 10, rng.normal(size=200)
    x = np.stack([t, t, z], axis=1) / np.array([np.sqrt(2), np.sqrt(2), 1])
    xy = pca_2d(x)
    assert xy.shape == (200, 2)
    assert abs(np.corrcoef(xy[:, 0], t)[0, 1]) > 0.999 and abs(np.corrcoef(xy[:, 1], z)[0, 1]) > 0.99
    assert np.allclose(xy.mean(axis=0), 0, atol=1e-9)
    assert pca_2d(np.array([[0.0, 1.0, 2.0], [1.0, 1.0, 2.0]])).shape == (2, 2)   # rank 1 still gives 2 columns


def test_plot_words_writes_a_png_and_names_unknown_words(tmp_path):
    wv = WordVectors(["a", "b", "c"], np.eye(3, dtype=np.float32))
    path = plot_words(wv, ["a", "b", "c"], tmp_path / "sub" / "map.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(KeyError, match="zebra"):
        plot_words(wv, ["a", "zebra"], tmp_path / "x.png")
