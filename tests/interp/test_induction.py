import math

import pytest
import torch

from llmos.interp.induction import (InductionConfig, induction_head_by_patching, plot_induction_run,
                                    prefix_matching_scores, repeated_tokens, train_induction)


@pytest.fixture(scope="module")
def run():
    """The configuration of bench/interp_induction.py (the same training trajectory)."""
    torch.set_num_threads(1)
    return train_induction(InductionConfig(vocab_size=32, half_len=14, d_model=64, n_heads=4, steps=1500,
                                           batch_size=64, lr=3e-3, eval_every=100))


def test_in_context_loss_falls_sharply(run, tmp_path):
    chance = math.log(run.config.vocab_size)
    assert run.loss_repeat[0] > 0.9 * chance
    assert run.loss_repeat[-1] < 0.25 * chance                 # the repeated half is now predictable
    assert run.loss_first[-1] > 0.8 * chance                   # the random half never is
    assert run.formed_at is not None and run.formed_at < run.steps[-1]
    assert plot_induction_run(run, tmp_path / "induction.png").stat().st_size > 5000


def test_patching_finds_the_layer_1_head_that_copies_in_context(run):
    patched = induction_head_by_patching(run.model, 9, run.config.vocab_size)     # (L, H)
    layer, head = divmod(int(patched.argmax()), patched.shape[1])
    assert layer == 1 and patched[layer, head] > 0.3, patched
    assert patched[0].max() < patched[layer, head]


@pytest.mark.xfail(reason="on this task the model lowers the in-context loss without a layer-1 head whose "
                          "attention lands on the token after the earlier copy (see BENCHMARKS.md)", strict=False)
def test_the_prefix_matching_score_points_at_the_same_head(run):
    ids = repeated_tokens(32, 9, run.config.vocab_size, torch.Generator().manual_seed(11))
    score = prefix_matching_scores(run.model, ids)
    patched = induction_head_by_patching(run.model, 9, run.config.vocab_size)
    assert int(score.argmax()) == int(patched.argmax()) and score.max() > 0.5, score
