"""Optional dependencies: a layer whose extra is not installed says which one to install.

The core (`nn`, `text`, `hub`, `train`, `infer`, `classic`, `interp`) needs only
what `pip install llmos` brings. `serve`, `reason` and `agent` need more; each
checks for its optional packages when it is imported (`check_extra`, in its
`__init__`), or imports one through `require_extra`, so a missing one ends with
the command that fixes it rather than a bare ModuleNotFoundError:

    check_extra("serve", "fastapi", "uvicorn", "httpx")
    # MissingExtraError: llmos.serve needs the package 'fastapi', which is not installed;
    # install the extra: pip install 'llmos[serve]'
"""
from __future__ import annotations

import importlib
import importlib.util
from types import ModuleType

EXTRAS = ("serve", "reason", "agent", "all")


class MissingExtraError(ImportError):
    """An optional package is missing; the message names the extra that brings it."""


def _missing(module: str, extra: str) -> MissingExtraError:
    return MissingExtraError(f"llmos.{extra} needs the package {module.split('.')[0]!r}, which is not "
                             f"installed; install the extra: pip install 'llmos[{extra}]'")


def check_extra(extra: str, *modules: str) -> None:
    """Raise MissingExtraError for the first of `modules` that is not installed (nothing is imported)."""
    if extra not in EXTRAS:
        raise ValueError(f"unknown extra {extra!r}; llmos has {list(EXTRAS)}")
    for module in modules:
        try:
            found = importlib.util.find_spec(module.split(".")[0]) is not None
        except (ModuleNotFoundError, ValueError):
            found = False
        if not found:
            raise _missing(module, extra)


def require_extra(module: str, extra: str) -> ModuleType:
    """Import `module`, or raise MissingExtraError saying `pip install 'llmos[EXTRA]'`."""
    if extra not in EXTRAS:
        raise ValueError(f"unknown extra {extra!r}; llmos has {list(EXTRAS)}")
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as e:
        top = module.split(".")[0]
        if e.name is None or e.name.split(".")[0] != top:
            raise                                    # the package is there but something it needs is not
        raise _missing(module, extra) from e
