"""Small corpora and configs that train in well under a second per step."""
import pytest

from llmos.config import override
from llmos.train.presets import preset

SENTENCES = ["the cat sat on the mat. ", "a dog ran in the park. ", "birds sing at dawn. ",
             "rain falls on the roof. ", "we read books at night. "]


def tiny_text(n: int = 400) -> str:
    return "".join(SENTENCES[(i * 7) % len(SENTENCES)] for i in range(n))


@pytest.fixture
def corpus(tmp_path):
    path = tmp_path / "corpus.txt"
    path.write_text(tiny_text())
    return path


def tiny_config(corpus, *extra: str, family: str = "gpt2"):
    base = "char" if family == "gpt2" else ("mixtral" if family == "mixtral" else "llama")
    items = [f"data.corpus={corpus}", "data.tokenizer=char", "model.n_heads=2", "model.d_model=32",
             "model.n_layers=2", "model.d_ff=64", "model.max_seq_len=16", "train.batch_size=4",
             "train.max_steps=6", "train.warmup_steps=2", "train.eval_every=3", "train.eval_batches=2",
             "train.checkpoint_every=3", "train.log_every=1", "train.threads=1", "train.lr=3e-3"]
    if family != "gpt2":
        items += ["model.n_kv_heads=1"]
    return override(preset(base), items + list(extra))
