"""A tiny model saved as an HF folder with its tokenizer, and a live server on 127.0.0.1."""
import string
import time

import pytest
import torch
from openai import OpenAI

from llmos.hub import save_pretrained
from llmos.infer.engine import EngineConfig
from llmos.nn import CausalLM, ModelConfig
from llmos.serve.app import create_app
from llmos.background_server import serve_in_background
from llmos.serve.served_model import ServedModel
from llmos.text import Tokenizer

TEXT = "The quick brown fox jumps over the lazy dog. Pack my box with five dozen liquor jugs!\nUser: System: Assistant:?,'"
CONTEXT = 96


def tiny_model(vocab: int, eos: int, context: int = CONTEXT) -> CausalLM:
    torch.manual_seed(3)
    cfg = ModelConfig.for_family("llama", vocab_size=vocab, d_model=32, n_layers=2, n_heads=4, d_ff=64,
                                 max_seq_len=context, eos_token_id=eos)
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


JSON_CHARS = "".join(sorted(set(string.ascii_letters + string.digits + ' {}[]":,.-_+eE')))


@pytest.fixture(scope="session")
def json_model_dir(tmp_path_factory):
    """A tiny random model whose character vocabulary can write JSON (and nothing much else)."""
    tok = Tokenizer.char(JSON_CHARS + "\nUser: System: Assistant: Tool:?!'")
    folder = tmp_path_factory.mktemp("tiny-json")
    save_pretrained(tiny_model(tok.vocab_size, tok.eos_id, context=1024), folder, tokenizer=tok)
    return folder


@pytest.fixture(scope="module")
def json_served(json_model_dir):
    return ServedModel.load(json_model_dir, name="tiny-json", engine_config=EngineConfig(n_slots=64))


@pytest.fixture(scope="module")
def json_client(json_served):
    """The official client on a live server of the JSON-capable model."""
    with serve_in_background(create_app(json_served)) as url:
        with OpenAI(base_url=f"{url}/v1", api_key="unused", max_retries=0, timeout=120) as c:
            yield c
