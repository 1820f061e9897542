"""`llmos demo` (the main job), shrunk: trains on the embedded corpus, reports, samples, and reuses its run."""
from llmos.demo import corpus_word_share, demo

SMALL = ["model.n_layers=1", "model.d_model=32", "model.n_heads=2", "model.d_ff=64", "train.eval_batches=2"]


def test_demo_trains_reports_and_samples(tmp_path, capsys):
    run = tmp_path / "demo"
    assert demo(steps=30, run_dir=run, samples=2, overrides=SMALL) == 0
    out = capsys.readouterr().out
    for text in ("ms per step", "training 30 steps", "validation loss", "unigram entropy", "sample 1",
                 "sample 2", "of the sampled words", "standard library"):
        assert text in out, text
    for name in ("metrics.jsonl", "loss.png", "model/model.safetensors", "model/tokenizer.json"):
        assert (run / name).exists(), name
    assert demo(run_dir=run, samples=1) == 0                    # again: reuses the finished run
    assert "found an earlier demo run" in capsys.readouterr().out


def test_corpus_word_share_counts_known_words():
    assert corpus_word_share(["the cat sat", "zzq dog"], {"the", "cat", "dog"}) == 3 / 5
    assert corpus_word_share([""], {"the"}) == 0.0
