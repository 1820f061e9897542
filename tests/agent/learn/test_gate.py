"""The DPO gate: the policy kept is the one that agrees more with the oracle on fresh episodes."""
from __future__ import annotations

import json

import pytest

import llmos.agent.learn.gate as gate_module
from llmos.agent.learn.gate import gate, write_gate


@pytest.mark.parametrize("sft, dpo, kept", [(0.9, 0.8, "sft"), (0.8, 0.9, "dpo"), (0.85, 0.85, "dpo")])
def test_dpo_is_kept_only_when_it_agrees_at_least_as_well(monkeypatch, tmp_path, sft, dpo, kept):
    scores = {"sft-folder": sft, "dpo-folder": dpo}
    seen = []

    class Policy:
        def __init__(self, folder):
            self.folder = folder

    def agreement(policy, episodes, limit=None, seed=0):
        seen.append((policy.folder, episodes, limit, seed))
        return {"agreement": scores[policy.folder], "steps": 7}

    monkeypatch.setattr("llmos.agent.learn.backend.PolicyBackend", Policy)
    monkeypatch.setattr(gate_module, "step_agreement", agreement)
    verdict = gate("sft-folder", "dpo-folder", ["episode"], steps=7, seed=3)
    assert verdict == {"sft": sft, "dpo": dpo, "steps": 7, "kept": kept}
    assert seen == [("sft-folder", ["episode"], 7, 3), ("dpo-folder", ["episode"], 7, 3)]   # the same steps
    assert json.loads(write_gate(tmp_path, verdict).read_text()) == verdict


def test_the_gate_settings_check_themselves():
    from llmos.agent.learn.pipeline import AgentTrainConfig
    from llmos.config import ConfigError
    assert AgentTrainConfig(gate_tasks=0).gate_tasks == 0
    with pytest.raises(ConfigError, match="gate_steps must be >= 1"):
        AgentTrainConfig(gate_steps=0)
