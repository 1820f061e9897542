"""A tiny character-level model and tokenizer for fast alignment tests."""
import torch

from llmos.nn import CausalLM, ModelConfig
from llmos.text import Tokenizer

ALPHABET = "abcdefgh xyz?"


def tiny_tokenizer() -> Tokenizer:
    return Tokenizer.char(ALPHABET)


def tiny_model(tokenizer: Tokenizer, seed: int = 0, family: str = "llama") -> CausalLM:
    torch.manual_seed(seed)
    cfg = ModelConfig.for_family(family, vocab_size=tokenizer.vocab_size, d_model=32, n_layers=2, n_heads=4,
                                 d_ff=64, max_seq_len=64, eos_token_id=tokenizer.eos_id)
    return CausalLM(cfg)
