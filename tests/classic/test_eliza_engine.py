"""The ELIZA engine, one mechanism of the 1966 paper per test, each with its own small script."""
import pytest

from llmos.classic.eliza import Eliza, Script
from llmos.classic.eliza.engine import match
from llmos.classic.eliza.words import tokenize

NONE = "(NONE ((0) (NONE ONE) (NONE TWO)))"


def bot(body: str, **kwargs) -> Eliza:
    return Eliza(Script.parse(f"(HI)\n{body}\n{NONE}\n", "test.eliza"), teletype=True, **kwargs)


def parts(pat: str, text: str, tags_body: str = ""):
    s = Script.parse(f"(HI)\n{tags_body}\n(K (({pat}) (X)))\n{NONE}")
    got = match(s.keywords["K"].rules[0].pattern, tokenize(text), s.tags)
    return None if got is None else [" ".join(t.key for t in p) for p in got]


# --- keywords and the keystack --------------------------------------------------------

def test_keystack_orders_keywords_by_precedence():
    e = bot("(LOW ((0) (LOW)))\n(MID 3 ((0) (MID)))\n(HIGH 7 ((0) (HIGH)))\n(ZERO ((0) (ZERO)))")
    r = e.reply("zero low mid high")
    # ZERO, LOW (rank 0) go to the bottom in order; MID then HIGH each beat the top rank so far
    assert r.keystack == ["HIGH", "MID", "ZERO", "LOW"] and r.text == "HIGH"
    # a lower rank after a higher one goes to the bottom, not second
    assert e.reply("high low mid").keystack == ["HIGH", "LOW", "MID"]
    assert e.respond("low zero") == "LOW"  # equal ranks: the first one found


def test_words_with_only_a_substitution_are_not_keywords():
    e = bot("(ME = YOU)\n(SEE ((0) (SEE)))")
    assert e.reply("me").keystack == []


# --- decomposition ------------------------------------------------------------------------

def test_zero_matches_any_number_of_words_fewest_first():
    assert parts("0 A 0", "a") == ["", "A", ""]
    assert parts("0 A 0", "x a y a z") == ["X", "A", "Y A Z"]
    assert parts("0", "") == [""]


def test_number_n_matches_exactly_n_words():
    assert parts("1 A 2", "x a y z") == ["X", "A", "Y Z"]
    assert parts("1 A 2", "x a y") is None
    assert parts("1 A 2", "w x a y z") is None
    assert parts("0 A 2 0", "a b c d") == ["", "A", "B C", "D"]
    assert parts("A 0 B", "a x b y") is None  # the pattern must cover every word


def test_dlist_word_classes():
    dl = "(MOTHER DLIST(/NOUN FAMILY))\n(SISTER DLIST(/FAMILY))\n(TABLE DLIST(/NOUN))"
    assert parts("0 (/FAMILY) 0", "my sister sings", dl) == ["MY", "SISTER", "SINGS"]
    assert parts("0 (/FAMILY) 0", "my table", dl) is None
    assert parts("0 (/FAMILY) 0", "my mother", dl) == ["MY", "MOTHER", ""]
    assert parts("(/FAMILY CHAIRS) 0", "table legs", dl + "\n(CHAIR DLIST(/CHAIRS))") is None
    assert parts("(/NOUN) 0", "table legs", dl) == ["TABLE", "LEGS"]


def test_alternatives():
    assert parts("0 (*SAD UNHAPPY) 0", "i am unhappy today") == ["I AM", "UNHAPPY", "TODAY"]
    assert parts("0 (*SAD UNHAPPY) 0", "i am happy today") is None


def test_first_matching_decomposition_wins():
    e = bot("(I ((0 I AM 0) (AM 4)) ((0 I 0) (I 3)) ((0) (ANY)))")
    assert e.respond("i am cold") == "AM COLD"
    assert e.respond("so i think") == "I THINK"
    assert e.respond("i") == "I"


# --- reassembly ------------------------------------------------------------------------------

def test_reassembly_rules_are_used_in_turn():
    e = bot("(SEA ((0 CALM 0) (C1) (C2)) ((0) (S1) (S2) (S3)))")
    said = [e.respond("the sea") for _ in range(4)]
    assert said == ["S1", "S2", "S3", "S1"]
    assert e.respond("calm sea") == "C1"  # each decomposition keeps its own turn
    assert e.respond("sea") == "S2"
    e.reset()
    assert e.respond("sea") == "S1"
    assert Eliza(e.script, teletype=True).respond("sea") == "S1"  # state lives in the Eliza, not the Script


