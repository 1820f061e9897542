from llmos.reason import ScriptedBackend, SelfRefine


def test_generate_feedback_refine_until_the_feedback_finds_no_issues():
    backend = ScriptedBackend(["2+2=5. The answer is 5.", "2+2 is 4, not 5.", "2+2=4. The answer is 4.",
                               "No issues."])
    r = SelfRefine(rounds=3).solve("2+2?", backend)
    assert [c.purpose for c in r.trace.calls] == ["generate", "feedback", "refine", "feedback"]
    assert "2+2 is 4, not 5." in backend.calls[2].prompt and "The answer is 5." in backend.calls[2].prompt
    assert r.answer == "4"


def test_stops_after_n_rounds_and_a_feedback_function_replaces_the_model():
    backend = ScriptedBackend(["The answer is 1.", "The answer is 2.", "The answer is 3."])
    r = SelfRefine(rounds=2, feedback_fn=lambda q, d: "too small").solve("q", backend)
    assert [c.purpose for c in r.trace.calls] == ["generate", "refine", "refine"]
    assert r.answer == "3"
