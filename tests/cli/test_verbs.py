"""Every verb in the table resolves to a documented function whose `--help` runs."""
import contextlib
import io

import pytest

from llmos.cli.command import parse_docstring
from llmos.cli.main import dispatch, load_target
from llmos.cli.verbs import VERBS


def _leaves(table, prefix=()):
    for verb, target in table.items():
        if isinstance(target, dict):
            yield from _leaves(target, prefix + (verb,))
        else:
            yield prefix + (verb,), target


LEAVES = sorted(_leaves(VERBS))


@pytest.mark.parametrize("path,target", LEAVES, ids=[" ".join(p) for p, _ in LEAVES])
def test_verb_resolves_and_helps(path, target):
    func = load_target(target)  # raises if the module or function is missing
    summary, _, _ = parse_docstring(func.__doc__)
    assert summary, f"{target} has no docstring summary for `llmos {' '.join(path)} --help`"
    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit) as exit_:
        dispatch(list(path) + ["--help"], VERBS, "llmos")
    assert exit_.value.code == 0
    text = out.getvalue()
    assert text.startswith(f"usage: llmos {' '.join(path)}"), text[:200]
    assert summary in text


def test_top_level_help_shows_each_summary(capsys):
    dispatch(["--help"], VERBS, "llmos")
    text = capsys.readouterr().out
    assert "(unavailable" not in text
    for verb, target in VERBS.items():
        if isinstance(target, str):
            assert f"  {verb}" in text and parse_docstring(load_target(target).__doc__)[0] in text
