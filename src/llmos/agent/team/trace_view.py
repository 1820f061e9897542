"""A team run's trace, read back: who did what, each verification, each redo with its feedback.

`llmos agent trace TEAM_ID` lands here when the trace's first record is a
`team` record (see `llmos.agent.trace_view`). The table has one row per
event in time order: protocol transitions (with the worker and attempt),
verifications (each condition, and whether a program or the verifier model
judged it), redos (plan, feedback, corrections), the person's escalations,
progress-ledger rounds and replans; then the honest summary.
"""
from __future__ import annotations

import html
import json
from pathlib import Path

from rich.console import Console
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

STATE_STYLE = {"verified": "green", "failed": "red", "redo": "yellow", "escalated": "magenta",
               "assigned": "cyan", "done": "blue", "verify done": "blue", "not done": "dim"}


def event_rows(records: list[dict]) -> list[tuple[str, str, str, str]]:
    """(subtask, who, what, detail) per event, in trace order."""
    rows = []
    for r in records:
        kind = r.get("kind")
        if kind == "transition":
            who = r.get("worker") or "manager"
            what = f"{r['from']} -> {r['to']}"
            detail = r.get("detail", "")
            data = r.get("data") or {}
            if r["to"] == "redo":
                detail = (f"plan: {data.get('plan', '')}\nfeedback: " + " | ".join(data.get("feedback", []))
                          + (f"\ncorrections: {json.dumps(data.get('corrections'))}" if data.get("corrections") else ""))
                who = "manager"
            elif r["to"] in ("verify done", "verified", "escalated", "not done"):
                who = "person" if data.get("by") == "person" else "manager"
            elif r["to"] == "done" and data.get("session"):
                detail += f"\nsession {data['session']} · {data.get('steps', '?')} steps · trace {data.get('trace', '')}"
            rows.append((r["subtask"], who, f"#{r.get('attempt', '')} {what}", detail))
        elif kind == "verify":
            lines = [f"{'ok ' if c['ok'] else 'NO '} [{c['how']}] {c['condition']}: {c['reason']}"
                     for c in r.get("results", [])]
            rows.append((r["subtask"], "manager", f"#{r.get('attempt', '')} verify: "
                         + ("passed" if r.get("ok") else "FAILED"), "\n".join(lines)))
        elif kind == "ledger":
            flags = [f"satisfied={r['satisfied']}", f"loop={r['in_loop']}", f"progress={r['progress']}",
                     f"stalled={r['stalled_rounds']}"] + (["REPLAN"] if r.get("replan") else [])
            rows.append(("-", "ledger", f"round {r['round']}", " ".join(flags) + f"\nnext: {r['next_instruction']}"))
        elif kind == "replan":
            rows.append((r["subtask"], "manager", "replan", r.get("instruction", "")))
    return rows


def render_team_console(records: list[dict], console: Console, full: bool = False) -> None:
    head = records[0]
    console.print(Panel(Text(head.get("input", "?")), title=f"team {head.get('team', '?')}",
                        subtitle=f"workers {', '.join(head.get('workers', []))} · "
                                 f"{'parallel' if head.get('parallel') else 'serial'} · "
                                 f"max redos {head.get('max_redos')}"))
    table = Table(expand=True, show_lines=full)
    for name, kw in (("subtask", {"no_wrap": True}), ("who", {"no_wrap": True}),
                     ("event", {"ratio": 2}), ("detail", {"ratio": 5, "overflow": "fold"})):
        table.add_column(name, **kw)
    for sub, who, what, detail in event_rows(records):
        if who == "ledger" and not full:
            continue
        state = what.split("-> ")[-1] if "->" in what else ""
        style = STATE_STYLE.get(state, "red" if "FAILED" in what else "")
        table.add_row(Text(sub), Text(who), Text(what, style=style), Text(detail if full else detail[:400]))
    console.print(table)
    result = next((r for r in records if r.get("kind") == "result"), None)
    if result:
        console.print(Text(result["summary"], style="green" if result.get("ok") else "red"))
        console.print(Text(f"{result.get('seconds', 0):.2f} s", style="dim"))
    else:
        console.print(Text("the run has no result record: it was interrupted", style="red"))


def render_team_html(records: list[dict], path: Path) -> str:
    e = html.escape
    head = records[0]
    rows = "".join(f"<tr><td>{e(s)}</td><td>{e(w)}</td><td>{e(what)}</td><td><pre>{e(d)}</pre></td></tr>"
                   for s, w, what, d in event_rows(records))
    result = next((r for r in records if r.get("kind") == "result"), {"summary": "interrupted: no result"})
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>llmos team trace {e(head.get('team', ''))}"
            "</title><style>body{font:14px system-ui,sans-serif;margin:2em}td{vertical-align:top;"
            "border-bottom:1px solid #ddd;padding:.3em}pre{white-space:pre-wrap;margin:0}</style></head><body>"
            f"<h1>{e(head.get('input', ''))}</h1><p>team {e(str(head.get('team')))} · workers "
            f"{e(', '.join(head.get('workers', [])))}</p><table><tr><th>subtask</th><th>who</th><th>event</th>"
            f"<th>detail</th></tr>{rows}</table><pre>{e(result['summary'])}</pre></body></html>")
