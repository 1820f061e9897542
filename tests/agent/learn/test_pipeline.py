"""The whole pipeline in miniature: variants, oracle demonstrations, one SFT step, rollouts with branching,
one DPO step, and a constrained episode of the policy through the Action API."""
from __future__ import annotations

import json
import os

import pytest
import torch

from llmos.agent.learn.backend import PolicyBackend
from llmos.agent.learn.constraint import action_schema
from llmos.agent.learn.demos import collect, read_episodes
from llmos.agent.learn.generator import generate
from llmos.agent.learn.observation import write_action
from llmos.agent.learn.pipeline import sft_examples
from llmos.agent.learn.rollouts import preference_pairs
from llmos.agent.views import parse_action

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not os.access("/usr/bin/chromium", os.X_OK),
                                 reason="Chromium is not installed at /usr/bin/chromium")]
pytest.importorskip("llguidance")


def tiny_policy(examples):
    from llmos.nn import CausalLM
    from llmos.nn.config import ModelConfig
    from llmos.text.tokenizer import Tokenizer

    tok = Tokenizer.train_bpe([e.prompt + " " + e.response for e in examples] * 4, vocab_size=400)
    torch.manual_seed(0)
    cfg = ModelConfig.for_family("llama", vocab_size=tok.vocab_size, d_model=32, n_layers=1, n_heads=2,
                                 n_kv_heads=1, d_ff=64, max_seq_len=1024, bos_token_id=tok.bos_id,
                                 eos_token_id=tok.eos_id)
    return CausalLM(cfg), tok


def test_tiny_pipeline_end_to_end(tmp_path, one_thread):
    from llmos.train.align.data import PreferencePair
    from llmos.train.align.dpo import DPOConfig, train_dpo
    from llmos.train.align.sft import SFTConfig, train_sft

    # 1. variants and demonstrations: a 3-step price question, played by the oracle through the Action API
    task = next(t for t in generate("train", 12, seed=2) if t.id.startswith("shop-price"))
    episodes = collect([task], tmp_path / "demos.jsonl", progress=False)
    assert [e.success for e in episodes] == [True]
    assert [s.action["type"] for s in episodes[0].steps] == ["type", "click", "done"]
    assert collect([task], tmp_path / "demos.jsonl", progress=False)[0].task == task.id   # resumed, not replayed
    assert len(read_episodes(tmp_path / "demos.jsonl")) == 1
    examples = sft_examples(episodes)
    assert len(examples) == 3 and examples[0].prompt.endswith(f"task: {task.instruction}\naction:")
    assert json.loads(examples[-1].response)["type"] == "done"

    # 2. one SFT step with the SFT machinery
    model, tok = tiny_policy(examples)
    before = [p.detach().clone() for p in model.parameters()]
    sft = train_sft(model, tok, examples, tmp_path / "sft", SFTConfig(steps=1, batch_size=3, lr=1e-3, max_len=1024,
                                                                      max_prompt_len=900), progress=False)
    assert (sft / "model" / "config.json").exists()
    assert any(not torch.equal(a, b) for a, b in zip(before, model.parameters()))

    # 3. rollouts: the (untrained) policy drives a real session under the action schema, the oracle judges
    policy = PolicyBackend(policy=model, tokenizer=tok)
    pairs = preference_pairs(policy, [task], tmp_path / "rollouts.jsonl", samples=1, verify=False)
    row = json.loads((tmp_path / "rollouts.jsonl").read_text())
    assert row["task"] == task.id and row["steps"] >= 1
    for p in pairs:
        assert p["chosen"] != p["rejected"] and p["judge"] in ("progress", "outcome")
        parse_action(p["chosen"]), parse_action(p["rejected"])   # both are actions the agent reads

    # every action the constrained policy wrote is valid JSON for its page
    ctx = episodes[0].steps[0].context
    for seed in range(2):
        text, n_prompt, n_new = policy.propose(ctx, temperature=1.0, seed=seed)
        action = json.loads(text)
        assert 0 < n_new <= policy.max_new_tokens and n_prompt > 50
        listed = {e.index for e in ctx.observation.elements}
        assert "element" not in action or action["element"] in listed
        assert write_action(action) == text                # the grammar's layout is the training layout
        assert 0.0 < policy.last_confidence <= 1.0          # p(action) under the constraint
    assert action_schema(ctx.observation)["anyOf"]

    # below its confidence threshold the policy asks the person instead of acting
    from llmos.agent.views import ModelRequest
    unsure = PolicyBackend(policy=model, tokenizer=tok, min_confidence=1.01)
    reply = unsure.complete(ModelRequest(messages=[], context=ctx))
    assert json.loads(reply.text)["type"] == "ask_user" and "probability" in json.loads(reply.text)["question"]

    # 4. one DPO step with the DPO machinery
    prefs = [PreferencePair(p["prompt"], p["chosen"], p["rejected"]) for p in pairs] or \
        [PreferencePair(examples[0].prompt, examples[0].response, '{"type": "back"}')]
    dpo = train_dpo(model, tok, prefs, tmp_path / "dpo", DPOConfig(steps=1, batch_size=1, max_len=1024,
                                                                   max_prompt_len=900), progress=False)
    assert (dpo / "model" / "config.json").exists()
    assert PolicyBackend(dpo).name.startswith("llmos-policy")

    # 5. the confidence threshold, measured on the demonstrations and read back by the backend
    from llmos.agent.learn.calibrate import calibrate
    info = calibrate(dpo / "model", episodes, steps=3, quantile=0.0, cap=1.0)
    assert info["steps"] == 3 and 0.0 <= info["min_confidence"] <= 1.0
    assert PolicyBackend(dpo).min_confidence == info["min_confidence"]
    assert PolicyBackend(dpo, min_confidence=0.25).min_confidence == 0.25

    # 6. the scope: the words of the requests it learned, read back by the backend (test_scope.py)
    from llmos.agent.learn.scope import write_scope
    write_scope(dpo / "model", [e.steps[0].context.task for e in episodes])
    assert {"price", "corner", "shop"} <= PolicyBackend(dpo).scope


