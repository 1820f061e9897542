"""A layer whose optional packages are missing says which llmos extra brings them."""
import json
import subprocess
import sys

import pytest

from llmos.extras import MissingExtraError, check_extra, require_extra


def test_an_installed_package_is_imported_and_a_missing_one_names_the_extra():
    assert require_extra("json", "serve") is json
    check_extra("agent", "json", "os.path")
    with pytest.raises(MissingExtraError, match=r"llmos\.agent needs the package 'no_such_pkg_llmos', which is "
                                                r"not installed; install the extra: pip install 'llmos\[agent\]'"):
        require_extra("no_such_pkg_llmos.sub", "agent")
    with pytest.raises(MissingExtraError, match=r"pip install 'llmos\[serve\]'"):
        check_extra("serve", "json", "no_such_pkg_llmos")
    with pytest.raises(ValueError, match="unknown extra 'web'"):
        check_extra("web", "json")


def test_importing_serve_without_fastapi_says_to_install_the_serve_extra():
    # a fresh interpreter in which fastapi cannot be found
    code = ("import sys, importlib.abc\n"
            "class Block(importlib.abc.MetaPathFinder):\n"
            "    def find_spec(self, name, path=None, target=None):\n"
            "        if name.split('.')[0] == 'fastapi':\n"
            "            raise ModuleNotFoundError(name)\n"
            "        return None\n"
            "sys.meta_path.insert(0, Block())\n"
            "import llmos.nn, llmos.train.config\n"       # the core needs no extra
            "import llmos.serve\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 1
    assert "llmos.serve needs the package 'fastapi'" in out.stderr
    assert "pip install 'llmos[serve]'" in out.stderr
