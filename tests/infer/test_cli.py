"""`llmos generate` from a training run folder."""
import pytest

from llmos.cli.main import main
from llmos.train.pretrain import pretrain

from ..train.conftest import tiny_config, tiny_text


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("gen")
    (folder / "corpus.txt").write_text(tiny_text())
    cfg = tiny_config(folder / "corpus.txt", "train.max_steps=60", "train.eval_every=60",
                      "train.checkpoint_every=60")
    pretrain(cfg, folder / "run", progress=False)
    return folder / "run"


def test_generate_samples_text_in_the_corpus_alphabet(run, capsys):
    assert main(["generate", str(run), "--max-new-tokens", "40", "--seed", "0", "--num-samples", "2"]) == 0
    out = capsys.readouterr().out
    assert "--- sample 1 ---" in out and "--- sample 2 ---" in out
    assert set(out.replace("--- sample 1 ---", "").replace("--- sample 2 ---", "")) <= set(tiny_text()) | {"\n"}


def test_generate_is_repeatable_with_a_seed_and_stops_at_a_stop_string(run, capsys):
    args = ["generate", str(run), "--prompt", "the ", "--max-new-tokens", "50", "--seed", "3"]
    main(args)
    first = capsys.readouterr().out
    main(args)
    assert capsys.readouterr().out == first and first.startswith("the ")
    main(args + ["--stop", "."])
    cut = capsys.readouterr().out
    assert "." not in cut[len("the "):] and first.startswith(cut.rstrip("\n"))


def test_generate_names_a_folder_without_a_model(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["generate", str(tmp_path)])
    assert "config.json" in capsys.readouterr().err


def test_generate_with_int8_weights_and_a_saved_quantized_folder_agree(run, tmp_path, capsys):
    args = ["--prompt", "the ", "--max-new-tokens", "30", "--temperature", "0"]
    assert main(["generate", str(run), "--dtype", "int8", *args]) == 0
    on_the_fly = capsys.readouterr().out
    assert main(["quantize", str(run), str(tmp_path / "q")]) == 0
    assert "int8" in capsys.readouterr().out
    assert main(["generate", str(tmp_path / "q"), *args]) == 0
    assert capsys.readouterr().out == on_the_fly and on_the_fly.startswith("the ")
    with pytest.raises(SystemExit):
        main(["generate", str(tmp_path / "q"), "--dtype", "bf16", *args])
    assert "holds int8 weights" in capsys.readouterr().err


def test_generate_with_a_draft_prints_the_targets_greedy_text_and_the_acceptance(run, capsys):
    args = ["generate", str(run), "--prompt", "the ", "--max-new-tokens", "12", "--temperature", "0"]   # fills the context
    assert main(args) == 0
    alone = capsys.readouterr().out
    assert main(args + ["--draft", str(run), "--speculate-k", "3"]) == 0
    out = capsys.readouterr()
    assert out.out == alone
    assert "100% of" in out.err                   # a draft equal to the target is always right
