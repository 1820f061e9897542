"""A tiny model saved as an HF folder with its tokenizer, and a live server on 127.0.0.1."""
import time

import pytest
import torch

from llmos.hub import save_pretrained
from llmos.infer.engine import EngineConfig
from llmos.nn import CausalLM, ModelConfig
from llmos.serve.app import create_app
from llmos.serve.background import serve_in_background
from llmos.serve.served_model import ServedModel
from llmos.text import Tokenizer

TEXT = "The quick brown fox jumps over the lazy dog. Pack my box with five dozen liquor jugs!\nUser: System: Assistant:?,'"
CONTEXT = 96


def tiny_model(vocab: int, eos: int) -> CausalLM:
    torch.manual_seed(3)
    cfg = ModelConfig.for_family("llama", vocab_size=vocab, d_model=32, n_layers=2, n_heads=4, d_ff=64,
                                 max_seq_len=CONTEXT, eos_token_id=eos)
    return CausalLM(cfg).eval()


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory):
    """An HF-format folder: config.json, model.safetensors, tokenizer.json."""
    tok = Tokenizer.char(TEXT)
    folder = tmp_path_factory.mktemp("tiny")
    save_pretrained(tiny_model(tok.vocab_size, tok.eos_id), folder, tokenizer=tok)
    return folder


@pytest.fixture(scope="module")
def served(model_dir):
    return ServedModel.load(model_dir, name="tiny", engine_config=EngineConfig(n_slots=8))


@pytest.fixture(scope="module")
def server(served):
    """Base URL of a live server (uvicorn on a free port of 127.0.0.1)."""
    with serve_in_background(create_app(served)) as url:
        yield url


def wait_until(condition, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)
