"""`llmos agent` verbs: trace rendering from the command line, and their help."""
import pytest

from llmos.cli.main import main
from tests.agent.test_trace_view import sample_trace


def test_agent_trace_verb_renders_and_writes_html(tmp_path, capsys):
    sample_trace(tmp_path / "runs" / "s1")
    html = tmp_path / "view.html"
    assert main(["agent", "trace", "s1", "--trace-dir", str(tmp_path / "runs"), "--html", str(html)]) == 0
    out = capsys.readouterr().out
    assert "click(element=3)" in out and f"wrote {html}" in out
    assert html.read_text().startswith("<!doctype html>")


def test_agent_trace_verb_names_a_missing_session(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["agent", "trace", "nope", "--trace-dir", str(tmp_path)])
    assert "no trace for 'nope'" in capsys.readouterr().err


def test_agent_verbs_have_help(capsys):
    main(["agent", "--help"])
    out = capsys.readouterr().out
    assert "serve" in out and "trace" in out
    with pytest.raises(SystemExit):
        main(["agent", "serve", "--help"])
    assert "--base-url" in capsys.readouterr().out
