"""Reading a session trace: in the terminal (rich) or as one HTML file.

The HTML view is self-contained: screenshots are embedded as base64 data
URLs, so the file can be mailed or archived on its own. Both views show, per
step: status, the action and its policy verdict, the result message, timings
(model vs. the rest) and tokens; the prompt and raw model output are folded
away (`<details>`) in HTML and shown with `--full` in the terminal.
"""
from __future__ import annotations

import base64
import html
import json
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from llmos.agent.trace import read_trace
from llmos.agent.views import parse_action

STATUS_STYLE = {"CONTINUE": "cyan", "DONE": "green", "ASK_USER": "yellow", "FAILED": "red"}


def _action_text(action: dict | None) -> str:
    if not action:
        return "-"
    try:  # show only what differs from the defaults: type(element=3, text="x")
        action = parse_action(action).model_dump(mode="json", exclude_defaults=True) | {"type": action["type"]}
    except ValueError:
        pass
    body = {k: v for k, v in action.items() if k not in ("type", "thought")}
    args = ", ".join(f"{k}={json.dumps(v)}" for k, v in body.items())
    return f"{action['type']}({args})"


def _verdict_text(verdict: dict | None) -> str:
    if not verdict:
        return ""
    return f"{verdict['action_class']}: {verdict['decision']}"


def _timing_text(t: dict | None) -> str:
    if not t:
        return ""
    return f"{t.get('total', 0):.2f}s (model {t.get('model', 0):.2f}s)"


def render_console(path: Path, console: Console | None = None, full: bool = False) -> None:
    console = console or Console()
    records = read_trace(path)
    if records and records[0].get("kind") == "team":  # a manager and its workers
        from llmos.agent.team.trace_view import render_team_console
        return render_team_console(records, console, full)
    head = next((r for r in records if r.get("kind") == "session"), {})
    steps = [r for r in records if r.get("kind") == "step"]
    console.print(Panel(Text(head.get("input", "?")),
                        title=f"session {head.get('session', '?')}",
                        subtitle=f"{head.get('start_url') or 'no start url'} · {head.get('backend', '?')}"))
    table = Table(show_lines=full, expand=True)
    table.add_column("#", no_wrap=True)
    table.add_column("status", no_wrap=True)
    table.add_column("action", overflow="fold", ratio=3)
    table.add_column("policy", overflow="fold", ratio=1)
    table.add_column("result", overflow="fold", ratio=3)
    table.add_column("time", overflow="fold", ratio=1)
    table.add_column("tokens", no_wrap=True)
    for r in steps:
        tok = r.get("tokens") or {}
        action = _action_text(r.get("action"))
        if r.get("user_command"):
            action = f"[person: {r['user_command']['kind']}] " + action
        thought = (r.get("action") or {}).get("thought")
        if full and thought:
            action += f"\n  thought: {thought}"
        result = r.get("message", "")
        if full and r.get("model_output"):
            result += "\n  model: " + " | ".join(o[:300] for o in r["model_output"])
        # Text(), not str: page and model text must never be read as rich markup.
        table.add_row(str(r.get("step")), Text(r.get("status", ""), style=STATUS_STYLE.get(r.get("status"), "")),
                      Text(action), Text(_verdict_text(r.get("verdict"))), Text(result[:2000 if full else 200]),
                      _timing_text(r.get("timings")),
                      f"{tok.get('prompt', 0)}/{tok.get('completion', 0)}" if tok else "")
    console.print(table)
    for r in records:
        if r.get("kind") == "closed":
            console.print(Text(f"closed: {r.get('reason')}", style="dim"))


def _img(folder: Path, name: str | None) -> str:
    if not name or not (folder / name).is_file():
        return ""
    data = base64.b64encode((folder / name).read_bytes()).decode()
    return f'<img alt="screenshot of step" src="data:image/png;base64,{data}">'


def _pre(obj: Any) -> str:
    text = obj if isinstance(obj, str) else json.dumps(obj, indent=2, ensure_ascii=False)
    return f"<pre>{html.escape(text)}</pre>"


CSS = """body{font:14px system-ui,sans-serif;margin:2em;max-width:1100px}
.step{border:1px solid #ccc;border-radius:6px;margin:1em 0;padding:.6em 1em}
.CONTINUE{border-left:6px solid #39c}.DONE{border-left:6px solid #3a3}
.ASK_USER{border-left:6px solid #db3}.FAILED{border-left:6px solid #d33}
pre{background:#f6f6f6;padding:.5em;white-space:pre-wrap;max-height:30em;overflow:auto}
img{max-width:100%;border:1px solid #ddd;margin-top:.5em}.meta{color:#666}"""


def render_html(path: Path | str) -> str:
    """A self-contained HTML page for one trace (screenshots embedded)."""
    path = Path(path)
    records = read_trace(path)
    if records and records[0].get("kind") == "team":
        from llmos.agent.team.trace_view import render_team_html
        return render_team_html(records, path)
    head = next((r for r in records if r.get("kind") == "session"), {})
    e = html.escape
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>llmos agent trace "
             f"{e(str(head.get('session', '')))}</title><style>{CSS}</style></head><body>",
             f"<h1>{e(head.get('input', ''))}</h1><p class='meta'>session {e(str(head.get('session')))}"
             f" · start {e(str(head.get('start_url')))} · model {e(str(head.get('backend')))}"
             f" · secrets: {e(', '.join(head.get('secret_names', [])) or 'none')}</p>"]
    for r in records:
        if r.get("kind") == "closed":
            parts.append(f"<p class='meta'>closed: {e(str(r.get('reason')))}</p>")
        if r.get("kind") != "step":
            continue
        status = r.get("status", "")
        person = f" (person: {e(r['user_command']['kind'])})" if r.get("user_command") else ""
        parts.append(f"<div class='step {e(status)}'><h3>Step {r.get('step')}: {e(status)}{person}</h3>"
                     f"<p><b>action</b> <code>{e(_action_text(r.get('action')))}</code>"
                     f" <b>policy</b> {e(_verdict_text(r.get('verdict')))}"
                     f"{' · ' + e(r['verdict']['reason']) if r.get('verdict') else ''}</p>"
                     f"<p><b>result</b> {e(r.get('message', ''))}</p>"
                     f"<p class='meta'>{e(r.get('url', ''))} · {e(_timing_text(r.get('timings')))}"
                     f" · tokens {e(json.dumps(r.get('tokens') or {}))}</p>")
        if r.get("prompt"):
            parts.append("<details><summary>prompt</summary>"
                         + "".join(f"<b>{e(m['role'])}</b>{_pre(m['content'])}" for m in r["prompt"])
                         + "</details>")
        if r.get("model_output"):
            parts.append("<details><summary>model output</summary>"
                         + "".join(_pre(o) for o in r["model_output"]) + "</details>")
        parts.append(_img(path.parent, r.get("screenshot")) + "</div>")
    parts.append("</body></html>")
    return "\n".join(parts)
