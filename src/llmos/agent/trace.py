"""Per-session traces: one JSON line per step, screenshots beside them.

A session's folder (`<trace_dir>/<session id>/`) holds `trace.jsonl`: a
`session` record (task, start URL, policy, backend, secret *names*), then one
`step` record per step with the prompt, every model output (retries
included), the parsed action, the policy verdict, the person's command, the
result, timings per phase and token counts. Screenshots are PNG files named
in the record. Every record passes through the session vault's `scrub`
before it is written, so no secret value reaches the disk.
"""
from __future__ import annotations

import base64
import json
import time
from pathlib import Path
from typing import Any, Callable

TRACE_FILE = "trace.jsonl"


class Tracer:
    def __init__(self, folder: Path, scrub: Callable[[Any], Any] = lambda x: x):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.path = self.folder / TRACE_FILE
        self._scrub = scrub

    def write(self, record: dict[str, Any]) -> float:
        """Append one record (scrubbed); returns the seconds spent, for the step's timings."""
        t0 = time.perf_counter()
        record = {"time": time.time(), **record}
        line = json.dumps(self._scrub(record), ensure_ascii=False, default=str)
        with self.path.open("a", encoding="utf-8") as f:
            f.write(line + "\n")
        return time.perf_counter() - t0

    def save_screenshot(self, step: int, png_b64: str) -> str:
        name = f"step-{step:04d}.png"
        (self.folder / name).write_bytes(base64.b64decode(png_b64))
        return name


def find_trace(session: str, trace_dir: Path) -> Path:
    """A trace file from a session id, a session folder or a trace.jsonl path."""
    for candidate in (Path(session), Path(session) / TRACE_FILE, Path(trace_dir) / session / TRACE_FILE):
        if candidate.is_file():
            return candidate
    known = sorted(p.parent.name for p in Path(trace_dir).glob(f"*/{TRACE_FILE}")) \
        if Path(trace_dir).is_dir() else []
    hint = f" Sessions in {trace_dir}: {', '.join(known[-10:])}" if known else \
        f" No traces under {trace_dir}."
    raise FileNotFoundError(f"no trace for {session!r}.{hint}")


def read_trace(path: Path) -> list[dict[str, Any]]:
    records = []
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError as e:
            raise ValueError(f"{path}:{n} is not a JSON line ({e}); the trace is corrupt") from None
    return records
