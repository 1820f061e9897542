"""ELIZA as Joseph Weizenbaum described it in CACM 9(1), 1966.

    from llmos.classic.eliza import Eliza
    eliza = Eliza.from_script()            # llmos's own script, the lighthouse keeper
    print(eliza.greeting())
    print(eliza.respond("I am afraid of the dark"))

`script.py` reads the 1966 S-expression script format; `engine.py` runs it;
`scripts/llmos.eliza` is the default script.
"""
from llmos.classic.eliza.engine import Eliza, Reply, match
from llmos.classic.eliza.script import Script
from llmos.classic.eliza.sexpr import ElizaScriptError

__all__ = ["Eliza", "ElizaScriptError", "Reply", "Script", "match"]
