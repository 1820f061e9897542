"""Batched sampling: per-row settings, inverse-CDF draws that follow the distribution."""
import torch

from llmos.infer.batch_sampling import apply_count_penalties, inverse_cdf, sample_batch
from llmos.infer.detokenize import StopStrings
from llmos.infer.request import Request
from llmos.infer.sampling import GenerationConfig, make_generator, process_logits


def request(prompt, seed=0, **gen):
    return Request(prompt_ids=prompt, gen=GenerationConfig(seed=seed, **gen), stop_ids=frozenset(),
                   generator=make_generator(seed), detokenizer=None, stops=StopStrings([]))


def test_inverse_cdf_follows_the_distribution_and_skips_zero_probabilities():
    probs = torch.tensor([[0.0, 0.2, 0.0, 0.8]]).expand(20000, 4)
    draws = inverse_cdf(probs, torch.rand(20000, generator=torch.Generator().manual_seed(0)))
    counts = torch.bincount(draws, minlength=4).float() / 20000
    assert counts[0] == counts[2] == 0
    assert abs(counts[1] - 0.2) < 0.02
    assert inverse_cdf(probs[:1], torch.tensor([0.0])).item() == 1     # u = 0 picks the first possible token


def test_rows_follow_their_own_settings():
    torch.manual_seed(0)
    logits = torch.randn(4, 50)
    top = int(logits[2].argmax())                       # row 2's prompt holds its argmax, so the penalty bites
    rows = [request([1, 2], temperature=0), request([1], temperature=1.0, top_k=1),
            request([top, 4, 5], temperature=0, repetition_penalty=5.0),
            request([9], seed=4, temperature=0.7, top_p=0.5)]
    out = sample_batch(logits, rows)
    assert out[0] == logits[0].argmax() and out[1] == logits[1].argmax()
    penalised = process_logits(logits[2:3], torch.tensor([[top, 4, 5]]), rows[2].gen)
    assert out[2] == penalised.argmax() != top
    allowed = process_logits(logits[3:4], None, rows[3].gen).isfinite().nonzero()[:, 1]
    assert out[3] in allowed
    # row 3 draws one u (0.56) from its own seed: the first token whose cumulative probability passes it
    u = torch.rand((), generator=torch.Generator().manual_seed(4))
    probs = process_logits(logits[3:4], None, rows[3].gen).softmax(-1)[0]
    assert out[3] == int((probs.cumsum(0) > u * probs.sum()).nonzero()[0])


def test_same_seed_same_draw_whatever_the_neighbours():
    torch.manual_seed(0)
    logits = torch.randn(3, 30)
    alone = sample_batch(logits[1:2], [request([1], seed=11, temperature=1.0)])
    crowd = sample_batch(logits, [request([1], seed=5, temperature=0.5), request([1], seed=11, temperature=1.0),
                                  request([1], seed=6, temperature=1.0, top_k=3)])
    assert crowd[1] == alone[0]


def test_count_penalties():
    logits = torch.zeros(1, 4)
    counts = torch.tensor([[0.0, 1.0, 3.0, 0.0]])
    out = apply_count_penalties(logits, counts, torch.tensor([[0.5]]), torch.tensor([[1.0]]))
    assert out.tolist() == [[0.0, -1.5, -2.5, 0.0]]


def test_a_vanishing_temperature_is_greedy():
    torch.manual_seed(0)
    logits = torch.randn(3, 30) * 5
    out = sample_batch(logits, [request([1], seed=i, temperature=1e-300) for i in range(3)])
    assert out.tolist() == logits.argmax(-1).tolist()
