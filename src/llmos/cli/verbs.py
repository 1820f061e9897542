"""Where each `llmos` verb lives. One line per verb; each layer adds its own."""
from llmos.cli.main import register

# register("train", "llmos.train.cli:train")
register("eliza", "llmos.classic.eliza.cli:eliza")
