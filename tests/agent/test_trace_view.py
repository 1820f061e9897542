"""Trace views: the terminal table and the self-contained HTML page."""
import base64
import io

from rich.console import Console

from llmos.agent.trace import Tracer
from llmos.agent.trace_view import render_console, render_html
from tests.agent.test_trace import PNG


def sample_trace(folder):
    t = Tracer(folder)
    t.write({"kind": "session", "session": "s1", "input": "buy <socks>", "start_url": "http://a/",
             "backend": "scripted", "secret_names": ["card"]})
    t.write({"kind": "step", "session": "s1", "step": 1, "status": "ASK_USER", "message": "approval needed",
             "url": "http://a/", "action": {"type": "click", "element": 3, "thought": "buy it"},
             "verdict": {"action_class": "purchase", "decision": "ask", "reason": "purchase is 'ask'"},
             "prompt": [{"role": "user", "content": "TASK: buy socks"}], "model_output": ['{"type":"click"}'],
             "timings": {"total": 0.5, "model": 0.3}, "tokens": {"prompt": 10, "completion": 4},
             "screenshot": t.save_screenshot(1, PNG)})
    t.write({"kind": "step", "session": "s1", "step": 2, "status": "DONE", "message": "bought",
             "user_command": {"kind": "approve"}, "action": {"type": "click", "element": 3}})
    t.write({"kind": "closed", "reason": "closed"})
    return t.path


def test_console_view_shows_steps_verdicts_and_person(tmp_path):
    out = io.StringIO()
    render_console(sample_trace(tmp_path / "s1"), Console(file=out, width=160), full=True)
    text = out.getvalue()
    assert "buy <socks>" in text and "session s1" in text
    assert "click(element=3)" in text and "purchase: ask" in text and "thought: buy it" in text
    assert "[person: approve]" in text and "DONE" in text and "10/4" in text and "closed: closed" in text


def test_html_view_is_self_contained_and_escaped(tmp_path):
    page = render_html(sample_trace(tmp_path / "s1"))
    assert page.startswith("<!doctype html>") and "buy &lt;socks&gt;" in page
    assert f"data:image/png;base64,{PNG}" in page
    assert base64.b64decode(PNG) .startswith(b"\x89PNG")
    assert "<details><summary>prompt</summary>" in page and "(person: approve)" in page
    assert "src=\"http" not in page                     # nothing fetched from elsewhere
