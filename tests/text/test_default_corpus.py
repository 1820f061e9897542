"""The embedded default corpus: over 1 MB of English prose from the standard library."""
import re

from llmos.text.default_corpus import MIN_BYTES, clean, default_corpus_documents, describe, is_prose


def test_default_corpus_is_over_a_megabyte_of_prose_and_stable():
    docs = default_corpus_documents()
    text = "\n".join(docs)
    assert len(text.encode("utf-8")) >= MIN_BYTES
    assert len(set(docs)) == len(docs)
    words = re.findall(r"[A-Za-z]+", text)
    common = sum(w.lower() in {"the", "of", "and", "to", "is", "a", "in"} for w in words)
    assert common / len(words) > 0.12          # English: these seven words are ~20% of running text
    assert ">>>" not in text and "::=" not in text
    assert "MB" in describe() and "standard library" in describe()


def test_clean_keeps_prose_and_headings_and_drops_code_and_tables():
    source = """The "if" statement
******************

The "if" statement is used for conditional
execution and selects exactly one of the suites.

   if_stmt ::= "if" assignment_expression ":" suite

   >>> if x: print(x)

+------+------+
| a    | b    |
+------+------+

   for i in range(len(items)): total = total + items[i] * weights[i]
"""
    assert clean(source) == ('The "if" statement\n\nThe "if" statement is used for conditional execution and '
                             'selects exactly\none of the suites.')


def test_is_prose():
    assert is_prose("Return a list of all Thread objects currently alive.")
    assert not is_prose("x = foo(bar[1], baz={'a': 2})")
    assert not is_prose("Too short.")
