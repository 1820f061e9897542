import torch

from llmos.train.align.heads import ScalarHead, forward_with_head

from tests.train.align.tiny import tiny_model, tiny_tokenizer


def test_head_reads_the_state_the_lm_head_reads():
    model = tiny_model(tiny_tokenizer()).eval()
    head = ScalarHead(model.config.d_model, init_std=0.1)
    ids = torch.tensor([[1, 2, 3, 4]])
    logits, values = forward_with_head(model, head, ids)
    hidden = model.norm_f(model(ids, output_hidden_states=True).hidden_states[-1])
    torch.testing.assert_close(logits, model.lm_head(hidden))
    torch.testing.assert_close(values, hidden @ head.proj.weight[0] + head.proj.bias)
    assert values.shape == (1, 4)
