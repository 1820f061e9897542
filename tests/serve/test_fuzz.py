"""Schemathesis fuzzes the live API from its own OpenAPI schema: no input is a server error.

Slow (hundreds of generated requests); `bench/serve_fuzz.py` runs the long
version and counts the cases. The error table in test_errors.py covers the
same validation in the default run.
"""
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.mark.slow
def test_no_generated_input_is_a_server_error(server, tmp_path):
    cli = Path(sys.executable).parent / "schemathesis"
    run = subprocess.run([str(cli), "run", f"{server}/openapi.json", "--checks", "not_a_server_error",
                          "--max-examples", "40", "--phases", "coverage,fuzzing", "--seed", "1",
                          "--request-timeout", "60"], capture_output=True, text=True, cwd=tmp_path, timeout=900)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert "generated" in run.stdout
