import pytest
import torch

from llmos.infer import GenerationConfig, generate
from llmos.infer.speculative import SpeculativeStats, speculative_generate, speculative_stream
from llmos.nn import CausalLM, ModelConfig


def tiny(seed: int, vocab: int = 40, layers: int = 2, d: int = 32, sharpen: float = 1.0) -> CausalLM:
    torch.manual_seed(seed)
    cfg = ModelConfig.for_family("llama", vocab_size=vocab, d_model=d, n_layers=layers, n_heads=4, n_kv_heads=2,
                                 d_ff=48, max_seq_len=64)
    model = CausalLM(cfg).eval()
    with torch.no_grad():
        model.lm_head.weight.mul_(sharpen)       # random models are near uniform; spread their predictions
    return model


@pytest.mark.parametrize("k", [1, 4, 7])
def test_greedy_output_is_the_targets_own(k):
    target, draft = tiny(0, sharpen=30), tiny(1, layers=1, sharpen=30)
    cfg = GenerationConfig(max_new_tokens=24, temperature=0, stop_token_ids=[])
    for prompt in ([3], [5, 9, 2, 11]):
        stats = SpeculativeStats()
        assert speculative_generate(target, draft, prompt, cfg, k=k, stats=stats) == generate(target, prompt, cfg)
        assert stats.emitted == 24 and stats.rounds == 24 - stats.accepted     # each round: its accepted + 1


def test_a_draft_equal_to_the_target_is_always_accepted():
    target = tiny(0, sharpen=30)
    cfg = GenerationConfig(max_new_tokens=21, temperature=0, stop_token_ids=[])
    stats = SpeculativeStats()
    out = speculative_generate(target, target, [1, 2], cfg, k=4, stats=stats)
    assert out == generate(target, [1, 2], cfg)
    assert stats.acceptance_rate == 1.0
    assert stats.rounds == 5                           # 4 accepted + 1 bonus per round: 5+5+5+5+1 tokens


def test_generation_stops_at_a_stop_token_and_at_the_budget():
    target, draft = tiny(0, sharpen=30), tiny(1, layers=1, sharpen=30)
    free = generate(target, [3], GenerationConfig(max_new_tokens=20, temperature=0, stop_token_ids=[]))
    stop = free[6]
    cfg = GenerationConfig(max_new_tokens=20, temperature=0, stop_token_ids=[stop])
    out = list(speculative_stream(target, draft, [3], cfg, k=4))
    assert out == free[:free.index(stop) + 1]
    assert len(speculative_generate(target, draft, [3], GenerationConfig(max_new_tokens=7, temperature=0,
                                                                         stop_token_ids=[]), k=4)) == 7


def test_bad_settings_are_named():
    target = tiny(0)
    with pytest.raises(ValueError, match="speculate-k"):
        speculative_generate(target, target, [1], GenerationConfig(), k=0)
    with pytest.raises(ValueError, match="vocabulary"):
        speculative_generate(target, tiny(1, vocab=41), [1], GenerationConfig(), k=2)


def chi_square_p(counts: torch.Tensor, probs: torch.Tensor) -> float:
    """p-value of Pearson's chi-square test of counts against probs (cells with expectation < 5 pooled)."""
    n = counts.sum()
    expected = probs * n
    small = expected < 5
    obs = torch.cat([counts[~small], counts[small].sum()[None]])
    exp = torch.cat([expected[~small], expected[small].sum()[None]])
    keep = exp > 0
    stat = ((obs[keep] - exp[keep]) ** 2 / exp[keep]).sum()
    dof = int(keep.sum()) - 1
    return float(torch.special.gammaincc(torch.tensor(dof / 2.0, dtype=torch.float64), stat.double() / 2))


def test_sampled_tokens_follow_the_targets_distribution():
    """The first two tokens drawn with speculation (k = 2: guesses checked at both places) follow the
    target's exact joint law, not the draft's."""
    vocab = 4
    target = tiny(0, vocab=vocab, layers=1, d=8, sharpen=10)
    draft = tiny(5, vocab=vocab, layers=1, d=8, sharpen=10)
    prompt = [2, 3]

    def joint(model) -> torch.Tensor:                  # P(x1, x2 | prompt), (vocab * vocab,)
        with torch.no_grad():
            p1 = model(torch.tensor([prompt])).logits[0, -1].softmax(-1)
            seqs = torch.tensor([prompt + [a] for a in range(vocab)])
            p2 = model(seqs).logits[:, -1].softmax(-1)
        return (p1[:, None] * p2).reshape(-1)

    p_target, p_draft = joint(target), joint(draft)
    assert (p_target - p_draft).abs().sum() > 0.4       # the two really disagree, so the test has power
    counts = torch.zeros(vocab * vocab, dtype=torch.float64)
    stats = SpeculativeStats()
    for seed in range(600):
        a, b, _ = speculative_generate(target, draft, prompt, GenerationConfig(max_new_tokens=3, seed=seed,
                                                                                 stop_token_ids=[]), k=2, stats=stats)
        counts[a * vocab + b] += 1
    assert 0.05 < stats.acceptance_rate < 0.95          # both branches (accept, resample) are exercised
    assert chi_square_p(counts, p_target) > 1e-3
    assert chi_square_p(counts, p_draft) < 1e-6
