"""`llmos agent team`: a manager and three workers do the suite's composite trip errand."""
from __future__ import annotations

from pathlib import Path

from llmos.config import ConfigError


def team(faults: list[str] | None = None, serial: bool = False, max_redos: int = 2,
         on_redo_limit: str = "ask", trace_dir: Path = Path("runs/agent"), latency: float = 0.0) -> int:
    """Run the trip errand with a team: book a flight, buy a travel adapter, apply for a library card.

    A manager splits the errand among three workers (each a scripted oracle agent in its own
    Chromium, on the local suite's sites), verifies every claimed "done" against the subtask's spec
    by reading the sites' own records, and sends a redo with feedback when a check fails. Prints the
    honest summary; `llmos agent trace TEAM_ID` then shows who did what, each check and each redo.

    Args:
        faults: first-attempt mistakes to inject: date, seat (flight), price_cap (adapter),
            card_type (library card).
        serial: one worker doing the subtasks one after another, instead of three at once.
        max_redos: redo rounds per subtask before the limit.
        on_redo_limit: past the limit, `ask` the person (here: the answer is no) or `fail`.
        trace_dir: where the team trace and the workers' session traces go.
        latency: seconds added to each worker step, standing in for a real model's think time.
    """
    from llmos.agent.suite.errand import (FAULTS, SuiteRecords, errand_plan, oracle_worker_backend,
                                          worker_options)
    from llmos.agent.suite.server import SuiteServer
    from llmos.agent.team.manager import Manager, TeamConfig
    from llmos.agent.team.worker import LocalWorker

    if unknown := [f for f in faults or [] if f not in FAULTS]:
        raise ConfigError(f"--faults: unknown {unknown}; choose from {', '.join(FAULTS)}")
    if on_redo_limit not in ("ask", "fail"):
        raise ConfigError(f"--on-redo-limit must be ask or fail, not {on_redo_limit!r}")
    injected = {FAULTS[f][0]: FAULTS[f][1] for f in faults or []}
    if len(injected) < len(faults or []):
        raise ConfigError("--faults: one fault per subtask (date and seat both belong to the flight)")
    cfg = TeamConfig(max_redos=max_redos, on_redo_limit=on_redo_limit, parallel=not serial,
                     trace_dir=trace_dir)
    with SuiteServer() as suite:
        workers = [LocalWorker(f"w{i + 1}", oracle_worker_backend(injected, latency), trace_dir / "workers",
                               worker_options(suite.host)) for i in range(1 if serial else 3)]
        try:
            result = Manager(workers, config=cfg, records=SuiteRecords(suite.base_url)).run(
                errand_plan(suite.base_url))
        finally:
            for w in workers:
                w.close()
    print(result.summary())
    print(f"{result.seconds:.1f} s · trace: llmos agent trace {result.team} --trace-dir {trace_dir}")
    return 0 if result.ok else 1
