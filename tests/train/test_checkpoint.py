"""Checkpoints: atomic writes survive a kill, corruption is caught and named, RNG states round-trip."""
import os
import random
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
import torch

from llmos.train.checkpoint import (CheckpointFileError, check_matches, checkpoint_path, clean_temporaries,
                                    latest_checkpoint, list_checkpoints, load_checkpoint, prune, rng_state,
                                    save_checkpoint, set_rng_state)


def state(step):
    torch.manual_seed(step)
    return {"step": step, "weights": torch.randn(64, 64), "config": {"d": 64}}


def test_save_and_load_round_trip(tmp_path):
    path = save_checkpoint(state(3), checkpoint_path(tmp_path, 3))
    loaded = load_checkpoint(path)
    assert path.name == "step_000003.pt" and loaded["step"] == 3
    assert torch.equal(loaded["weights"], state(3)["weights"])
    assert [p.name for p in tmp_path.iterdir()] == ["step_000003.pt"]       # no temporary left behind


def test_a_process_killed_while_writing_leaves_the_previous_checkpoint_loadable(tmp_path):
    """The child saves step 1, then is killed inside the write of step 2 (before the rename)."""
    ready, folder = tmp_path / "writing", tmp_path / "checkpoints"
    script = textwrap.dedent(f"""
        import os, time, torch
        from llmos.train import checkpoint as c
        c.save_checkpoint({{"step": 1, "w": torch.ones(1000)}}, c.checkpoint_path({str(folder)!r}, 1))
        real_fsync = os.fsync
        def stall(fd):                    # the payload is on its way to disk: stop here
            open({str(ready)!r}, "w").close()
            time.sleep(60)
        os.fsync = stall
        c.save_checkpoint({{"step": 2, "w": torch.zeros(1000)}}, c.checkpoint_path({str(folder)!r}, 2))
    """)
    child = subprocess.Popen([sys.executable, "-c", script])
    deadline = time.time() + 60
    while not ready.exists():
        assert child.poll() is None, "the writer exited early"
        assert time.time() < deadline, "the writer never reached the write"
        time.sleep(0.05)
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    assert [s for s, _ in list_checkpoints(folder)] == [1]                   # step 2 never appeared
    assert any(p.name.startswith(".step_000002.pt.tmp") for p in folder.iterdir())
    loaded = load_checkpoint(latest_checkpoint(folder))
    assert loaded["step"] == 1 and torch.equal(loaded["w"], torch.ones(1000))
    assert len(clean_temporaries(folder)) == 1 and len(list(folder.iterdir())) == 1


def test_truncated_checkpoint_is_named_as_corrupt(tmp_path):
    path = save_checkpoint(state(1), checkpoint_path(tmp_path, 1))
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointFileError, match=r"step_000001.pt is corrupt or truncated"):
        load_checkpoint(path)


def test_flipped_bits_are_caught_by_the_checksums(tmp_path):
    path = save_checkpoint(state(1), checkpoint_path(tmp_path, 1))
    data = bytearray(path.read_bytes())
    i = data.find(b"data/0") + 1000                                         # inside the weights
    data[i] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(CheckpointFileError, match="fails its checksum"):
        load_checkpoint(path)


def test_foreign_files_are_refused(tmp_path):
    torch.save({"weights": torch.ones(2)}, tmp_path / "step_000001.pt")
    with pytest.raises(CheckpointFileError, match="not an llmos training checkpoint"):
        load_checkpoint(tmp_path / "step_000001.pt")
    with pytest.raises(CheckpointFileError, match="no checkpoint at"):
        load_checkpoint(tmp_path / "missing.pt")


def test_check_matches_names_every_difference(tmp_path):
    check_matches({"a": 1, "b": 2}, {"a": 1, "b": 2}, "model", tmp_path)
    with pytest.raises(CheckpointFileError, match=r"different model: b: checkpoint 2 vs now 3; c: checkpoint "):
        check_matches({"a": 1, "b": 2, "c": 0}, {"a": 1, "b": 3}, "model", tmp_path)


def test_prune_keeps_the_newest(tmp_path):
    for s in (1, 2, 3, 10):
        save_checkpoint({"step": s}, checkpoint_path(tmp_path, s))
    prune(tmp_path, 2)
    assert [s for s, _ in list_checkpoints(tmp_path)] == [3, 10]


def test_rng_states_round_trip_through_a_checkpoint(tmp_path):
    random.seed(1), np.random.seed(1), torch.manual_seed(1)
    save_checkpoint({"rng": rng_state()}, tmp_path / "step_000001.pt")
    expected = (random.random(), np.random.rand(), torch.rand(1))
    random.seed(9), np.random.seed(9), torch.manual_seed(9)
    set_rng_state(load_checkpoint(tmp_path / "step_000001.pt")["rng"])
    assert (random.random(), np.random.rand(), torch.rand(1)) == expected
