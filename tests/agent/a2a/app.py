"""A scripted llmos agent behind `create_agent_app(..., a2a=URL)`, run in its own process by the A2A tests.

    python -m tests.agent.a2a.app PORT TRACE_DIR

The scripted model reads the task: "say hello" finishes at once; "ask" asks the
person which seat and finishes with their answer; "buy" clicks a purchase
button (the policy asks the person); "compute" runs code once the caller
approves it; "slow" keeps scrolling until cancelled;
"give up" fails.
"""
import sys
import time
from pathlib import Path

import uvicorn

from llmos.agent.backends import ScriptedBackend
from llmos.agent.server import create_agent_app
from llmos.agent.service import Agent, AgentConfig
from llmos.agent.views import AskUserAction, DoneAction, NavigateAction, RunCodeAction, ScrollAction


def decide(request):
    ctx = request.context
    task = ctx.task.lower()
    if "slow" in task:
        time.sleep(0.2)
        return ScrollAction(direction="down" if ctx.step % 2 else "up", pages=0.5 + (ctx.step % 7) / 10)
    if "say hello" in task:
        return DoneAction(answer="hello from the A2A worker")
    if "give up" in task:
        return DoneAction(success=False, answer="I cannot do that")
    if "ask" in task:
        answered = [n for n in ctx.notes if "They answered" in n]
        if answered:
            return DoneAction(answer="seat chosen: " + answered[-1].split("They answered: ")[-1].strip("'\""))
        return AskUserAction(question="Which seat do you want, aisle or window?")
    if "compute" in task:   # run_code is 'ask' by default: the caller must approve it
        if not ctx.history:
            return RunCodeAction(code="print(6 * 7)")
        return DoneAction(answer="computed: " + ctx.history[-1].outcome)
    return NavigateAction(url="about:blank")


if __name__ == "__main__":
    port, trace_dir = int(sys.argv[1]), Path(sys.argv[2])
    agent = Agent(ScriptedBackend(decide, name="scripted-a2a"), AgentConfig(trace_dir=trace_dir))
    agent.close(agent.create("start the browser").id)  # Chromium up before the first request
    app = create_agent_app(agent, sweep_every_s=None, a2a=f"http://127.0.0.1:{port}")
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")
