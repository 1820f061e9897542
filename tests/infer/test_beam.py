"""Beam search: one beam is greedy; enough beams find the exhaustive optimum."""
import itertools

import pytest
import torch

from llmos.infer.beam import beam_search
from llmos.nn.seq2seq import Seq2SeqConfig, Seq2SeqTransformer

PAD, BOS, EOS = 0, 1, 2


def tiny_model(vocab: int, seed: int = 0) -> Seq2SeqTransformer:
    torch.manual_seed(seed)
    cfg = Seq2SeqConfig(src_vocab_size=vocab, tgt_vocab_size=vocab, d_model=16, n_heads=2, d_ff=32,
                        n_encoder_layers=1, n_decoder_layers=1, dropout=0.0, max_len=16,
                        pad_id=PAD, bos_id=BOS, eos_id=EOS)
    model = Seq2SeqTransformer(cfg).eval()
    with torch.no_grad():                       # make EOS likely enough that sequences end
        model.out_proj.weight[EOS] += 0.5 * model.out_proj.weight[3]
    return model


def sequence_logprob(model, src, seq):
    tgt = torch.tensor([[BOS] + seq])
    with torch.no_grad():
        logp = model(src, tgt).log_softmax(-1)[0]                               # (T, V)
    return float(sum(logp[i, t] for i, t in enumerate(seq + [EOS])))


def test_one_beam_is_greedy():
    model = tiny_model(12)
    src = torch.tensor([[3, 4, 5, 6], [7, 8, 9, PAD]])
    pad = src == PAD
    greedy = model.greedy(src, pad, max_new_tokens=6)[:, 1:].tolist()
    beams = beam_search(model, src, pad, beam_size=1, max_new_tokens=6, length_penalty=0.0)
    for g, b in zip(greedy, beams):
        g = g[:g.index(EOS)] if EOS in g else g
        assert b == g


@pytest.mark.parametrize("seed", [0, 1, 3])
@pytest.mark.parametrize("length_penalty", [0.0, 1.0])
def test_wide_beam_finds_the_best_output_of_all(seed, length_penalty):
    """With room for every hypothesis, beam search is exhaustive search."""
    model = tiny_model(4, seed)                        # tokens: PAD, BOS, EOS, one symbol
    src = torch.tensor([[3, 3, 1]])
    n = 3                                              # outputs of at most 2 tokens, then EOS
    options = [list(s) for k in range(n) for s in itertools.product([PAD, BOS, 3], repeat=k)]
    score = lambda s: sequence_logprob(model, src, s) / (len(s) + 1) ** length_penalty  # noqa: E731
    best = max(options, key=score)
    (found,) = beam_search(model, src, None, beam_size=20, max_new_tokens=n, length_penalty=length_penalty)
    assert found == best
    if length_penalty == 1.0:
        assert len(best) == 2                          # these seeds prefer long outputs per token


def test_bad_beam_size_is_refused():
    with pytest.raises(ValueError, match="beam_size must be >= 1"):
        beam_search(tiny_model(6), torch.tensor([[3]]), beam_size=0)
