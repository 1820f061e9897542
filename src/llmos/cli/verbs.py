"""Where each `llmos` verb lives: verb -> "module:function", or a table of sub-verbs.

A plain literal, read by `llmos.cli.main`; each layer adds its own lines here.
Targets are imported only when their verb runs.
"""
from __future__ import annotations

from typing import Union

Table = dict[str, Union[str, "Table"]]

VERBS: Table = {
    "train": "llmos.train.cli:train",
    "seq2seq": "llmos.train.cli:seq2seq",
    "generate": "llmos.infer.cli:generate",
    "quantize": "llmos.hub.quantized:quantize_folder",
    "demo": "llmos.demo:demo",
    "sft": "llmos.train.align.cli:sft",
    "reward": "llmos.train.align.cli:reward",
    "ppo": "llmos.train.align.cli:ppo",
    "dpo": "llmos.train.align.cli:dpo",
    "eliza": "llmos.classic.eliza.cli:eliza",
    "word2vec": "llmos.classic.word2vec.cli:word2vec",
    "serve": "llmos.serve.cli:serve",
    "chat": "llmos.serve.chat_cli:chat",
    "attention": "llmos.interp.cli:attention",
    "interp": {
        "lens": "llmos.interp.cli:lens",
        "trace": "llmos.interp.cli:trace",
        "patch": "llmos.interp.cli:patch",
        "edit": "llmos.interp.cli:edit",
    },
    "reason": {
        "few-shot": "llmos.reason.cli:few_shot",
        "cot": "llmos.reason.cli:cot",
        "self-consistency": "llmos.reason.cli:self_consistency",
        "tot": "llmos.reason.cli:tot",
        "socratic": "llmos.reason.cli:socratic",
        "self-refine": "llmos.reason.cli:self_refine",
        "reflexion": "llmos.reason.cli:reflexion",
        "react": "llmos.reason.cli:react",
        "train": "llmos.reason.cli:train",
        "bench": "llmos.reason.cli:bench",
    },
    "agent": {
        "serve": "llmos.agent.cli:serve",
        "trace": "llmos.agent.cli:trace",
        "bench": "llmos.agent.cli:bench",
        "team": "llmos.agent.team.cli:team",
        "train": "llmos.agent.learn.cli:train",
        "run": "llmos.agent.learn.cli:run",
    },
    "mcp": {
        "serve": "llmos.agent.mcp.cli:serve",
    },
    "memory": {
        "list": "llmos.agent.memory.cli:list_",
        "search": "llmos.agent.memory.cli:search",
        "show": "llmos.agent.memory.cli:show",
        "edit": "llmos.agent.memory.cli:edit",
        "forget": "llmos.agent.memory.cli:forget",
        "export": "llmos.agent.memory.cli:export",
        "import": "llmos.agent.memory.cli:import_",
        "wipe": "llmos.agent.memory.cli:wipe",
    },
}
