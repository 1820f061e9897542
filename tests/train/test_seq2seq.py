"""The encoder-decoder learns a synthetic task to >= 99% held-out exact match, greedy and beam."""
import pytest
import torch

from llmos.config import override
from llmos.text.synthetic import IGNORE_INDEX
from llmos.train.metrics import read_metrics
from llmos.train.seq2seq import Seq2SeqRunConfig, loss_fn, train_seq2seq

FAST = ["task=reverse", 'task_args={"min_len": 3, "max_len": 6}', "n_train=10000", "n_test=500",
        "max_steps=600", "batch_size=64", "warmup_steps=150", "lr_factor=0.5", "average_every=50",
        "model.n_heads=4", "model.d_model=64", "model.d_ff=256", "model.dropout=0.0", "model.norm_first=true",
        "eval_every=300", "eval_examples=100", "threads=1"]


def test_small_transformer_reverses_held_out_strings_with_greedy_and_beam(tmp_path):
    cfg = override(Seq2SeqRunConfig(), FAST)
    result = train_seq2seq(cfg, tmp_path, progress=False)
    assert len(result.task.test) == 500
    train_sources = {s for s, _ in result.task.train}
    assert not any(s in train_sources for s, _ in result.task.test)         # truly held out
    assert result.greedy_exact_match >= 0.99, result.examples[:5]
    assert result.beam_exact_match >= 0.99
    final = read_metrics(tmp_path / "metrics.jsonl", "final")[-1]
    assert final["beam_exact_match"] == result.beam_exact_match
    assert (tmp_path / "loss.png").exists() and (tmp_path / "model.pt").exists()


def test_loss_is_label_smoothed_cross_entropy_over_real_tokens():
    torch.manual_seed(0)
    logits = torch.randn(2, 3, 5)
    target = torch.tensor([[1, 4, IGNORE_INDEX], [0, 2, 3]])
    eps, keep = 0.1, target != IGNORE_INDEX
    logp = logits.log_softmax(-1)[keep]                                       # (N, V)
    t = target[keep]
    expected = ((1 - eps) * -logp.gather(1, t[:, None]).squeeze(1) + eps * -logp.mean(-1)).mean()
    assert loss_fn(logits, target, eps) == pytest.approx(float(expected), rel=1e-5)
