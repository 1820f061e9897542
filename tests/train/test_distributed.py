"""Two torchrun processes (gloo, CPU) trace the loss curve of one process with the same global batch."""
import os
import subprocess
import sys

import pytest

from llmos.config import override
from llmos.train.metrics import read_metrics
from llmos.train.presets import preset
from llmos.train.pretrain import pretrain

from .conftest import tiny_text

SETTINGS = ["data.tokenizer=char", "model.n_heads=2", "model.d_model=32", "model.n_layers=2", "model.d_ff=64",
            "model.max_seq_len=16", "train.max_steps=5", "train.warmup_steps=2", "train.eval_every=5",
            "train.eval_batches=2", "train.checkpoint_every=5", "train.log_every=1", "train.threads=1",
            "train.lr=3e-3", "train.batch_size=2"]


@pytest.fixture(scope="module")
def one_process(tmp_path_factory):
    """The reference: one process, two accumulated micro-batches of 2 (global batch 4)."""
    folder = tmp_path_factory.mktemp("dist")
    (folder / "corpus.txt").write_text(tiny_text())
    cfg = override(preset("char"), SETTINGS + ["data.corpus=corpus.txt", "train.grad_accum=2"])
    cwd = os.getcwd()
    os.chdir(folder)                       # the same relative corpus path as the torchrun runs
    try:
        pretrain(cfg, folder / "one", progress=False)
    finally:
        os.chdir(cwd)
    return folder


@pytest.mark.parametrize("parallel", ["ddp", "fsdp"])
def test_two_processes_match_one_process_with_the_same_global_batch(one_process, parallel):
    folder = one_process
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
           "-m", "llmos", "train", "char", "--no-progress", "--run-dir", parallel, *SETTINGS,
           "data.corpus=corpus.txt", "train.grad_accum=1", f"train.parallel={parallel}"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(cmd, cwd=folder, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    one = read_metrics(folder / "one" / "metrics.jsonl", "train")
    two = read_metrics(folder / parallel / "metrics.jsonl", "train")
    assert [r["step"] for r in one] == [r["step"] for r in two] == [1, 2, 3, 4, 5]
    for a, b in zip(one, two):
        assert b["loss"] == pytest.approx(a["loss"], abs=1e-5)
        assert b["grad_norm"] == pytest.approx(a["grad_norm"], rel=1e-4)
    assert one[-1]["loss"] < one[0]["loss"] - 0.1                  # and it is learning
    val = [read_metrics(folder / d / "metrics.jsonl", "eval")[-1]["val_loss"] for d in ("one", parallel)]
    assert val[1] == pytest.approx(val[0], abs=1e-5)
    assert (folder / parallel / "model" / "model.safetensors").exists()
