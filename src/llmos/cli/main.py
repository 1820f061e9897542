"""The `llmos` command: one verb per layer, each with its own `--help`.

Verbs are imported only when used, so `llmos --help` is instant and a verb's
heavy dependencies (torch, a browser) load only for that verb.
"""
from __future__ import annotations

import importlib
import sys
from typing import Any

from llmos.cli.command import parse_docstring, run_command
from llmos.cli.verbs import VERBS


def load_target(target: str):
    """The function behind a verb's "module:function" target."""
    module, func = target.split(":")
    return getattr(importlib.import_module(module), func)


def _summary(target: Any) -> str:
    if isinstance(target, dict):
        return "sub-commands: " + ", ".join(sorted(target))
    try:
        return parse_docstring(load_target(target).__doc__)[0]
    except Exception as e:  # a broken verb must not break `llmos --help`
        return f"(unavailable: {e})"


def _usage(prefix: str, table: dict[str, Any]) -> str:
    width = max(len(v) for v in table) if table else 0
    rows = "\n".join(f"  {v.ljust(width)}  {_summary(t)}" for v, t in sorted(table.items()))
    return f"usage: {prefix} VERB [options]\n\nverbs:\n{rows}\n\nRun `{prefix} VERB --help` for a verb's options."


def dispatch(argv: list[str], table: dict[str, Any], prefix: str) -> Any:
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(_usage(prefix, table))
        return 0
    if prefix == "llmos" and argv[0] == "--version":
        from llmos import __version__
        print(f"llmos {__version__}")
        return 0
    verb, rest = argv[0], argv[1:]
    if verb not in table:
        print(f"{prefix}: unknown verb {verb!r}\n\n{_usage(prefix, table)}", file=sys.stderr)
        return 2
    target = table[verb]
    if isinstance(target, dict):
        return dispatch(rest, target, f"{prefix} {verb}")
    return run_command(load_target(target), rest, f"{prefix} {verb}")


def main(argv: list[str] | None = None) -> int:
    result = dispatch(sys.argv[1:] if argv is None else argv, VERBS, "llmos")
    return result if isinstance(result, int) else 0


if __name__ == "__main__":
    sys.exit(main())
