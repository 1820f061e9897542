"""`llmos eliza`: talk with ELIZA at the terminal, or replay a conversation through a pipe."""
from __future__ import annotations

import sys
from pathlib import Path

from llmos.classic.eliza.engine import Eliza
from llmos.classic.eliza.script import Script
from llmos.classic.eliza.sexpr import ElizaScriptError

BANNER = """\
ELIZA: the pattern-matching conversation program of Joseph Weizenbaum (CACM, 1966).
Script: {name} ({keywords} keywords). It matches words; it understands nothing.
An empty line or Ctrl-D ends the session.
"""


def eliza(script: Path | None = None, teletype: bool = False, trace: bool = False,
          memory_period: int = 4) -> int:
    """Talk with ELIZA, Weizenbaum's 1966 keyword-and-pattern conversation program.

    At a terminal it opens a session with a banner. With text piped in, it reads
    one line per turn and prints one reply per line (no banner, no greeting),
    so a conversation can be replayed: `llmos eliza < talk.txt`.

    Args:
        script: a script in the 1966 S-expression format (default: llmos's own,
            the keeper of a lighthouse).
        teletype: reply in capitals, as the IBM 7094 printed them.
        trace: show on stderr, for each turn, the keystack and the rules used.
        memory_period: recall a remembered remark only on every n-th input with
            no keyword (4 in the 1965 program; 1 recalls whenever possible).
    """
    try:
        loaded = Script.default() if script is None else Script.load(script)
        bot = Eliza(loaded, teletype=teletype, memory_period=memory_period)
    except (ElizaScriptError, FileNotFoundError, ValueError) as e:
        print(f"llmos eliza: {e}", file=sys.stderr)
        return 2

    def answer(line: str) -> None:
        reply = bot.reply(line)
        if trace:
            for step in reply.trace:
                print(f"  [{step}]", file=sys.stderr)
        print(reply.text, flush=True)

    if not sys.stdin.isatty():
        for line in sys.stdin:
            answer(line.rstrip("\n"))
        return 0

    print(BANNER.format(name=loaded.name, keywords=len(loaded.keywords)))
    print(bot.greeting())
    while True:
        try:
            line = input("> ")
        except (EOFError, KeyboardInterrupt):
            print()
            return 0
        if not line.strip():
            return 0
        answer(line)
