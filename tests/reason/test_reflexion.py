from llmos.reason import CoT, ReAct, Reflexion, ScriptedBackend
from llmos.reason.reflexion import ModelJudge


def exact(expected):
    return lambda q, result, ctx: (result.answer == expected, "correct" if result.answer == expected
                                   else f"wrong: {result.answer} is not right")


def test_the_second_trials_prompt_contains_the_first_trials_reflection():
    backend = ScriptedBackend(["The answer is 5.", "I added instead of subtracting; subtract next time.",
                               "The answer is 1."])
    r = Reflexion(actor=CoT(trigger=""), evaluator=exact("1"), trials=3).solve("3 minus 2?", backend)
    assert [c.purpose for c in r.trace.calls] == ["chain", "reflect", "chain"]
    assert "wrong: 5 is not right" in backend.calls[1].prompt
    second = backend.calls[2].prompt
    assert "I added instead of subtracting; subtract next time." in second and "3 minus 2?" in second
    assert "Reflections" not in backend.calls[0].prompt
    assert r.answer == "1" and r.trace.notes["memory"] == ["I added instead of subtracting; subtract next time."]


def test_react_inside_reflexion_and_a_model_judge():
    backend = ScriptedBackend([" I use the tool.\nAction: calculator[6*7]", " Done.\nAction: finish[42]",
                               "yes"])
    r = Reflexion(actor=ReAct(), evaluator=ModelJudge(), trials=2).solve("6 times 7?", backend)
    assert [c.purpose for c in r.trace.calls] == ["step", "step", "evaluate"]
    assert r.answer == "42" and r.confidence == 1.0


def test_every_trial_failing_gives_zero_confidence():
    backend = ScriptedBackend(["The answer is 5.", "try again", "The answer is 6."])
    r = Reflexion(actor=CoT(), evaluator=exact("1"), trials=2).solve("q", backend)
    assert r.answer == "6" and r.confidence == 0.0 and len(backend.calls) == 3
