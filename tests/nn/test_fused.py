import pytest
import torch

from llmos.nn import CausalLM, ModelConfig, fused
from llmos.nn.attention import attention
from llmos.nn.norms import LayerNorm, RMSNorm
from llmos.nn.quantize import quantize

pytestmark = pytest.mark.skipif(not fused.ready(), reason="the compiled decoding kernels are not available")


def tiny(family: str, **kw) -> CausalLM:
    torch.manual_seed(0)
    cfg = ModelConfig.for_family(family, vocab_size=67, d_model=64, n_layers=2, n_heads=4,
                                 n_kv_heads=None if family == "gpt2" else 2, d_ff=96, max_seq_len=64, **kw)
    model = CausalLM(cfg).eval()
    with torch.no_grad():                       # norms and biases away from their 1 / 0 start
        for name, p in model.named_parameters():
            if "norm" in name or name.endswith("bias"):
                p.add_(torch.randn_like(p) * 0.3)
    return model


def decode(model: CausalLM, prompt: list[int], steps: int, use_fused: bool, monkeypatch) -> tuple[list, list]:
    """Greedy decoding token by token with the cache; (logits of each step, tokens)."""
    monkeypatch.setattr(fused, "decoding", fused.decoding if use_fused else (lambda x: False))
    calls = []
    real = fused.block_step
    monkeypatch.setattr(fused, "block_step", lambda *a: calls.append(1) or real(*a))
    cache = model.new_cache(1, 32)
    logits, tokens = [], []
    with torch.no_grad():
        out = model(torch.tensor([prompt]), cache=cache, last_only=True)   # a short prompt is fused too
        calls.clear()
        for _ in range(steps):
            tok = int(out.logits[0, -1].argmax())
            tokens.append(tok)
            out = model(torch.tensor([[tok]]), cache=cache, last_only=True)
            logits.append(out.logits[0, -1])
    monkeypatch.undo()
    assert (len(calls) == steps * model.config.n_layers) == use_fused   # the fused step did run (or not)
    return logits, tokens


@pytest.mark.parametrize("family,kw", [
    ("gpt2", {}),                                   # LayerNorm with bias, GELU (tanh) MLP, learned positions
    ("llama", {}),                                  # RMSNorm, SwiGLU, rotary (half split), grouped-query attention
    ("llama", {"rope_interleaved": True}),
    ("qwen2", {}),                                  # biases on q, k, v only
    ("gpt2", {"activation": "relu", "norm": "rmsnorm"}),
])
@pytest.mark.parametrize("dtype", ["fp32", "bf16", "int8"])
def test_the_fused_block_step_decodes_what_the_operators_do(family, kw, dtype, monkeypatch):
    model = quantize(tiny(family, **kw), dtype)
    want, want_tokens = decode(model, [3, 14, 15, 9, 2], 8, False, monkeypatch)
    got, got_tokens = decode(model, [3, 14, 15, 9, 2], 8, True, monkeypatch)
    assert got_tokens == want_tokens
    for g, w in zip(got, want):
        assert (g - w).abs().max().item() < 1e-4 * max(1.0, w.abs().max().item())


@pytest.mark.parametrize("family,dtype", [("gpt2", "fp32"), ("llama", "int8"), ("qwen2", "bf16")])
def test_several_new_tokens_in_one_fused_call_see_the_cache_and_each_other_causally(family, dtype, monkeypatch):
    """A speculative check feeds k + 1 tokens at once: block_step takes up to 16, masked causally."""
    model = quantize(tiny(family), dtype)

    def chunked(use_fused: bool) -> tuple[torch.Tensor, int]:
        monkeypatch.setattr(fused, "decoding", fused.decoding if use_fused else (lambda x: False))
        calls = []
        real = fused.block_step
        monkeypatch.setattr(fused, "block_step", lambda *a: calls.append(a[1].shape[1]) or real(*a))
        cache = model.new_cache(1, 40)
        with torch.no_grad():
            model(torch.tensor([[4, 8, 15, 16, 23, 42] * 3]), cache=cache)         # 18 tokens: the operators
            logits = model(torch.tensor([[7, 1, 30, 2, 9]]), cache=cache).logits[0]
            after = model(torch.tensor([[11]]), cache=cache).logits[0, -1]         # the cache holds all 24
        monkeypatch.undo()
        return torch.cat([logits, after[None]]), calls

    want, plain_calls = chunked(False)
    got, calls = chunked(True)
    assert plain_calls == [] and calls == [5, 5, 1, 1]       # 2 layers: the chunk of 5, then one token
    assert (got - want).abs().max().item() < 1e-4 * max(1.0, want.abs().max().item())


def test_decoding_falls_back_where_the_fused_step_does_not_apply(monkeypatch):
    model = tiny("llama")
    with torch.no_grad():                           # a weight that is not contiguous: the kernel refuses it
        w = model.blocks[0].attn.q_proj.weight
        model.blocks[0].attn.q_proj.weight = torch.nn.Parameter(w.detach().t().contiguous().t())
    want, want_tokens = decode(model, [1, 2, 3], 4, False, monkeypatch)
    got, got_tokens = decode(model, [1, 2, 3], 4, True, monkeypatch)   # block 0 refused, block 1 fused
    assert got_tokens == want_tokens
    assert max((g - w).abs().max().item() for g, w in zip(got, want)) < 1e-4
    cache = model.new_cache(1, 32)
    with torch.no_grad():
        model(torch.tensor([[1, 2, 3]]), cache=cache)
        block = model.blocks[0]
        x = torch.randn(1, 1, 64)
        step = cache.step(1)
        assert fused.block_step(block, x, step, None, "silu") is None       # nothing written, the caller goes on
        assert cache.k[0, 0, :, 3].abs().sum() == 0


