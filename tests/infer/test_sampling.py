import pytest
import torch

from llmos.infer.sampling import GenerationConfig, make_generator, process_logits, sample

@pytest.fixture()
def lp():
    """transformers' logits processors: only the parity test needs them; the others run without them."""
    return pytest.importorskip("transformers.generation.logits_process")


def _hf(lp, logits, history, penalty, temperature, top_k, top_p):
    procs = [lp.RepetitionPenaltyLogitsProcessor(penalty), lp.TemperatureLogitsWarper(temperature),
             lp.TopKLogitsWarper(top_k), lp.TopPLogitsWarper(top_p)]
    for p in procs:
        logits = p(history, logits)
    return logits


@pytest.mark.parametrize("penalty,temperature,top_k,top_p", [
    (1.0, 1.0, 50, 1.0), (1.3, 0.7, 10, 0.9), (1.1, 1.5, 5, 0.5), (2.0, 0.3, 50, 0.95)])
def test_logits_processing_equals_transformers(lp, penalty, temperature, top_k, top_p):
    torch.manual_seed(0)
    logits = torch.randn(3, 50) * 3
    history = torch.randint(0, 50, (3, 12))
    cfg = GenerationConfig(temperature=temperature, top_k=top_k, top_p=top_p, repetition_penalty=penalty)
    got = process_logits(logits, history, cfg)
    want = _hf(lp, logits.clone(), history, penalty, temperature, top_k, top_p)
    assert torch.equal(torch.isinf(got), torch.isinf(want))
    finite = ~torch.isinf(want)
    assert torch.allclose(got[finite], want[finite], atol=1e-5)


def test_greedy_takes_argmax():
    logits = torch.tensor([[0.1, 3.0, -1.0]])
    assert sample(logits, None, GenerationConfig(temperature=0)).tolist() == [1]


def test_same_seed_same_sample():
    logits = torch.randn(4, 100)
    cfg = GenerationConfig(temperature=1.0)
    a = sample(logits, None, cfg, make_generator(7))
    b = sample(logits, None, cfg, make_generator(7))
    assert torch.equal(a, b)


def test_samples_follow_the_tempered_top_k_distribution():
    """Frequencies over 20000 draws match softmax(logits / T) over the k best tokens, by hand."""
    logits = torch.tensor([[2.0, 1.0, 0.0, -1.0]]).expand(20000, 4)
    cfg = GenerationConfig(temperature=0.5, top_k=3)
    draws = sample(logits, None, cfg, make_generator(0))
    freq = torch.bincount(draws, minlength=4).float() / 20000
    kept = torch.exp(torch.tensor([4.0, 2.0, 0.0]))                # logits / 0.5 of the three best
    expected = torch.cat([kept / kept.sum(), torch.zeros(1)])      # [0.867, 0.117, 0.016, 0]
    assert freq[3] == 0
    torch.testing.assert_close(freq, expected, atol=0.01, rtol=0)


def test_top_k_one_never_leaves_the_argmax():
    logits = torch.randn(1, 30)
    cfg = GenerationConfig(temperature=2.0, top_k=1)
    g = make_generator(0)
    assert {int(sample(logits, None, cfg, g)) for _ in range(20)} == {int(logits.argmax())}


@pytest.mark.parametrize("kw,msg", [({"temperature": -1}, "temperature"), ({"top_p": 0}, "top_p"),
                                    ({"top_k": 0}, "top_k"), ({"max_new_tokens": -2}, "max_new_tokens"),
                                    ({"repetition_penalty": 0}, "repetition_penalty")])
def test_bad_settings_are_named(kw, msg):
    with pytest.raises(ValueError, match=msg):
        GenerationConfig(**kw)


def test_vanishing_temperature_samples_the_argmax_instead_of_failing():
    logits = torch.tensor([[1.0, 5.0, 2.0], [3.0, -1.0, 0.0]])
    cfg = GenerationConfig(temperature=1e-45)
    assert sample(logits, None, cfg, make_generator(0)).tolist() == [1, 0]
