import json

import pytest
import torch

from llmos.config import ConfigError
from llmos.train.align.data import SFTExample
from llmos.train.align.loop import AlignConfig, batch_indices, length_grouped_indices, lr_at, split_eval
from llmos.train.align.sft import SFTConfig, train_sft
from llmos.train.checkpoint import list_checkpoints

from tests.train.align.tiny import tiny_model, tiny_tokenizer

DATA = [SFTExample("ab", "xyz"), SFTExample("ba", "hhh"), SFTExample("cd", "a?"), SFTExample("h", "bb")]


def cfg(**kw):
    return SFTConfig(**{**dict(steps=6, batch_size=3, lr=1e-2, max_len=16, max_prompt_len=8, save_every=2), **kw})


class Interrupt(Exception):
    pass


def test_an_interrupted_run_resumes_to_the_same_weights(tmp_path):
    tok = tiny_tokenizer()
    straight = tiny_model(tok)
    train_sft(straight, tok, DATA, tmp_path / "a", cfg(), progress=False)

    def stop_at_3(step):
        if step == 3:
            raise Interrupt
    with pytest.raises(Interrupt):
        train_sft(tiny_model(tok), tok, DATA, tmp_path / "b", cfg(), progress=False, callback=stop_at_3)
    assert [step for step, _ in list_checkpoints(tmp_path / "b" / "checkpoints")] == [2]
    with pytest.raises(ConfigError, match="--resume"):
        train_sft(tiny_model(tok), tok, DATA, tmp_path / "b", cfg(), progress=False)
    resumed = tiny_model(tok)
    train_sft(resumed, tok, DATA, tmp_path / "b", cfg(), resume=True, progress=False)
    for (name, a), b in zip(straight.state_dict().items(), resumed.state_dict().values()):
        torch.testing.assert_close(a, b, msg=name)
    steps = [json.loads(line)["step"] for line in (tmp_path / "b" / "metrics.jsonl").read_text().splitlines()
             if json.loads(line)["kind"] == "train"]
    assert steps == [1, 2, 3, 4, 5, 6]                  # the lost step 3 is logged once, after the resume


def test_batches_cover_each_epoch_once_and_depend_only_on_seed_and_step():
    seen = [i for k in range(4) for i in batch_indices(10, 5, k, seed=1)]
    assert sorted(seen[:10]) == list(range(10)) and sorted(seen[10:]) == list(range(10))
    assert seen[:10] != seen[10:]
    assert batch_indices(10, 5, 3, seed=1) == seen[15:]


def test_schedule_warms_up_then_decays():
    c = AlignConfig(lr=1.0, warmup_steps=4, steps=104, schedule="cosine")
    assert [lr_at(c, s) for s in range(4)] == [0.25, 0.5, 0.75, 1.0]
    assert lr_at(c, 54) == pytest.approx(0.55) and lr_at(c, 104) == pytest.approx(0.1)


def test_split_and_validation():
    train, held = split_eval(list(range(20)), 0.25, seed=0)
    assert len(held) == 5 and sorted(train + held) == list(range(20))
    with pytest.raises(ConfigError, match="max_prompt_len"):
        AlignConfig(max_len=16, max_prompt_len=16)


def test_length_grouped_batches_cover_each_epoch_once_pad_less_and_repeat_by_step():
    import random
    lengths = [random.Random(i).randint(10, 500) for i in range(640)]
    per_epoch = 640 // 8
    epoch = [length_grouped_indices(lengths, 8, k, seed=3) for k in range(per_epoch)]
    assert sorted(i for b in epoch for i in b) == list(range(640))
    assert epoch[5] == length_grouped_indices(lengths, 8, 5, seed=3)          # a function of (seed, step)
    assert length_grouped_indices(lengths, 8, per_epoch, seed=3) != epoch[0]  # the next epoch reshuffles
    padded = lambda batches: sum(len(b) * max(lengths[i] for i in b) for b in batches)
    plain = [batch_indices(640, 8, k, seed=3) for k in range(per_epoch)]
    assert padded(epoch) < 0.8 * padded(plain)
    assert sorted(b[0] for b in epoch) != [b[0] for b in epoch]              # batch order is shuffled
