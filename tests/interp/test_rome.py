import pytest
import torch

from llmos.interp.counterfact import EditScores, evaluate_method, make_cases, score_case
from llmos.interp.rome import EditError, EditRequest, RomeConfig, key_covariance, rome_edit, sample_texts
from llmos.nn import CausalLM, ModelConfig


def _encode(lab):
    return lambda text: lab.tokenizer.encode(text, add_special_tokens=False)


def test_rome_rewrites_one_fact_and_leaves_the_others(facts_lab, tmp_path):
    lab, encode = facts_lab, _encode(facts_lab)
    world = lab.world
    rows = [[lab.tokenizer.eos_id] + encode(s) for s in world.sentences()]
    cov = key_covariance(lab.model, 0, rows, tmp_path)
    assert torch.equal(key_covariance(lab.model, 0, rows, tmp_path), cov)        # read back from disk
    assert cov.shape == (4 * 48, 4 * 48) and torch.allclose(cov, cov.T)
    prefixes = [[lab.tokenizer.eos_id] + encode(s) for s in world.sentences()[:4]]
    cases = make_cases(lab, 3, seed=1)
    table = evaluate_method(lab, cases, "rome", 0, cov=cov, prefixes=prefixes, rome_cfg=RomeConfig(layer=0))
    # the quality figures (100 edits on the bench's model) are in BENCHMARKS.md; here the tiny model
    # must at least take some edits without spilling them onto the other subjects
    assert table["efficacy"] > 0 and table["neighborhood"] >= 0.8, table
    # undo really restores the model
    before = {k: v.clone() for k, v in lab.model.state_dict().items()}
    case = cases[0]
    req = EditRequest(world.templates[case.fact.relation][case.template], case.fact.subject, case.new)
    result = rome_edit(lab.model, encode, req, cov, prefixes, RomeConfig(layer=0),
                       bos=[lab.tokenizer.eos_id])
    after = lab.model.state_dict()
    assert [k for k in before if not torch.equal(before[k], after[k])] == ["blocks.0.ffn.fc_out.weight"]
    delta = after["blocks.0.ffn.fc_out.weight"] - before["blocks.0.ffn.fc_out.weight"]
    assert torch.linalg.matrix_rank(delta).item() == 1                           # rank one
    result.undo()
    assert all(torch.equal(before[k], v) for k, v in lab.model.state_dict().items())
    scores = EditScores()
    score_case(lab, case, scores)
    assert scores.efficacy == [0.0]                                               # the old fact is back


def test_fine_tuning_baselines_and_bad_layers(facts_lab):
    cases = make_cases(facts_lab, 2, seed=2)
    ft = evaluate_method(facts_lab, cases, "ft", 1)
    assert ft["efficacy"] == 1.0
    with pytest.raises(EditError, match="layer 9 does not exist: the model has 4 layers"):
        evaluate_method(facts_lab, cases, "rome", 9, cov=torch.eye(4), prefixes=[])
    with pytest.raises(EditError, match="layer 3 is the last one"):
        evaluate_method(facts_lab, cases, "rome", 3, cov=torch.eye(4), prefixes=[])
    with pytest.raises(ValueError, match="unknown method"):
        evaluate_method(facts_lab, cases, "memit", 1)


def test_rome_edits_a_mixture_of_experts_through_the_routed_expert():
    torch.manual_seed(0)
    model = CausalLM(ModelConfig.for_family("mixtral", vocab_size=30, d_model=32, n_layers=3, n_heads=4,
                                            n_kv_heads=2, d_ff=48, max_seq_len=32, n_experts=4)).eval()
    encode = lambda text: [int(w) if w.isdigit() else 3 for w in text.split()]    # noqa: E731
    rows = sample_texts(model, [0], n=16, length=12)
    prompt, subject, target = "{} 7 8", "4 5", "21"
    ids = torch.tensor([[0, 4, 5, 7, 8]])
    with torch.no_grad():
        p_old = torch.softmax(model(ids).logits[0, -1], -1)[21]
    before = {k: v.clone() for k, v in model.state_dict().items()}
    from llmos.interp.rome import ffn_inputs, routed_expert
    with torch.no_grad():
        expert, _ = routed_expert(model.blocks[1].ffn, ffn_inputs(model, 1, ids, torch.tensor([2])))
    cov = key_covariance(model, 1, rows, None, expert=expert)
    result = rome_edit(model, encode, EditRequest(prompt, subject, target), cov, rows[:3],
                       RomeConfig(layer=1, v_steps=30, v_lr=0.5, weight_decay=0.0, clamp_norm=100.0), bos=[0])
    assert result.expert == expert
    with torch.no_grad():
        p_new = torch.softmax(model(ids).logits[0, -1], -1)[21]
    changed = [k for k in before if not torch.equal(before[k], model.state_dict()[k])]
    assert changed == [f"blocks.1.ffn.experts.{expert}.down_proj.weight"]
    assert p_new > p_old
    assert torch.linalg.matrix_rank(model.state_dict()[changed[0]] - before[changed[0]]).item() == 1
