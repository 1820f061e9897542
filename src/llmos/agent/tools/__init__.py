"""Tools the agent can call: typed functions whose signatures and docstrings describe them.

`run_code` runs Python in a kernel-confined process (no network, no writes
outside its scratch directory, time/memory/output limits); see
`code_runner.py` for the limits and `sandbox.py` for how they are enforced.
"""
from llmos.agent.tools.code_runner import CodeLimits, CodeResult, SandboxUnavailable, run_code

__all__ = ["run_code", "CodeResult", "CodeLimits", "SandboxUnavailable"]