def test_progress_adds_up_the_time_of_an_interrupted_stage(tmp_path, monkeypatch):
    import llmos.agent.learn.pipeline as pipeline
    now = [0.0]
    monkeypatch.setattr(pipeline.time, "perf_counter", lambda: now[0])
    first = pipeline.Progress(tmp_path, every_s=0.0)
    first.start("sft")
    now[0] = 40.0
    first.tick("sft")                                   # 40 s recorded, then the run is killed
    assert json.loads((tmp_path / "progress.json").read_text())["partial"] == {"sft": 40.0}
    again = pipeline.Progress(tmp_path)                 # a new invocation resumes the stage
    now[0] = 1000.0
    again.start("sft")
    now[0] = 1030.0
    again.mark("sft", examples=3)                       # 40 + 30
    saved = json.loads((tmp_path / "progress.json").read_text())
    assert saved["stages"]["sft"] == {"seconds": 70.0, "examples": 3} and saved["partial"] == {}
    assert pipeline.Progress(tmp_path).done("sft") and not pipeline.Progress(tmp_path).done("dpo")


def test_the_train_config_checks_itself_when_built():
    import pytest as _pytest
    from llmos.agent.learn.pipeline import AgentTrainConfig, PolicyModel
    from llmos.config import ConfigError
    with _pytest.raises(ConfigError, match="episodes must be >= 1, got 0"):
        AgentTrainConfig(episodes=0)
    with _pytest.raises(ConfigError, match="model.max_seq_len must be >= 256"):
        AgentTrainConfig(model=PolicyModel(max_seq_len=128))
    assert AgentTrainConfig(model={"d_model": 96}).model == PolicyModel(d_model=96)
    with _pytest.raises(ConfigError, match="until must be one of demos, pretrain, sft, rollouts, dpo"):
        AgentTrainConfig(until="bench")
    with _pytest.raises(ConfigError, match="precision"):
        AgentTrainConfig(precision="fp16")
