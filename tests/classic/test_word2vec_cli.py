import random

import pytest

from llmos.classic.word2vec.vectors import WordVectors
from llmos.cli.main import main


def test_word2vec_verb_trains_saves_and_shows_neighbours(tmp_path, capsys):
    rng = random.Random(0)
    topics = [["cat", "dog", "mouse", "bird"], ["red", "blue", "green", "yellow"]]
    lines = [" ".join(rng.choices(topics[rng.randrange(2)], k=6)) for _ in range(800)]
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("\n".join(lines) + "\n")
    out = tmp_path / "run"
    code = main(["word2vec", str(corpus), "--out", str(out), "--quiet", "--words", "cat,red,Unicorn",
                 "dim=12", "min_count=1", "sample=0", "epochs=3", "threads=1", "lr=0.05"])
    assert code == 0
    text = capsys.readouterr().out
    assert "cat:" in text and "not in the vocabulary (skipped): unicorn" in text
    cat_line = next(line for line in text.splitlines() if line.strip().startswith("cat:"))
    assert cat_line.split(":")[1].split()[0] in {"dog", "mouse", "bird"}
    vectors = WordVectors.load(out / "vectors.txt")
    assert len(vectors) == 8 and vectors.dim == 12
    assert (out / "map.png").exists() and (out / "config.json").exists()


def test_word2vec_verb_rejects_bad_settings(tmp_path, capsys):
    corpus = tmp_path / "c.txt"
    corpus.write_text("a b c\n")
    with pytest.raises(SystemExit) as exit_:
        main(["word2vec", str(corpus), "dim=wide", "--out", str(tmp_path / "run")])
    assert exit_.value.code == 2
    assert "dim: cannot read 'wide' as int" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()          # refused before any training or writing
