"""Trace files for the tests of the trace views and the `llmos agent trace` verb (not a test module)."""
import base64

from llmos.agent.trace import Tracer

PNG_BYTES = b"\x89PNG\r\n\x1a\nfake"
PNG = base64.b64encode(PNG_BYTES).decode()     # a screenshot as the browser hands it over


def sample_trace(folder):
    t = Tracer(folder)
    t.write({"kind": "session", "session": "s1", "input": "buy <socks>", "start_url": "http://a/",
             "backend": "scripted", "secret_names": ["card"]})
    t.write({"kind": "step", "session": "s1", "step": 1, "status": "ASK_USER", "message": "approval needed",
             "url": "http://a/", "action": {"type": "click", "element": 3, "thought": "buy it"},
             "verdict": {"action_class": "purchase", "decision": "ask", "reason": "purchase is 'ask'"},
             "prompt": [{"role": "user", "content": "TASK: buy socks"}], "model_output": ['{"type":"click"}'],
             "timings": {"total": 0.5, "model": 0.3}, "tokens": {"prompt": 10, "completion": 4},
             "screenshot": t.save_screenshot(1, PNG)})
    t.write({"kind": "step", "session": "s1", "step": 2, "status": "DONE", "message": "bought",
             "user_command": {"kind": "approve"}, "action": {"type": "click", "element": 3}})
    t.write({"kind": "closed", "reason": "closed"})
    return t.path
