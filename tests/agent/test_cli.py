"""`llmos agent` verbs: trace rendering from the command line, and their help."""
import pytest

from llmos.cli.command import parse_docstring
from llmos.cli.main import load_target, main
from llmos.cli.verbs import VERBS
from tests.agent.traces import sample_trace


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
    assert "(unavailable" not in out
    for verb, target in VERBS["agent"].items():   # each listed with its own summary: its target loaded
        assert f"  {verb}" in out and parse_docstring(load_target(target).__doc__)[0] in out
    with pytest.raises(SystemExit):
        main(["agent", "serve", "--help"])
    assert "--base-url" in capsys.readouterr().out


@pytest.mark.browser
def test_agent_bench_verb_runs_suite_tasks_and_saves_a_report(tmp_path, capsys):
    import json

    out = tmp_path / "report.json"
    assert main(["agent", "bench", "--tasks", "shop-price-question", "--output", str(out),
                 "--trace-dir", str(tmp_path / "traces")]) == 0
    printed = capsys.readouterr().out
    assert "oracle: 1/1 tasks solved (100.0%)" in printed
    report = json.loads(out.read_text())
    assert report["summary"]["success_rate"] == 1.0 and report["runs"][0]["task"] == "shop-price-question"
    assert list((tmp_path / "traces").glob("*/trace.jsonl"))
    with pytest.raises(SystemExit):
        main(["agent", "bench", "--tasks", "nope"])
    assert "unknown ['nope']" in capsys.readouterr().err
