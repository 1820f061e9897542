"""Time per agent step spent outside the model, on the web task suite's pages.

The scripted oracle plays the model (its own time, including any wait for
late page content, is counted as model time and left out), so what remains
is the agent's own cost per step: observing the page (distillation in
Chromium), building the prompt, parsing, the policy, acting in the browser,
tracing, and handing work to the browser thread.

    .venv/bin/python bench/agent_overhead.py [--tasks shop flights ...] [--repeats 1]

Prints the median and percentiles of the per-step overhead (wall time of
`Agent.step` minus the model's time) and the median of each phase from the
traces; saves `bench/results/agent_overhead.json` and a PNG of the phases.
"""
from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from llmos.agent.service import Agent, AgentConfig
from llmos.agent.suite.bench import oracle_backend, suite_policy
from llmos.agent.suite.server import SuiteServer
from llmos.agent.suite.tasks import load_tasks
from llmos.agent.trace import read_trace
from llmos.agent.views import ModelReply, SessionOptions, StepStatus, UserCommand

RESULTS = Path(__file__).parent / "results"
PHASES = ("observe", "prompt", "model", "parse", "policy", "act")


class TimedBackend:
    """Wraps a backend, adds up the time spent inside it, and hands back text only,
    so every step goes through the parser as a real model's reply would."""

    def __init__(self, inner):
        self.inner, self.name, self.seconds = inner, inner.name, 0.0

    def complete(self, request) -> ModelReply:
        t = time.perf_counter()
        try:
            reply = self.inner.complete(request)
        finally:
            self.seconds += time.perf_counter() - t
        return ModelReply(text=reply.text)


def run_task(agent: Agent, suite: SuiteServer, task) -> list[dict]:
    suite.reset()
    task.apply_setup(suite.state)
    backend = TimedBackend(oracle_backend(task))
    options = SessionOptions(policy=suite_policy(suite.host), secrets=task.secret_values(),
                             max_steps=task.max_steps)
    sid = agent.create(task.instruction, url=suite.url(task.start), options=options, backend=backend).id
    steps, cmd = [], None
    for _ in range(task.max_steps + 5):
        before = backend.seconds
        t = time.perf_counter()
        result = agent.step(sid, cmd)
        wall = time.perf_counter() - t
        model = backend.seconds - before
        steps.append({"task": task.id, "wall": round(wall, 5), "model": round(model, 5),
                      "overhead": round(wall - model, 5),
                      "status": result.status.value, "person": cmd is not None})
        if result.status is StepStatus.ASK_USER:
            cmd = UserCommand(kind="approve") if result.pending else UserCommand(kind="reply", text="go on")
        elif result.status is StepStatus.CONTINUE:
            cmd = None
        else:
            break
    trace = read_trace(agent.retrieve(sid).trace_path)
    timed = [r["timings"] for r in trace if r.get("kind") == "step"]
    for s, t in zip(steps, timed):
        s["phases"] = t
    agent.close(sid)
    return steps


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tasks", nargs="*", help="task ids or sites (default: all)")
    ap.add_argument("--repeats", type=int, default=1, help="runs of each task")
    ap.add_argument("--out", type=Path, default=RESULTS / "agent_overhead.json")
    args = ap.parse_args()
    tasks = [t for t in load_tasks() if not args.tasks or t.id in args.tasks or t.site in args.tasks]
    steps: list[dict] = []
    with tempfile.TemporaryDirectory() as tmp, SuiteServer() as suite, \
            Agent(None, AgentConfig(trace_dir=Path(tmp))) as agent:
        run_task(agent, suite, tasks[0])                   # warm up Chromium and the imports
        for _ in range(args.repeats):
            for task in tasks:
                steps += run_task(agent, suite, task)
    # Model-driven steps only: steps answering the person do not call the model.
    model_steps = [s for s in steps if not s["person"]]
    over = [s["overhead"] * 1000 for s in model_steps]
    phases = {p: statistics.median(s["phases"].get(p, 0.0) * 1000 for s in model_steps if "phases" in s)
              for p in PHASES}
    summary = {"tasks": len(tasks) * args.repeats, "steps": len(model_steps),
               "overhead_ms": {"median": round(statistics.median(over), 2), "p10": round(pct(over, 0.1), 2),
                               "p90": round(pct(over, 0.9), 2), "mean": round(statistics.mean(over), 2)},
               "phase_median_ms": {k: round(v, 2) for k, v in phases.items()},
               "model_median_ms": round(statistics.median(s["model"] * 1000 for s in model_steps), 3)}
    print(json.dumps(summary, indent=2))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"summary": summary, "steps": steps}, indent=1) + "\n")
    plot(phases, summary, args.out.with_suffix(".png"))
    print(f"wrote {args.out} and {args.out.with_suffix('.png')}")


def plot(phases: dict, summary: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.2))
    names = [p for p in PHASES if p != "model"]
    ax.barh(names, [phases[p] for p in names], color="#4a90c2")
    ax.set_xlabel("median ms per step")
    ax.set_title(f"agent overhead per step: median {summary['overhead_ms']['median']} ms "
                 f"({summary['steps']} steps)", fontsize=10)
    ax.invert_yaxis()
    fig.tight_layout()
    fig.savefig(path, dpi=120)


if __name__ == "__main__":
    main()