def test_hooks_and_sliding_windows_take_the_operator_path(monkeypatch):
    model = tiny("gpt2")
    cache = model.new_cache(1, 32)
    seen = []
    with torch.no_grad():
        model(torch.tensor([[5, 6, 7]]), cache=cache)
        with model.hooks([("blocks.1.mlp.hook_post", lambda t, hook: seen.append(t.shape))]):
            model(torch.tensor([[8]]), cache=cache)
    assert seen == [(1, 1, 96)]                     # the hook fired on the decoding step
    mistral = tiny("mistral", sliding_window=4)
    want, want_tokens = decode(mistral, [1, 2, 3, 4, 5, 6], 5, False, monkeypatch)
    calls = []
    monkeypatch.setattr(fused, "block_step", lambda *a: calls.append(1))
    cache = mistral.new_cache(1, 32)
    with torch.no_grad():
        out = mistral(torch.tensor([[1, 2, 3, 4, 5, 6]]), cache=cache, last_only=True)
        mistral(out.logits[:, -1].argmax(-1, keepdim=True), cache=cache)
    assert calls == []                               # a window needs a mask: not the fused step


def test_equally_long_rows_attend_in_one_fused_pass_per_layer(monkeypatch):
    """Five sequences of one length (a batch of equal-length prompts, beam search): the block step
    is for one sequence, but each layer's cache write and attention are one `attend_step`. Whether
    it applies is decided by the rows of activations (5), not of query heads (5 x 4 = 20 > 16)."""
    model = tiny("gpt2")

    def run(use_fused: bool) -> tuple[torch.Tensor, int]:
        monkeypatch.setattr(fused, "decoding", fused.decoding if use_fused else (lambda x: False))
        calls = []
        real = fused.attend_step
        monkeypatch.setattr(fused, "attend_step", lambda *a: calls.append(1) or real(*a))
        cache = model.new_cache(5, 32)
        with torch.no_grad():
            model(torch.tensor([[3, 1, 4, 1 + i] for i in range(5)]), cache=cache)
            logits = torch.cat([model(torch.tensor([[t + i] for i in range(5)]), cache=cache).logits[:, -1]
                                for t in (7, 8)])
        monkeypatch.undo()
        return logits, len(calls)

    want, _ = run(False)
    got, calls = run(True)
    assert calls == 2 * 2                              # two steps, two layers
    assert (got - want).abs().max().item() < 1e-4 * max(1.0, want.abs().max().item())


def test_attend_step_writes_the_cache_and_attends_like_torch():
    torch.manual_seed(1)
    b, h, g, d, length, pos = 2, 8, 2, 16, 40, 23
    q, k, v = torch.randn(b, h, d), torch.randn(b, g, d), torch.randn(b, g, d)
    kc, vc = torch.randn(3, b, g, length, d), torch.randn(3, b, g, length, d)
    kw, vw = kc.clone(), vc.clone()
    kw[1, :, :, pos], vw[1, :, :, pos] = k, v
    want, _ = attention(q[:, :, None], kw[1, :, :, :pos + 1], vw[1, :, :, :pos + 1])
    got = fused.attend_step(q, k, v, kc[1], vc[1], pos, d ** -0.5)
    assert torch.equal(kc, kw) and torch.equal(vc, vw)
    assert (got - want[:, :, 0]).abs().max().item() < 1e-5


@pytest.mark.parametrize("norm", [LayerNorm(48), LayerNorm(48, bias=False), RMSNorm(48)])
def test_add_norm_is_the_residual_add_then_the_norm(norm):
    with torch.no_grad():
        norm.weight.normal_()
    x, h = torch.randn(3, 48), torch.randn(3, 48)
    with torch.no_grad():
        r, y = fused.add_norm(x, h, norm)
        assert torch.equal(r, x + h)
        assert (y - norm(x + h)).abs().max().item() < 1e-5


def test_one_sequence_in_any_cache_row_takes_the_fused_step(monkeypatch):
    """The engine keeps a lone request in whatever slot it was given: row 2 of 3 here."""
    model = tiny("llama")

    def run(use_fused: bool) -> tuple[torch.Tensor, torch.Tensor, int]:
        monkeypatch.setattr(fused, "decoding", fused.decoding if use_fused else (lambda x: False))
        calls = []
        real = fused.block_step
        monkeypatch.setattr(fused, "block_step", lambda *a: calls.append(1) or real(*a))
        cache = model.new_cache(3, 32)
        slot = torch.tensor([2])
        with torch.no_grad():
            model(torch.tensor([[9, 8, 7, 6]]), cache=cache, cache_slots=slot)
            logits = torch.cat([model(torch.tensor([[t]]), cache=cache, cache_slots=slot).logits[0]
                                for t in (5, 4, 3)])
        monkeypatch.undo()
        return logits, cache.k.clone(), len(calls)

    want, want_k, _ = run(False)
    got, got_k, calls = run(True)
    assert calls == 2 * 4                             # the 4-token prompt and three single tokens, 2 layers
    assert (got - want).abs().max().item() < 1e-4 and (got_k - want_k).abs().max().item() < 1e-5
    assert got_k[:, :2].abs().sum() == 0              # the other rows untouched
