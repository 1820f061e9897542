import pytest

from llmos.interp.tracing import ROLES, average_by_role, causal_trace, plot_trace


@pytest.fixture(scope="module")
def traces(facts_lab):
    world, out = facts_lab.world, []
    for f in world.facts:
        template = world.train_templates(f)[0]
        if world.templates[f.relation][template].startswith("{}") and facts_lab.known(f, template):
            ids = facts_lab.ids(world.prompt(f, template))
            out.append(causal_trace(facts_lab.model, ids, facts_lab.subject_span(ids, f.subject),
                                    facts_lab.token(f.object), samples=4, window=1))
    assert len(out) >= 10
    return out


def test_corrupting_the_subject_hides_the_fact_and_restoring_everything_brings_it_back(traces):
    tr = traces[0]
    assert tr.clean_prob > 0.5 and tr.corrupt_prob < tr.clean_prob / 2
    # restoring the last block's output at the last token restores the whole answer
    assert abs(tr.effects["hidden"][-1, -1] - (tr.clean_prob - tr.corrupt_prob)) < 1e-4
    # tokens before the subject are not corrupted: restoring them does nothing
    assert tr.effects["hidden"][0].abs().max() < 1e-5


def test_the_mlp_effect_peaks_at_the_last_subject_token(traces, tmp_path):
    avg = average_by_role(traces)
    mlp = avg["mlp"]                                              # (roles, layers)
    role, layer = divmod(int(mlp.argmax()), mlp.shape[1])
    assert ROLES[role] == "last subject token", mlp
    assert layer < mlp.shape[1] - 1                               # an early or middle MLP, not the last
    # the attention effect sits at the last token (it moves the fact there)
    attn = avg["attn"]
    assert ROLES[int(attn.argmax()) // attn.shape[1]] == "last token", attn
    png = plot_trace(avg, ROLES, tmp_path / "trace.png", "t", 1)
    assert png.stat().st_size > 5000


def test_bad_spans_and_windows(facts_lab):
    ids = facts_lab.ids(facts_lab.world.prompt(facts_lab.world.facts[0], 0))
    with pytest.raises(ValueError, match="outside the prompt"):
        causal_trace(facts_lab.model, ids, (3, 40), 5)
    with pytest.raises(ValueError, match="window=9"):
        causal_trace(facts_lab.model, ids, (1, 3), 5, window=9)
