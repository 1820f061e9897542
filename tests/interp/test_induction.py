import math

import pytest
import torch

from llmos.interp.induction import (InductionConfig, induction_head_by_patching, plot_induction_run,
                                    prefix_matching_scores, previous_token_scores, repeated_tokens,
                                    train_induction)


@pytest.fixture(scope="module")
def run():
    torch.set_num_threads(1)
    return train_induction(InductionConfig(vocab_size=32, half_len=14, d_model=64, n_heads=4, steps=1200,
                                           batch_size=64, lr=3e-3, eval_every=100))


def test_in_context_loss_falls_sharply(run):
    chance = math.log(run.config.vocab_size)
    assert run.loss_repeat[0] > 0.9 * chance
    assert run.loss_repeat[-1] < 0.25 * chance                 # the repeated half is now predictable
    assert run.loss_first[-1] > 0.8 * chance                   # the random half never is
    assert run.formed_at is not None and run.formed_at < run.steps[-1]


def test_the_induction_head_is_found_by_its_score_and_by_patching(run, tmp_path):
    ids = repeated_tokens(32, 9, run.config.vocab_size, torch.Generator().manual_seed(11))
    score = prefix_matching_scores(run.model, ids)                # (L, H)
    prev = previous_token_scores(run.model, ids)
    layer, head = divmod(int(score.argmax()), score.shape[1])
    assert layer == 1 and score[layer, head] > 0.5, score       # induction needs the layer-0 head first
    assert prev[0].max() > 0.4, prev                             # ... the previous-token head
    patched = induction_head_by_patching(run.model, 9, run.config.vocab_size)
    assert int(patched[1].argmax()) == head and patched[1, head] > 0.3, patched
    png = plot_induction_run(run, tmp_path / "induction.png")
    assert png.stat().st_size > 5000
