"""The S-expression reader under ELIZA scripts: atoms, lists, positions, unbalanced parentheses."""
import pytest

from llmos.classic.eliza.sexpr import Atom, ElizaScriptError, SList, read


def test_atoms_and_lists_carry_line_and_column():
    forms = read("(HELLO THERE)\n  (MOM = MOTHER DLIST(/ FAMILY))\n")
    assert [str(f) for f in forms] == ["(HELLO THERE)", "(MOM = MOTHER DLIST (/ FAMILY))"]
    second = forms[1]
    assert isinstance(second, SList) and (second.line, second.column) == (2, 3)
    mom, eq, mother, dlist, tags = second.items
    assert (mom.text, mom.line, mom.column) == ("MOM", 2, 4)
    assert isinstance(dlist, Atom) and dlist.text == "DLIST"
    assert isinstance(tags, SList) and [a.text for a in tags.items] == ["/", "FAMILY"]
    assert (tags.line, tags.column) == (2, 22)


def test_punctuation_stays_inside_atoms_and_comments_are_skipped():
    forms = read("; a comment (with parens\n(REALLY, 2 DON'T =WHAT) ; trailing\n")
    assert [a.text for a in forms[0].items] == ["REALLY,", "2", "DON'T", "=WHAT"]
    assert forms[0].line == 2


def test_stray_close_paren_is_reported_where_it_is():
    with pytest.raises(ElizaScriptError) as e:
        read("(HELLO)\n(A ((0) (B)))\n   )\n", "x.eliza")
    assert (e.value.line, e.value.column) == (3, 4)
    assert str(e.value).startswith("x.eliza:3:4:") and "closes no list" in str(e.value)


def test_unclosed_list_names_the_outermost_open_paren():
    text = "(HELLO)\n(A\n  ((0) (B)\n(C ((0) (D)))\n"
    with pytest.raises(ElizaScriptError) as e:
        read(text, "y.eliza")
    assert (e.value.line, e.value.column) == (2, 1)
    assert "never closed" in e.value.message
