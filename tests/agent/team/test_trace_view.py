"""`llmos agent trace` on a team run: who did what, each verification, each redo with its feedback."""
import io

from rich.console import Console

from llmos.agent.trace_view import render_console, render_html
from tests.agent.team.traces import team_trace


def test_console_shows_workers_verifications_and_redo_feedback(tmp_path):
    out = io.StringIO()
    render_console(team_trace(tmp_path), Console(file=out, width=200), full=True)
    text = out.getvalue()
    assert "plan my <trip>" in text and "alice" in text
    assert "verify: FAILED" in text and "verify: passed" in text
    assert "answer is 'seat 12A' but should contain '12C'" in text
    assert "corrections" in text and '"seat": "12C"' in text
    assert "#2 verify done -> verified" in text and "1 of 1 subtasks verified" in text
    assert "round 1" in text  # the progress ledger, shown with --full


def test_html_view_of_a_team_run(tmp_path):
    page = render_html(team_trace(tmp_path))
    assert "plan my &lt;trip&gt;" in page and "verify: FAILED" in page and "redo" in page
