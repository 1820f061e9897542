import pytest
import torch

from llmos.interp.facts_model import FactsModelConfig, train_facts_model
from llmos.text.facts import make_world


@pytest.fixture(scope="session")
def facts_lab():
    """A tiny GPT trained once per session on 24 synthetic facts (a few seconds on a free core)."""
    torch.set_num_threads(1)
    world = make_world(1, persons=12, countries=0, companies=0, relations=["sport", "birth_city"])
    cfg = FactsModelConfig(d_model=48, n_layers=4, n_heads=4, window=16, batch_size=32, steps=400,
                           lr=5e-3, eval_every=50, target_accuracy=1.0)
    return train_facts_model(world, cfg)
