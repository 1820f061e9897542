"""word2vec (Mikolov et al., 2013): skip-gram and CBOW with negative sampling, in PyTorch.

    sentences = read_sentences("corpus.txt")
    vectors, stats = train_word2vec(sentences, Word2VecConfig(mode="skipgram", epochs=5))
    vectors.nearest("king"); vectors.analogy("man", "king", "woman")
    evaluate_analogies(vectors, "questions-words.txt"); evaluate_similarity(vectors, "wordsim353.tsv")
"""
from llmos.classic.word2vec.model import Word2Vec, Word2VecConfig
from llmos.classic.word2vec.train import TrainStats, train_word2vec
from llmos.classic.word2vec.vectors import WordVectors
from llmos.classic.word2vec.vocab import Vocab, keep_probability, noise_distribution, read_sentences, tokenize

__all__ = ["Word2Vec", "Word2VecConfig", "TrainStats", "train_word2vec", "WordVectors", "Vocab",
           "keep_probability", "noise_distribution", "read_sentences", "tokenize"]
