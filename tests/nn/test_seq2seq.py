"""The encoder-decoder Transformer against torch.nn.Transformer on copied weights."""
import math

import pytest
import torch
from torch import nn

from llmos.nn.mha import MultiHeadAttention
from llmos.nn.positions import sinusoidal_table
from llmos.nn.seq2seq import Seq2SeqConfig, Seq2SeqTransformer

D, H, FF = 32, 4, 64
# torch.nn.Transformer's notes about its own nested-tensor fast path
pytestmark = pytest.mark.filterwarnings("ignore:.*nested.?tensor:UserWarning")


def copy_mha(dst: MultiHeadAttention, src: nn.MultiheadAttention) -> None:
    for name, w, b in zip(("q_proj", "k_proj", "v_proj"), src.in_proj_weight.chunk(3), src.in_proj_bias.chunk(3)):
        getattr(dst, name).weight.copy_(w)
        getattr(dst, name).bias.copy_(b)
    dst.o_proj.weight.copy_(src.out_proj.weight)
    dst.o_proj.bias.copy_(src.out_proj.bias)


def copy_linear_norm(dst, src) -> None:
    dst.weight.copy_(src.weight)
    dst.bias.copy_(src.bias)


@torch.no_grad()
def copy_from_torch(model: Seq2SeqTransformer, ref: nn.Transformer) -> None:
    for mine, theirs in zip(model.encoder.layers, ref.encoder.layers):
        copy_mha(mine.self_attn, theirs.self_attn)
        copy_linear_norm(mine.ffn.fc_in, theirs.linear1)
        copy_linear_norm(mine.ffn.fc_out, theirs.linear2)
        copy_linear_norm(mine.res1.norm, theirs.norm1)
        copy_linear_norm(mine.res2.norm, theirs.norm2)
    for mine, theirs in zip(model.decoder.layers, ref.decoder.layers):
        copy_mha(mine.self_attn, theirs.self_attn)
        copy_mha(mine.cross_attn, theirs.multihead_attn)
        copy_linear_norm(mine.ffn.fc_in, theirs.linear1)
        copy_linear_norm(mine.ffn.fc_out, theirs.linear2)
        for i in (1, 2, 3):
            copy_linear_norm(getattr(mine, f"res{i}").norm, getattr(theirs, f"norm{i}"))
    copy_linear_norm(model.encoder.norm, ref.encoder.norm)
    copy_linear_norm(model.decoder.norm, ref.decoder.norm)


def pair(norm_first: bool, vocab: int = 50) -> tuple[Seq2SeqTransformer, nn.Transformer]:
    cfg = Seq2SeqConfig(src_vocab_size=vocab, tgt_vocab_size=vocab + 7, d_model=D, n_heads=H, d_ff=FF,
                        n_encoder_layers=2, n_decoder_layers=3, dropout=0.1, norm_first=norm_first, max_len=64)
    model = Seq2SeqTransformer(cfg).eval()
    ref = nn.Transformer(d_model=D, nhead=H, num_encoder_layers=2, num_decoder_layers=3, dim_feedforward=FF,
                         dropout=0.1, batch_first=True, norm_first=norm_first).eval()
    with torch.no_grad():  # non-trivial norm parameters, so a swapped norm would show
        for p in ref.parameters():
            if p.dim() == 1:
                p.add_(0.1 * torch.randn_like(p))
    copy_from_torch(model, ref)
    return model, ref


def causal_bool(t: int) -> torch.Tensor:
    """torch's convention: True where attention is NOT allowed."""
    return torch.ones(t, t, dtype=torch.bool).triu(1)


def padded(lengths: list[int], t: int) -> torch.Tensor:
    """(B, T) True at right padding."""
    return torch.arange(t)[None, :] >= torch.tensor(lengths)[:, None]


