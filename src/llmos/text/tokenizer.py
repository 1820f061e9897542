"""Tokenizers: byte-level BPE, character-level, and any Hugging Face `tokenizer.json`.

Every llmos tokenizer wraps a Rust `tokenizers.Tokenizer`, the library the
Hugging Face ecosystem uses, so whatever llmos trains is saved as a standard
`tokenizer.json` (plus `tokenizer_config.json` for the special tokens and the
chat template) that `transformers.AutoTokenizer` opens unchanged.

    tok = Tokenizer.train_bpe(texts, vocab_size=4096)  # GPT-2 style byte-level BPE
    tok = Tokenizer.char(text)                         # one token per character
    tok = Tokenizer.load("path/to/hf_folder")          # tokenizer.json + tokenizer_config.json

Byte-level BPE (Sennrich et al. 2016, as in GPT-2) starts from the 256 byte
values, so it can encode any string; merges of frequent adjacent pairs are
learned from the training text. The character-level tokenizer is nanoGPT's:
the vocabulary is the set of characters in the text; a character it never saw
becomes `<unk>`.
"""
from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from tokenizers import Regex, decoders, models, pre_tokenizers, trainers
from tokenizers import Tokenizer as RustTokenizer

from llmos.config import atomic_write_text, read_json
from llmos.text.chat_template import DEFAULT_CHAT_TEMPLATE, render_chat_template

EOS = "<|endoftext|>"   # GPT-2's document separator: also the end-of-sequence token
UNK = "<unk>"
SPECIAL_KEYS = ("bos_token", "eos_token", "pad_token", "unk_token")


class TokenizerError(ValueError):
    """A tokenizer file is missing or unreadable, or text cannot be encoded."""


