import torch
from torch import nn

from llmos.nn import CausalLM, ModelConfig
from llmos.train.optim import make_adamw, param_groups


def test_only_non_embedding_matrices_decay():
    model = CausalLM(ModelConfig.for_family("gpt2", vocab_size=50, d_model=16, n_layers=2, n_heads=2,
                                            d_ff=32, max_seq_len=8))
    decay, no_decay = param_groups(model, 0.1)
    names = {id(p): n for n, p in model.named_parameters()}
    decayed = {names[id(p)] for p in decay["params"]}
    kept = {names[id(p)] for p in no_decay["params"]}
    assert decay["weight_decay"] == 0.1 and no_decay["weight_decay"] == 0.0
    assert "tok_emb.weight" in kept                       # tied with lm_head: counted once, as embedding
    assert not any("norm" in n or n.endswith(".bias") or "pos_emb" in n for n in decayed)
    assert all(model.get_parameter(n).ndim == 2 for n in decayed) and len(decayed) == 2 * 6   # q, k, v, o, fc_in, fc_out per block
    n_params = sum(p.numel() for p in decay["params"] + no_decay["params"])
    assert n_params == model.num_parameters()
    opt = make_adamw(model, 1e-3, 0.1, (0.9, 0.99))
    assert opt.defaults["betas"] == (0.9, 0.99) and len(opt.param_groups) == 2


def test_decay_embeddings_decays_every_matrix_as_nanogpt_does():
    model = CausalLM(ModelConfig.for_family("gpt2", vocab_size=50, d_model=16, n_layers=1, n_heads=2,
                                            d_ff=32, max_seq_len=8))
    decay, _ = param_groups(model, 0.1, decay_embeddings=True)
    decayed = {id(p) for p in decay["params"]}
    assert id(model.tok_emb.weight) in decayed and id(model.pos_emb.weight) in decayed
    assert all(p.ndim == 2 for p in decay["params"])


def test_cpu_adamw_is_fused_and_steps_as_the_reference_loop_does():
    torch.manual_seed(0)
    a, b = nn.Linear(16, 8), nn.Linear(16, 8)
    b.load_state_dict(a.state_dict())
    w0 = a.weight.detach().clone()
    fast = make_adamw(a, 1e-2, 0.1, (0.9, 0.99), "cpu")
    assert fast.defaults["fused"]
    slow = torch.optim.AdamW(param_groups(b, 0.1), lr=1e-2, betas=(0.9, 0.99), foreach=False)
    x = torch.randn(4, 16)
    for _ in range(3):
        for model, opt in ((a, fast), (b, slow)):
            opt.zero_grad()
            model(x).square().sum().backward()
            opt.step()
    assert (a.weight - w0).abs().max() > 1e-3                  # it moved
    assert torch.allclose(a.weight, b.weight, atol=1e-6)
