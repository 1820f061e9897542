"""`llmos agent team` and `llmos agent trace` on a team run, from the command line."""
import pytest

from llmos.cli.main import main
from tests.agent.team.traces import team_trace


def test_agent_trace_shows_a_team_run(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")  # rich wraps to the terminal's width
    trace = team_trace(tmp_path)
    team_id = trace.split("/")[-2]
    assert main(["agent", "trace", team_id, "--trace-dir", str(tmp_path), "--html", str(tmp_path / "t.html")]) == 0
    out = capsys.readouterr().out
    assert f"team {team_id}" in out and "alice" in out and "verify: FAILED" in out
    assert "redo" in out and "1 of 1 subtasks verified" in out
    assert "verify: FAILED" in (tmp_path / "t.html").read_text()


def test_agent_team_refuses_unknown_or_clashing_faults(capsys):
    with pytest.raises(SystemExit):
        main(["agent", "team", "--faults", "wrong"])
    assert "unknown ['wrong']; choose from date, seat, price_cap, card_type" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["agent", "team", "--faults", "date", "seat"])
    assert "one fault per subtask" in capsys.readouterr().err