class Tokenizer:
    """A `tokenizers.Tokenizer` plus the special tokens and chat template around it."""

    def __init__(self, backend: RustTokenizer, *, bos_token: str | None = None,
                 eos_token: str | None = None, pad_token: str | None = None,
                 unk_token: str | None = None, chat_template: str | None = None,
                 model_max_length: int | None = None, kind: str = "hf") -> None:
        self.backend = backend
        self.special = {"bos_token": bos_token, "eos_token": eos_token,
                        "pad_token": pad_token, "unk_token": unk_token}
        for key, token in self.special.items():
            if token is not None and backend.token_to_id(token) is None:
                raise TokenizerError(f"{key} {token!r} is not in the tokenizer's vocabulary")
        self.chat_template = chat_template
        self.model_max_length = model_max_length
        self.kind = kind   # "bpe", "char" or "hf": how it was made (for messages and run configs)

    # ------------------------------------------------------------------ building
    @classmethod
    def train_bpe(cls, texts: Iterable[str], vocab_size: int, *, min_frequency: int = 2,
                  show_progress: bool = False, spaces_apart: bool = False) -> Tokenizer:
        """Learn a GPT-2 style byte-level BPE with `vocab_size` tokens from `texts`.

        spaces_apart: every space is a token of its own, so no word carries a
        leading space: " Berlin" is [" ", "Berlin"] and '"Berlin"' is ['"',
        'Berlin', '"'], the same "Berlin" token wherever the word stands. A
        small model that must copy a value from a sentence into JSON then
        copies tokens instead of translating them (about 1.3x more tokens).
        """
        if vocab_size < 257:
            raise TokenizerError(f"vocab_size={vocab_size} is too small for byte-level BPE: "
                                 "it needs the 256 byte tokens plus <|endoftext|>; use at least 257")
        backend = RustTokenizer(models.BPE())
        # GPT-2's pre-tokenizer: split on its regex (words, numbers, punctuation, spaces),
        # then map every byte to a printable stand-in character so merges work on bytes.
        byte_level = pre_tokenizers.ByteLevel(add_prefix_space=False)
        backend.pre_tokenizer = (pre_tokenizers.Sequence([pre_tokenizers.Split(" ", behavior="isolated"), byte_level])
                                 if spaces_apart else byte_level)
        backend.decoder = decoders.ByteLevel()
        trainer = trainers.BpeTrainer(vocab_size=vocab_size, min_frequency=min_frequency,
                                      special_tokens=[EOS], show_progress=show_progress,
                                      initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
        backend.train_from_iterator(texts, trainer=trainer)
        return cls(backend, bos_token=EOS, eos_token=EOS, kind="bpe")

    @classmethod
    def char(cls, text: str | Iterable[str]) -> Tokenizer:
        """A character-level tokenizer whose vocabulary is the characters of `text`.

        Ids 0..n-1 are the characters in sorted order (as in nanoGPT), then
        `<|endoftext|>` (document separator) and `<unk>` (unseen characters).
        """
        chars: set[str] = set()
        for piece in ([text] if isinstance(text, str) else text):
            chars.update(piece)
        if not chars:
            raise TokenizerError("cannot build a character tokenizer from empty text")
        vocab = {c: i for i, c in enumerate(sorted(chars))}
        vocab[EOS] = len(vocab)
        vocab[UNK] = len(vocab)
        backend = RustTokenizer(models.WordLevel(vocab, unk_token=UNK))
        backend.pre_tokenizer = pre_tokenizers.Split(Regex(r"[\s\S]"), behavior="isolated")
        backend.decoder = decoders.Fuse()   # characters join with nothing between them
        backend.add_special_tokens([EOS, UNK])
        return cls(backend, eos_token=EOS, unk_token=UNK, kind="char")

    @classmethod
    def load(cls, path: str | Path) -> Tokenizer:
        """Open a `tokenizer.json` file, or a folder holding one (and `tokenizer_config.json`)."""
        path = Path(path)
        folder, file = (path, path / "tokenizer.json") if path.is_dir() else (path.parent, path)
        if not file.exists():
            raise TokenizerError(f"no tokenizer.json at {file}; pass a Hugging Face folder or a "
                                 "tokenizer.json file (slow-only tokenizers such as vocab.txt/"
                                 "sentencepiece .model files must be converted to tokenizer.json first)")
        try:
            backend = RustTokenizer.from_file(str(file))
        except Exception as e:
            raise TokenizerError(f"{file} is not a readable tokenizer.json ({e})") from None
        # Padding and truncation are the caller's decisions, per batch (as in transformers).
        backend.no_padding()
        backend.no_truncation()
        config = _read_json(folder / "tokenizer_config.json")
        special = {k: _token_text(config.get(k)) for k in SPECIAL_KEYS}
        special = {k: (v if v is not None and backend.token_to_id(v) is not None else None)
                   for k, v in special.items()}
        if not any(special.values()):
            special = _guess_special_tokens(backend)
        template = _read_chat_template(folder, config)
        kind = config.get("llmos_tokenizer", "hf")
        max_len = config.get("model_max_length")
        max_len = int(max_len) if isinstance(max_len, (int, float)) and max_len < 1e9 else None
        return cls(backend, chat_template=template, model_max_length=max_len, kind=kind, **special)

    # ------------------------------------------------------------------ using
    @property
    def vocab_size(self) -> int:
        """Number of ids, added special tokens included (the model's embedding rows)."""
        return self.backend.get_vocab_size(with_added_tokens=True)

    def _id(self, key: str) -> int | None:
        token = self.special[key]
        return None if token is None else self.backend.token_to_id(token)

    @property
    def bos_id(self) -> int | None:
        return self._id("bos_token")

    @property
    def eos_id(self) -> int | None:
        return self._id("eos_token")

    @property
    def pad_id(self) -> int | None:
        """The padding id: the pad token, else the end-of-sequence token (as GPT-2 does)."""
        pad = self._id("pad_token")
        return pad if pad is not None else self.eos_id

    @property
    def unk_id(self) -> int | None:
        return self._id("unk_token")

    def encode(self, text: str, add_special_tokens: bool = True) -> list[int]:
        """Token ids of `text`. `add_special_tokens` runs the tokenizer's post-processor
        (e.g. Llama's leading `<s>`); llmos's own tokenizers have none. Pass False for
        text that already holds its special tokens, such as a rendered chat template."""
        if not isinstance(text, str):
            raise TokenizerError(f"encode expects a str, got {type(text).__name__}")
        return self.backend.encode(text, add_special_tokens=add_special_tokens).ids

    def encode_batch(self, texts: list[str], add_special_tokens: bool = True) -> list[list[int]]:
        """Token ids of many texts at once (parallel in Rust)."""
        return [e.ids for e in self.backend.encode_batch(texts, add_special_tokens=add_special_tokens)]

    def decode(self, ids: Iterable[int], skip_special_tokens: bool = False) -> str:
        """The text of `ids`; special tokens are kept unless `skip_special_tokens`."""
        ids = [int(i) for i in ids]
        bad = [i for i in ids if not 0 <= i < self.vocab_size]
        if bad:
            raise TokenizerError(f"ids {bad[:5]} are outside the vocabulary (size {self.vocab_size})")
        return self.backend.decode(ids, skip_special_tokens=skip_special_tokens)

    def token(self, token_id: int) -> str | None:
        """The vocabulary entry for one id (byte-level stand-in characters for BPE)."""
        return self.backend.id_to_token(token_id)

    def apply_chat_template(self, messages: list[dict[str, Any]], *, add_generation_prompt: bool = True,
                            tokenize: bool = False, **kwargs: Any) -> str | list[int]:
        """Render chat `messages` ([{"role": ..., "content": ...}]) into the model's prompt.

        Uses the tokenizer's own Jinja chat template when it has one (as
        `transformers` does), else llmos's plain-text default, which a base model
        trained on prose can continue: `User: ...` lines ending in `Assistant:`.
        With `tokenize=True` returns ids, encoded without adding special tokens
        again (the template already holds them).
        """
        text = render_chat_template(self.chat_template or DEFAULT_CHAT_TEMPLATE, messages,
                                    add_generation_prompt=add_generation_prompt,
                                    **{k: v or "" for k, v in self.special.items()}, **kwargs)
        return self.encode(text, add_special_tokens=False) if tokenize else text

    # ------------------------------------------------------------------ saving
    def save(self, folder: str | Path) -> Path:
        """Write `tokenizer.json` and `tokenizer_config.json` into `folder`."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        atomic_write_text(folder / "tokenizer.json", self.backend.to_str(pretty=True))
        config: dict[str, Any] = {"tokenizer_class": "PreTrainedTokenizerFast",
                                  "clean_up_tokenization_spaces": False, "llmos_tokenizer": self.kind}
        config.update({k: v for k, v in self.special.items() if v is not None})
        if self.model_max_length:
            config["model_max_length"] = self.model_max_length
        if self.chat_template:
            config["chat_template"] = self.chat_template
        atomic_write_text(folder / "tokenizer_config.json", json.dumps(config, indent=2) + "\n")
        return folder

    def __len__(self) -> int:
        return self.vocab_size

    def __repr__(self) -> str:
        return f"Tokenizer(kind={self.kind!r}, vocab_size={self.vocab_size})"


def _read_json(path: Path) -> dict[str, Any]:
    """A tokenizer side file (tokenizer_config.json, special_tokens_map.json), or {} where there is none."""
    return read_json(path, TokenizerError) if path.exists() else {}


def _token_text(value: Any) -> str | None:
    """tokenizer_config.json writes a special token as a string or {"content": ...}."""
    if isinstance(value, dict):
        return value.get("content")
    return value if isinstance(value, str) else None


def _read_chat_template(folder: Path, config: dict[str, Any]) -> str | None:
    """The chat template from `chat_template.jinja` (newer transformers) or the config."""
    jinja = folder / "chat_template.jinja"
    if jinja.exists():
        return jinja.read_text(encoding="utf-8")
    template = config.get("chat_template")
    if isinstance(template, list):   # named templates: [{"name": "default", "template": ...}]
        named = {t.get("name"): t.get("template") for t in template if isinstance(t, dict)}
        return named.get("default") or next(iter(named.values()), None)
    return template if isinstance(template, str) else None


def _guess_special_tokens(backend: RustTokenizer) -> dict[str, str | None]:
    """Without a tokenizer_config.json, recognise the common families' special tokens."""
    vocab = backend.get_vocab(with_added_tokens=True)
    pick = lambda *names: next((n for n in names if n in vocab), None)  # noqa: E731
    return {"bos_token": pick("<s>", "<|begin_of_text|>", "[CLS]"),
            "eos_token": pick("</s>", "<|endoftext|>", "<|end_of_text|>", "[SEP]"),
            "pad_token": pick("<pad>", "[PAD]"),
            "unk_token": pick("<unk>", "[UNK]")}
