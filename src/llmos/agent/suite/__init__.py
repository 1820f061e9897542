"""A local web task suite: small sites on 127.0.0.1, tasks, and checks of their state.

Three sites (SkyLark Air flight booking, the Corner Shop, Civic Forms) served by
one in-process app (`SuiteServer`), 34 tasks with programmatic success checks
(`tasks.json`, `checks.py`), and a scripted oracle that solves them through the
agent's Action API (`oracle.py`, `bench.py`). Agents are tested and benchmarked
on it without the internet.
"""
from llmos.agent.suite.checks import CheckResult, run_check
from llmos.agent.suite.server import SuiteServer
from llmos.agent.suite.tasks import SECRETS, Task, TaskError, get_task, load_tasks

__all__ = ["SuiteServer", "Task", "TaskError", "load_tasks", "get_task", "run_check",
           "CheckResult", "SECRETS"]
