"""Agent teams on the composite trip errand: parallel workers beside serial, and the fault drill.

    python bench/team.py [--latency 0 0.5] [--repeats 1] [--faults 20] [--skip-speed] [--skip-faults]

Speed: the three-part errand (flight, travel adapter, library card) with three
workers at once beside one worker doing the subtasks one after another, same
oracle workers, same suite, real Chromium (each worker its own). `--latency`
adds seconds per step to every worker's model call, standing in for a real
model's think time (0 = the oracle's own speed, which is browser-bound).
Chromium is started before the clock runs.

Faults: errands whose workers' first attempts get one spec field wrong (the
flight's date or seat kind, the adapter's price cap, the library card's type),
`--faults` of them in all. Counts how many the manager caught (first attempt
rejected), how many the redo fixed (verified on the second attempt), and how
many correct attempts it rejected (should be 0). Saves bench/results/team.json.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
from llmos.agent.suite.errand import (FAULTS, SuiteRecords, errand_plan, oracle_worker_backend,  # noqa: E402
                                      worker_options)
from llmos.agent.suite.server import SuiteServer  # noqa: E402
from llmos.agent.team.manager import Manager, TeamConfig  # noqa: E402
from llmos.agent.team.worker import LocalWorker  # noqa: E402
from llmos.agent.trace import read_trace  # noqa: E402


def workers(n: int, suite: SuiteServer, tmp: Path, faults=None, latency: float = 0.0) -> list[LocalWorker]:
    ws = [LocalWorker(f"w{i + 1}", oracle_worker_backend(faults, latency), tmp / "workers",
                      worker_options(suite.host)) for i in range(n)]
    for w in ws:  # launch Chromium now, not on the clock
        w.warm()
    return ws


def run_errand(suite, ws, tmp, parallel: bool):
    suite.reset()
    cfg = TeamConfig(trace_dir=tmp, parallel=parallel, worker_timeout_s=600)
    t0 = time.perf_counter()
    result = Manager(ws, config=cfg, records=SuiteRecords(suite.base_url)).run(errand_plan(suite.base_url))
    return result, time.perf_counter() - t0


def speed(suite, tmp, latencies, repeats):
    rows = []
    for latency in latencies:
        times = {"serial": [], "parallel": []}
        for mode, n in (("serial", 1), ("parallel", 3)):
            ws = workers(n, suite, tmp, latency=latency)
            try:
                for _ in range(repeats):
                    result, secs = run_errand(suite, ws, tmp, parallel=mode == "parallel")
                    if not result.ok:
                        raise SystemExit(f"the {mode} errand failed:\n{result.summary()}")
                    times[mode].append(secs)
            finally:
                for w in ws:
                    w.close()
        s, p = statistics.median(times["serial"]), statistics.median(times["parallel"])
        rows.append({"latency_s": latency, "serial_s": round(s, 2), "parallel_s": round(p, 2),
                     "speedup": round(s / p, 2), "runs": times})
        print(f"latency {latency:.2f} s/step: serial {s:6.1f} s  parallel {p:6.1f} s  speedup {s / p:.2f}x",
              flush=True)
    return rows


def fault_drill(suite, tmp, n_faults: int):
    kinds = {"flight": ["date", "seat"], "adapter": ["price_cap"], "library": ["card_type"]}
    planned, errands, k = 0, [], 0
    while planned < n_faults:
        faults = {}
        for sub, options in kinds.items():
            if planned < n_faults:
                kind = options[k % len(options)]
                faults[sub] = (kind, FAULTS[kind][1])
                planned += 1
        errands.append(faults)
        k += 1
    caught = fixed = wrongly_rejected = correct_attempts = 0
    details = []
    for i, faults in enumerate(errands):
        ws = workers(3, suite, tmp, faults={s: f for s, (_, f) in faults.items()})
        try:
            result, secs = run_errand(suite, ws, tmp, parallel=True)
        finally:
            for w in ws:
                w.close()
        verifies = [r for r in read_trace(result.trace) if r["kind"] == "verify"]
        for sub in ("flight", "adapter", "library"):
            attempts = [v for v in verifies if v["subtask"] == sub]
            for v in attempts:
                faulty = v["attempt"] == 1 and sub in faults
                if faulty:
                    caught += not v["ok"]
                else:
                    correct_attempts += 1
                    wrongly_rejected += not v["ok"]
            if sub in faults:
                fixed += result.subtasks[sub].state == "verified" and len(attempts) == 2 and attempts[-1]["ok"]
        details.append({"errand": i + 1, "faults": {s: k for s, (k, _) in faults.items()},
                        "ok": result.ok, "seconds": round(secs, 2), "trace": result.trace})
        print(f"errand {i + 1}: faults {details[-1]['faults']} -> {'ok' if result.ok else 'NOT ok'} "
              f"({secs:.1f} s)", flush=True)
    return {"faults": n_faults, "caught": caught, "fixed_by_redo": fixed, "correct_attempts": correct_attempts,
            "correct_rejected": wrongly_rejected, "errands": details}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--latency", type=float, nargs="+", default=[0.0, 0.5])
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--faults", type=int, default=20)
    ap.add_argument("--skip-speed", action="store_true")
    ap.add_argument("--skip-faults", action="store_true")
    ap.add_argument("--output", type=Path, default=Path("bench/results/team.json"))
    args = ap.parse_args()
    load = os.getloadavg()
    out = {"command": " ".join(["python", "bench/team.py", *sys.argv[1:]]), "load_before": load,
           "cpus": os.cpu_count()}
    with tempfile.TemporaryDirectory(prefix="llmos-team-") as tmp, SuiteServer() as suite:
        if not args.skip_speed:
            out["speed"] = speed(suite, Path(tmp), args.latency, args.repeats)
        if not args.skip_faults:
            out["fault_drill"] = drill = fault_drill(suite, Path(tmp), args.faults)
            print(f"faults {drill['faults']}: caught {drill['caught']}, fixed by redo {drill['fixed_by_redo']}, "
                  f"correct attempts rejected {drill['correct_rejected']} of {drill['correct_attempts']}")
    out["load_after"] = os.getloadavg()
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(out, indent=2) + "\n")
    print(f"load {load[0]:.1f} before, {out['load_after'][0]:.1f} after; wrote {args.output}")


if __name__ == "__main__":
    main()
