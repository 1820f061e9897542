"""A recurrent encoder-decoder with attention, trained on llmos's synthetic seq2seq tasks."""
from llmos.classic.seq2seq.attention import RNNAttention
from llmos.classic.seq2seq.model import RNNSeq2Seq, RNNSeq2SeqConfig
from llmos.classic.seq2seq.train import Seq2SeqResult, Seq2SeqTrainConfig, evaluate, predict, train_seq2seq

__all__ = ["RNNAttention", "RNNSeq2Seq", "RNNSeq2SeqConfig", "Seq2SeqResult", "Seq2SeqTrainConfig",
           "evaluate", "predict", "train_seq2seq"]
