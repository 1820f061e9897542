"""`llmos serve`: the command line starts a real server; a bad folder is a clear error."""
import os
import socket
import subprocess
import sys
import time

import httpx

from llmos.cli.main import main


def test_missing_folder_is_a_clear_error(tmp_path, capsys):
    assert main(["serve", str(tmp_path / "nope")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_serves_a_model_folder_with_the_key_from_the_environment(model_dir):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "LLMOS_API_KEY": "sk-env"}
    proc = subprocess.Popen([sys.executable, "-m", "llmos.cli.main", "serve", str(model_dir), "--port", str(port),
                             "--slots", "2", "--threads", "1", "--log-level", "warning"],
                            env=env, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{url}/health").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert proc.poll() is None and time.monotonic() < deadline, "the server did not start"
            time.sleep(0.2)
        assert httpx.get(f"{url}/v1/models").status_code == 401
        models = httpx.get(f"{url}/v1/models", headers={"Authorization": "Bearer sk-env"}).json()
        assert models["data"][0]["id"] == model_dir.name and models["data"][0]["max_model_len"] == 96
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=30)
    assert "127.0.0.1" in err and "API key required" in err


def test_a_draft_model_speculates_for_a_lone_request_and_answers_the_openai_client(model_dir, tmp_path):
    """`llmos serve MODEL --draft DRAFT`: the reply is the model's own greedy text (the draft only guesses)."""
    from openai import OpenAI

    from llmos.background_server import serve_in_background
    from llmos.hub import save_pretrained
    from llmos.infer.engine import EngineConfig
    from llmos.serve.app import create_app
    from llmos.serve.cli import load_weights_as
    from llmos.text import Tokenizer

    from .conftest import TEXT, tiny_model
    tok = Tokenizer.char(TEXT)
    draft_dir = tmp_path / "draft"
    save_pretrained(tiny_model(tok.vocab_size, tok.eos_id), draft_dir, tokenizer=tok)   # the model's own weights
    plain = load_weights_as(model_dir, "fp32", "tiny", EngineConfig(n_slots=2), "cpu")
    drafted = load_weights_as(model_dir, "fp32", "tiny", EngineConfig(n_slots=2), "cpu", draft_dir, 3)
    texts = []
    for served in (plain, drafted):
        with serve_in_background(create_app(served)) as url:
            with OpenAI(base_url=f"{url}/v1", api_key="unused", max_retries=0, timeout=60) as client:
                reply = client.completions.create(model="tiny", prompt="the quick", max_tokens=16, temperature=0)
                texts.append(reply.choices[0].text)
    assert texts[0] == texts[1]
    assert drafted.engine.draft.stats.rounds > 0 and drafted.engine.draft.stats.acceptance_rate == 1.0
    assert main(["serve", str(model_dir), "--draft", str(draft_dir), "--dtype", "float16"]) == 2
