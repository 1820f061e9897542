import pytest
import torch

from llmos.classic.seq2seq.model import RNNSeq2Seq, RNNSeq2SeqConfig
from llmos.text.synthetic import VOCAB, collate


pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.mark.parametrize("cell, attention", [("lstm", "bahdanau"), ("gru", "luong")])
def test_forward_shapes_and_padding_does_not_change_a_row(cell, attention):
    model = RNNSeq2Seq(RNNSeq2SeqConfig(VOCAB.size, emb_dim=8, hidden=16, cell=cell, attention=attention,
                                        encoder_layers=2)).eval()
    alone = collate([("march 5, 1997", "1997-03-05")])
    padded = collate([("march 5, 1997", "1997-03-05"), ("wednesday, march 5th, 1997", "1997-03-05")])
    assert padded.src_mask[0].sum() < padded.src.shape[1]                 # row 0 really is padded
    with torch.no_grad():
        a, wa = model(alone.src, alone.tgt_in, ~alone.src_mask, need_weights=True)
        b, wb = model(padded.src, padded.tgt_in, ~padded.src_mask, need_weights=True)
    assert b.shape == (2, padded.tgt_in.shape[1], VOCAB.size) and wb.shape == (2, 10 + 1, padded.src.shape[1])
    assert torch.allclose(a[0], b[0], atol=1e-5)                          # packing + masking hide the padding
    assert torch.all(wb[0, :, alone.src.shape[1]:] == 0)


def test_greedy_agrees_with_teacher_forcing_on_its_own_output():
    torch.manual_seed(1)
    model = RNNSeq2Seq(RNNSeq2SeqConfig(VOCAB.size, emb_dim=8, hidden=16)).eval()
    batch = collate([("abc", "x"), ("hello", "y")])
    ids = model.greedy(batch.src, ~batch.src_mask, max_new_tokens=6)      # (B, 1 + n)
    assert ids.shape[1] <= 7 and torch.all(ids[:, 0] == VOCAB.bos_id)
    with torch.no_grad():
        logits = model(batch.src, ids[:, :-1], ~batch.src_mask)
    for row, out in zip(ids, logits.argmax(-1)):
        n = (row[1:] == VOCAB.eos_id).nonzero()
        stop = int(n[0]) + 1 if len(n) else len(row) - 1
        assert torch.equal(row[1:1 + stop], out[:stop])
        assert torch.all(row[1 + stop:] == VOCAB.pad_id)


def test_config_is_checked():
    with pytest.raises(ValueError, match="cell"):
        RNNSeq2SeqConfig(VOCAB.size, cell="rnn")
    with pytest.raises(ValueError, match="hidden"):
        RNNSeq2SeqConfig(VOCAB.size, hidden=0)
