"""`llmos agent serve | trace | bench`: the agent from the command line."""
from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Literal

import httpx

from llmos.config import ConfigError


def _api_key(api_key: str | None) -> str | None:
    return api_key or os.environ.get("LLMOS_API_KEY") or os.environ.get("OPENAI_API_KEY")


def resolve_model(base_url: str, model: str, api_key: str | None) -> str:
    """`auto` picks the first model the endpoint lists at /v1/models."""
    if model != "auto":
        return model
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    try:
        r = httpx.get(base_url.rstrip("/") + "/models", headers=headers, timeout=10)
        r.raise_for_status()
        return r.json()["data"][0]["id"]
    except (httpx.HTTPError, KeyError, IndexError, ValueError) as e:
        raise ConfigError(f"--model auto: cannot list models at {base_url}/models ({e}); start the "
                          "model server (e.g. `llmos serve RUN`) or name the model with --model") from None


def _agent_config(trace_dir: Path, overrides: list[str]):
    from llmos.agent.service import AgentConfig
    from llmos.config import override

    return override(AgentConfig(trace_dir=trace_dir), overrides)


def serve(base_url: str = "http://127.0.0.1:8000/v1", model: str = "auto", api_key: str | None = None,
          host: str = "127.0.0.1", port: int = 8765, trace_dir: Path = Path("runs/agent"),
          overrides: list[str] | None = None, a2a: bool = False, memory_dir: Path | None = None,
          memory_key: str | None = None) -> int:
    """Serve the agent's Action API over HTTP (sessions that work a real browser).

    Routes: POST /v1/sessions, GET /v1/sessions[/ID], POST /v1/sessions/ID/step,
    POST /v1/sessions/ID/run, DELETE /v1/sessions/ID, GET /v1/sessions/ID/trace[.html].
    Anyone who can reach the server can drive the browser: keep it on 127.0.0.1.

    Args:
        base_url: the model's OpenAI-compatible endpoint, ending in /v1 (`llmos serve` or any other).
        model: the model's name at that endpoint; `auto` takes the first one it lists.
        api_key: the endpoint's key (default: $LLMOS_API_KEY, then $OPENAI_API_KEY).
        host: address to listen on.
        port: TCP port.
        trace_dir: where each session's trace folder goes.
        overrides: agent settings, e.g. idle_timeout_s=600 browser.max_elements=100 loop.max_parse_retries=1.
        a2a: also speak A2A: the Agent Card at /.well-known/agent-card.json, JSON-RPC at /a2a
            (SendMessage, SendStreamingMessage, GetTask, CancelTask), so other agents can hire this one.
        memory_dir: keep each person's long-term memory here (one file per person; a session names its
            person in options.person) and serve the /memory page, where the person sees, searches,
            corrects, deletes and exports it.
        memory_key: the key the /memory page asks for (default: $LLMOS_AGENT_KEY, else a fresh one,
            printed at start).
    """
    import uvicorn

    from llmos.agent.backends import OpenAIBackend
    from llmos.agent.server import create_agent_app
    from llmos.agent.service import Agent

    key = _api_key(api_key)
    backend = OpenAIBackend(base_url, resolve_model(base_url, model, key), key)
    bank, hooks = None, []
    if memory_dir is not None:
        import secrets

        from llmos.agent.memory.hooks import MemoryBank, MemoryHooks
        from llmos.agent.memory.page import mount_memory

        bank = MemoryBank(memory_dir)
        hooks = [MemoryHooks(bank)]
        memory_key = memory_key or os.environ.get("LLMOS_AGENT_KEY") or secrets.token_urlsafe(16)
        print(f"llmos agent: memory page at http://{host}:{port}/memory?key={memory_key}", file=sys.stderr)
    agent = Agent(backend, _agent_config(trace_dir, overrides or []), hooks=hooks)
    if host not in ("127.0.0.1", "localhost", "::1"):
        print(f"warning: listening on {host}; anyone who reaches it can drive this browser",
              file=sys.stderr)
    print(f"llmos agent: http://{host}:{port}/v1/sessions  (model {backend.model} at {base_url})",
          file=sys.stderr)
    try:
        a2a_url = f"http://{host}:{port}" if a2a else None
        app = create_agent_app(agent, a2a=a2a_url)
        if bank is not None:
            mount_memory(app, bank, memory_key)
        uvicorn.run(app, host=host, port=port, log_level="warning")
    finally:
        agent.shutdown()
    return 0


