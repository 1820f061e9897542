import json

from llmos.cli.main import main
from llmos.reason import LocalBackend
from llmos.reason.train import TrainTaskConfig, encode_batch, read_reason_config, train_task
from llmos.text import Tokenizer


def test_targets_cover_only_the_answer_and_the_final_eos():
    tok = Tokenizer.char("abcQ:\n ")
    ids, targets = encode_batch(tok, [("Q:a", " b\n"), ("Q:", " c\n")])
    row = targets[0].tolist()
    assert row[:3] == [-100, -100, -100] and [t for t in row if t != -100] == tok.encode(" b\n") + [tok.eos_id]
    assert ids[0, 0] == tok.eos_id


def test_a_few_steps_make_a_run_folder_that_llmos_reason_opens(tmp_path, capsys):
    cfg = TrainTaskConfig(task="word", format="calc", steps=3, batch_size=4, d_model=16, n_layers=1, n_heads=2,
                          d_ff=32, eval_n=4, sizes=[1], eval_tokens=16)
    result = train_task(cfg, tmp_path / "run")
    assert set(result.accuracy) == {1} and 0.0 <= result.accuracy[1] <= 1.0 and (tmp_path / "run" / "model" / "model.safetensors").is_file()
    assert read_reason_config(tmp_path / "run") == {"task": "word", "format": "calc", "calculator": True,
                                                   "template": "Q: {question}\nA:", "trigger": "", "stop": ["\n"],
                                                   "numeric": True}
    assert json.loads((tmp_path / "run" / "metrics.json").read_text())["params"] == result.params
    assert LocalBackend.load(tmp_path / "run").start_token      # as it was trained: after a start token
    code = main(["reason", "cot", "Ann has 3 pens. She loses 1. How many pens does Ann have?",
                 "--model", str(tmp_path / "run"), "--trace", "max_tokens=20", "--max-calls", "3"])
    out = capsys.readouterr().out
    assert code == 0 and "== cot: Ann has 3 pens" in out and "#1 chain" in out
    assert "answer:" in out and "spent: 1 calls" in out


def test_the_cli_reports_bad_settings_by_name(tiny_dir, capsys):
    import pytest
    with pytest.raises(SystemExit):
        main(["reason", "self-consistency", "q", "--model", str(tiny_dir), "k=x"])
    assert "k: cannot read 'x' as int" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["reason", "tot", "q", "--model", str(tiny_dir), "task=chess"])
    assert "task='chess': choose text or game24" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["reason", "cot", "q"])
    assert "give --model" in capsys.readouterr().err


def test_init_starts_from_an_earlier_runs_weights(tmp_path):
    import torch
    from llmos.hub import load_model
    small = dict(task="word", format="cot", batch_size=2, d_model=16, n_layers=1, n_heads=2, d_ff=32, eval_n=1,
                 sizes=[1], eval_tokens=4)
    train_task(TrainTaskConfig(steps=2, **small), tmp_path / "a")
    train_task(TrainTaskConfig(steps=1, lr=1e-9, warmup_steps=0, init=str(tmp_path / "a"), **small), tmp_path / "b")
    a, b = load_model(tmp_path / "a"), load_model(tmp_path / "b")
    assert all(torch.allclose(x, y, atol=1e-5) for x, y in zip(a.parameters(), b.parameters()))
