import pytest
import torch

from llmos.interp.heatmap import save_heatmap
from llmos.interp.patching import logit_diff, patch_by_position, patch_heads
from llmos.nn import CausalLM, ModelConfig


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return CausalLM(ModelConfig.for_family("gpt2", vocab_size=40, d_model=32, n_layers=3, n_heads=4,
                                           d_ff=64, max_seq_len=32)).eval()


CLEAN = torch.tensor([5, 11, 7, 3, 9, 2])
CORRUPT = torch.tensor([5, 11, 30, 3, 9, 2])          # position 2 differs


def test_residual_patching_restores_exactly_where_it_must(model):
    metric = logit_diff(4, 8)
    grid = patch_by_position(model, CLEAN, CORRUPT, metric, "resid_pre")
    assert grid.shape == (3, 6)
    # layer 0's input is the embeddings: only the changed position carries the difference
    torch.testing.assert_close(grid[0, 2], torch.tensor(1.0), atol=1e-4, rtol=0)
    assert grid[0, [0, 1, 3, 4, 5]].abs().max() < 1e-4
    # positions before the change are identical in both runs at every layer
    assert grid[:, :2].abs().max() < 1e-4
    post = patch_by_position(model, CLEAN, CORRUPT, metric, "resid_post")
    torch.testing.assert_close(post[2, 5], torch.tensor(1.0), atol=1e-4, rtol=0)   # the whole answer


def test_component_and_head_patching_add_up_in_the_last_layer(model):
    metric = logit_diff(4, 8)
    raw_attn = patch_by_position(model, CLEAN, CORRUPT, metric, "attn_out", normalize=False)
    raw_mlp = patch_by_position(model, CLEAN, CORRUPT, metric, "mlp_out", normalize=False)
    heads = patch_heads(model, CLEAN, CORRUPT, metric, normalize=False)
    assert heads.shape == (3, 4)
    with torch.no_grad():
        m_corrupt = float(metric(model(CORRUPT[None]).logits))
    # before the changed token nothing differs, so patching there leaves the corrupted metric
    torch.testing.assert_close(raw_mlp[:, :2], torch.full((3, 2), m_corrupt), atol=1e-4, rtol=0)
    torch.testing.assert_close(raw_attn[:, :2], torch.full((3, 2), m_corrupt), atol=1e-4, rtol=0)
    # the batched patching equals patching one head by hand
    with torch.no_grad():
        _, cache = model.run_with_cache(CLEAN[None], names_filter="blocks.1.attn.hook_z")
        clean_z = cache["blocks.1.attn.hook_z"]
        for h in range(4):
            def one_head(z, hook, h=h):
                z = z.clone()
                z[:, :, h] = clean_z[:, :, h]
                return z
            logits = model.run_with_hooks(CORRUPT[None], [("blocks.1.attn.hook_z", one_head)])
            assert abs(float(metric(logits)) - float(heads[1, h])) < 1e-4
        assert (heads[1] - m_corrupt).abs().max() > 1e-3        # the heads do matter


def test_bad_inputs_and_the_heatmap(model, tmp_path):
    with pytest.raises(ValueError, match="same length"):
        patch_by_position(model, CLEAN, CORRUPT[:4], logit_diff(1, 2))
    with pytest.raises(ValueError, match="unknown site"):
        patch_by_position(model, CLEAN, CORRUPT, logit_diff(1, 2), "resid_middle")
    with pytest.raises(ValueError, match="same metric"):
        patch_by_position(model, CLEAN, CLEAN, logit_diff(1, 2))
    png = save_heatmap(torch.rand(3, 6), tmp_path / "p.png", row_labels=list("abc"), col_labels=list("123456"),
                       title="t", xlabel="x", ylabel="y", cbar="c")
    assert png.stat().st_size > 3000
