"""A tiny random model (HF folder with a character tokenizer) and a live `llmos serve` over it."""
import string

import pytest
import torch

from llmos.hub import save_pretrained
from llmos.nn import CausalLM, ModelConfig
from llmos.text import Tokenizer

CHARS = string.ascii_letters + string.digits + " .,?:;()<>=+-*/!'[]_\n"


@pytest.fixture(scope="session")
def tiny_dir(tmp_path_factory):
    tok = Tokenizer.char(CHARS)
    torch.manual_seed(5)
    cfg = ModelConfig.for_family("llama", vocab_size=tok.vocab_size, d_model=32, n_layers=2, n_heads=4, d_ff=64,
                                 max_seq_len=768, eos_token_id=tok.eos_id)
    folder = tmp_path_factory.mktemp("reason-tiny")
    save_pretrained(CausalLM(cfg).eval(), folder, tokenizer=tok)
    return folder


@pytest.fixture(scope="module")
def server(tiny_dir):
    from llmos.infer.engine import EngineConfig
    from llmos.serve.app import create_app
    from llmos.background_server import serve_in_background
    from llmos.serve.served_model import ServedModel
    served = ServedModel.load(tiny_dir, name="tiny", engine_config=EngineConfig(n_slots=8))
    with serve_in_background(create_app(served)) as url:
        yield url
