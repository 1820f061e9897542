from llmos.reason import CoT, Exemplar, ScriptedBackend
from llmos.reason.few_shot import FewShot, select


def test_zero_shot_cot_prompts_with_the_trigger_and_reads_the_answer():
    backend = ScriptedBackend(["Tom has 23-20=3. Then 3+5=8. The answer is 8.\nQ: next"])
    r = CoT().solve("Tom has 23 apples ...", backend)
    (call,) = backend.calls
    assert call.prompt == "Q: Tom has 23 apples ...\nA: Let's think step by step."
    assert call.params.n == 1 and call.params.temperature == 0.0
    assert r.answer == "8" and "3+5=8" in r.text
    assert r.trace.steps[0].kind == "chain"


def test_few_shot_cot_puts_worked_chains_before_the_question():
    shots = [Exemplar("2 apples and 3 more?", "2+3=5. The answer is 5."),
             Exemplar("4 pens, lose 1?", "4-1=3. The answer is 3.")]
    backend = ScriptedBackend(["9-2=7. The answer is 7."])
    r = CoT(exemplars=shots, trigger="").solve("9 cats, 2 leave?", backend)
    prompt = backend.calls[0].prompt
    assert prompt.index("2+3=5") < prompt.index("4-1=3") < prompt.index("9 cats")
    assert prompt.endswith("Q: 9 cats, 2 leave?\nA:")
    assert r.answer == "7"


def test_a_reply_without_an_answer_is_recorded_as_no_answer():
    r = CoT(numeric=True).solve("hard?", ScriptedBackend(["I am not sure about this one."]))
    assert r.answer is None and r.confidence is None
    assert "(no answer)" in r.trace.steps[0].text


def test_retrieval_picks_the_exemplars_nearest_the_question():
    shots = [Exemplar("cats and dogs", "a"), Exemplar("apples and pears", "b"), Exemplar("pears eaten", "c")]
    assert [e.answer for e in select(shots, "how many pears are eaten", 2, retrieve=True)] == ["c", "b"]
    assert [e.answer for e in select(shots, "how many pears are eaten", 2, retrieve=False)] == ["a", "b"]


def test_few_shot_direct_answer_and_logprob_confidence():
    backend = ScriptedBackend([" 12"], logprob=-0.1)
    r = FewShot(exemplars=[Exemplar("1+1?", "2")]).solve("5+7?", backend)
    assert backend.calls[0].prompt == "Q: 1+1?\nA: 2\n\nQ: 5+7?\nA:"
    assert r.answer == "12" and abs(r.confidence - 0.904837) < 1e-5
