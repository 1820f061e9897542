"""`llmos train` and `llmos seq2seq` from the command line."""
import pytest

from llmos.cli.main import main

from .conftest import tiny_config  # noqa: F401

SMALL = ["data.tokenizer=char", "model.n_heads=2", "model.d_model=32", "model.n_layers=1", "model.d_ff=64",
         "model.max_seq_len=16", "train.max_steps=4", "train.warmup_steps=1", "train.eval_every=2",
         "train.eval_batches=1", "train.checkpoint_every=2", "train.threads=1"]


def test_train_then_resume_a_run_folder_to_train_longer(corpus, tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["train", "char", "--run-dir", str(run), "--no-progress", f"data.corpus={corpus}", *SMALL]) == 0
    out = capsys.readouterr().out
    assert "val loss" in out and "unigram entropy" in out and f"llmos generate {run}" in out
    assert main(["train", str(run), "--no-progress", "train.max_steps=6"]) == 0     # the folder as preset
    out = capsys.readouterr().out
    assert "resumed from" in out and "step_000004.pt" in out
    assert (run / "checkpoints" / "step_000006.pt").exists()


def test_bad_preset_and_settings_are_named(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["train", "gpt5", "--run-dir", str(tmp_path / "x")])
    assert "neither a preset" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["train", "char", "--run-dir", str(tmp_path / "x"), "train.learning_rate=1"])
    assert "unknown setting 'train.learning_rate'" in capsys.readouterr().err


def test_help_describes_presets_and_settings(capsys):
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    out = capsys.readouterr().out
    assert "mixtral" in out and "torchrun" in out and "KEY=VALUE" in out
    with pytest.raises(SystemExit):
        main(["seq2seq", "--help"])
    assert "label smoothing" in capsys.readouterr().out