def trace(session: str, trace_dir: Path = Path("runs/agent"), html: Path | None = None,
          full: bool = False) -> int:
    """Show a session's trace: each step's action, policy verdict, result and timings.

    Args:
        session: a session id (looked up in --trace-dir), a session folder, or a trace.jsonl file.
        trace_dir: where session traces are kept.
        html: also write a self-contained HTML view (screenshots embedded) to this file.
        full: show thoughts and raw model output too.
    """
    from llmos.agent.trace import find_trace
    from llmos.agent.trace_view import render_console, render_html
    from llmos.config import atomic_write_text

    try:
        path = find_trace(session, trace_dir)
    except FileNotFoundError as e:
        raise ConfigError(str(e)) from None
    render_console(path, full=full)
    if html is not None:
        atomic_write_text(html, render_html(path))
        print(f"wrote {html}")
    return 0


def bench(model: str = "oracle", base_url: str = "http://127.0.0.1:8000/v1", api_key: str | None = None,
          tasks: list[str] | None = None, output: Path = Path("bench/results/agent_suite.json"),
          trace_dir: Path | None = None, max_seconds: float = 300.0, split: list[str] | None = None,
          n: int = 24, seed: int = 1000, choose: Literal["decode", "score"] = "decode") -> int:
    """Run the local web task suite with a model; report success rate, steps and time per task.

    Each task runs in its own agent session (one shared Chromium) against the
    suite's sites on 127.0.0.1; success is judged from the sites' state.

    Args:
        model: `oracle` (the scripted oracle, which should solve every task), a model name at
            --base-url (`auto` takes the first one the endpoint lists), or the folder of a policy
            trained by `llmos agent train` (e.g. runs/agent), run in process with no network; with
            no --tasks it runs on the generated held-out splits beside the oracle.
        base_url: the model's OpenAI-compatible endpoint, ending in /v1.
        api_key: the endpoint's key (default: $LLMOS_API_KEY, then $OPENAI_API_KEY).
        tasks: task ids or site names (flights, shop, forms) to run; default all.
        output: where the JSON report goes.
        trace_dir: keep each task's session trace here (default: a temporary folder).
        max_seconds: wall-time limit per task.
        split: with a trained policy: generated splits to run (held_out_values, held_out_templates,
            train); default both held-out splits.
        n: with a trained policy: variants per split.
        seed: with a trained policy: the seed the split's variants are drawn with.
        choose: with a trained policy: `score` (the best of every offered action, each scored whole)
            or `decode` (token by token under the action schema).
    """
    from llmos.agent.backends import OpenAIBackend
    from llmos.agent.service import AgentConfig
    from llmos.agent.suite.bench import format_report, oracle_backend, run_suite
    from llmos.agent.suite.tasks import load_tasks

    chosen = load_tasks()
    if tasks:
        known = {t.id for t in chosen} | {t.site for t in chosen}
        if unknown := [t for t in tasks if t not in known]:
            raise ConfigError(f"--tasks: unknown {unknown}; use task ids or sites "
                              f"({', '.join(sorted({t.site for t in chosen}))})")
        chosen = [t for t in chosen if t.id in tasks or t.site in tasks]
    policy_dir = model != "oracle" and Path(model).is_dir()
    if policy_dir and not tasks:
        from llmos.agent.learn.cli import bench_policy_cli
        return bench_policy_cli(Path(model), split or ["held_out_values", "held_out_templates"], n, seed,
                                output if output != Path("bench/results/agent_suite.json")
                                else Path("bench/results/agent_policy.json"), choose=choose)
    if model == "oracle":
        backend = oracle_backend
    elif policy_dir:
        from llmos.agent.learn.cli import _policy
        backend = _policy(Path(model), choose)
    else:
        key = _api_key(api_key)
        backend = OpenAIBackend(base_url, resolve_model(base_url, model, key), key)
    config = AgentConfig(trace_dir=trace_dir) if trace_dir is not None else None
    report = run_suite(backend, chosen, agent_config=config, max_seconds=max_seconds)
    print(format_report(report))
    print(f"wrote {report.save(output)}")
    return 0
