"""Corpora: files, folders, and the errors for paths that are not text."""
import pytest

from llmos.text.corpus import CorpusError, describe_corpus, read_corpus


def test_a_file_is_one_document(tmp_path):
    (tmp_path / "a.txt").write_text("hello\nworld\n")
    assert read_corpus(tmp_path / "a.txt") == ["hello\nworld\n"]


def test_a_folder_is_its_text_files_in_sorted_order(tmp_path):
    (tmp_path / "b.md").write_text("second")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "c.txt").write_text("third")
    (tmp_path / "a.txt").write_text("first")
    (tmp_path / "image.png").write_bytes(b"\x89PNG")
    (tmp_path / "empty.txt").write_text("  \n")
    (tmp_path / ".hidden.txt").write_text("skipped")
    docs = read_corpus(tmp_path)
    assert docs == ["first", "second", "third"]
    assert "3 documents" in describe_corpus(tmp_path, docs)


def test_bad_paths_get_clear_errors(tmp_path):
    with pytest.raises(CorpusError, match="does not exist"):
        read_corpus(tmp_path / "missing.txt")
    with pytest.raises(CorpusError, match="no text files"):
        read_corpus(tmp_path)
    (tmp_path / "latin1.txt").write_bytes("café".encode("latin-1"))
    with pytest.raises(CorpusError, match="latin1.txt is not UTF-8"):
        read_corpus(tmp_path)
