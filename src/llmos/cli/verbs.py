"""Where each `llmos` verb lives. One line per verb; each layer adds its own."""
from llmos.cli.main import register

register("train", "llmos.train.cli:train")
register("seq2seq", "llmos.train.cli:seq2seq")
register("generate", "llmos.infer.cli:generate")
register("demo", "llmos.demo:demo")
register("sft", "llmos.train.align.cli:sft")
register("reward", "llmos.train.align.cli:reward")
register("ppo", "llmos.train.align.cli:ppo")
register("dpo", "llmos.train.align.cli:dpo")
register("eliza", "llmos.classic.eliza.cli:eliza")
register("word2vec", "llmos.classic.word2vec.cli:word2vec")
register("serve", "llmos.serve.cli:serve")
register("chat", "llmos.serve.chat_cli:chat")
register("attention", "llmos.interp.cli:attention")
register("serve", "llmos.agent.cli:serve", group="agent")
register("trace", "llmos.agent.cli:trace", group="agent")
register("bench", "llmos.agent.cli:bench", group="agent")
