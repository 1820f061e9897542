"""`llmos chat`: a conversation at the terminal with a model, a server, or ELIZA.

The whole conversation is sent each turn, so the model sees its history.
At a terminal, lines are read with a prompt and replies stream in as they
are written; with text piped in, each input line is one turn and the
transcript (`you> ...` / `NAME> ...`) goes to stdout, so a conversation can be
replayed: `llmos chat --eliza < talk.txt`.

Commands inside the chat: `/reset` forgets the conversation, `/exit` ends it.
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Literal

from rich.console import Console

from llmos.serve.chat_backends import ChatBackend, ElizaChat, LocalChat, RemoteChat


def chat(model: Path | None = None, url: str | None = None, api_key: str | None = None,
         eliza: bool = False, system: str | None = None, max_tokens: int = 256,
         temperature: float = 0.7, seed: int | None = None, model_name: str | None = None,
         device: str = "cpu", dtype: Literal["fp32", "bf16", "int8"] = "fp32") -> int:
    """Chat at the terminal with a local model, any OpenAI-compatible server, or ELIZA.

    Give exactly one of --model, --url or --eliza. `/reset` forgets the
    conversation, `/exit` (or Ctrl-D) ends it. With stdin piped, each line
    is one turn: `echo "I feel sad" | llmos chat --eliza`.

    Args:
        model: a training run folder or a Hugging Face format folder, run in this process.
        url: base URL of an OpenAI-compatible API, e.g. http://127.0.0.1:8000/v1 (llmos serve).
        api_key: the server's API key (default: $OPENAI_API_KEY, then $LLMOS_API_KEY).
        eliza: talk with ELIZA (Weizenbaum, 1966) instead of a language model.
        system: a system message that opens the conversation.
        max_tokens: most tokens per reply.
        temperature: sampling temperature; 0 is greedy.
        seed: sampling seed, for replies that repeat from run to run.
        model_name: the model to ask for at --url (default: the first the server lists).
        device: where a local model runs (cpu, cuda, cuda:1, ...).
        dtype: a local model's weights: fp32, or bf16 / int8 for faster replies on a CPU.
    """
    import os
    err = Console(stderr=True, soft_wrap=True)
    if sum([model is not None, url is not None, eliza]) != 1:
        err.print("llmos chat: give exactly one of --model PATH, --url URL or --eliza")
        return 2
    try:
        backend = _backend(model, url, api_key or os.environ.get("OPENAI_API_KEY") or
                           os.environ.get("LLMOS_API_KEY"), eliza, max_tokens, temperature, seed, model_name, device,
                           dtype)
    except Exception as e:   # a missing folder, an unreachable server: say which, and stop
        err.print(f"llmos chat: {e}", markup=False)
        return 2
    try:
        converse(backend, system, sys.stdin)
    finally:
        backend.close()
    return 0


def _backend(model, url, api_key, eliza, max_tokens, temperature, seed, model_name, device,
             dtype="fp32") -> ChatBackend:
    if eliza:
        return ElizaChat()
    if url is not None:
        return RemoteChat(url, api_key, model_name, max_tokens, temperature, seed)
    from llmos.infer.engine import EngineConfig
    from llmos.serve.cli import load_weights_as
    served = load_weights_as(model, dtype, model_name, EngineConfig(n_slots=1), device)
    return LocalChat(served, max_tokens, temperature, seed)


def converse(backend: ChatBackend, system: str | None, stdin, console: Console | None = None) -> list[dict]:
    """Run the conversation loop; returns the conversation."""
    console = console or Console(highlight=False, soft_wrap=True)
    interactive = stdin.isatty()
    opening = [{"role": "system", "content": system}] if system else []
    messages = list(opening)
    if interactive:
        console.print(f"[dim]chatting with {backend.name}; /reset forgets, /exit or Ctrl-D ends[/dim]")
    greeting = backend.greeting()
    if greeting:
        console.print(f"[bold magenta]{backend.name}>[/] {greeting}" if interactive else f"{backend.name}> {greeting}",
                      markup=interactive)
    while True:
        try:
            line = console.input("[bold cyan]you>[/] ") if interactive else stdin.readline()
        except (EOFError, KeyboardInterrupt):
            break
        if not interactive and line == "":
            break   # end of the piped input
        line = line.strip()
        if not line:
            continue
        if line in ("/exit", "/quit"):
            break
        if line == "/reset":
            messages = list(opening)
            backend.reset()
            console.print("[dim](conversation forgotten)[/dim]" if interactive else "(conversation forgotten)",
                          markup=interactive)
            continue
        if not interactive:
            console.print(f"you> {line}", markup=False)
        messages.append({"role": "user", "content": line})
        console.print(f"[bold magenta]{backend.name}>[/] " if interactive else f"{backend.name}> ",
                      end="", markup=interactive)
        pieces = []
        try:
            for piece in backend.reply(messages):
                if not pieces:
                    piece = piece.lstrip()   # "Assistant: Hi" continues with " Hi"
                    if not piece:
                        continue
                pieces.append(piece)
                console.print(piece, end="", markup=False, soft_wrap=True)
        except KeyboardInterrupt:
            console.print(" [dim](interrupted)[/dim]" if interactive else "", end="", markup=interactive)
        except Exception as e:   # the server went away, the context is full: say so, keep the chat
            console.print(f"\n(error: {e})", markup=False)
            messages.pop()
            continue
        console.print()
        messages.append({"role": "assistant", "content": "".join(pieces).strip()})
    return messages