def test_keyword_substitutions():
    e = bot("(I = YOU ((0 YOU (*WANT NEED) 0) (WHY DO YOU WANT 4)) ((0) (YOU SAY 1)))\n"
            "(ME = YOU)\n(MY = YOUR)\n(YOU = I ((0 I 0 YOU) (WHY DO YOU THINK I 3 YOU)))")
    assert e.respond("I need my boat back") == "WHY DO YOU WANT YOUR BOAT BACK"
    assert e.respond("I told me so") == "YOU SAY YOU TOLD YOU SO"
    # each word is replaced once, so I/YOU swap rather than collapse
    assert e.respond("you hate me") == "WHY DO YOU THINK I HATE YOU"


# --- links, NEWKEY, PRE --------------------------------------------------------------------

def test_equals_links():
    e = bot("(WHAT ((0) (WHY DO YOU ASK)))\n(HOW (=WHAT))\n"
            "(ALIKE 10 ((0) (=DIT)))\n(DIT ((0) (IN WHAT WAY)))\n"
            "(WHY ((0 WHY NOT 0) (WHY NOT 4)) (=WHAT))")
    assert e.respond("how so") == "WHY DO YOU ASK"          # whole-keyword link
    assert e.respond("men are all alike") == "IN WHAT WAY"  # reassembly link
    assert e.respond("why not today") == "WHY NOT TODAY"
    assert e.respond("why me") == "WHY DO YOU ASK"          # link after the decompositions


def test_newkey_tries_the_next_keyword():
    e = bot("(LIKE 10 ((0 IS LIKE 0) (IN WHAT WAY)) ((0) (NEWKEY)))\n(CATS ((0) (TELL ME ABOUT CATS)))")
    r = e.reply("cats like fish")
    assert r.keystack == ["LIKE", "CATS"] and r.text == "TELL ME ABOUT CATS" and r.keyword == "CATS"
    assert e.respond("it is like fish") == "IN WHAT WAY"
    assert e.respond("i like fish") == "NONE ONE"  # NEWKEY with nothing left: NONE


def test_newkey_as_one_reassembly_in_turn():
    e = bot("(DREAM 3 ((0) (D1) (NEWKEY)))\n(BOAT ((0) (BOAT)))")
    assert [e.respond("a dream of a boat") for _ in range(3)] == ["D1", "BOAT", "D1"]


def test_pre_rewrites_the_text_then_applies_another_keyword():
    e = bot("(YOU = I ((0 I ARE 0) (WHAT MAKES YOU THINK I AM 4)))\n"
            "(YOU'RE = I'M ((0 I'M 0) (PRE (I ARE 3) (=YOU))))\n(ME = YOU)")
    r = e.reply("You're afraid of me")
    assert r.text == "WHAT MAKES YOU THINK I AM AFRAID OF YOU"
    assert any("PRE gives I ARE AFRAID OF YOU" in step for step in r.trace)


def test_link_loop_falls_back_to_none():
    e = bot("(A ((0) (=B)))\n(B ((0) (=A)))")
    r = e.reply("a")
    assert r.text == "NONE ONE" and any("links loop" in step for step in r.trace)


# --- MEMORY ------------------------------------------------------------------------------------

MEMORY = ("(MY = YOUR 2 ((0 YOUR 0) (YOUR 3)))\n"
          "(MEMORY MY (0 YOUR 0 = EARLIER YOU SAID YOUR 3) (0 YOUR 0 = BUT YOUR 3))")


def test_memory_is_stored_on_the_memory_keyword_and_recalled_first_in_first_out():
    e = bot(MEMORY, memory_period=1)
    assert e.respond("my boat leaks") == "YOUR BOAT LEAKS"
    assert e.respond("my dog barks") == "YOUR DOG BARKS"
    # HASH picks the transformation by the last word: LEAKS -> the first, BARKS -> the second
    assert e.respond("hmm") == "EARLIER YOU SAID YOUR BOAT LEAKS"
    assert e.respond("well") == "BUT YOUR DOG BARKS"
    assert e.respond("so") == "NONE ONE"  # memory used up


def test_memory_recall_waits_for_the_counting_mechanism():
    # The 1965 program recalls only when its LIMIT counter is 4: inputs 3, 7, 11, ...
    e = bot(MEMORY)
    said = [e.respond(t) for t in ["my boat leaks", "hmm", "hmm", "hmm", "my cat", "hmm", "hmm"]]
    # CAT hashes like LEAKS, so the second memory takes the first transformation again
    assert said == ["YOUR BOAT LEAKS", "NONE ONE", "EARLIER YOU SAID YOUR BOAT LEAKS", "NONE TWO",
                    "YOUR CAT", "NONE ONE", "EARLIER YOU SAID YOUR CAT"]


