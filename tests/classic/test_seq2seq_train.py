import pytest
import torch

from llmos.classic.seq2seq import RNNSeq2Seq, RNNSeq2SeqConfig, Seq2SeqTrainConfig, predict, train_seq2seq
from llmos.text.synthetic import VOCAB, reverse_task


pytestmark = pytest.mark.usefixtures("one_thread")


def test_small_lstm_with_attention_learns_reversal_to_high_held_out_exact_match():
    task = reverse_task(n_train=3000, n_test=200, min_len=3, max_len=7, letters="abcdefgh", seed=0)
    model = RNNSeq2Seq(RNNSeq2SeqConfig(VOCAB.size, emb_dim=24, hidden=48))
    untrained = predict(model, [s for s, _ in task.test[:50]], VOCAB, max_new_tokens=8)
    assert sum(p == t for p, (_, t) in zip(untrained, task.test)) == 0
    result = train_seq2seq(model, task, Seq2SeqTrainConfig(steps=220, batch_size=64, lr=5e-3, warmup=20),
                           progress=False)
    assert result.exact_match >= 0.9, result
    assert result.steps == 220 and result.final_loss < result.losses[0] / 5
    assert predict(model, ["abcdeh"], VOCAB, max_new_tokens=8) == ["hedcba"]   # unseen string


def test_max_seconds_stops_training_early():
    task = reverse_task(n_train=200, n_test=10, min_len=3, max_len=5, seed=0)
    model = RNNSeq2Seq(RNNSeq2SeqConfig(VOCAB.size, emb_dim=8, hidden=8))
    result = train_seq2seq(model, task, Seq2SeqTrainConfig(steps=10_000, max_seconds=0.5), progress=False)
    assert 1 <= result.steps < 10_000 and 0 <= result.exact_match <= 1
