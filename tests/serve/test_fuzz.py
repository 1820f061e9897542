"""Schemathesis fuzzes the live API from its own OpenAPI schema: no input is a server error.

Slow (hundreds of generated requests); `bench/serve_fuzz.py` runs the long
version and counts the cases. The error table in test_errors.py covers the
same validation in the default run.
"""
import json
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.mark.slow
def test_no_generated_input_is_a_server_error(server, tmp_path):
    cli = Path(sys.executable).parent / "schemathesis"
    report = tmp_path / "report.json"
    run = subprocess.run([str(cli), "run", f"{server}/openapi.json", "--checks", "not_a_server_error",
                          "--max-examples", "40", "--phases", "coverage,fuzzing", "--seed", "1",
                          "--request-timeout", "60", "--report", "json", "--report-json-path", str(report)],
                         capture_output=True, text=True, cwd=tmp_path, timeout=900)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    summary = json.loads(report.read_text())
    ops, cases = summary["operations"], summary["test_cases"]
    assert ops["tested"] == ops["selected"] >= 4                    # every route was exercised
    assert cases["generated"] >= 2 * ops["tested"]                  # more than one input per route
    assert cases["with_failures"] == 0 and cases["errored"] == 0 and summary["failures"] == []
