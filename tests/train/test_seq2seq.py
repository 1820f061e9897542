"""The encoder-decoder learns a synthetic task to >= 99% held-out exact match, greedy and beam."""
import pytest
import torch

from llmos.config import override
from llmos.text.synthetic import IGNORE_INDEX
from llmos.train.metrics import read_metrics
from llmos.classic.seq2seq import RNNSeq2Seq, RNNSeq2SeqConfig
from llmos.text.synthetic import VOCAB, reverse_task
from llmos.train.seq2seq import Seq2SeqRunConfig, Seq2SeqTrainConfig, decode, loss_fn, run_seq2seq, train_seq2seq

FAST = ["task=reverse", 'task_args={"min_len": 3, "max_len": 6}', "n_train=10000", "n_test=500",
        "max_steps=600", "batch_size=64", "warmup_steps=150", "lr_factor=0.5", "average_every=50",
        "model.n_heads=4", "model.d_model=64", "model.d_ff=256", "model.dropout=0.0", "model.norm_first=true",
        "eval_every=300", "eval_examples=100", "threads=1"]


def test_small_transformer_reverses_held_out_strings_with_greedy_and_beam(tmp_path):
    cfg = override(Seq2SeqRunConfig(), FAST)
    result = run_seq2seq(cfg, tmp_path, progress=False)
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


# the RNN recipe: warmup + cosine, Adam's defaults, clipping, no smoothing or averaging, greedy only
RNN = dict(schedule="cosine", adam_beta2=0.999, adam_eps=1e-8, label_smoothing=0.0, grad_clip=1.0,
           average_last=1, beam_size=0)


def test_the_same_trainer_teaches_an_lstm_with_attention_to_reverse_held_out_strings(one_thread):
    task = reverse_task(n_train=3000, n_test=200, min_len=3, max_len=7, letters="abcdefgh", seed=0)
    model = RNNSeq2Seq(RNNSeq2SeqConfig(VOCAB.size, emb_dim=24, hidden=48))
    untrained = decode(model, [s for s, _ in task.test[:50]], max_new_tokens=8)
    assert sum(p == t for p, (_, t) in zip(untrained, task.test)) == 0
    cfg = Seq2SeqTrainConfig(max_steps=220, batch_size=64, lr=5e-3, warmup_steps=20, eval_every=220, **RNN)
    result = train_seq2seq(model, task, cfg, progress=False)
    assert result.greedy_exact_match >= 0.9, result.examples[:5]
    assert result.beam_exact_match is None
    assert result.steps == 220 and result.final_loss < result.losses[0] / 5
    assert decode(model, ["abcdeh"], max_new_tokens=8) == ["hedcba"]   # unseen string
    assert model.training                                              # decoding handed the mode back


def test_max_seconds_stops_training_early(one_thread):
    task = reverse_task(n_train=200, n_test=10, min_len=3, max_len=5, seed=0)
    model = RNNSeq2Seq(RNNSeq2SeqConfig(VOCAB.size, emb_dim=8, hidden=8))
    result = train_seq2seq(model, task, Seq2SeqTrainConfig(max_steps=10_000, max_seconds=0.5, **RNN),
                           progress=False)
    assert 1 <= result.steps < 10_000 and len(result.losses) == result.steps
    assert 0 <= result.greedy_exact_match <= 1


def test_the_paper_schedule_needs_a_model_width():
    task = reverse_task(n_train=100, n_test=5, min_len=3, max_len=4, seed=0)
    model = RNNSeq2Seq(RNNSeq2SeqConfig(VOCAB.size, emb_dim=8, hidden=8))
    with pytest.raises(ValueError, match="use schedule=cosine"):
        train_seq2seq(model, task, Seq2SeqTrainConfig(max_steps=2), progress=False)
