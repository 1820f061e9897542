"""Reading 1966-format scripts: their parts, and errors that point at the line to fix."""
import pytest

from llmos.classic.eliza.script import (AnyOf, Count, Decomposition, Link, Literal, NewKey, Pre,
                                        Script, Tagged, Text)
from llmos.classic.eliza.sexpr import ElizaScriptError

NONE = "(NONE ((0) (GO ON)))"


def parse(body: str) -> Script:
    return Script.parse(f"(HELLO THERE)\nSTART\n{body}\n{NONE}\n()\n", "t.eliza")


def error(body: str) -> ElizaScriptError:
    with pytest.raises(ElizaScriptError) as e:
        parse(body)
    return e.value


def test_keyword_entry_parts():
    s = parse("(MY = YOUR 2 DLIST(/POSSESSIVE) ((0 YOUR 0 (/FAMILY) (*SAD GLAD) 1) (YOUR 4 5) (=YOU) "
              "(NEWKEY) (PRE (YOU ARE 3) (=YOU))) (=YOU))\n(YOU ((0) (ME)))")
    assert s.greeting == ("HELLO", "THERE")
    my = s.keywords["MY"]
    assert (my.substitute, my.rank, my.tags) == ("YOUR", 2, frozenset({"POSSESSIVE"}))
    rule, link = my.rules
    assert isinstance(rule, Decomposition) and isinstance(link, Link) and link.keyword == "YOU"
    assert rule.pattern == (Count(0), Literal("YOUR"), Count(0), Tagged(frozenset({"FAMILY"})),
                            AnyOf(frozenset({"SAD", "GLAD"})), Count(1))
    text, back, newkey, pre = rule.reassemblies
    assert text == Text(("YOUR", 4, 5)) and back.keyword == "YOU" and newkey == NewKey()
    assert isinstance(pre, Pre) and pre.parts == ("YOU", "ARE", 3) and pre.link.keyword == "YOU"
    assert s.tags == {"MY": frozenset({"POSSESSIVE"})}


def test_spaced_forms_of_star_slash_and_link_are_accepted():
    s = parse("(A ((0 (* X Y) (/ T U) 0) (= B)))\n(B ((0) (OK)))")
    (rule,) = s.keywords["A"].rules
    assert rule.pattern[1] == AnyOf(frozenset({"X", "Y"}))
    assert rule.pattern[2] == Tagged(frozenset({"T", "U"}))
    assert rule.reassemblies[0].keyword == "B"


def test_memory_rule():
    s = parse("(MY = YOUR ((0) (OK)))\n(MEMORY MY (0 YOUR 0 = EARLIER YOUR 3) (0 YOUR 0 = BUT YOUR 3))")
    assert s.memory.keyword == "MY"
    assert [t.parts for _, t in s.memory.transformations] == [("EARLIER", "YOUR", 3), ("BUT", "YOUR", 3)]


def test_substitution_only_entries_have_no_rules():
    s = parse("(ME = YOU)\n(DAD = FATHER DLIST(/FAMILY))")
    assert s.keywords["ME"].rules == () and s.keywords["DAD"].substitute == "FATHER"
    assert s.tags["DAD"] == frozenset({"FAMILY"})


def test_unknown_link_target_points_at_the_link():
    e = error("(A ((0) (FINE)))\n(HOW\n    (=WHATT))")
    assert (e.line, e.column) == (5, 5) and "WHATT" in e.message and "names no keyword" in e.message


def test_link_to_a_keyword_without_rules_is_an_error():
    e = error("(ME = YOU)\n(A ((0) (=ME)))")
    assert e.line == 4 and "without rules" in e.message


def test_reassembly_number_beyond_the_pattern():
    e = error("(A ((0 A 0) (WHY 4)))")
    assert (e.line, e.column) == (3, 18) and "part 4" in e.message and "3 part" in e.message


def test_bad_rule_shape():
    e = error("(A (0 A 0) (WHY))")
    assert (e.line, e.column) == (3, 4) and "((PATTERN) REPLY ...)" in e.message
    e = error("(A ((0 A 0)))")
    assert e.line == 3 and "no reassembly" in e.message
    e = error("(A BANANA ((0) (X)))")
    assert (e.line, e.column) == (3, 4) and "BANANA" in e.message


def test_bad_pattern_element_and_dlist():
    e = error("(A ((0 (X Y) 0) (WHY)))")
    assert (e.line, e.column) == (3, 8) and "(*WORD" in e.message
    e = error("(A DLIST FAMILY)")
    assert e.line == 3 and "DLIST" in e.message
    e = error("(A DLIST(FAMILY))")
    assert e.line == 3 and "(/TAG" in e.message


def test_pre_shape():
    e = error("(A ((0) (PRE (X) B)))\n(B ((0) (OK)))")
    assert e.line == 3 and "PRE" in e.message


def test_duplicate_keyword_names_the_first():
    e = error("(A ((0) (X)))\n(A ((0) (Y)))")
    assert (e.line, e.column) == (4, 2) and "line 3" in e.message


def test_script_needs_none_with_a_catch_all():
    with pytest.raises(ElizaScriptError, match="no NONE list"):
        Script.parse("(HI)\n(A ((0) (X)))\n")
    with pytest.raises(ElizaScriptError) as e:
        Script.parse("(HI)\n(NONE ((0 A) (X)))\n")
    assert e.value.line == 2 and "((0)" in e.value.message
    with pytest.raises(ElizaScriptError, match="NEWKEY"):
        Script.parse("(HI)\n(NONE ((0) (NEWKEY)))\n")


def test_memory_errors():
    e = error("(MEMORY MY (0 YOUR 0 = X 3))")
    assert e.line == 3 and "must also be an ordinary keyword" in e.message
    e = error("(MY ((0) (X)))\n(MEMORY MY (0 YOUR 0 LATER 3))")
    assert e.line == 4 and "(PATTERN = TEXT)" in e.message


def test_greeting_must_come_first_and_nothing_after_the_end():
    with pytest.raises(ElizaScriptError, match="greeting"):
        Script.parse("START (A ((0) (X)))")
    with pytest.raises(ElizaScriptError) as e:
        Script.parse(f"(HI)\n{NONE}\n()\n(A ((0) (X)))\n")
    assert e.value.line == 4 and "end marker" in e.value.message


def test_load_missing_file_says_what_to_give(tmp_path):
    with pytest.raises(FileNotFoundError, match="no ELIZA script"):
        Script.load(tmp_path / "nope.eliza")


def test_default_script_is_rich():
    s = Script.default()
    assert s.name == "llmos.eliza"
    with_rules = [k for k in s.keywords.values() if k.rules]
    assert len(with_rules) >= 30
    assert s.memory is not None and len(s.memory.transformations) == 4
    assert any(isinstance(r, Pre) for k in with_rules for d in k.rules
               if isinstance(d, Decomposition) for r in d.reassemblies)
    assert {"FAMILY", "BELIEF"} <= set().union(*s.tags.values())
