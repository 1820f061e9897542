import math
import random

import pytest
import torch

from llmos.train.align.data import PreferencePair
from llmos.train.align.heads import RewardModel
from llmos.train.align.reward import (RewardConfig, ranking_accuracy, reward_function, reward_loss,
                                      train_reward)

from tests.train.align.tiny import tiny_model, tiny_tokenizer


def test_reward_loss_by_hand():
    chosen, rejected = torch.tensor([2.0, 0.0]), torch.tensor([1.0, 1.0])
    # -log sigmoid(1) = log(1 + e^-1); -log sigmoid(-1) = log(1 + e)
    want = (math.log1p(math.exp(-1)) + math.log1p(math.exp(1))) / 2
    assert reward_loss(chosen, rejected).item() == pytest.approx(want)
    assert want == pytest.approx(0.813262, abs=1e-6)


def sentiment_pairs(n: int, seed: int) -> list[PreferencePair]:
    """Chosen responses hold more 'a' (good) than 'x' (bad); rejected hold more 'x'."""
    rng = random.Random(seed)
    pairs = []
    for _ in range(n):
        prompt = "".join(rng.choice("bcdefgh") for _ in range(rng.randint(1, 4)))

        def response(good: int, bad: int) -> str:
            chars = list("a" * good + "x" * bad + "".join(rng.choice("bcd ") for _ in range(rng.randint(0, 3))))
            rng.shuffle(chars)
            return "".join(chars)
        hi, lo = rng.randint(2, 4), rng.randint(0, 1)
        pairs.append(PreferencePair(prompt, response(hi, lo), response(lo, hi)))
    return pairs


def test_reward_model_ranks_held_out_pairs_better_than_chance(tmp_path):
    tok = tiny_tokenizer()
    train, held_out = sentiment_pairs(64, seed=1), sentiment_pairs(40, seed=2)
    cfg = RewardConfig(steps=15, batch_size=8, lr=3e-3, max_len=32, max_prompt_len=8, save_every=15)
    out, model = train_reward(tiny_model(tok), tok, train, tmp_path / "rm", cfg, progress=False)
    accuracy = ranking_accuracy(model, tok, held_out, cfg)
    assert accuracy >= 0.8, accuracy
    # the saved run reloads to the same scores
    loaded, tok2 = RewardModel.load(out)
    score = reward_function(loaded, tok2, max_len=32, max_prompt_len=8)
    pairs = held_out[:4]
    direct = reward_function(model, tok, max_len=32, max_prompt_len=8)
    assert score([p.prompt for p in pairs], [p.chosen for p in pairs]) == pytest.approx(
        direct([p.prompt for p in pairs], [p.chosen for p in pairs]), abs=1e-5)


def test_the_reward_is_read_at_the_last_real_token():
    tok = tiny_tokenizer()
    model = RewardModel(tiny_model(tok)).eval()
    score = reward_function(model, tok, max_len=32, max_prompt_len=8)
    # padding beside a short response must not change its score
    alone = score(["ab"], ["c"])
    padded = score(["ab", "ab"], ["c", "cdefgh abc"])
    assert padded[0] == pytest.approx(alone[0], abs=1e-5)
    # by hand: the head on the final hidden state of eos a b c eos, at that closing eos
    ids = torch.tensor([[tok.eos_id] + tok.encode("abc") + [tok.eos_id]])
    with torch.no_grad():
        hidden = model.backbone.norm_f(model.backbone(ids, output_hidden_states=True).hidden_states[-1])[0]
        values = hidden @ model.head.proj.weight[0] + model.head.proj.bias
    assert alone[0] == pytest.approx(values[-1].item(), abs=1e-5)
    assert alone[0] != pytest.approx(values[-2].item(), abs=1e-3)       # not the token before it
