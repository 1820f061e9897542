"""Trace views: the terminal table and the self-contained HTML page."""
import base64
import io
import re

from rich.console import Console

from llmos.agent.trace_view import render_console, render_html
from tests.agent.traces import PNG_BYTES, sample_trace


def test_console_view_shows_steps_verdicts_and_person(tmp_path):
    out = io.StringIO()
    render_console(sample_trace(tmp_path / "s1"), Console(file=out, width=160), full=True)
    text = out.getvalue()
    assert "buy <socks>" in text and "session s1" in text
    assert "click(element=3)" in text and "purchase: ask" in text and "thought: buy it" in text
    assert "[person: approve]" in text and "DONE" in text and "10/4" in text and "closed: closed" in text


def test_html_view_is_self_contained_and_escaped(tmp_path):
    path = sample_trace(tmp_path / "s1")
    page = render_html(path)
    assert page.startswith("<!doctype html>") and "buy &lt;socks&gt;" in page
    # the screenshot is embedded from the file the tracer saved beside the trace, byte for byte
    embedded = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)
    assert len(embedded) == 1 and base64.b64decode(embedded[0]) == PNG_BYTES
    assert (tmp_path / "s1" / "step-0001.png").read_bytes() == PNG_BYTES
    assert "<details><summary>prompt</summary>" in page and "(person: approve)" in page
    assert "src=\"http" not in page                     # nothing fetched from elsewhere
