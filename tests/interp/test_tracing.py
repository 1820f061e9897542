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
    assert sum(t.clean_prob - t.corrupt_prob for t in traces) / len(traces) > 0.2
    tr = traces[0]
    # restoring the last block's output at the last token restores the whole answer
    assert abs(tr.effects["hidden"][-1, -1] - (tr.clean_prob - tr.corrupt_prob)) < 1e-4
    # tokens before the subject are not corrupted: restoring them does nothing
    assert tr.effects["hidden"][0].abs().max() < 1e-5


def test_the_corruption_lives_on_the_subject_and_its_mlps_carry_the_fact(traces, tmp_path):
    avg = average_by_role(traces)
    first, last_subject, after = ROLES.index("first subject token"), ROLES.index("last subject token"), \
        ROLES.index("first subsequent token")
    hidden, mlp = avg["hidden"], avg["mlp"]                       # (roles, layers)
    # restoring the subject's own early states brings the fact back; the token after it carries little
    assert hidden[last_subject, 0] > 0.05 and hidden[last_subject, 0] > 3 * hidden[after, 0].abs()
    # restoring one early MLP on the subject restores part of the answer, more than anywhere after it
    assert mlp[[first, last_subject], 0].max() > 0.05
    assert mlp[[first, last_subject], 0].max() > mlp[after].abs().max()
    png = plot_trace(avg, ROLES, tmp_path / "trace.png", "t", 1)
    assert png.stat().st_size > 5000


@pytest.mark.xfail(reason="in llmos's small facts models (4-6 layers, d 48-64, default or shared name pools) "
                          "the MLP effect peaks in layer 0, at the last subject token, the first or the last "
                          "token depending on the seed (see BENCHMARKS.md); ROME's GPT-2 XL finding is middle "
                          "layers, last subject token", strict=False)
def test_the_mlp_effect_peaks_at_the_last_subject_token_in_middle_layers(traces):
    mlp = average_by_role(traces)["mlp"]
    role, layer = divmod(int(mlp.argmax()), mlp.shape[1])
    assert ROLES[role] == "last subject token" and 0 < layer < mlp.shape[1] - 1, mlp


def test_bad_spans_and_windows(facts_lab):
    ids = facts_lab.ids(facts_lab.world.prompt(facts_lab.world.facts[0], 0))
    with pytest.raises(ValueError, match="outside the prompt"):
        causal_trace(facts_lab.model, ids, (3, 40), 5)
    with pytest.raises(ValueError, match="window=9"):
        causal_trace(facts_lab.model, ids, (1, 3), 5, window=9)