@pytest.mark.parametrize("norm_first", [False, True], ids=["post-norm", "pre-norm"])
def test_stacks_equal_torch_transformer(norm_first):
    model, ref = pair(norm_first)
    b, s, t = 3, 9, 7
    src, tgt = torch.randn(b, s, D), torch.randn(b, t, D)
    src_pad, tgt_pad = padded([9, 5, 2], s), padded([7, 7, 3], t)
    with torch.no_grad():
        expected = ref(src, tgt, tgt_mask=causal_bool(t),
                       src_key_padding_mask=src_pad, tgt_key_padding_mask=tgt_pad,
                       memory_key_padding_mask=src_pad, tgt_is_causal=True)
        memory, _ = model.encoder(src, ~src_pad[:, None, None, :])
        self_mask = ~tgt_pad[:, None, None, :] & torch.ones(t, t, dtype=torch.bool).tril()
        got, _, _ = model.decoder(tgt, memory, self_mask, ~src_pad[:, None, None, :])
        ref_memory = ref.encoder(src, src_key_padding_mask=src_pad)
    real = ~tgt_pad
    torch.testing.assert_close(got[real], expected[real], atol=1e-5, rtol=0)
    torch.testing.assert_close(memory[~src_pad], ref_memory[~src_pad], atol=1e-5, rtol=0)
    # without any padding, every position is compared
    with torch.no_grad():
        expected = ref(src, tgt, tgt_mask=causal_bool(t), tgt_is_causal=True)
        got, _, _ = model.decoder(tgt, model.encoder(src, None)[0], None, None)
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=0)


@pytest.mark.parametrize("norm_first", [False, True], ids=["post-norm", "pre-norm"])
def test_full_model_is_embeddings_then_torch_transformer_then_projection(norm_first):
    model, ref = pair(norm_first)
    src, tgt = torch.randint(1, 50, (2, 8)), torch.randint(1, 57, (2, 6))
    src_pad = padded([8, 4], 8)
    pe = sinusoidal_table(64, D)

    def embed(ids, table):
        return table.weight[ids] * math.sqrt(D) + pe[: ids.shape[1]]

    with torch.no_grad():
        hidden = ref(embed(src, model.src_emb), embed(tgt, model.tgt_emb),
                     tgt_mask=causal_bool(6), tgt_is_causal=True,
                     src_key_padding_mask=src_pad, memory_key_padding_mask=src_pad)
        expected = hidden @ model.tgt_emb.weight.T                          # tied output projection
        got = model(src, tgt, src_padding_mask=src_pad)
    assert got.shape == (2, 6, 57)
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=0)


def test_sinusoidal_positions_and_scaling_are_applied():
    model, _ = pair(False)
    ids = torch.tensor([[3, 4, 5]])
    expected = model.src_emb.weight[ids] * math.sqrt(D) + sinusoidal_table(64, D)[:3]
    torch.testing.assert_close(model.embed(ids, model.src_emb), expected)


def small(**kw) -> Seq2SeqTransformer:
    cfg = Seq2SeqConfig(src_vocab_size=40, tgt_vocab_size=30, d_model=D, n_heads=H, d_ff=FF,
                        n_encoder_layers=2, n_decoder_layers=2, max_len=32, **kw)
    return Seq2SeqTransformer(cfg).eval()


@pytest.mark.parametrize("norm_first", [False, True])
def test_incremental_decoding_equals_full_decoder_pass(norm_first):
    model = small(norm_first=norm_first)
    src, tgt = torch.randint(3, 40, (3, 10)), torch.randint(3, 30, (3, 9))
    src_pad = padded([10, 6, 3], 10)
    with torch.no_grad():
        full = model(src, tgt, src_padding_mask=src_pad)
        state = model.new_state(model.encode(src, src_pad), src_pad, max_len=12)
        parts = [model.decode_step(tgt[:, :4], state)]                   # a prefix in one call,
        parts += [model.decode_step(tgt[:, i:i + 1], state) for i in range(4, 9)]   # then one at a time
    assert state.length == 9
    torch.testing.assert_close(torch.cat(parts, 1), full, atol=1e-5, rtol=0)


