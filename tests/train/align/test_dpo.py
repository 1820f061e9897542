import json
import math

import pytest
import torch

from llmos.hub import load_pretrained
from llmos.infer import GenerationConfig, generate
from llmos.train.align.data import PreferencePair
from llmos.train.align.dpo import DPOConfig, dpo_batch_loss, dpo_loss, dpo_metrics, train_dpo

from tests.train.align.tiny import tiny_model, tiny_tokenizer

# two pairs: sequence log-probs of the policy and the reference
PC, PR = torch.tensor([-1.0, -2.0]), torch.tensor([-3.0, -1.0])
RC, RR = torch.tensor([-1.5, -2.0]), torch.tensor([-2.5, -1.5])
# h = (pc - rc) - (pr - rr) = [1.0, -0.5]


def softplus(x):          # -log sigmoid(-x)
    return math.log1p(math.exp(x))


def test_sigmoid_loss_by_hand():
    out = dpo_loss(PC, PR, RC, RR, beta=0.5)
    # -log sigmoid(0.5 * 1.0), -log sigmoid(0.5 * -0.5)
    assert out.losses.tolist() == pytest.approx([softplus(-0.5), softplus(0.25)])
    assert out.losses.tolist() == pytest.approx([0.474077, 0.825939], abs=1e-6)


def test_conservative_loss_by_hand():
    out = dpo_loss(PC, PR, RC, RR, beta=0.5, label_smoothing=0.1)
    want = [0.9 * softplus(-0.5) + 0.1 * softplus(0.5), 0.9 * softplus(0.25) + 0.1 * softplus(-0.25)]
    assert out.losses.tolist() == pytest.approx(want)
    assert out.losses[0].item() == pytest.approx(0.524077, abs=1e-6)


def test_ipo_loss_by_hand():
    out = dpo_loss(PC, PR, RC, RR, beta=0.5, loss_type="ipo")
    # (h - 1/(2 beta))^2 = (1 - 1)^2, (-0.5 - 1)^2
    assert out.losses.tolist() == pytest.approx([0.0, 2.25])


def test_reference_free_loss_by_hand():
    out = dpo_loss(PC, PR, None, None, beta=0.5, reference_free=True)
    # h = pc - pr = [2, -1]
    assert out.losses.tolist() == pytest.approx([softplus(-1.0), softplus(0.5)])
    assert out.chosen_rewards.tolist() == pytest.approx([-0.5, -1.0])


def test_metrics_carry_trl_names_and_values():
    out = dpo_loss(PC, PR, RC, RR, beta=0.5)
    m = dpo_metrics(out, PC, PR)
    assert m["rewards/chosen"] == pytest.approx((0.25 + 0.0) / 2)        # beta (pc - rc)
    assert m["rewards/rejected"] == pytest.approx((-0.25 + 0.25) / 2)    # beta (pr - rr)
    assert m["rewards/margins"] == pytest.approx((0.5 - 0.25) / 2)
    assert m["rewards/accuracies"] == 0.5
    assert m["logps/chosen"] == pytest.approx(-1.5) and m["logps/rejected"] == pytest.approx(-2.0)


def test_bad_settings_are_named():
    with pytest.raises(ValueError, match="reference log-probs are missing"):
        dpo_loss(PC, PR, None, None)
    with pytest.raises(ValueError, match="loss_type"):
        dpo_loss(PC, PR, RC, RR, loss_type="hinge")
    with pytest.raises(ValueError, match="label_smoothing"):
        dpo_loss(PC, PR, RC, RR, loss_type="ipo", label_smoothing=0.1)


PAIRS = [PreferencePair("ab", "cde", "xyz"), PreferencePair("ba", "dd", "zz"), PreferencePair("h", "abc", "yyy?")]


@pytest.mark.parametrize("loss_type,smoothing,free", [("sigmoid", 0.0, False), ("sigmoid", 0.2, False),
                                                     ("ipo", 0.0, False), ("sigmoid", 0.0, True)])
