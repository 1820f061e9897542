"""llmos.nn: the neural compute unit (attention ... models). Knows nothing of training."""
from llmos.nn.attention import attention, attention_reference, causal_mask
from llmos.nn.config import FAMILIES, ModelConfig
from llmos.nn.causal_lm import CausalLM, ModelOutput
from llmos.nn.kv_cache import CacheFullError, KVCache
from llmos.nn.mha import MultiHeadAttention
from llmos.nn.moe import MoE, RouterStats, load_balancing_loss, router_z_loss

__all__ = ["attention", "attention_reference", "causal_mask", "FAMILIES", "ModelConfig", "CausalLM",
           "ModelOutput", "CacheFullError", "KVCache", "MultiHeadAttention", "MoE", "RouterStats",
           "load_balancing_loss", "router_z_loss"]
