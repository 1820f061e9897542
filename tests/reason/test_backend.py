import pytest

from llmos.reason import BackendError, Budget, CoT, Params, ScriptedBackend, SelfConsistency
from llmos.reason.few_shot import FewShot


def test_a_failing_backend_names_the_backend_and_the_call():
    backend = ScriptedBackend([ConnectionError("connection refused")], name="flaky")
    with pytest.raises(BackendError) as e:
        CoT().solve("What is 2+2?", backend)
    msg = str(e.value)
    assert "backend flaky" in msg and "completion call" in msg and "What is 2+2?" in msg
    assert "connection refused" in msg and "call #1" in msg


def test_wrong_sample_count_and_bad_params_are_refused():
    with pytest.raises(BackendError, match="2 samples"):
        ScriptedBackend([["a"]]).complete("x", Params(n=2))
    with pytest.raises(ValueError, match="n must be >= 1"):
        Params(n=0)
    with pytest.raises(ValueError, match="non-empty list"):
        ScriptedBackend(["a"]).chat([])


def test_chat_mode_sends_the_prompt_as_a_user_message():
    backend = ScriptedBackend(["The answer is 4."])
    CoT().solve("2+2?", backend, mode="chat")
    assert backend.calls[0].kind == "chat" and backend.calls[0].prompt[0]["role"] == "user"


def test_budget_of_calls_stops_with_the_best_answer_so_far_marked_cut_short():
    from llmos.reason import Socratic
    backend = ScriptedBackend(["The answer is 4.", "The answer is 5.", "The answer is 4.", "The answer is 4."])
    r = SelfConsistency(Socratic(max_depth=0), k=4).solve("q", backend, budget=Budget(max_calls=2))
    assert len(backend.calls) == 2
    assert r.cut_short and "2 model calls" in r.trace.cut_short
    assert r.answer in ("4", "5") and r.trace.spent["calls"] == 2
    assert "CUT SHORT" in r.trace.render()


def test_token_budget_caps_max_tokens_and_then_stops():
    backend = ScriptedBackend(["one two three four five", "six"])
    r = FewShot().solve("q", backend, budget=Budget(max_tokens=3))
    assert backend.calls[0].params.max_tokens == 3
    r2 = SelfConsistency(FewShot(), k=2).solve("q", ScriptedBackend(["a b c 7", "8"]), budget=Budget(max_tokens=3))
    assert r2.cut_short and r2.answer == "7"
    assert r.trace.spent["tokens"] == 5


def test_empty_question_is_refused():
    with pytest.raises(ValueError, match="question is empty"):
        CoT().solve("  ", ScriptedBackend([]))
