from llmos.reason import ScriptedBackend, Socratic


def test_recurses_to_the_depth_limit_and_composes_the_answers_back_up():
    def reply(prompt, params):
        if "sub-questions" in prompt:
            q = prompt.split("\n")[0].removeprefix("Question: ")
            return {"Q0": "Q1\nQ2", "Q1": "Q1a", "Q2": "none"}[q]
        q = prompt.split("Question: ")[-1].split("\n")[0]
        return f"The answer is {q.lower()}."

    backend = ScriptedBackend(reply)
    r = Socratic(max_depth=2).solve("Q0", backend)
    kinds = [(t.purpose, c.text.split("Question: ")[-1].split("\n")[0]) for t, c in zip(r.trace.calls, backend.calls)]
    # depth-first: decompose Q0, then Q1 (whose child Q1a is at the limit: answered, not decomposed)
    assert kinds == [("decompose", "Q0"), ("decompose", "Q1"), ("answer", "Q1a"), ("answer", "Q1"),
                     ("decompose", "Q2"), ("answer", "Q2"), ("answer", "Q0")]
    q1_answer, root_answer = backend.calls[3].text, backend.calls[6].text
    assert "Q: Q1a\nA: q1a" in q1_answer                       # the child's answer composed into Q1
    assert "Q: Q1\nA: q1" in root_answer and "Q: Q2\nA: q2" in root_answer
    assert "Q1a" not in root_answer                            # only direct children's answers go up
    assert r.answer == "q0"


def test_depth_zero_answers_directly():
    backend = ScriptedBackend(["The answer is 3."])
    assert Socratic(max_depth=0).solve("q", backend).answer == "3" and len(backend.calls) == 1
