"""Tools the agent can call: typed functions whose signatures and docstrings describe them.

`run_code` runs Python in a kernel-confined process (no network, no writes
outside its scratch directory, time/memory/output limits) and returns a
`CodeResult`; `run_python` is the same with only model-friendly arguments and a
text answer, for a tool registry. `code_runner.py` holds the limits,
`sandbox.py` and `confine.py` how the kernel enforces them.
"""
from llmos.agent.tools.code_runner import (CodeLimits, CodeResult, SandboxUnavailable, run_code,
                                           run_python)

__all__ = ["run_code", "run_python", "CodeResult", "CodeLimits", "SandboxUnavailable"]
