"""Turn a typed Python function into a command line.

A command's function signature *is* its command line and its docstring is its
help text, as in litgpt:

    def generate(model: Path, prompt: str = "", max_new_tokens: int = 100,
                 temperature: float = 0.8) -> None:
        '''Sample text from a model.

        Args:
            model: a run folder or a Hugging Face format folder.
            prompt: text to continue.
        '''

becomes `llmos generate MODEL [--prompt P] [--max-new-tokens N] ...`.
Parameters without a default are positional; the rest are `--options`.
A parameter named `overrides` of type `list[str]` collects trailing
`key=value` settings for typed configs (see `llmos.config.override`).
"""
from __future__ import annotations

import argparse
import inspect
import re
import typing
from pathlib import Path
from typing import Any, Callable, Literal, get_args, get_origin

from llmos.config import ConfigError, _unwrap_optional, parse_value


def parse_docstring(doc: str | None) -> tuple[str, str, dict[str, str]]:
    """Split a Google-style docstring into (summary, description, {arg: help})."""
    doc = inspect.cleandoc(doc or "")
    lines = doc.splitlines()
    summary = lines[0] if lines else ""
    body, args, current, in_args = [], {}, None, False
    for line in lines[1:]:
        if re.match(r"^(Args|Arguments|Parameters):\s*$", line):
            in_args = True
            continue
        if in_args and re.match(r"^(Returns|Raises|Examples?|Yields|Note):\s*$", line):
            in_args = False
            body.append(line)
            continue
        if in_args:
            m = re.match(r"^\s{2,}(\w+)(?:\s*\(.*?\))?:\s*(.*)$", line)
            if m and len(line) - len(line.lstrip()) <= 8:
                current = m.group(1)
                args[current] = m.group(2).strip()
            elif current and line.strip():
                args[current] += " " + line.strip()
            continue
        body.append(line)
    return summary, "\n".join(body).strip(), args


def _type_and_kwargs(name: str, tp: Any, default: Any) -> dict[str, Any]:
    inner, _ = _unwrap_optional(tp)
    origin = get_origin(inner)
    kw: dict[str, Any] = {}
    if inner is bool:
        kw["action"] = argparse.BooleanOptionalAction
        return kw
    if origin is Literal:
        kw["choices"] = list(get_args(inner))
        kw["type"] = lambda s, _tp=inner: parse_value(s, _tp, name)
        return kw
    if origin in (list, tuple):
        (item,) = get_args(inner)[:1] or (str,)
        kw["nargs"] = "*"
        kw["type"] = lambda s, _tp=item: parse_value(s, _tp, name)
        return kw
    kw["type"] = lambda s, _tp=inner: parse_value(s, _tp, name)
    kw["metavar"] = getattr(inner, "__name__", "VALUE").upper() if inner is not Path else "PATH"
    return kw


def build_parser(fn: Callable[..., Any], prog: str, parser: argparse.ArgumentParser | None = None
                 ) -> argparse.ArgumentParser:
    summary, description, arg_help = parse_docstring(fn.__doc__)
    if parser is None:
        parser = argparse.ArgumentParser(prog=prog)
    parser.description = summary + ("\n\n" + description if description else "")
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    hints = typing.get_type_hints(fn)
    for pname, p in inspect.signature(fn).parameters.items():
        tp = hints.get(pname, str)
        help_ = arg_help.get(pname, "")
        kw = _type_and_kwargs(pname, tp, p.default)
        if pname == "overrides":
            parser.add_argument("overrides", nargs="*", metavar="KEY=VALUE",
                                help=help_ or "settings to override, e.g. model.n_layers=6")
            continue
        if p.default is inspect.Parameter.empty:
            kw.pop("metavar", None)
            parser.add_argument(pname, help=help_, **kw)
        else:
            if p.default is not None and "action" not in kw:
                help_ = f"{help_} (default: {p.default})".strip()
            parser.add_argument("--" + pname.replace("_", "-"), dest=pname, default=p.default,
                                help=help_, **kw)
    return parser


def run_command(fn: Callable[..., Any], argv: list[str], prog: str) -> Any:
    parser = build_parser(fn, prog)
    ns = parser.parse_intermixed_args(argv)
    try:
        return fn(**vars(ns))
    except ConfigError as e:
        parser.error(str(e))
