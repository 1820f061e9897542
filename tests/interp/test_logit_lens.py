import torch

from llmos.interp.logit_lens import logit_lens, plot_logit_lens
from llmos.nn import CausalLM, ModelConfig


def test_the_last_row_is_the_model_and_earlier_rows_differ(tmp_path):
    torch.manual_seed(0)
    model = CausalLM(ModelConfig.for_family("llama", vocab_size=50, d_model=32, n_layers=3, n_heads=4,
                                            d_ff=64, max_seq_len=32)).eval()
    ids = [3, 17, 4, 9, 22]
    lens = logit_lens(model, ids, answer=7, k=3)
    with torch.no_grad():
        real = torch.softmax(model(torch.tensor([ids])).logits[0], -1)
    assert lens.labels == ["0_pre", "1_pre", "2_pre", "final_post"]
    torch.testing.assert_close(lens.probs[-1], real, atol=1e-5, rtol=0)
    torch.testing.assert_close(lens.answer_prob[-1], real[:, 7], atol=1e-5, rtol=0)
    assert (lens.probs[0] - real).abs().max() > 1e-3
    assert lens.top_ids.shape == (4, 5, 3)
    assert torch.equal(lens.top_ids[-1, :, 0], real.argmax(-1))
    # layer 0's lens reads the embeddings alone: Norm_f(E[x]) W_U
    with torch.no_grad():
        direct = torch.softmax(model.lm_head(model.norm_f(model.tok_emb(torch.tensor(ids)))), -1)
    torch.testing.assert_close(lens.probs[0], direct, atol=1e-5, rtol=0)
    png = plot_logit_lens(lens, [str(i) for i in ids], str, tmp_path / "lens.png")
    assert png.stat().st_size > 5000
