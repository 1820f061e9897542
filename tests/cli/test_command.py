import subprocess
import sys
from pathlib import Path
from typing import Literal

import pytest

from llmos.cli.command import build_parser, parse_docstring, run_command


def greet(name: str, times: int = 1, loud: bool = False, style: Literal["plain", "fancy"] = "plain",
          out: Path | None = None, overrides: list[str] | None = None) -> str:
    """Say hello.

    A longer description.

    Args:
        name: who to greet.
        times: how many times.
        loud: shout it.
    """
    text = " ".join([f"hello {name}"] * times)
    return (text.upper() if loud else text) + f"|{style}|{out}|{overrides}"


def test_signature_becomes_command_line():
    out = run_command(greet, ["bob", "--times", "2", "--loud", "--style", "fancy", "--out", "x.txt", "a=1"], "t")
    assert out == "HELLO BOB HELLO BOB|fancy|x.txt|['a=1']"


def test_docstring_becomes_help():
    summary, body, args = parse_docstring(greet.__doc__)
    assert summary == "Say hello." and body == "A longer description."
    assert args == {"name": "who to greet.", "times": "how many times.", "loud": "shout it."}
    text = build_parser(greet, "t").format_help()
    assert "who to greet." in text and "how many times. (default: 1)" in text


def test_bad_value_is_an_argparse_error(capsys):
    with pytest.raises(SystemExit):
        run_command(greet, ["bob", "--times", "two"], "t")
    assert "times" in capsys.readouterr().err


def test_llmos_help_lists_verbs():
    # run as `python -m` (the module is then __main__), which once filled a second verb table
    r = subprocess.run([sys.executable, "-m", "llmos.cli.main", "--help"], capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.startswith("usage: llmos VERB")
    assert "(unavailable" not in r.stdout
    from llmos.cli.main import load_target
    from llmos.cli.verbs import VERBS
    for verb, target in VERBS.items():
        summary = parse_docstring(load_target(target).__doc__)[0] if isinstance(target, str) else ""
        assert f"  {verb}" in r.stdout and summary in r.stdout, verb


def test_unknown_verb_exits_2():
    r = subprocess.run([sys.executable, "-m", "llmos.cli.main", "nonsense"], capture_output=True, text=True)
    assert r.returncode == 2 and "unknown verb" in r.stderr
