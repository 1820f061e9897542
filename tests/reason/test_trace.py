from llmos.reason import CoT, ScriptedBackend
from llmos.reason.trace import Trace


def test_trace_records_calls_prints_and_round_trips_through_json(tmp_path):
    r = CoT().solve("2+2?", ScriptedBackend(["2+2=4. The answer is 4."]))
    call = r.trace.calls[0]
    assert call.index == 1 and call.purpose == "chain" and call.outputs == ["2+2=4. The answer is 4."]
    text = r.trace.render(prompts=True)
    assert "2+2=4" in text and "answer: 4" in text and "Let's think step by step." in text
    path = r.trace.save(tmp_path / "t.json")
    back = Trace.load(path)
    assert back.calls[0].outputs == call.outputs and back.answer == "4" and back.spent["calls"] == 1
