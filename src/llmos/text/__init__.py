"""llmos.text: tokenizers, corpora, and packed token shards.

    from llmos.text import Tokenizer, read_corpus, pack, TokenShards
"""
from llmos.text.chat_template import ChatTemplateError, render_chat_template
from llmos.text.corpus import CorpusError, describe_corpus, read_corpus
from llmos.text.shards import ShardError, ShardMeta, TokenShards, pack, read_meta
from llmos.text.tokenizer import EOS, Tokenizer, TokenizerError

__all__ = ["Tokenizer", "TokenizerError", "EOS", "render_chat_template", "ChatTemplateError",
           "read_corpus", "describe_corpus", "CorpusError", "pack", "read_meta", "TokenShards",
           "ShardMeta", "ShardError"]
