import pytest
import torch

from llmos.infer import GenerationConfig, generate
from llmos.train.align.rollout import left_pad, rollout_logits, sample_rollouts

from tests.train.align.tiny import tiny_model, tiny_tokenizer


def test_greedy_batch_equals_one_by_one_generation_and_stops_each_row():
    tok = tiny_tokenizer()
    model = tiny_model(tok, seed=3).eval()
    prompts = [[1, 2, 3], [4], [5, 6, 7, 8, 9]]
    free = [generate(model, p, GenerationConfig(max_new_tokens=10, temperature=0, stop_token_ids=[])) for p in prompts]
    stop = free[0][3]                                   # a token the first row emits: make it the "eos"
    want = [generate(model, p, GenerationConfig(max_new_tokens=10, temperature=0, stop_token_ids=[stop]))
            for p in prompts]
    out = sample_rollouts(model, prompts, max_new_tokens=10, eos_id=stop, pad_id=0, temperature=0)
    for row, w in zip(out.responses(), want):
        ended = len(w) < 10
        assert row == (w + [stop] if ended else w)
    assert out.ended(stop).tolist() == [len(w) < 10 for w in want]


def test_rollout_logits_match_unpadded_forwards():
    tok = tiny_tokenizer()
    model = tiny_model(tok).eval()
    prompts = [[1, 2, 3], [4]]
    g = torch.Generator().manual_seed(0)
    out = sample_rollouts(model, prompts, max_new_tokens=5, eos_id=None, generator=g)
    with torch.no_grad():
        logits = rollout_logits(model, out)                                  # (B, R, V)
        for b, p in enumerate(prompts):
            full = torch.tensor([p + out.responses()[b]])
            want = model(full).logits[0, len(p) - 1:-1]
            torch.testing.assert_close(logits[b, :len(out.responses()[b])], want, atol=1e-5, rtol=1e-4)


def test_left_pad_aligns_prompt_ends():
    ids, mask = left_pad([[7, 8], [9]], pad_id=0)
    assert ids.tolist() == [[7, 8], [0, 9]] and mask.tolist() == [[1, 1], [0, 1]]


def test_an_error_while_sampling_leaves_the_model_in_the_mode_it_was_in():
    tok = tiny_tokenizer()
    model = tiny_model(tok).train()
    too_long = [[1] * model.config.max_seq_len]
    with pytest.raises(ValueError, match="fill the model's context"):
        sample_rollouts(model, too_long, max_new_tokens=4, eos_id=None)
    assert model.training
