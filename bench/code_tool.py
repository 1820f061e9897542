"""What the code tool's confinement costs: wall time of a trivial run, sandboxed and not.

    .venv/bin/python bench/code_tool.py [--runs 20]

Prints and saves (bench/results/code_tool.json) the median and 90th-percentile
wall time of `run_code("pass")` with every layer, with namespaces only, and of
the same interpreter started plainly (`python -I -c pass`), so the difference
is the price of the sandbox.
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

from llmos.agent.tools.code_runner import ALL_LAYERS, run_code


def timed(fn, runs: int) -> dict:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(1000 * (time.perf_counter() - start))
    times.sort()
    return {"median_ms": round(statistics.median(times), 1),
            "p90_ms": round(times[int(0.9 * (len(times) - 1))], 1)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--out", type=Path, default=Path("bench/results/code_tool.json"))
    args = ap.parse_args()
    layers = run_code("pass").layers
    results = {
        "layers_in_force": layers,
        "plain python -I -c pass": timed(lambda: subprocess.run([sys.executable, "-I", "-c", "pass"],
                                                                check=True), args.runs),
        "run_code, all layers": timed(lambda: run_code("pass"), args.runs),
        "run_code, namespaces only": timed(lambda: run_code("pass", layers=("netns", "mounts", "pidns")),
                                           args.runs),
        "run_code, Landlock + seccomp only": timed(
            lambda: run_code("pass", layers=("landlock", "seccomp")), args.runs),
    }
    for name, value in results.items():
        print(f"{name:36} {value}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
