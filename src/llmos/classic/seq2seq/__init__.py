"""A recurrent encoder-decoder with attention, for llmos's synthetic seq2seq tasks.

It is trained by the same loop as the Transformer (`llmos.train.seq2seq.train_seq2seq`,
which takes any encoder-decoder); classic itself stays on config and text alone.
"""
from llmos.classic.seq2seq.attention import RNNAttention
from llmos.classic.seq2seq.model import RNNSeq2Seq, RNNSeq2SeqConfig

__all__ = ["RNNAttention", "RNNSeq2Seq", "RNNSeq2SeqConfig"]
