"""Checkpoints: written atomically, checked on load, enough to resume bit for bit.

A checkpoint is one `torch.save` file, `checkpoints/step_000500.pt`, holding
everything the next step depends on: model weights, optimizer moments, the
step (which fixes the learning rate and, see `batches.py`, the data position),
the loss scaler, and the random states of Python, NumPy, torch and CUDA.

Writing is atomic: the bytes go to a temporary file in the same folder, which
is flushed and fsync'ed, then renamed over the final name with `os.replace`
(atomic on POSIX and Windows), and the folder entry is fsync'ed. A process
killed at any moment leaves either the old set of checkpoints or the new one,
never a half-written `step_*.pt`; leftover temporary files are ignored and
removed at the next start.

Reading checks before trusting: a `torch.save` file is a zip archive whose
members carry CRC-32 checksums, so a truncated or bit-flipped file is caught
and named (torch.load alone would load flipped weights silently).
"""
from __future__ import annotations

import os
import random
import re
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import torch

FORMAT = "llmos-checkpoint"
VERSION = 1
_NAME = re.compile(r"^step_(\d+)\.pt$")


class CheckpointFileError(ValueError):
    """A checkpoint is corrupt, foreign, or does not match the run resuming from it."""


def checkpoint_path(folder: str | Path, step: int) -> Path:
    return Path(folder) / f"step_{step:06d}.pt"


def save_checkpoint(state: dict[str, Any], path: str | Path) -> Path:
    """Write `state` to `path` atomically (temp file, fsync, rename, fsync the folder)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    payload = {"format": FORMAT, "version": VERSION, **state}
    try:
        with open(tmp, "wb") as f:
            torch.save(payload, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)
    return path


def _fsync_dir(folder: Path) -> None:
    """Make the rename itself durable (POSIX; a no-op where folders cannot be opened)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    """Read a checkpoint after verifying every member's checksum; errors name the file."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointFileError(f"no checkpoint at {path}")
    try:
        with zipfile.ZipFile(path) as z:
            bad = z.testzip()
    except (zipfile.BadZipFile, OSError, EOFError) as e:
        raise CheckpointFileError(f"checkpoint {path} is corrupt or truncated ({e}); delete it to resume "
                                  "from the previous checkpoint, or pass that one with resume_from=PATH") from None
    if bad is not None:
        raise CheckpointFileError(f"checkpoint {path} is corrupt: member {bad!r} fails its checksum; delete it "
                                  "to resume from the previous checkpoint, or pass that one with resume_from=PATH")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:
        raise CheckpointFileError(f"checkpoint {path} could not be read ({type(e).__name__}: {e})") from None
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise CheckpointFileError(f"{path} is not an llmos training checkpoint (no '{FORMAT}' marker); "
                                  "to start from a model's weights, load it as a model instead")
    if state.get("version") != VERSION:
        raise CheckpointFileError(f"{path} has checkpoint version {state.get('version')}; "
                                  f"this llmos reads version {VERSION}")
    return state


def list_checkpoints(folder: str | Path) -> list[tuple[int, Path]]:
    """(step, path) of every finished checkpoint in `folder`, oldest first."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in folder.iterdir() if (m := _NAME.match(p.name))]
    return sorted(found)


def latest_checkpoint(folder: str | Path) -> Path | None:
    found = list_checkpoints(folder)
    return found[-1][1] if found else None


def clean_temporaries(folder: str | Path) -> list[Path]:
    """Remove temporary files left by a writer that was killed; returns what was removed."""
    folder = Path(folder)
    removed = [p for p in folder.glob(".step_*.pt.tmp*")] if folder.is_dir() else []
    for p in removed:
        p.unlink(missing_ok=True)
    return removed


def prune(folder: str | Path, keep: int) -> None:
    """Delete all but the newest `keep` checkpoints."""
    for _, path in list_checkpoints(folder)[:-keep] if keep > 0 else []:
        path.unlink(missing_ok=True)


def check_matches(saved: dict[str, Any], current: dict[str, Any], what: str, path: Path) -> None:
    """Fail, naming each differing key, when a checkpoint's settings differ from the run's."""
    keys = sorted(set(saved) | set(current))
    diffs = [f"{k}: checkpoint {saved.get(k)!r} vs now {current.get(k)!r}"
             for k in keys if saved.get(k) != current.get(k)]
    if diffs:
        raise CheckpointFileError(f"checkpoint {path} was made with a different {what}: " + "; ".join(diffs) +
                                  ". Resume with the original settings, or start a new run folder")


# ---------------------------------------------------------------------- random states
def rng_state() -> dict[str, Any]:
    """The random states of Python, NumPy, torch (CPU) and CUDA, in tensors and plain types."""
    np_state = np.random.get_state(legacy=False)
    state = {"python": random.getstate(),
             "numpy": {"key": torch.from_numpy(np_state["state"]["key"].astype(np.int64)),
                       "pos": int(np_state["state"]["pos"]), "has_gauss": int(np_state["has_gauss"]),
                       "gauss": float(np_state["gauss"])},
             "torch": torch.get_rng_state()}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore what `rng_state` captured."""
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    n = state["numpy"]
    np.random.set_state({"bit_generator": "MT19937",
                         "state": {"key": n["key"].numpy().astype(np.uint32), "pos": n["pos"]},
                         "has_gauss": n["has_gauss"], "gauss": n["gauss"]})
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
