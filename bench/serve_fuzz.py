"""Fuzz `llmos serve` from its own OpenAPI schema with schemathesis: bad input must never be a 5xx.

    python bench/serve_fuzz.py [--max-time 120] [--workers 2]

Serves a tiny random Llama-family model with a character-level tokenizer
(built here, nothing downloaded) on a free port of 127.0.0.1, then runs
`schemathesis run URL/openapi.json` with every check except
`positive_data_acceptance`: that check expects every request that fits the
schema to succeed, but a prompt's length in tokens (the context limit) and a
token id's range (the vocabulary) depend on the model and cannot be written
in the schema, so such requests are rightly refused with a 400.

Counts every response the server sent, by status code, with an ASGI
middleware; the figure that matters is the number of 5xx: 0. Saves
bench/results/serve_fuzz.json.
"""
from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
from llmos.infer.engine import EngineConfig  # noqa: E402
from llmos.nn import CausalLM, ModelConfig  # noqa: E402
from llmos.serve.app import create_app  # noqa: E402
from llmos.background_server import serve_in_background  # noqa: E402
from llmos.serve.served_model import ServedModel  # noqa: E402
from llmos.text import Tokenizer  # noqa: E402

TEXT = "The quick brown fox jumps over the lazy dog.\nUser: System: Assistant: 0123456789?!,'"


class StatusCounter:
    """ASGI middleware that counts response status codes."""

    def __init__(self, app):
        self.app, self.counts = app, Counter()

    async def __call__(self, scope, receive, send):
        async def counting_send(message):
            if message["type"] == "http.response.start":
                self.counts[message["status"]] += 1
            await send(message)
        await self.app(scope, receive, counting_send)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--max-time", type=int, default=120, help="seconds of fuzzing")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--out", default="bench/results/serve_fuzz.json")
    args = ap.parse_args()
    torch.set_num_threads(1)

    tok = Tokenizer.char(TEXT)
    torch.manual_seed(0)
    model = CausalLM(ModelConfig.for_family("llama", vocab_size=tok.vocab_size, d_model=64, n_layers=2, n_heads=4,
                                            d_ff=128, max_seq_len=128, eos_token_id=tok.eos_id))
    served = ServedModel(model, tok, "tiny", EngineConfig(n_slots=8))
    app = StatusCounter(create_app(served))
    t0 = time.time()
    with serve_in_background(app) as url, tempfile.TemporaryDirectory() as reports:
        cmd = [str(Path(sys.executable).parent / "schemathesis"), "run", f"{url}/openapi.json",
               "--checks", "all", "--exclude-checks", "positive_data_acceptance",
               "--max-time", str(args.max_time), "--workers", str(args.workers), "--request-timeout", "60",
               "--report", "junit", "--report-dir", reports]
        print("$", " ".join(cmd), flush=True)
        run = subprocess.run(cmd, capture_output=True, text=True, cwd=reports)
        alive = served.engine._thread is not None and served.engine._thread.is_alive()
    output = run.stdout + run.stderr
    print(output[-4000:])
    cases = re.search(r"(\d+) generated", output)
    result = {
        "command": "python bench/serve_fuzz.py " + " ".join(sys.argv[1:]),
        "schemathesis_exit_code": run.returncode,
        "cases_generated": int(cases.group(1)) if cases else None,
        "responses_by_status": dict(sorted(app.counts.items())),
        "responses": sum(app.counts.values()),
        "server_errors_5xx": sum(n for s, n in app.counts.items() if s >= 500),
        "engine_alive_after": alive,
        "seconds": round(time.time() - t0, 1),
    }
    print(json.dumps(result, indent=2))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
