import json

import pytest
import torch

from llmos.hub import load_pretrained
from llmos.train.align.ppo import (PPOConfig, gae, kl_penalized_rewards, masked_mean, policy_loss, train_ppo,
                                   value_loss, whiten)

from tests.train.align.tiny import tiny_model, tiny_tokenizer


def close(x, want):
    torch.testing.assert_close(x, torch.tensor(want), atol=1e-4, rtol=1e-4)


def test_kl_penalty_by_hand():
    scores = torch.tensor([1.0, 2.0])
    logp = torch.tensor([[-1.0, -2.0, -0.5], [-1.0, -1.0, -1.0]])
    ref = torch.tensor([[-1.5, -1.0, -0.5], [-2.0, -1.0, -3.0]])
    mask = torch.tensor([[1.0, 1, 1], [1, 1, 0]])
    rewards, kl = kl_penalized_rewards(scores, logp, ref, mask, kl_coef=0.1)
    assert kl.tolist() == [[0.5, -1.0, 0.0], [1.0, 0.0, 0.0]]
    # r_t = -0.1 KL_t, with the score added at each row's last real token
    close(rewards, [[-0.05, 0.1, 1.0], [-0.1, 2.0, 0.0]])


def test_gae_by_hand():
    rewards = torch.tensor([[0.1, -0.2, 1.0], [0.0, 2.0, 9.0]])
    values = torch.tensor([[0.5, 0.4, 0.3], [1.0, 0.5, 7.0]])
    mask = torch.tensor([[1.0, 1, 1], [1, 1, 0]])
    adv, ret = gae(rewards, values, mask, gamma=0.9, lam=0.8)
    # row 0: delta_2 = 1 - 0.3 = 0.7; delta_1 = -0.2 + 0.9*0.3 - 0.4 = -0.33; A_1 = -0.33 + 0.72*0.7
    #        delta_0 = 0.1 + 0.9*0.4 - 0.5 = -0.04; A_0 = -0.04 + 0.72*0.174
    # row 1 (ends at t=1): A_1 = 2 - 0.5 = 1.5; A_0 = 0.9*0.5 - 1 + 0.72*1.5 = 0.53
    close(adv, [[0.08528, 0.174, 0.7], [0.53, 1.5, 0.0]])
    close(ret, [[0.58528, 0.574, 1.0], [1.53, 2.0, 0.0]])


def test_gae_equals_the_textbook_recursion_on_random_data():
    g = torch.Generator().manual_seed(3)
    rewards, values = torch.randn(4, 7, generator=g), torch.randn(4, 7, generator=g)
    lengths = [7, 5, 1, 3]
    mask = torch.tensor([[1.0 if t < n else 0.0 for t in range(7)] for n in lengths])
    adv, _ = gae(rewards, values, mask, gamma=0.97, lam=0.9)
    for b, n in enumerate(lengths):
        r, v = rewards[b, :n].tolist(), values[b, :n].tolist() + [0.0]
        want, running = [0.0] * n, 0.0
        for t in reversed(range(n)):
            running = r[t] + 0.97 * v[t + 1] - v[t] + 0.97 * 0.9 * running
            want[t] = running
        assert adv[b, :n].tolist() == pytest.approx(want, abs=1e-5)
        assert adv[b, n:].abs().sum() == 0


def test_clipped_policy_objective_by_hand():
    old = torch.zeros(1, 3)
    new = torch.log(torch.tensor([[1.0, 1.5, 0.5]]))       # ratios 1, 1.5, 0.5
    adv = torch.tensor([[1.0, 1.0, -2.0]])
    loss, stats = policy_loss(new, old, adv, torch.ones(1, 3), cliprange=0.2)
    # max(-A r, -A clip(r)): [max(-1, -1), max(-1.5, -1.2), max(1.0, 1.6)] = [-1, -1.2, 1.6]
    assert loss.item() == pytest.approx(-0.2)
    assert stats["policy/clipfrac"].item() == pytest.approx(2 / 3)


def test_clipped_value_loss_by_hand():
    values, old, returns = torch.tensor([[1.0, 2.5]]), torch.tensor([[0.5, 2.0]]), torch.tensor([[0.0, 3.0]])
    loss, stats = value_loss(values, old, returns, torch.ones(1, 2), cliprange_value=0.2)
    # clipped values [0.7, 2.2]: squared errors max([1.0, 0.49]) = 1.0, max([0.25, 0.64]) = 0.64
    assert loss.item() == pytest.approx(0.5 * (1.0 + 0.64) / 2)
    assert stats["val/clipfrac"].item() == pytest.approx(0.5)


def test_masked_statistics_ignore_padding():
    x = torch.tensor([[1.0, 3.0, 100.0]])
    mask = torch.tensor([[1.0, 1.0, 0.0]])
    assert masked_mean(x, mask).item() == 2.0
    w = whiten(x, mask)
    close(w, [[-1.0, 1.0, 0.0]])


def count_z(prompts, completions):
    return [float(c.count("z")) for c in completions]


def test_ppo_raises_a_python_reward_and_logs_trl_metrics(tmp_path):
    tok = tiny_tokenizer()
    prompts = ["ab", "ba", "h", "cd"]
    cfg = PPOConfig(steps=12, batch_size=8, lr=3e-3, max_new_tokens=6, kl_coef=0.01, ppo_epochs=2,
                    num_minibatches=2, max_len=32, max_prompt_len=8, save_every=6)
    out = train_ppo(tiny_model(tok), tok, prompts, tmp_path / "run", cfg, count_z, progress=False)
    records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    for key in ("objective/kl", "objective/rlhf_reward", "objective/scores", "objective/entropy",
                "policy/clipfrac", "val/clipfrac", "loss/policy", "loss/value", "policy/approxkl"):
        assert key in records[-1]
    first = sum(r["objective/scores"] for r in records[:3]) / 3
    last = sum(r["objective/scores"] for r in records[-3:]) / 3
    assert last > first + 0.3
    assert records[0]["policy/clipfrac"] < 0.5 and records[-1]["objective/kl"] > 0
    model, tokenizer = load_pretrained(out)
    assert model.config.vocab_size == tok.vocab_size and (out / "metrics.png").exists()


def test_reward_function_with_the_wrong_count_is_named(tmp_path):
    tok = tiny_tokenizer()
    cfg = PPOConfig(steps=1, batch_size=2, max_new_tokens=3, max_len=32, max_prompt_len=8)
    with pytest.raises(ValueError, match="one float per completion"):
        train_ppo(tiny_model(tok), tok, ["ab"], tmp_path / "run", cfg, lambda p, c: [1.0], progress=False)
