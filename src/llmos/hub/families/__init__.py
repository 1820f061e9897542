"""Hugging Face architectures llmos reads and writes, one module per family layout.

A family adapter knows three things about its Hugging Face twin:
  * `config_from_hf(hf: dict) -> ModelConfig` and `config_to_hf(cfg) -> dict`
  * `to_hf(state_dict) -> {hf_name: tensor}`   (llmos names -> checkpoint names)
  * `from_hf(tensors) -> state_dict`             (checkpoint names -> llmos names)
"""
from __future__ import annotations

from types import ModuleType

from llmos.hub.families import gpt2, llama

# model_type in config.json -> (adapter module, architectures entry)
ADAPTERS: dict[str, tuple[ModuleType, str]] = {
    "gpt2": (gpt2, "GPT2LMHeadModel"),
    "llama": (llama, "LlamaForCausalLM"),
    "mistral": (llama, "MistralForCausalLM"),
    "qwen2": (llama, "Qwen2ForCausalLM"),
    "mixtral": (llama, "MixtralForCausalLM"),
}
ARCHITECTURES = {arch: model_type for model_type, (_, arch) in ADAPTERS.items()}


class UnsupportedArchitecture(ValueError):
    pass


def adapter_for(hf_config: dict, where: str = "config.json") -> tuple[str, ModuleType]:
    """Pick the adapter from `model_type` (or `architectures`), or say what is supported."""
    model_type = hf_config.get("model_type")
    if model_type not in ADAPTERS:
        for arch in hf_config.get("architectures") or []:
            if arch in ARCHITECTURES:
                model_type = ARCHITECTURES[arch]
                break
        else:
            named = model_type or (hf_config.get("architectures") or ["<none given>"])[0]
            supported = ", ".join(f"{t} ({a})" for t, (_, a) in ADAPTERS.items())
            raise UnsupportedArchitecture(
                f"{where}: architecture {named!r} is not supported by llmos; supported: {supported}")
    return model_type, ADAPTERS[model_type][0]
