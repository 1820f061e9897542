"""Pretraining: it learns, it resumes bit for bit, and its run folder is complete."""
import json

import pytest
import torch

from llmos.config import ConfigError
from llmos.hub import load_pretrained
from llmos.train.checkpoint import CheckpointFileError, list_checkpoints, load_checkpoint
from llmos.train.metrics import read_metrics
from llmos.train.pretrain import pretrain
from llmos.train.run_folder import load_run_config

from .conftest import tiny_config


def weights(model):
    return {k: v.clone() for k, v in model.state_dict().items()}


def test_stopped_and_resumed_run_ends_bitwise_equal_to_an_uninterrupted_one(corpus, tmp_path):
    # dropout > 0, so the restored torch RNG state matters as much as weights and optimizer
    cfg = tiny_config(corpus, "model.dropout=0.1", "train.grad_accum=2")
    whole = pretrain(cfg, tmp_path / "whole", progress=False)
    first = pretrain(cfg, tmp_path / "split", stop_at=4, progress=False)
    assert first.step == 4 and not (tmp_path / "split" / "model").exists()
    resumed = pretrain(cfg, tmp_path / "split", progress=False)
    assert resumed.step == whole.step == 6
    a, b = weights(whole.model), weights(resumed.model)
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    ckpt_a = load_checkpoint(list_checkpoints(tmp_path / "whole" / "checkpoints")[-1][1])
    ckpt_b = load_checkpoint(list_checkpoints(tmp_path / "split" / "checkpoints")[-1][1])
    moments_a = [s["exp_avg_sq"] for s in ckpt_a["optimizer"]["state"].values()]
    moments_b = [s["exp_avg_sq"] for s in ckpt_b["optimizer"]["state"].values()]
    assert all(torch.equal(x, y) for x, y in zip(moments_a, moments_b))
    strip = lambda rows: [{k: v for k, v in r.items() if k not in ("tokens_per_s", "elapsed")} for r in rows]  # noqa: E731
    assert strip(read_metrics(tmp_path / "whole" / "metrics.jsonl")) == strip(
        read_metrics(tmp_path / "split" / "metrics.jsonl"))


def test_run_folder_holds_config_metrics_plot_checkpoints_and_an_hf_model(corpus, tmp_path):
    cfg = tiny_config(corpus, "train.max_steps=40", "train.eval_every=20", "train.checkpoint_every=20",
                      "train.log_every=10")
    result = pretrain(cfg, tmp_path / "run", progress=False)
    run = tmp_path / "run"
    assert load_run_config(run).model.vocab_size == result.tokenizer.vocab_size
    rows = read_metrics(run / "metrics.jsonl")
    assert [r["step"] for r in rows if r["kind"] == "train"] == [10, 20, 30, 40]
    evals = [r for r in rows if r["kind"] == "eval"]
    assert [r["step"] for r in evals] == [20, 40] and evals[-1]["val_loss"] == pytest.approx(result.val_loss)
    assert result.val_loss < result.unigram_entropy - 0.3            # learned more than letter frequencies
    assert (run / "loss.png").read_bytes()[:4] == b"\x89PNG"
    assert [s for s, _ in list_checkpoints(run / "checkpoints")] == [20, 40]
    model, tok = load_pretrained(run)                                 # run folder -> RUN/model
    ids = tok.encode("the cat sat")
    with torch.no_grad():
        ours = result.model.eval()(torch.tensor([ids])).logits
        theirs = model(torch.tensor([ids])).logits
    assert torch.allclose(ours, theirs, atol=1e-6)


def test_mixture_of_experts_logs_expert_load_and_aux_loss(corpus, tmp_path):
    cfg = tiny_config(corpus, "model.n_experts=4", "model.experts_per_token=2", "train.max_steps=2",
                      family="mixtral")
    pretrain(cfg, tmp_path / "moe", progress=False)
    row = read_metrics(tmp_path / "moe" / "metrics.jsonl", "train")[-1]
    assert row["aux_loss"] > 0
    assert len(row["expert_load"]) == 2 and all(len(layer) == 4 for layer in row["expert_load"])
    assert all(sum(layer) == pytest.approx(1.0, abs=1e-3) for layer in row["expert_load"])


def test_resuming_with_a_different_model_fails_with_a_clear_message(corpus, tmp_path):
    pretrain(tiny_config(corpus), tmp_path / "run", stop_at=3, progress=False)
    with pytest.raises(CheckpointFileError, match=r"different model: d_ff: checkpoint 64 vs now 128"):
        pretrain(tiny_config(corpus, "model.d_ff=128"), tmp_path / "run", progress=False)
    with pytest.raises(CheckpointFileError, match=r"different batch layout: global_batch"):
        pretrain(tiny_config(corpus, "train.batch_size=8"), tmp_path / "run", progress=False)
    with pytest.raises(ConfigError, match="already holds data prepared"):
        pretrain(tiny_config(corpus, "data.val_fraction=0.2"), tmp_path / "run", progress=False)


def test_resuming_from_a_corrupt_checkpoint_names_it(corpus, tmp_path):
    pretrain(tiny_config(corpus), tmp_path / "run", stop_at=3, progress=False)
    (path,) = [p for _, p in list_checkpoints(tmp_path / "run" / "checkpoints")]
    path.write_bytes(path.read_bytes()[:1000])
    with pytest.raises(CheckpointFileError, match="step_000003.pt is corrupt or truncated"):
        pretrain(tiny_config(corpus), tmp_path / "run", progress=False)


def test_config_json_is_the_resolved_config(corpus, tmp_path):
    pretrain(tiny_config(corpus, "train.max_steps=1"), tmp_path / "run", progress=False)
    saved = json.loads((tmp_path / "run" / "train_config.json").read_text())
    assert saved["preset"] == "char" and saved["model"]["d_model"] == 32
    assert saved["model"]["eos_token_id"] is not None and saved["data"]["corpus"] == str(corpus)


def test_bf16_autocast_on_cpu_trains_close_to_fp32_and_fp16_is_refused(corpus, tmp_path):
    steps = ["train.max_steps=3", "train.eval_every=3"]
    fp32 = pretrain(tiny_config(corpus, *steps), tmp_path / "fp32", progress=False)
    bf16 = pretrain(tiny_config(corpus, *steps, "train.precision=bf16"), tmp_path / "bf16", progress=False)
    assert bf16.train_loss != fp32.train_loss                       # the matmuls really ran in bf16
    assert bf16.train_loss == pytest.approx(fp32.train_loss, abs=0.02)
    assert next(bf16.model.parameters()).dtype == torch.float32     # master weights stay fp32
    with pytest.raises(ConfigError, match="fp16 needs a CUDA device"):
        pretrain(tiny_config(corpus, "train.precision=fp16"), tmp_path / "fp16", progress=False)
