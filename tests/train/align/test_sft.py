import pytest
import torch

from llmos.hub import load_pretrained
from llmos.infer import GenerationConfig, complete
from llmos.train.align.data import SFTExample, encode_prompt, sft_batch
from llmos.train.align.sft import SFTConfig, sft_loss, sft_targets, train_sft

from tests.train.align.tiny import tiny_model, tiny_tokenizer


def test_targets_cover_response_tokens_only():
    tok = tiny_tokenizer()
    batch = sft_batch(tok, [SFTExample("ab", "cd")], max_len=16)
    # sequence: eos a b c d eos; position t predicts token t+1
    assert sft_targets(batch)[0].tolist() == [-100, -100] + tok.encode("cd") + [tok.eos_id, -100]


def test_loss_is_the_mean_cross_entropy_over_response_tokens():
    tok = tiny_tokenizer()
    model = tiny_model(tok).eval()
    batch = sft_batch(tok, [SFTExample("ab", "cd"), SFTExample("xyz", "h")], max_len=16)
    with torch.no_grad():
        logps = model(batch.input_ids).logits.log_softmax(-1)
        terms = [-logps[b, t, batch.input_ids[b, t + 1]] for b in range(2) for t in range(batch.input_ids.shape[1] - 1)
                 if batch.response_mask[b, t + 1]]
        assert sft_loss(model, batch).item() == pytest.approx(float(sum(terms) / len(terms)), abs=1e-5)
        assert len(terms) == 3 + 2


@pytest.mark.parametrize("fast", [False, True], ids=["fp32", "bf16-grouped"])
def test_sft_teaches_the_response_and_the_run_folder_generates_it(tmp_path, fast):
    tok = tiny_tokenizer()
    data = [SFTExample("ab", "xyz"), SFTExample("ba", "hhh"), SFTExample("cd", "a?")]
    extra = {"precision": "bf16", "group_by_length": True} if fast else {}
    cfg = SFTConfig(steps=60, batch_size=3, lr=1e-2, max_len=16, max_prompt_len=8, save_every=60,
                    eval_fraction=0.0, **extra)
    out = train_sft(tiny_model(tok), tok, data, tmp_path / "run", cfg, progress=False)
    model, tokenizer = load_pretrained(out)
    greedy = GenerationConfig(max_new_tokens=8, temperature=0)
    for example in data:
        done = complete(model, encode_prompt(tokenizer, example.prompt), greedy, tokenizer)
        assert done.text == example.response and done.finish_reason == "stop"


def test_an_unknown_precision_is_refused_by_name():
    from llmos.config import ConfigError
    with pytest.raises(ConfigError, match="precision"):
        SFTConfig(precision="fp8")
