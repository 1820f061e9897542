"""The request handle on its own: deltas in by `push`, cancel by callback, no engine needed."""
import asyncio
import threading

from llmos.infer.request import Delta, Request, RequestHandle, deliver
from llmos.infer.detokenize import StopStrings
from llmos.infer.sampling import GenerationConfig, make_generator


def request() -> Request:
    return Request([1, 2], GenerationConfig(), frozenset(), make_generator(0), None, StopStrings([]))


def test_pushed_deltas_reach_a_blocking_reader_and_cancel_calls_back():
    cancelled = []
    r = request()
    handle = RequestHandle(r, lambda: cancelled.append(r.id))
    r.tokens = [5, 6]
    threading.Thread(target=lambda: [handle.push(Delta("a", [5])), handle.push(Delta("b", [6], "stop"))]).start()
    result = handle.result()
    assert (result.text, result.token_ids, result.finish_reason) == ("ab", [5, 6], "stop")
    handle.cancel()                      # already done: no call
    assert cancelled == [] and handle.done
    live = RequestHandle(request(), lambda: cancelled.append("live"))
    live.cancel()
    assert cancelled == ["live"]


def test_deliver_wakes_each_event_loop_once_and_marks_closed_loops_cancelled():
    async def main():
        loop = asyncio.get_running_loop()
        a, b = RequestHandle(request(), lambda: None, loop), RequestHandle(request(), lambda: None, loop)
        assert deliver([(a, Delta("x", [1])), (b, Delta("y", [2], "length")), (a, Delta("z", [3], "stop"))])
        return [d.text async for d in a], [d.text async for d in b]

    assert asyncio.run(main()) == (["x", "z"], ["y"])
    closed = asyncio.new_event_loop()
    closed.close()
    h = RequestHandle(request(), lambda: None, closed)
    assert not deliver([(h, Delta("x", [1]))]) and h.request.cancelled
