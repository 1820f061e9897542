"""Trace files: scrubbed JSON lines, screenshots beside them, found by id or path."""
import json

import pytest

from llmos.agent.trace import Tracer, find_trace, read_trace
from llmos.agent.vault import Vault

from tests.agent.traces import PNG


def test_records_are_scrubbed_and_read_back(tmp_path):
    vault = Vault({"pw": "hunter22"})
    t = Tracer(tmp_path / "abc", scrub=vault.scrub)
    seconds = t.write({"kind": "step", "step": 1, "prompt": [{"content": "typed hunter22"}]})
    assert seconds >= 0
    name = t.save_screenshot(1, PNG)
    assert name == "step-0001.png" and (tmp_path / "abc" / name).read_bytes().startswith(b"\x89PNG")
    text = t.path.read_text()
    assert "hunter22" not in text and "{{secret:pw}}" in text
    (rec,) = read_trace(t.path)
    assert rec["kind"] == "step" and rec["time"] > 0


def test_find_trace_by_id_folder_or_file(tmp_path):
    t = Tracer(tmp_path / "s1")
    t.write({"kind": "session"})
    assert find_trace("s1", tmp_path) == t.path
    assert find_trace(str(tmp_path / "s1"), tmp_path / "elsewhere") == t.path
    assert find_trace(str(t.path), tmp_path) == t.path
    with pytest.raises(FileNotFoundError, match="no trace for 'nope'.*s1"):
        find_trace("nope", tmp_path)


def test_corrupt_trace_names_the_line(tmp_path):
    p = tmp_path / "trace.jsonl"
    p.write_text(json.dumps({"kind": "session"}) + "\n{broken\n")
    with pytest.raises(ValueError, match="trace.jsonl:2 is not a JSON line"):
        read_trace(p)
