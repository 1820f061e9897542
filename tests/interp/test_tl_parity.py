"""llmos's hook points against TransformerLens 4.3 on the same tiny random GPT-2.

TransformerLens loads the Hugging Face model through its own weight conversion
(TransformerBridge) with weight processing off (no LayerNorm folding, no
centring), and llmos loads the same folder through llmos.hub. Every hook point
the two share must agree within 1e-5.
"""
import pytest
import torch

transformers = pytest.importorskip("transformers")
bridge_mod = pytest.importorskip("transformer_lens.model_bridge")

from llmos.hub import load_model  # noqa: E402


@pytest.fixture(scope="module")
def twins(tmp_path_factory):
    torch.manual_seed(0)
    cfg = transformers.GPT2Config(vocab_size=97, n_positions=32, n_embd=32, n_layer=3, n_head=4,
                                  resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0)
    hf = transformers.GPT2LMHeadModel(cfg).eval()
    with torch.no_grad():          # non-trivial norms, so folding mistakes would show
        for name, p in hf.named_parameters():
            if "ln" in name:
                p.add_(0.3 * torch.randn_like(p))
    folder = tmp_path_factory.mktemp("gpt2")
    hf.save_pretrained(folder)
    tl = bridge_mod.TransformerBridge.boot_transformers(str(folder), hf_model=hf, device="cpu")
    tl.enable_compatibility_mode(no_processing=True, disable_warnings=True)
    ours = load_model(folder).eval()
    tokens = torch.randint(0, 97, (2, 11), generator=torch.Generator().manual_seed(1))
    return tl, ours, tokens


def test_every_shared_hook_point_equals_transformer_lens(twins):
    tl, ours, tokens = twins
    with torch.no_grad():
        tl_logits, tl_cache = tl.run_with_cache(tokens)
        logits, cache = ours.run_with_cache(tokens)
    shared = [n for n in cache.keys() if n in tl_cache.keys()]
    assert len(shared) == len(cache.keys()) == 2 + 3 * 17 + 2, sorted(set(cache.keys()) - set(shared))
    t = tokens.shape[1]
    lower = torch.tril(torch.ones(t, t, dtype=torch.bool))
    for name in shared:
        a, b = cache[name], tl_cache[name]
        assert a.shape == b.shape, name
        if name.endswith("hook_attn_scores"):     # masked entries: -inf here, a large negative there
            a, b = a[..., lower], b[..., lower]
        torch.testing.assert_close(a, b, atol=1e-5, rtol=0, msg=name)
    torch.testing.assert_close(logits, tl_logits, atol=1e-5, rtol=0)


def test_logit_lens_equals_accumulated_resid_times_w_u(twins):
    tl, ours, tokens = twins
    with torch.no_grad():
        _, tl_cache = tl.run_with_cache(tokens)
        _, cache = ours.run_with_cache(tokens)
        reference = tl_cache.accumulated_resid(apply_ln=True) @ tl.W_U          # (L+1, B, T, V)
        from llmos.interp.logit_lens import lens_logits
        lens = lens_logits(ours, cache)
    assert lens.shape == reference.shape == (4, 2, 11, 97)
    torch.testing.assert_close(lens, reference, atol=1e-5, rtol=0)


def test_replacing_an_activation_changes_the_output_like_transformer_lens(twins):
    tl, ours, tokens = twins

    def kill_head_1(z, hook):
        z = z.clone()
        z[:, :, 1] = 0.0
        return z

    with torch.no_grad():
        ref = tl.run_with_hooks(tokens, fwd_hooks=[("blocks.1.attn.hook_z", kill_head_1)])
        got = ours.run_with_hooks(tokens, fwd_hooks=[("blocks.1.attn.hook_z", kill_head_1)])
        plain = ours(tokens).logits
    torch.testing.assert_close(got, ref, atol=1e-5, rtol=0)
    assert (got - plain).abs().max() > 1e-3
