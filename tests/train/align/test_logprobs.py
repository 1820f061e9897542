import torch

from llmos.train.align.data import PreferencePair, encode_prompt, encode_response, pair_batch
from llmos.train.align.logprobs import sequence_logprobs, split_pairs

from tests.train.align.tiny import tiny_model, tiny_tokenizer


def direct_logprob(model, prompt: list[int], response: list[int]) -> float:
    """sum_t log p(y_t | x, y_<t), one unpadded forward per response token."""
    total = 0.0
    for t, token in enumerate(response):
        context = torch.tensor([prompt + response[:t]])
        logits = model(context).logits[0, -1].double()
        total += float(logits.log_softmax(-1)[token])
    return total


def test_sequence_logprobs_equal_a_direct_computation():
    tok = tiny_tokenizer()
    model = tiny_model(tok, family="gpt2").eval()
    pairs = [PreferencePair("ab", "cde", "x"), PreferencePair("h xyz", "a", "bbbbbbb")]
    batch = pair_batch(tok, pairs, max_len=32, max_prompt_len=16)
    with torch.no_grad():
        chosen, rejected = split_pairs(sequence_logprobs(model, batch))
        for i, p in enumerate(pairs):
            q = encode_prompt(tok, p.prompt)
            assert abs(chosen[i].item() - direct_logprob(model, q, encode_response(tok, p.chosen))) < 1e-4
            assert abs(rejected[i].item() - direct_logprob(model, q, encode_response(tok, p.rejected))) < 1e-4


def test_average_divides_by_the_response_length():
    tok = tiny_tokenizer()
    model = tiny_model(tok).eval()
    batch = pair_batch(tok, [PreferencePair("ab", "cde", "x")], max_len=32)
    with torch.no_grad():
        total, mean = sequence_logprobs(model, batch), sequence_logprobs(model, batch, average=True)
    # responses "cde"+eos and "x"+eos have 4 and 2 tokens
    torch.testing.assert_close(mean, total / torch.tensor([4.0, 2.0]))