CACM_MEMORY = ("(MY = YOUR 2 ((0 YOUR 0) (YOUR 3)))\n(ME = YOU)\n"
               "(MEMORY MY (0 YOUR 0 = LETS DISCUSS FURTHER WHY YOUR 3)\n"
               "  (0 YOUR 0 = EARLIER YOU SAID YOUR 3)\n  (0 YOUR 0 = BUT YOUR 3)\n"
               "  (0 YOUR 0 = DOES THAT HAVE ANYTHING TO DO WITH THE FACT THAT YOUR 3))")


def test_memory_transformation_is_chosen_by_the_hash_of_the_last_word():
    # The paper's conversation: "Well, my boyfriend made me come here." is recalled much later as
    # the fourth transformation, because HASH("HERE", 2) = 3. Taken in turn it would be the first.
    e = bot(CACM_MEMORY, memory_period=1)
    e.respond("Well, my boyfriend made me come here.")
    r = e.reply("Perhaps")
    assert r.text == "DOES THAT HAVE ANYTHING TO DO WITH THE FACT THAT YOUR BOYFRIEND MADE YOU COME HERE"
    # the same memory ending in another word takes another transformation (TIME -> 0, KIDS -> 1)
    e.respond("my wife wants kids")
    e.respond("my father talks about it all the time")
    assert e.respond("ok") == "EARLIER YOU SAID YOUR WIFE WANTS KIDS"
    assert e.respond("ok") == "LETS DISCUSS FURTHER WHY YOUR FATHER TALKS ABOUT IT ALL THE TIME"
    assert any("HASH of TIME" in step for step in e.reply("my time").trace)


def test_memory_needs_its_pattern_to_match_and_no_keyword_in_the_text():
    e = bot("(MY = YOUR 2 ((0) (NOTED)))\n(MEMORY MY (0 YOUR 0 FISH = YOU LIKE 3 FISH))\n"
            "(SEA ((0) (SEA)))", memory_period=1)
    assert e.respond("my") == "NOTED"          # (0 YOUR 0 FISH) does not match: nothing stored
    assert e.respond("my red fish") == "NOTED"
    assert e.respond("the sea") == "SEA"       # a keyword: memory stays put
    assert e.respond("ok") == "YOU LIKE RED FISH"


# --- NONE ----------------------------------------------------------------------------------------

def test_none_answers_when_no_keyword_or_no_pattern_matches():
    e = bot("(SEA ((0 CALM 0) (CALM)))")
    assert e.respond("nothing here") == "NONE ONE"
    assert e.respond("the sea is rough") == "NONE TWO"  # keyword found, no decomposition fits
    assert e.respond("") == "NONE ONE"                  # empty input still gets a reply


# --- clauses --------------------------------------------------------------------------------------

def test_first_clause_with_a_keyword_is_used():
    e = bot("(SEA ((0) (SEA 1)))\n(SHIP ((0) (SHIP 1)))")
    assert e.respond("Hello there, the sea is grey. The ship sank.") == "SEA THE SEA IS GREY"
    assert e.respond("The sea is grey, the ship sank") == "SEA THE SEA IS GREY"
    assert e.respond("Nothing. Still nothing, a ship!") == "SHIP A SHIP"
    assert e.respond("the sea? no, the ship") == "SEA THE SEA"


def test_but_is_a_delimiter():
    e = bot("(SEA ((0) (SEA 1)))\n(I = YOU ((0) (YOU SAID 1)))")
    assert e.respond("I like it but the sea scares me") == "YOU SAID YOU LIKE IT"
    assert e.respond("but the sea scares me") == "SEA THE SEA SCARES ME"
    assert e.respond("nothing much but the sea") == "SEA THE SEA"


# --- output ----------------------------------------------------------------------------------------

def test_sentence_case_output_keeps_typed_names():
    e = Eliza(Script.parse("(HELLO . HOW ARE YOU ?)\n(I = YOU ((0) (YOU SAY 1 . GO ON)))\n" + NONE))
    assert e.greeting() == "Hello. How are you?"
    assert e.respond("I sailed to Paris") == "You say you sailed to Paris. Go on"


def test_from_script_accepts_text_path_and_default(tmp_path):
    text = f"(HI)\n(SEA ((0) (SEA)))\n{NONE}"
    path = tmp_path / "s.eliza"
    path.write_text(text)
    assert Eliza.from_script(text, teletype=True).respond("sea") == "SEA"
    assert Eliza.from_script(path, teletype=True).respond("sea") == "SEA"
    assert Eliza.from_script(str(path), teletype=True).respond("sea") == "SEA"
    assert Eliza.from_script().script.name == "llmos.eliza"
    with pytest.raises(ValueError, match="memory_period"):
        Eliza.from_script(text, memory_period=0)