def test_state_reorder_follows_chosen_rows():
    """Beam search: after reorder, each row continues the prefix of the row it copied."""
    model = small()
    src, tgt = torch.randint(3, 40, (2, 7)), torch.randint(3, 30, (2, 5))
    with torch.no_grad():
        state = model.new_state(model.encode(src), max_len=8)
        model.decode_step(tgt[:, :4], state)
        state.reorder([1, 1, 0])                                         # expand and permute
        step = model.decode_step(tgt[[1, 1, 0], 4:5], state)
        full = model(src[[1, 1, 0]], tgt[[1, 1, 0]])
    torch.testing.assert_close(step[:, 0], full[:, 4], atol=1e-5, rtol=0)


def test_greedy_with_cache_equals_greedy_by_full_recompute():
    model = small()
    src = torch.randint(3, 40, (2, 6))
    with torch.no_grad():
        got = model.greedy(src, max_new_tokens=8)
        ids = torch.full((2, 1), model.config.bos_id)
        for _ in range(got.shape[1] - 1):
            ids = torch.cat([ids, model(src, ids)[:, -1].argmax(-1, keepdim=True)], 1)
    eos = (ids == model.config.eos_id).long()
    after_eos = (eos.cumsum(1) - eos) > 0                          # strictly after the first eos
    assert torch.equal(got[~after_eos], ids[~after_eos])
    assert bool((got[after_eos] == model.config.pad_id).all())


def test_need_weights_returns_every_layers_maps():
    model = small()
    src, tgt = torch.randint(3, 40, (2, 6)), torch.randint(3, 30, (2, 5))
    src_pad = padded([6, 4], 6)
    with torch.no_grad():
        logits, att = model(src, tgt, src_padding_mask=src_pad, need_weights=True)
        plain = model(src, tgt, src_padding_mask=src_pad)
    torch.testing.assert_close(logits, plain, atol=1e-5, rtol=0)
    assert [w.shape for w in att.encoder] == [(2, H, 6, 6)] * 2
    assert [w.shape for w in att.decoder_self] == [(2, H, 5, 5)] * 2
    assert [w.shape for w in att.cross] == [(2, H, 5, 6)] * 2
    for w in att.cross:
        torch.testing.assert_close(w.sum(-1), torch.ones(2, H, 5))
        assert w[1, :, :, 4:].abs().max() == 0                        # padded source is never read
    for w in att.decoder_self:
        assert w.triu(1).abs().max() == 0                             # no peeking ahead


def test_base_preset_matches_the_paper():
    cfg = Seq2SeqConfig.base(37000, share_embeddings=True)
    assert (cfg.n_encoder_layers, cfg.n_decoder_layers, cfg.d_model, cfg.n_heads, cfg.d_ff, cfg.dropout) == \
        (6, 6, 512, 8, 2048, 0.1)
    model = Seq2SeqTransformer(cfg)
    d, f = 512, 2048
    attn, ffn, norm = 4 * d * d + 4 * d, 2 * d * f + f + d, 2 * d
    expected = 37000 * d + 6 * (attn + ffn + 2 * norm) + 6 * (2 * attn + ffn + 3 * norm) + 2 * norm
    assert model.num_parameters() == expected                      # ~63M: the paper's "65M" base model
    assert model.out_proj.weight is model.tgt_emb.weight is model.src_emb.weight


def test_training_mode_applies_dropout_and_eval_is_deterministic():
    model = small(dropout=0.3)
    src, tgt = torch.randint(3, 40, (2, 6)), torch.randint(3, 30, (2, 5))
    model.train()
    assert not torch.allclose(model(src, tgt), model(src, tgt))
    model.eval()
    assert torch.equal(model(src, tgt), model(src, tgt))


def test_bad_inputs_are_named():
    with pytest.raises(ValueError, match="share_embeddings"):
        Seq2SeqConfig(src_vocab_size=10, tgt_vocab_size=11, share_embeddings=True)
    with pytest.raises(ValueError, match="n_heads"):
        Seq2SeqConfig(d_model=30, n_heads=8)
    model = small()
    src = torch.randint(3, 40, (2, 6))
    with pytest.raises(ValueError, match="src_padding_mask"):
        model.encode(src, torch.zeros(2, 5, dtype=torch.bool))
    with pytest.raises(ValueError, match="max_len"):
        model.encode(torch.randint(3, 40, (1, 33)))
