"""`llmos memory ...` on a person's file: list, search, show, edit, forget, export, import, wipe."""
from __future__ import annotations

import json

import pytest

from llmos.agent.memory import Memory, MemoryStore
from llmos.cli.main import main


@pytest.fixture
def ada(tmp_path, hash_embedder):
    m = Memory(MemoryStore.open_person(tmp_path, "ada", hash_embedder))
    m.capture("I'm vegetarian and always take an aisle seat")
    m.save("lives in Chicago", key="home_city", value="Chicago")
    m.save("moved to Boston", key="home_city", value="Boston")
    for _ in range(3):
        m.record_choice("coffee", [{"item": "Colombian"}, {"item": "Ethiopian"}], 0)
    m.close()
    return ["--person", "ada", "--data-dir", str(tmp_path)]


def test_list_search_and_show(ada, capsys):
    assert main(["memory", "list", *ada]) == 0
    out = capsys.readouterr().out
    assert "prefers aisle seats" in out and "moved to Boston" in out and "lives in Chicago" not in out
    assert "coffee: prefers Colombian: chose 3 of 3" in out
    main(["memory", "list", "--history", *ada])
    assert "lives in Chicago  (superseded by #4)" in capsys.readouterr().out
    main(["memory", "search", "aisle", "--mode", "keyword", *ada])
    assert capsys.readouterr().out.splitlines()[0].endswith("prefers aisle seats")
    main(["memory", "show", "4", *ada])
    out = capsys.readouterr().out
    assert json.loads(out[:out.index("\nwas:")])["text"] == "moved to Boston" and "was: #3" in out


def test_edit_forget_export_import_wipe(ada, tmp_path, capsys, hash_embedder):
    main(["memory", "edit", "2", "--value", "window", *ada])
    assert "prefers window seats" in capsys.readouterr().out
    main(["memory", "forget", "4", *ada])
    assert capsys.readouterr().out.strip() == "forgot #4, #3"
    out = tmp_path / "ada.json"
    main(["memory", "export", "--output", str(out), *ada])
    data = json.loads(out.read_text())
    assert {i["text"] for i in data["items"]} >= {"prefers window seats", "diet: vegetarian"}
    assert not any("Boston" in i["text"] or "Chicago" in i["text"] for i in data["items"])
    MemoryStore.open_person(tmp_path, "bob", hash_embedder).close()
    main(["memory", "import", str(out), "--person", "bob", "--data-dir", str(tmp_path)])
    assert f"imported {len(data['items'])} memories" in capsys.readouterr().out
    main(["memory", "search", "window seat", "--person", "bob", "--data-dir", str(tmp_path)])
    assert "prefers window seats" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["memory", "wipe", *ada])               # without --yes nothing goes
    assert "--yes" in capsys.readouterr().err
    main(["memory", "wipe", "--yes", *ada])
    main(["memory", "list", *ada])
    assert "window" not in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["memory", "list", "--person", "nobody", "--data-dir", str(tmp_path)])
    assert "no memory for 'nobody'" in capsys.readouterr().err


def test_a_corrupt_file_is_named(tmp_path, capsys):
    (tmp_path / "eve.memory.sqlite3").write_text("not a database")
    with pytest.raises(SystemExit):
        main(["memory", "list", "--person", "eve", "--data-dir", str(tmp_path)])
    assert "eve.memory.sqlite3 is not an llmos memory file" in capsys.readouterr().err