def test_a_dpo_step_raises_the_margin(loss_type, smoothing, free):
    tok = tiny_tokenizer()
    policy = tiny_model(tok)
    ref = tiny_model(tok).requires_grad_(False)            # same seed: the same weights
    cfg = DPOConfig(beta=0.5, loss_type=loss_type, label_smoothing=smoothing, reference_free=free, max_len=32,
                    max_prompt_len=8)
    opt = torch.optim.Adam(policy.parameters(), lr=1e-2)
    loss, before = dpo_batch_loss(policy, ref, tok, PAIRS, cfg)
    loss.backward()
    opt.step()
    _, after = dpo_batch_loss(policy, ref, tok, PAIRS, cfg)
    assert after["rewards/margins"] > before["rewards/margins"] + 1e-3
    if not free:
        assert before["rewards/margins"] == pytest.approx(0.0, abs=1e-6)   # policy = reference at the start


def test_train_dpo_writes_a_servable_run(tmp_path):
    tok = tiny_tokenizer()
    cfg = DPOConfig(beta=0.5, lr=1e-2, steps=6, batch_size=2, max_len=32, max_prompt_len=8, save_every=3,
                    eval_fraction=0.34, eval_every=3)
    out = train_dpo(tiny_model(tok), tok, PAIRS * 2, tmp_path / "run", cfg, progress=False)
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    records = [r for r in rows if r["kind"] == "train"]
    assert [r["step"] for r in records] == [1, 2, 3, 4, 5, 6]
    for key in ("rewards/chosen", "rewards/rejected", "rewards/margins", "rewards/accuracies",
                "logps/chosen", "logps/rejected"):
        assert key in records[-1]
    assert records[-1]["rewards/margins"] > 0
    held_out = [r for r in rows if r["kind"] == "eval"]
    assert [r["step"] for r in held_out] == [3, 6] and "rewards/margins" in held_out[-1]
    assert (out / "metrics.png").stat().st_size > 1000
    model, tokenizer = load_pretrained(out)
    ids = generate(model, [tokenizer.eos_id] + tokenizer.encode("ab"),
                   GenerationConfig(max_new_tokens=5, temperature=0))
    assert len(ids) <= 5
    # the saved weights are the trained policy: against the starting model they prefer the chosen responses
    # (the starting model itself would give a margin of exactly 0; training reaches about 5)
    with torch.no_grad():
        _, saved = dpo_batch_loss(model, tiny_model(tok).requires_grad_(False), tokenizer, PAIRS, cfg)
    assert saved["rewards/margins"] > 1, saved


def test_sft_weight_adds_the_chosen_per_token_nll():
    from llmos.train.align.data import pair_batch
    from llmos.train.align.logprobs import response_token_logprobs
    tok = tiny_tokenizer()
    policy, ref = tiny_model(tok), tiny_model(tok).requires_grad_(False)
    plain = DPOConfig(beta=0.5, max_len=32, max_prompt_len=8)
    rpo = DPOConfig(beta=0.5, max_len=32, max_prompt_len=8, sft_weight=2.0)
    base, _ = dpo_batch_loss(policy, ref, tok, PAIRS, plain)
    loss, metrics = dpo_batch_loss(policy, ref, tok, PAIRS, rpo)
    batch = pair_batch(tok, PAIRS, 32, 8)
    logps, mask = response_token_logprobs(policy(batch.input_ids).logits, batch)
    n = len(PAIRS)
    nll = float((-logps[:n].sum(-1) / mask[:n].sum(-1)).mean())      # by hand: chosen rows only
    assert metrics["nll/chosen"] == pytest.approx(nll, rel=1e-5)
    assert float(loss) == pytest.approx(float(base) + 2.0 * nll, rel=1e-5)
    with pytest.raises(ValueError, match="sft_weight"):
        DPOConfig(sft_weight=-1.0)
