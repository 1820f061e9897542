"""`metrics.jsonl`: one JSON object per line, appended as training goes.

Rows have a `kind` ("train", "eval", "moe", ...) and a `step`. A line is
written and flushed at once, so a crash loses at most the line in flight; on
resume, rows after the resumed step are dropped so the log reads as if the
run had never stopped.
"""
from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from llmos.config import atomic_write_text


class MetricsLog:
    """Append-only metrics file (a no-op writer on processes other than rank 0)."""

    def __init__(self, path: str | Path, enabled: bool = True) -> None:
        self.path = Path(path)
        self.enabled = enabled
        if enabled:
            self.path.parent.mkdir(parents=True, exist_ok=True)

    def log(self, kind: str, step: int, **values: Any) -> dict[str, Any]:
        row = {"kind": kind, "step": step, **{k: _plain(v) for k, v in values.items()}}
        if self.enabled:
            with open(self.path, "a", encoding="utf-8") as f:
                f.write(json.dumps(row) + "\n")
        return row

    def truncate_after(self, step: int) -> None:
        """Drop rows logged after `step` (they belong to the part of a run being replayed)."""
        if self.enabled and self.path.exists():
            rows = [r for r in read_metrics(self.path) if r.get("step", 0) <= step]
            atomic_write_text(self.path, "".join(json.dumps(r) + "\n" for r in rows))


def _plain(v: Any) -> Any:
    if hasattr(v, "item") and getattr(v, "ndim", 1) == 0:
        v = v.item()
    if hasattr(v, "tolist"):
        v = v.tolist()
    if isinstance(v, float) and not math.isfinite(v):
        return str(v)
    return v


def bits(nats: float) -> float:
    """A loss in nats per token as bits per token: divide by ln 2."""
    return nats / math.log(2)


def read_metrics(path: str | Path, kind: str | None = None) -> list[dict[str, Any]]:
    """Rows of a metrics file (optionally of one kind); a torn last line is skipped."""
    path = Path(path)
    if not path.exists():
        return []
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            continue
        if kind is None or row.get("kind") == kind:
            rows.append(row)
    return rows
